"""The schema of a user's table: what each column is, which one is the target, and which task follows.

Every decision comes with the rule that made it, so that it can be printed before any training, written to
``config.json`` and overridden (``--drop``, ``--categorical``, ``--numeric``, ``--text``, ``--date``,
``--task``). The rules, column by column (the target excluded):

========== ===================================================================================================
role        rule
========== ===================================================================================================
empty       every value is missing -> dropped
constant    one distinct value -> dropped
identifier  decided from the values, the name only supporting them: integers distinct in every row that
            are row numbers (0/1..n in any order, or increasing from 0/1 with gaps), or that are named like
            an identifier (``id``, ``*_id``, ``CustomerId``, ``RowNumber``, ``distcode``: never
            ``amount_paid``, ``valid``) and are codes of one width, increasing, or named ``id`` itself;
            codes of 4+ digits named like an identifier, distinct in at least half the rows (a sample
            measured twice repeats); values distinct in every row of an R or pandas row-name column
            (``rownames``, ``Unnamed: 0``); or code-like text (a digit in each value, one to three
            tokens: tickets, cabins, UUIDs) distinct in most rows -> dropped
date        text that reads as dates (any common format, ``M/D/YYYY HH:MM:SS`` included; ``D/M/YYYY`` and
            ``D-M-YYYY`` day-first when a first field is above 12 somewhere, month-first otherwise, and the
            reason says which) -> calendar features
binary      two distinct values -> one 0/1 feature
numeric     numbers (after thousands separators and currency signs are removed); also a column of numbers
            with words in a few cells (at least 80% numbers: ``12, 7, unknown``, ``4, 6, rotary``, a cell
            holding two numbers): the words become missing values, which the encoder marks with a 0/1
            "was missing" column, and the reason names the words and how many cells held them
categorical text with few distinct values (at most 100, repeated: at most one for every two rows, or more
            when each is seen 5 times on average) or codes with leading zeros (zip codes ``02134``) -> one-hot
list        lists in a cell: ``"['a', 'b']"`` (a Python or JSON list) in nearly every cell, or items joined by
            ``;`` or ``|`` (``a;b;c``) in at least a fifth of the cells, whose items repeat (fewer
            distinct items than distinct cells) -> multi-hot of the items
url         web addresses (``https://...``, ``www...``) or e-mail addresses in nearly every cell -> their
            domain as a category; addresses that all share one domain are dropped (the rest of an
            address is unique to its row and carries nothing to learn), with that reason
text        long text (several words a cell), or strings with too many distinct values to one-hot that are
            not codes: names of several words (a car's make and model, a passenger's name, job titles) or
            of one (150 cities in 400 rows) -> word presence, each word seen in two rows or more
========== ===================================================================================================

A column that is mostly numbers with a few words (``12, 7, unknown``) is read as numbers, the words as missing
values with their flag, and the reason says so (``--categorical COLUMN`` keeps every value as a category):
stopping the run would leave a first-time user with nothing, and the printed reason loses nothing silently.
Only a column where fewer than 80% of the cells are numbers is text.

The target decides the task, as AutoGluon's ``infer_problem_type`` and Ludwig's type inference do, with
one difference: an integer target with a handful of values (ratings 1-5) is said to be ambiguous in the
printed rule rather than silently called classes. Integer counts with gaps in their values (doctor visits
0..12, 15, 16, 24, 48: more than 10 values, not every integer between the smallest and the largest) are
numbers, not classes, however few rows they have.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

from . import dates
from .lists import domains, list_separator, split_lists
from .numbers import LEADING_ZERO
from .tabular import _list, _nearest, parse_numbers

__all__ = ["ColumnInfo", "Schema", "date_format", "date_order", "infer_schema", "parse_dates"]

ROLES = (
    "numeric", "categorical", "binary", "date", "text", "list", "url", "identifier", "constant", "empty",
    "dropped",
)  # fmt: skip
FEATURE_ROLES = ("numeric", "categorical", "binary", "date", "text", "list", "url")
# a name that supports "identifier" (never decides it alone): id, ID, customer_id, row_number, RowNumber,
# index, key, uuid, and camelCase CustomerId/CustomerID (case-sensitive, so amount_paid, valid and humid are
# not identifiers)
_ID_WORD = re.compile(
    r"(^|[_\s.-])(id|uuid|key|index|no|num|number)$|^(row_?number|id|idx|index|uuid)$", re.I
)
_ID_CAMEL = re.compile(r"[a-z](Id|ID)$|^ID[A-Z_]|^Id[A-Z_]|(Number|Num|No)$|(?i:cod|code)$")
# the name alone: id, ID, Id, customer_id, CustomerId (a distinct integer so named is an identifier)
_ID_ITSELF = re.compile(r"^(id|ID|Id)$|[_\s.-](id|ID)$|[a-z](Id|ID)$")
# the columns R and pandas write for row names: R's write.csv (Rdatasets: "rownames"), pandas' to_csv
# with its index ("Unnamed: 0", or "" when read without pandas)
_ROW_NAMES = re.compile(r"^(rownames|row\.?names|row_names|Unnamed: 0|)$")


def _id_name(name) -> bool:
    """A name that supports "identifier" (the values must say so too)."""
    name = str(name)
    return bool(_ID_WORD.search(name) or _ID_CAMEL.search(name))


# names that say "the label": taken as the target without --target (and printed)
_TARGET_NAMES = (
    "target", "label", "labels", "class", "y", "outcome", "survived", "churn", "exited", "default",
)  # fmt: skip
# a code-like value: one to three tokens of letters, digits and - / . # : _, with a digit somewhere
# (tickets, cabins, UUIDs)
_CODE = re.compile(r"^(?=.*\d)[\w\-/.#:]+( [\w\-/.#:]+){0,2}$")
# at most this many distinct values (and this share of the rows) make a text column categorical
_MAX_CATEGORIES = 100
_MAX_CATEGORY_SHARE = 0.5
# more distinct values than that are still categories when each is seen this often on average (142
# countries in 1,704 rows); rarer ones (150 cities in 400 rows) go to the text encoder's word presence
_MIN_REPEATS = 5
# a text column with at least this share of numbers is numbers (the words become missing values)
_MIN_NUMBER_SHARE = 0.8
# an integer target with at most this many distinct values is taken as classes
_MAX_INTEGER_CLASSES = 20
_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m",
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%m-%d-%Y",
    "%m-%d-%Y %H:%M:%S",
    "%m-%d-%Y %H:%M",
    "%d-%m-%Y",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%d-%b-%Y",
    "%b %d, %Y",
    "%Y%m%d",
)


@dataclass
class ColumnInfo:
    """One column of the table: its role, why, and what it holds."""

    name: str
    role: str
    reason: str
    dtype: str
    n_missing: int
    n_unique: int
    example: str


@dataclass
class Schema:
    """Every column's role, the target and the task, each with the rule that chose it."""

    columns: list[ColumnInfo]
    target: str | None
    task: str | None
    task_reason: str
    n_rows: int
    classes: list | None = None
    notes: list[str] = field(default_factory=list)
    n_target_values: int = 0

    def names(self, *roles: str) -> list[str]:
        """The columns with one of ``roles``, in table order."""
        return [c.name for c in self.columns if c.role in roles]

    @property
    def features(self) -> list[str]:
        return self.names(*FEATURE_ROLES)

    def to_frame(self) -> pd.DataFrame:
        """One row per column: name, role, rule, dtype, missing, distinct, example."""
        rows = [asdict(c) for c in self.columns]
        if self.target is not None:
            rows.append(
                {
                    "name": self.target,
                    "role": "target",
                    "reason": self.task_reason,
                    "dtype": "",
                    "n_missing": 0,
                    "n_unique": self.n_target_values,
                    "example": "",
                }
            )
        return pd.DataFrame(
            rows, columns=["name", "role", "reason", "dtype", "n_missing", "n_unique", "example"]
        )

    def to_dict(self) -> dict:
        return {
            "target": self.target,
            "task": self.task,
            "task_reason": self.task_reason,
            "n_rows": self.n_rows,
            "classes": self.classes,
            "columns": {c.name: {"role": c.role, "reason": c.reason} for c in self.columns},
            "notes": list(self.notes),
        }


def _example(values: pd.Series) -> str:
    present = values.dropna()
    if present.empty:
        return ""
    text = str(present.iloc[0])
    return text if len(text) <= 24 else text[:21] + "..."


# D/M/YYYY or M/D/YYYY (slashes or dashes, year last): which field is the day is decided on evidence
_DAY_MONTH = re.compile(r"^(\d{1,2})([/-])(\d{1,2})\2\d{4}(\s|$)")


def _day_first(text: pd.Series) -> tuple[bool | None, str]:
    """Whether ``D/M/YYYY``-like dates are day-first, from the whole column: True when a first field is
    above 12 somewhere (and no second one is), False when a second field is, None when not such dates;
    with the evidence, to print."""
    parts = text.str.extract(_DAY_MONTH)
    if parts[0].notna().mean() < 0.95:
        return None, ""
    first, second = parts[0].astype(float), parts[2].astype(float)
    if (first > 12).any() and not (second > 12).any():
        example = text[first > 12].iloc[0]
        return True, f"day-first: a first field above 12 ({example!r})"
    if (second > 12).any():
        example = text[second > 12].iloc[0]
        return False, f"month-first: a second field above 12 ({example!r})"
    return False, "month-first: no field above 12 says otherwise, so read as M/D/YYYY (the US order)"


def date_order(values: pd.Series) -> tuple[str | None, str]:
    """(format, why): the first common strptime format that reads at least 95% of the present values (a
    sample of 500, day-first or month-first decided on the whole column), or None when none does (then
    pandas guesses each cell)."""
    text = dates.date_text(values).dropna().astype(str).str.strip()
    day_first, why = _day_first(text)
    sample = text.iloc[:: max(1, len(text) // 500)]
    for fmt in _DATE_FORMATS + dates.MORE_FORMATS:
        if day_first is not None and fmt.startswith(("%m/%d", "%m-%d", "%d/%m", "%d-%m")):
            if fmt.startswith(("%d/", "%d-")) != day_first:
                continue
        if len(sample) and pd.to_datetime(sample, format=fmt, errors="coerce").notna().mean() >= 0.95:
            return fmt, why
    return None, why


def date_format(values: pd.Series) -> str | None:
    """The strptime format of :func:`date_order` (None: pandas guesses each cell)."""
    return date_order(values)[0]


def parse_dates(values: pd.Series, fmt: str | None = None) -> pd.Series:
    """Datetimes from text cells, read with ``fmt`` (default: :func:`date_format` of the values, else
    pandas' own guess); cells that do not read become NaT."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    values = dates.date_text(values)  # 20210131 as a number reads as '20210131'
    if values.dropna().empty:
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    fmt = fmt or date_format(values)
    text = values.astype("string").str.strip()
    if fmt is not None:
        return pd.to_datetime(text, format=fmt, errors="coerce")
    return pd.to_datetime(text, errors="coerce", format="mixed")


def _reads_as_dates(values: pd.Series) -> bool:
    """Text whose values mostly read as dates: digits and separators, at least one of - / . or a month."""
    text = values.dropna().astype(str).str.strip()
    if text.empty or not text.str.contains(r"\d").all():
        return False
    sample = text.iloc[:: max(1, len(text) // 500)]
    if not sample.str.contains(r"[-/.:]|[A-Za-z]{3}").mean() > 0.95:
        return False
    if sample.str.len().max() > 40:
        return False
    return parse_dates(sample).notna().mean() >= 0.95


def _mean_words(values: pd.Series) -> float:
    text = values.dropna().astype(str)
    sample = text.iloc[:: max(1, len(text) // 1000)]
    return float(sample.str.split().str.len().mean()) if len(sample) else 0.0


def _role(name: str, values: pd.Series) -> tuple[str, str]:
    """The role of one column and the rule that gave it."""
    present = values.dropna()
    if present.empty:
        return "empty", "every value is missing"
    n_unique = int(present.nunique())
    if n_unique == 1:
        return "constant", f"one value ({_example(present)})"
    unique_share = n_unique / max(len(present), 1)
    integer_or_text = not is_numeric_dtype(values) or np.allclose(present, np.round(present))
    if unique_share > 0.99 and _ROW_NAMES.match(str(name)) and integer_or_text:
        return "identifier", (
            f"row names: distinct in every row of a column named {str(name)!r}, as R's write.csv and pandas' "
            "to_csv write them"
        )
    if is_numeric_dtype(values):
        why = dates.integer_dates(name, values)
        if why:
            return "date", why
        integers = np.allclose(present, np.round(present))
        if unique_share > 0.99 and integers:
            why = _integer_identifier(name, present)
            if why:
                return "identifier", f"a distinct integer in every row, {why}"
        if integers and unique_share >= 0.5 and _id_name(name):
            width = _min_width(present)
            if width >= 4:
                return "identifier", (
                    f"codes of {width}+ digits named like an identifier, distinct in {unique_share:.0%} of "
                    "the rows (a few repeat: the same thing measured twice)"
                )
        if n_unique == 2:
            return "binary", f"two values ({', '.join(map(str, sorted(present.unique())[:2]))})"
        return "numeric", "numbers"
    if n_unique == 2:
        return "binary", f"two values ({', '.join(map(str, sorted(present.astype(str).unique())[:2]))})"
    text = present.astype(str).str.strip()
    found = _list_or_url(name, text, n_unique)
    if found:
        return found
    zeros = text.str.match(LEADING_ZERO)
    if zeros.any() and parse_numbers(text).notna().all():
        return "categorical", (
            f"codes with leading zeros ({text[zeros].iloc[0]!r}): categories, not numbers "
            f"(--numeric {name} to read them as numbers)"
        )
    if _reads_as_dates(present):
        return "date", f"text that reads as dates{_date_why(present)}"
    numbers = parse_numbers(text)
    share = float(numbers.notna().mean())
    if share == 1.0:
        return "numeric", "numbers written as text"
    if share >= _MIN_NUMBER_SHARE:
        odd = text[numbers.isna()]
        words = ", ".join(repr(w) for w in odd.unique()[:3])
        percent = np.floor(share * 100)  # floored: 891 numbers and one word must not print "100%"
        return "numeric", (
            f"numbers in {percent:.0f}% of the cells; {len(odd):,} cells of words ({words}) read as missing, "
            f"with a 0/1 flag (--categorical {name} to keep every value as a category)"
        )
    words = _mean_words(present)
    if n_unique <= _MAX_CATEGORIES and unique_share <= _MAX_CATEGORY_SHARE:
        return "categorical", f"text with {n_unique} distinct values"
    if words >= 5:
        return "text", f"long text ({words:.0f} words a value on average)"
    if len(present) / n_unique >= _MIN_REPEATS:
        return "categorical", (
            f"text with {n_unique} distinct values, each seen {len(present) / n_unique:.0f} times on average"
        )
    codes = float(text.str.match(_CODE).mean())
    if codes >= 0.9 and unique_share >= 0.5:
        return "identifier", (
            f"code-like text (a digit in {codes:.0%} of the values, e.g. {_example(present)!r}), distinct in "
            f"{unique_share:.0%} of the rows: codes that do not repeat carry nothing to learn"
        )
    return "text", (
        f"short names ({words:.1f} words a value), {n_unique:,} distinct values in {len(present):,} rows: "
        "too many to one-hot, so their words reach the model (not an identifier: the values are not codes)"
    )


def _list_or_url(name, text: pd.Series, n_unique: int) -> tuple[str, str] | None:
    """("list", why), ("url", why) or ("dropped", why) for a column of lists or addresses, else None."""
    sep = list_separator(text)
    if sep is not None:
        items = split_lists(text, sep).explode().dropna()
        n_items = int(items.nunique())
        if 1 < n_items < n_unique:
            shown = "a Python/JSON list" if sep == "[" else f"items joined by {sep!r}"
            top = ", ".join(repr(v) for v in items.value_counts().index[:3])
            return "list", (
                f"{shown} in each cell: {n_items} distinct items ({top}, ...) -> one 0/1 column per item "
                f"(--categorical {name} to take each whole cell as a category)"
            )
    hosts = domains(text)
    if hosts is not None:
        kind = "e-mail addresses" if text.str.contains("@").mean() > 0.5 else "web addresses"
        n_hosts = int(hosts.nunique())
        if n_hosts < 2:
            return "dropped", (
                f"{kind} of one domain ({hosts.dropna().iloc[0] if n_hosts else 'none'}): the rest of an "
                "address is unique to its row and carries nothing to learn"
            )
        return (
            "url",
            f"{kind}: their domain ({n_hosts} distinct, e.g. {hosts.dropna().iloc[0]!r}) as a category",
        )
    return None


def _date_why(values: pd.Series) -> str:
    why = date_order(values)[1]
    return f" ({why})" if why else ""


def _integer_identifier(name, values: pd.Series) -> str:
    """Why distinct integers are an identifier ('' when they are not): row numbers from the values
    alone, or a name like an identifier supported by codes of one width or increasing values."""
    numbers = values.to_numpy(dtype=float)
    ordered = np.sort(numbers)
    if len(ordered) <= 2:
        return ""
    steps = np.diff(numbers)
    if ordered[0] in (0, 1) and np.all(np.diff(ordered) == 1):
        return "numbered like rows (0/1..n)"
    if ordered[0] in (0, 1) and np.all(steps > 0):
        return "increasing from 0/1 like row numbers"
    if not _id_name(name):
        return ""
    if _ID_ITSELF.search(str(name)):
        return "named like an identifier"
    widths = np.unique(np.char.str_len(np.abs(numbers).astype(np.int64).astype(str)))
    if len(widths) == 1 and widths[0] >= 4:
        return f"codes of {widths[0]} digits, named like an identifier"
    if np.all(steps > 0):
        return "increasing, named like an identifier"
    return ""


def _min_width(values: pd.Series) -> int:
    """The fewest digits a value has."""
    return int(np.char.str_len(np.abs(values.to_numpy(dtype=float)).astype(np.int64).astype(str)).min())


def _target_task(y: pd.Series, name: str) -> tuple[str, str]:
    """(task, rule) for the target column ``y`` (missing values already dropped)."""
    n_unique = int(y.nunique())
    if n_unique < 2:
        value = _example(y) or "nothing"
        raise ValueError(
            f"The target {name!r} has one value ({value}) in every row with a target: there is nothing to "
            "learn. Pick another column with --target."
        )
    if n_unique == 2:
        values = ", ".join(map(str, sorted(y.unique(), key=str)))
        return "classify", f"two values ({values}): binary classification"
    if not is_numeric_dtype(y):
        if n_unique > 0.5 * len(y) and n_unique > 20:
            raise ValueError(
                f"The target {name!r} has {n_unique:,} distinct values in {len(y):,} rows, nearly one class "
                "a row: it is probably an identifier or free text, not something to predict. Pick another "
                "column with --target."
            )
        return "classify", f"text target with {n_unique} classes"
    values = y.to_numpy(dtype=float)
    integers = bool(np.allclose(values, np.round(values)))
    if not integers:
        return "regress", "numbers with fractions: regression"
    # class codes: few distinct integers (at most 20), each value ~10 rows on average (a region 1/2/3, a
    # type 1..7, a grade 0/1/2); counts and measurements have more values than that
    rule = f"at most {_MAX_INTEGER_CLASSES} distinct integers and at most one for every 10 rows"
    low, high = int(values.min()), int(values.max())
    if n_unique > 10 and high - low + 1 > n_unique:
        return "regress", (
            f"{n_unique} distinct integers from {low} to {high} with gaps between them: counts, regression "
            "(class codes are consecutive or few; --task classify to predict classes)"
        )
    if n_unique <= _MAX_INTEGER_CLASSES and n_unique <= 0.1 * len(y) + 2:
        if high - low + 1 == n_unique and n_unique <= 10:
            return "classify", (
                f"ambiguous: {n_unique} integers {low}..{high} in {len(y):,} rows can be classes or a scale; "
                f"taken as classes ({rule}; --task regress to predict it as a number)"
            )
        return "classify", (
            f"{n_unique} distinct integers in {len(y):,} rows: class codes ({rule}; --task regress to "
            "predict a number)"
        )
    return "regress", (
        f"{n_unique} distinct integers in {len(y):,} rows: counts or measurements, regression (class codes "
        f"are {rule}; --task classify to predict classes)"
    )


def find_target(frame: pd.DataFrame) -> str | None:
    """A column named like a label (target, label, class, y, outcome, Survived, Churn, Exited, default),
    else None."""
    by_lower = {str(c).strip().lower(): str(c) for c in frame.columns}
    for name in _TARGET_NAMES:
        if name in by_lower:
            return by_lower[name]
    return None


def suggest_target(frame: pd.DataFrame) -> str | None:
    """The last column when it looks like a label (2-20 values, a small share of the rows, not a date
    or identifier), to suggest as ``--target`` when no column is named like one; else None."""
    if frame.shape[1] < 2 or len(frame) < 10:
        return None
    name = str(frame.columns[-1])
    values = frame[name].dropna()
    n_unique = int(values.nunique())
    if not 2 <= n_unique <= _MAX_INTEGER_CLASSES or n_unique > 0.1 * len(values) + 2:
        return None
    if is_numeric_dtype(values) and not np.allclose(values, np.round(values)):
        return None
    return name


def check_column(frame: pd.DataFrame, name, what: str = "--target") -> str:
    """``name`` as a column of ``frame`` (ints match headerless columns ``"0"``, ``"1"``...), or a
    ValueError that lists the columns and suggests the nearest."""
    name = str(name)
    if name in frame.columns:
        return name
    nearest = _nearest(name, frame.columns)
    hint = f" Did you mean {nearest!r}?" if nearest else ""
    source = frame.attrs.get("source", "the data")
    raise ValueError(f"{what} {name!r} is not a column of {source}; columns: {_list(frame.columns)}.{hint}")


def infer_schema(
    frame: pd.DataFrame,
    target=None,
    *,
    task: str = "auto",
    drop=(),
    categorical=(),
    numeric=(),
    text=(),
    date=(),
) -> Schema:
    """Decide each column's role and the task, with the rule behind each decision.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table, e.g. from :func:`deepzoo.data.tabular.read_table`.
    target : str, optional
        The column to predict; None looks for a column named target, label, class, y or outcome, and
        without one the schema has no target (clustering).
    task : {'auto', 'classify', 'regress'}
        Overrides the task the target suggests.
    drop, categorical, numeric, text, date : sequence of str
        Override the inferred role of these columns.

    Returns
    -------
    Schema

    Raises
    ------
    ValueError
        A table with one column; a target or override that is not a column (the message lists the
        columns and suggests the nearest); a target with one class, all missing, or nearly one class a
        row.

    Examples
    --------
    >>> import pandas as pd
    >>> from deepzoo.data.schema import infer_schema
    >>> frame = pd.DataFrame({"id": range(8), "plan": list("abcabcab"), "monthly": [1.5, 2, 3, 4, 5, 6, 7, 8],
    ...                       "left": ["yes", "no"] * 4})
    >>> schema = infer_schema(frame, "left")
    >>> schema.task, schema.names("identifier"), schema.names("categorical")
    ('classify', ['id'], ['plan'])
    """
    if frame.shape[1] < 2:
        source = frame.attrs.get("source", "The table")
        raise ValueError(
            f"{source} has one column ({_list(frame.columns)}): deepzoo fit needs a target and at least one "
            "feature. Check the separator, or add the columns to predict from."
        )
    overrides = {}
    for role, names in (
        ("dropped", drop),
        ("categorical", categorical),
        ("numeric", numeric),
        ("text", text),
        ("date", date),
    ):
        for name in (names,) if isinstance(names, str) else names:
            overrides[check_column(frame, name, f"--{'drop' if role == 'dropped' else role}")] = role
    notes = []
    if target is None:
        target = find_target(frame)
        if target is not None:
            notes.append(
                f"target {target!r}: the column named like a target or label (--target COLUMN for "
                "another, --task cluster for none)"
            )
        elif (suggested := suggest_target(frame)) is not None:
            notes.append(
                f"no --target: did you mean --target {suggested}? (the last column, "
                f"{frame[suggested].nunique()} values, looks like a label); without one, the rows are "
                "clustered"
            )
    else:
        target = check_column(frame, target)
    task_reason = "no target: clustering and anomaly scores"
    chosen, classes = None, None
    n_rows = len(frame)
    if target is not None:
        y = frame[target]
        n_missing = int(y.isna().sum())
        if n_missing == len(y):
            raise ValueError(
                f"The target {target!r} is missing in every row; pick another column with --target."
            )
        if n_missing:
            notes.append(f"{n_missing:,} rows without a target {target!r} are left out")
        y = y.dropna()
        n_rows = len(y)
        chosen, task_reason = _target_task(y, target)
        if task not in ("auto", None) and task != chosen:
            if task == "regress" and not is_numeric_dtype(y):
                raise ValueError(
                    f"--task regress needs a numeric target; {target!r} holds text ({_example(y)})."
                )
            task_reason = f"--task {task} (the data suggested {chosen}: {task_reason})"
            chosen = task
        if chosen == "classify":
            classes = sorted(y.unique().tolist(), key=str)
    columns = []
    for name in frame.columns:
        if name == target:
            continue
        values = frame[name]
        if name in overrides:
            role, reason = overrides[name], f"--{overrides[name]} (you said so)"
            if role == "dropped":
                reason = "--drop (you said so)"
        else:
            role, reason = _role(name, values)
        columns.append(
            ColumnInfo(
                name=name,
                role=role,
                reason=reason,
                dtype=str(values.dtype),
                n_missing=int(values.isna().sum()),
                n_unique=int(values.nunique()),
                example=_example(values),
            )
        )
    n_values = int(frame[target].nunique()) if target is not None else 0
    schema = Schema(columns, target, chosen, task_reason, n_rows, classes, notes, n_values)
    if target is not None and not schema.features:
        raise ValueError(
            f"No column is left to predict {target!r} from: "
            + "; ".join(f"{c.name}: {c.role} ({c.reason})" for c in columns)
            + ". Keep a column with --numeric or --categorical."
        )
    return schema
