"""Tables: read a CSV with clear errors, split off the target, check that features are numeric.

Each error names the file or column, says what was wrong and how to fix it, in one line.
"""

from __future__ import annotations

import csv
import difflib
import os
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

# How many bytes are looked at to tell a binary file from text.
_SNIFF_BYTES = 8192
# Column lists in messages stop after this many names.
_MAX_LISTED = 30


def _wide_encoding(kwargs) -> bool:
    """Whether the caller asked for UTF-16/32, whose text legitimately holds NUL bytes."""
    encoding = str(kwargs.get("encoding") or "").lower().replace("-", "").replace("_", "")
    return encoding.startswith(("utf16", "utf32"))


def read_csv(path: str | os.PathLike, **kwargs) -> pd.DataFrame:
    """Read a CSV file into a DataFrame, with one clear error for each way it can fail.

    The path is kept in ``frame.attrs["source"]`` so that later messages (:func:`split_target`,
    :func:`check_numeric`) can name the file.

    Parameters
    ----------
    path : str or path-like
        The CSV file.
    **kwargs
        Passed to :func:`pandas.read_csv`, e.g. ``sep="\\t"``, ``thousands=","``, ``encoding="latin-1"``.

    Returns
    -------
    pandas.DataFrame
        The table (or what ``pandas.read_csv`` returns for ``chunksize`` / ``iterator``).

    Raises
    ------
    FileNotFoundError
        ``"CSV file not found: <path>"``.
    ValueError
        ``"Cannot read <path> as CSV: <reason>"`` for a folder, a binary file, text in another encoding,
        an empty file, a header without rows, or rows with the wrong number of fields.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from deepzoo.data.tabular import read_csv
    >>> csv = pathlib.Path(tempfile.mkdtemp()) / "toy.csv"
    >>> _ = csv.write_text("age,left\\n40,1\\n25,0\\n")
    >>> read_csv(csv).shape
    (2, 2)
    """
    file = Path(path).expanduser()
    if not file.exists():
        raise FileNotFoundError(f"CSV file not found: {file}")

    def fail(reason: str) -> ValueError:
        return ValueError(f"Cannot read {file} as CSV: {reason}")

    if file.is_dir():
        raise fail("it is a folder, not a file.")
    with open(file, "rb") as stream:
        head = stream.read(_SNIFF_BYTES)
    if b"\x00" in head and not _wide_encoding(kwargs):
        raise fail("it holds NUL bytes, so it is a binary file, not text.")
    try:
        frame = pd.read_csv(file, **kwargs)
    except UnicodeDecodeError as exc:
        raise fail(
            f"it is not {exc.encoding} text (byte 0x{exc.object[exc.start]:02x} at position {exc.start}); "
            "pass encoding='latin-1' (or the file's encoding)."
        ) from None
    except pd.errors.EmptyDataError:
        raise fail("it is empty (no header, no rows).") from None
    except pd.errors.ParserError as exc:
        reason = str(exc).strip().splitlines()[0].removeprefix("Error tokenizing data. C error: ")
        raise fail(f"{reason.rstrip('.')}; check the separator and the quoting.") from None
    if not isinstance(frame, pd.DataFrame):  # chunksize= or iterator= was given
        return frame
    # pandas silently turns extra leading fields into an index when the first row is longer than the header.
    if "index_col" not in kwargs and not isinstance(frame.index, pd.RangeIndex):
        raise fail(
            f"its rows have more fields than its header ({len(frame.columns)} columns); "
            "check the separator, or pass index_col=0 if the first column is an index."
        )
    if len(frame) == 0 and "nrows" not in kwargs:
        raise fail(f"it has a header ({_list(frame.columns)}) but no data rows.")
    frame.attrs["source"] = str(file)
    return frame


def _list(columns) -> str:
    """Column names joined by commas, cut after ``_MAX_LISTED`` names."""
    names = [str(c) for c in columns]
    text = ", ".join(names[:_MAX_LISTED])
    return text + (f", ... ({len(names) - _MAX_LISTED} more)" if len(names) > _MAX_LISTED else "")


def _nearest(name, columns) -> str | None:
    """The column closest to ``name`` (case-insensitive), or None when none is close."""
    by_lower = {str(c).lower(): c for c in columns}
    match = difflib.get_close_matches(str(name).lower(), list(by_lower), n=1, cutoff=0.6)
    return str(by_lower[match[0]]) if match else None


def split_target(df: pd.DataFrame, target: str, drop=()) -> tuple[pd.DataFrame, pd.Series]:
    """Split a table into features ``X`` and target ``y``, dropping the columns in ``drop``.

    Parameters
    ----------
    df : pandas.DataFrame
        The table, e.g. from :func:`read_csv`.
    target : str
        The column to predict.
    drop : str or sequence of str, default=()
        Columns that are neither features nor target, e.g. identifiers.

    Returns
    -------
    X : pandas.DataFrame
        Every other column, in order.
    y : pandas.Series
        The target column.

    Raises
    ------
    ValueError
        When ``target`` or a ``drop`` column is missing: the message lists the available columns and
        suggests the nearest name.

    Examples
    --------
    >>> import pandas as pd
    >>> from deepzoo.data.tabular import split_target
    >>> df = pd.DataFrame({"id": [1, 2], "age": [40, 25], "left": [1, 0]})
    >>> X, y = split_target(df, "left", drop=["id"])
    >>> list(X.columns), y.tolist()
    (['age'], [1, 0])
    """
    if isinstance(drop, str):
        drop = (drop,)
    source = df.attrs.get("source", "the data")
    for column in (target, *drop):
        if column not in df.columns:
            nearest = _nearest(column, df.columns)
            hint = f" Did you mean '{nearest}'?" if nearest else ""
            raise ValueError(
                f"Column '{column}' is not in {source}; available columns: {_list(df.columns)}.{hint}"
            )
    X = df.drop(columns=list(dict.fromkeys([target, *drop])))
    return X, df[target]


def _example(series: pd.Series) -> str:
    """A short repr of the first non-missing value of a column."""
    values = series.dropna()
    if values.empty:
        return "all missing"
    text = repr(values.iloc[0])
    return "e.g. " + (text if len(text) <= 20 else text[:17] + "...")


def check_numeric(df: pd.DataFrame) -> None:
    """Check that every column is numeric and finite; else say which columns and how to fix them.

    Parameters
    ----------
    df : pandas.DataFrame
        The features (other 2-D data is wrapped in a DataFrame first).

    Raises
    ------
    ValueError
        Naming the non-numeric columns (with their dtype and an example value), the columns holding NaN
        or infinite values (with counts), and the fix: encode, impute or drop.

    Examples
    --------
    >>> import pandas as pd
    >>> from deepzoo.data.tabular import check_numeric
    >>> check_numeric(pd.DataFrame({"age": [40, 25], "active": [True, False]}))
    >>> try:
    ...     check_numeric(pd.DataFrame({"country": ["France", "Spain"], "age": [40.0, None]}))
    ... except ValueError as exc:
    ...     print(exc)  # doctest: +ELLIPSIS
    The data has non-numeric columns country (..., e.g. 'France'); encode ...missing values in age (1); ...
    """
    if not isinstance(df, pd.DataFrame):
        df = pd.DataFrame(df)
    problems = []
    text = [c for c in df.columns if not is_numeric_dtype(df[c])]
    if text:
        listed = ", ".join(f"{c} ({df[c].dtype}, {_example(df[c])})" for c in text[:_MAX_LISTED])
        more = f" and {len(text) - _MAX_LISTED} more" if len(text) > _MAX_LISTED else ""
        problems.append(
            f"non-numeric columns {listed}{more}; encode them (OneHotEncoder or OrdinalEncoder in a "
            "ColumnTransformer) or drop them"
        )
    missing = df.isna().sum()
    missing = missing[missing > 0]
    if len(missing):
        listed = ", ".join(f"{c} ({n})" for c, n in missing.items())
        problems.append(
            f"missing values in {listed}; impute them (SimpleImputer) or drop those rows (df.dropna())"
        )
    infinite = {
        c: int(np.isinf(df[c].to_numpy(dtype="float64", na_value=np.nan)).sum())
        for c in df.columns
        if c not in text
    }
    infinite = {c: n for c, n in infinite.items() if n}
    if infinite:
        listed = ", ".join(f"{c} ({n})" for c, n in infinite.items())
        problems.append(
            f"infinite values in {listed}; replace them (e.g. with NaN, then impute) or clip them"
        )
    if problems:
        source = df.attrs.get("source", "The data")
        raise ValueError(f"{source} has " + ". It has ".join(problems) + ".")


# -- a user's own table: sniffed, cleaned ------------------------------------------------------------
# Cells read as missing (after stripping spaces, case-insensitive): blank or whitespace-only cells, and
# the usual spellings of "not available" (UCI's '?', R's 'NA', databases' 'NULL').
MISSING_TOKENS = frozenset({"", "?", "na", "n/a", "nan", "null", "none", "#n/a", "missing"})
# The separators tried, in order of preference when several split the lines equally well.
_SEPARATORS = (",", "\t", ";", "|")
_SNIFF_LINES = 200
_PARQUET_SUFFIXES = (".parquet", ".pq")
# '1,234', '-1,234,567.89', '$1,234': thousands separators and a leading currency sign
_THOUSANDS = r"^[-+]?[$€£¥]?\d{1,3}(,\d{3})+(\.\d*)?$"
_CURRENCY = r"^[-+]?[$€£¥]\d+(\.\d*)?$"


def _decode_head(file: Path) -> tuple[str, str]:
    """The first lines of a text file and the encoding to read it with (UTF-8, with or without a BOM,
    else Latin-1, which decodes any byte)."""
    with open(file, "rb") as stream:
        head = stream.read(256 * 1024)
    if head.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    else:
        encoding = "utf-8"
    try:
        text = head.decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            encoding = "latin-1"
        text = head.decode(encoding, errors="ignore")
    return text, encoding


def _split_counts(lines: list[str], sep: str) -> list[int]:
    """How many fields each line has when split on ``sep`` (quotes respected)."""
    try:
        return [len(row) for row in csv.reader(lines, delimiter=sep)]
    except csv.Error:
        return []


def _consistency(counts: list[int]) -> tuple[float, int]:
    """(share of lines with the most common number of fields, that number)."""
    mode = max(set(counts), key=counts.count)
    return counts.count(mode) / len(counts), mode


def sniff_separator(lines: list[str]) -> str:
    """The separator that splits the sample lines into the same number (> 1) of fields most often (the
    first line may differ: a preamble); ``r"\\s+"`` for whitespace-aligned files; ``","`` for one column."""
    lines = [line for line in lines if line.strip()][:_SNIFF_LINES]
    best, best_score = ",", (0.0, 0)
    for sep in _SEPARATORS:
        counts = _split_counts(lines, sep)
        if not counts:
            continue
        score = max(_consistency(counts), _consistency(counts[1:]) if len(counts) > 1 else (0.0, 0))
        if score[1] >= 2 and score > best_score:
            best, best_score = sep, score
    if best_score[0] < 0.9 and lines:
        widths = [len(line.split()) for line in lines]
        share, mode = max(_consistency(widths), _consistency(widths[1:]) if len(widths) > 1 else (0.0, 0))
        if mode > 1 and share >= 0.9 and share > best_score[0]:
            return r"\s+"
    return best


def _sample_rows(lines: list[str], sep: str) -> list[list[str]]:
    """The sample lines split into fields as pandas will split them."""
    if sep == r"\s+":
        return [line.split() for line in lines]
    try:
        return list(csv.reader(lines, delimiter=sep))
    except csv.Error:
        return [line.split(sep) for line in lines]


def _count_lines(file: Path) -> int:
    """Non-empty lines of a file, counted in 1 MiB blocks."""
    count, last = 0, b"\n"
    with open(file, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            count += block.count(b"\n") - block.count(b"\n\n")
            last = block[-1:]
    return count + (last != b"\n")


def _looks_numeric(value: str) -> bool:
    return parse_numbers(pd.Series([value], dtype=object)).notna().iloc[0]


def _has_header(rows: list[list[str]]) -> bool:
    """Whether the first row names the columns: in some column the first value is a word where the
    values below are numbers, or (all text) the first row's values never occur again below."""
    if len(rows) < 2:
        return True
    first, rest = rows[0], rows[1:]
    if any(_looks_numeric(v) for v in first if v.strip().lower() not in MISSING_TOKENS):
        return False  # a header holds names, not numbers
    width = len(first)
    for j in range(width):
        below = [r[j] for r in rest if j < len(r) and r[j].strip().lower() not in MISSING_TOKENS]
        if below and np.mean([_looks_numeric(v) for v in below]) >= 0.9:
            return True  # a word above numbers
    # every column is text: a header if its values are unlike the rows below (never repeated there)
    repeated = sum(any(j < len(r) and r[j] == first[j] for r in rest) for j in range(width))
    return repeated == 0


def read_table(
    path: str | os.PathLike, *, sep: str | None = None, header: bool | None = None, nrows: int | None = None
) -> pd.DataFrame:
    """Read a user's table, whatever its dialect, into a DataFrame of cleaned columns.

    The separator (comma, tab, semicolon, pipe or runs of whitespace) and whether the first row is a
    header are sniffed from the first lines; a file without a header gets the columns ``"0"``,
    ``"1"``, ... (as pandas numbers them, as strings, so that ``target="7"`` names one). A UTF-8 byte
    order mark is skipped, and a file that is not UTF-8 is read as Latin-1. Blank and whitespace-only
    cells and the tokens of :data:`MISSING_TOKENS` (``?``, ``NA``, ``NULL``, ...) become missing; text
    columns whose values are numbers with thousands separators or a currency sign (``"7,380,500"``,
    ``"$1,234.50"``) become numbers. Parquet files (``.parquet``) are read with pyarrow when installed.

    What was sniffed is kept in ``frame.attrs``: ``source``, ``separator``, ``header``, ``encoding``.

    Parameters
    ----------
    path : str or path-like
    sep : str, optional
        The separator; None sniffs it.
    header : bool, optional
        Whether the first row names the columns; None sniffs it.
    nrows : int, optional
        Read only the first ``nrows`` data rows.

    Raises
    ------
    FileNotFoundError, ValueError
        As :func:`read_csv` (missing, a folder, binary, empty, ragged rows), and for a Parquet file
        without pyarrow.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from deepzoo.data.tabular import read_table
    >>> csv = pathlib.Path(tempfile.mkdtemp()) / "toy.csv"
    >>> _ = csv.write_text('plan;total\\nbasic;"1,200.5"\\npro; \\nmax;?\\n')
    >>> frame = read_table(csv)
    >>> frame["total"].tolist(), frame.attrs["separator"]
    ([1200.5, nan, nan], ';')
    """
    file = Path(path).expanduser()
    if file.suffix.lower() in _PARQUET_SUFFIXES:
        return _read_parquet(file)
    options = _table_options(file, sep, header)
    frame = read_csv(file, **options, **({"nrows": nrows} if nrows is not None else {}))
    if options["sep"] == "\t" and nrows is None:
        # tab-separated text rarely quotes: a stray '"' would swallow the lines up to the next one
        n_lines = _count_lines(file) - (options["skiprows"] or 0) - (options["header"] == 0)
        if len(frame) < n_lines:
            unquoted = read_csv(file, **options, quoting=csv.QUOTE_NONE)
            if len(unquoted) == n_lines:
                frame = unquoted
    return _finish(frame, file, options)


def iter_table(path: str | os.PathLike, chunksize: int = 100_000, *, sep=None, header=None):
    """:func:`read_table` chunk by chunk (``chunksize`` rows each), for files larger than memory: the
    dialect is sniffed once, every chunk is cleaned the same way. Parquet files come in one piece."""
    file = Path(path).expanduser()
    if file.suffix.lower() in _PARQUET_SUFFIXES:
        yield _read_parquet(file)
        return
    options = _table_options(file, sep, header)
    for chunk in read_csv(file, **options, chunksize=chunksize):
        yield _finish(chunk, file, options)


def _table_options(file: Path, sep, header) -> dict:
    """pandas.read_csv's options for a user's table: separator, header and encoding sniffed from its
    first lines, leading preamble lines skipped, the missing-value tokens."""
    if file.is_file() and file.stat().st_size == 0:
        raise ValueError(f"Cannot read {file} as a table: the file is empty.")
    if not file.exists() or file.is_dir():
        read_csv(file)  # raises its messages: not found, a folder
    text, encoding = _decode_head(file)
    lines = text.splitlines()[: _SNIFF_LINES + 1]
    if len(lines) > _SNIFF_LINES:
        lines = lines[:-1]  # the last line of the sample may be cut
    if sep is None:
        sep = sniff_separator(lines)
    rows = _sample_rows(lines, sep)
    # a preamble (UCI's adult.test starts with '|1x3 Cross validator'): leading lines whose number of
    # fields differs from the table's are skipped
    widths = [len(r) for r in rows if r]
    mode = max(set(widths), key=widths.count) if widths else 1
    skip = 0
    while skip < len(rows) and rows[skip] and len(rows[skip]) != mode and mode > 1:
        skip += 1
    if header is None:
        header = _has_header([r for r in rows[skip:] if r])
    return dict(
        sep=sep,
        header=0 if header else None,
        encoding=encoding,
        na_values=sorted({v for t in MISSING_TOKENS for v in (t, t.upper(), t.title())}),
        keep_default_na=True,
        skipinitialspace=sep != r"\s+",
        skiprows=skip or None,
    )


def _finish(frame: pd.DataFrame, file: Path, options: dict) -> pd.DataFrame:
    """Column names as stripped strings, cells cleaned, the sniffed dialect in ``attrs``."""
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = clean_frame(frame)
    frame.attrs.update(
        source=str(file),
        separator=options["sep"],
        header=options["header"] == 0,
        encoding=options["encoding"],
    )
    return frame


def _read_parquet(file: Path) -> pd.DataFrame:
    if not file.is_file():
        raise FileNotFoundError(f"Parquet file not found: {file}")
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise ValueError(
            f"Cannot read {file}: Parquet files need pyarrow (pip install pyarrow), or save the table as CSV."
        ) from None
    try:
        frame = pd.read_parquet(file)
    except Exception as exc:  # pyarrow's many error types: one message
        raise ValueError(f"Cannot read {file} as Parquet: {exc}") from None
    frame.columns = [str(c) for c in frame.columns]
    frame = clean_frame(frame)
    frame.attrs.update(source=str(file), separator=None, header=True, encoding=None)
    return frame


def _is_text(series: pd.Series) -> bool:
    return not is_numeric_dtype(series) and not pd.api.types.is_datetime64_any_dtype(series)


def clean_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Strip the text cells, turn :data:`MISSING_TOKENS` into missing, and text columns that are all
    numbers (thousands separators, currency signs) into numbers. Other columns are left as they are."""
    frame = frame.copy()
    for column in frame.columns:
        series = frame[column]
        if not _is_text(series) or isinstance(series.dtype, pd.CategoricalDtype):
            continue
        text = series.astype("string").str.strip()
        text = text.mask(text.str.lower().isin(MISSING_TOKENS))
        numbers_ = parse_numbers(text)
        present = text.notna()
        if present.any() and numbers_[present].notna().all():
            frame[column] = numbers_
        else:
            frame[column] = text.astype(object).where(text.notna(), np.nan)
    return frame


def parse_numbers(values: pd.Series) -> pd.Series:
    """Floats from text cells: plain numbers, and numbers with thousands separators or a leading
    currency sign; anything else (words, missing) becomes NaN."""
    if is_numeric_dtype(values):
        return values.astype("float64")
    text = values.astype("string").str.strip()
    plain = pd.to_numeric(text, errors="coerce")
    grouped = text.str.match(_THOUSANDS, na=False) | text.str.match(_CURRENCY, na=False)
    if grouped.any():
        stripped = text[grouped].str.replace(r"[,$€£¥]", "", regex=True)
        plain = plain.astype("float64")
        plain[grouped] = pd.to_numeric(stripped, errors="coerce")
    return pd.Series(np.asarray(plain, dtype="float64"), index=values.index, name=values.name)
