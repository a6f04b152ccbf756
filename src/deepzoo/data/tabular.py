"""Tables: read a CSV with clear errors, split off the target, check that features are numeric.

Each error names the file or column, says what was wrong and how to fix it, in one line.
"""

from __future__ import annotations

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
