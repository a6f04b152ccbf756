"""Tables: read a CSV with clear errors, split off the target, check that features are numeric.

Each error names the file or column, says what was wrong and how to fix it, in one line.
"""

from __future__ import annotations

import bz2
import codecs
import contextlib
import csv
import difflib
import gzip
import hashlib
import io
import lzma
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

from . import dates
from .numbers import LEADING_ZERO, parse_numbers
from .numbers import NUMERIC_MISSING as _NUMERIC_MISSING
from .numbers import as_numbers as _as_numbers
from .numbers import read_numbers as _read_numbers

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
    compression = _magic(head)
    if compression in _COMPRESSIONS:  # a .csv.gz: the text is what is inside
        head = _head_bytes(file, compression, _SNIFF_BYTES)
        if kwargs.get("compression", "infer") == "infer":
            kwargs["compression"] = compression
    if b"\x00" in head and not _wide_encoding(kwargs):
        raise fail("it holds NUL bytes, so it is a binary file, not text.")
    end = kwargs.pop("end", None)  # read_table's: the byte where a footer starts
    data = kwargs.pop("data", None)  # read_table's: a compressed file's text, decompressed once
    digest = kwargs.pop("digest", None)  # read_table's: the sha256 of the bytes read, for the fingerprint
    try:
        if data is not None:
            source = io.BytesIO(data if end is None else data[:end])
            kwargs["compression"] = None
        elif end is None and digest is None:
            source = file
        else:
            source = io.BufferedReader(_Bounded(file, end, digest), 1 << 20)
        frame = pd.read_csv(source, **kwargs)
    except UnicodeDecodeError as exc:
        raise _EncodingError(
            f"Cannot read {file} as CSV: it is not {exc.encoding} text "
            f"(byte 0x{exc.object[exc.start]:02x} at position {exc.start}); "
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
MISSING_TOKENS = frozenset(
    {"", "?", "na", "n/a", "nan", "-nan", "<na>", "#na", "null", "none", "#n/a", "missing"}
)
# The separators tried, in order of preference when several split the lines equally well.
_SEPARATORS = (",", "\t", ";", "|")
# Separators that are runs of characters: a file whose author doubled some tabs, or aligned its columns.
_RUN_SEPARATORS = (r"\t+", r"\s+")
_SNIFF_LINES = 200
_HEAD_BYTES = 256 * 1024
# cells with a fractional part, to tell a decimal comma from a decimal point in a sample; '1,000' and
# '1.000' (three digits after the mark) could be either, so they count for neither
_COMMA_FRACTION = re.compile(r"^[-+]?(\d{1,3}(\.\d{3})+,\d+|\d*,(\d{1,2}|\d{4,}))$")
_POINT_FRACTION = re.compile(r"^[-+]?(\d{1,3}(,\d{3})+\.\d+|\d*\.(\d{1,2}|\d{4,}))$")

# Formats known by their first bytes; a zip archive is an Excel/OpenDocument workbook or a compressed text.
_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"PK\x03\x04", "zip"),
    (b"PAR1", "parquet"),
    (b"ARROW1", "feather"),
    (b"FEA1", "feather"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "excel"),  # the OLE2 container of .xls
)
_COMPRESSIONS = frozenset({"gzip", "bz2", "xz", "zip"})
_COMPRESSED_SUFFIXES = frozenset({".gz", ".bz2", ".xz", ".zip"})
_FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".feather": "feather",
    ".arrow": "feather",
    ".ipc": "feather",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".xlsb": "excel",
    ".xls": "excel",
    ".ods": "excel",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
# format -> (module imported, package to install, what the format is called)
_READERS = {
    "parquet": ("pyarrow", "pyarrow", "Parquet"),
    "feather": ("pyarrow", "pyarrow", "Feather"),
    "excel": ("python_calamine", "python-calamine", "Excel/OpenDocument"),
}


class _EncodingError(ValueError):
    """A text file that is not in the encoding it was read with (read_table retries another)."""


def _magic(head: bytes) -> str | None:
    """The format or compression that a file's first bytes announce, or None (text, or unknown)."""
    if head[:3] == b"BZh" and head[3:4].isdigit():
        return "bz2"
    return next((name for magic, name in _MAGIC if head.startswith(magic)), None)


def _file_format(file: Path) -> tuple[str, str | None]:
    """(format, compression) of a file: 'text', 'excel', 'parquet', 'feather' or 'jsonl', and 'gzip',
    'bz2', 'xz', 'zip' or None. The first bytes decide where they can, the name's suffixes otherwise."""
    suffixes = [s.lower() for s in file.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSED_SUFFIXES:
        suffixes = suffixes[:-1]
    fmt = _FORMATS.get(suffixes[-1] if suffixes else "", "text")
    with open(file, "rb") as stream:
        found = _magic(stream.read(8))
    if found == "zip":
        try:
            with zipfile.ZipFile(file) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile:
            return fmt, None
        if any(n.startswith("xl/") for n in names) or "mimetype" in names:  # .xlsx, .ods
            return "excel", None
        return ("text" if fmt == "excel" else fmt), "zip"
    if found in _COMPRESSIONS:
        return fmt, found
    if found is not None:
        return found, None
    return fmt, None


@contextlib.contextmanager
def _open_binary(file: Path, compression: str | None, raw: bytes | None = None):
    """The file's bytes, decompressed (from ``raw``, the file's bytes already read, when given); a zip
    archive must hold exactly one file (as pandas reads it)."""
    source = io.BytesIO(raw) if raw is not None else file
    try:
        if compression == "zip":
            with zipfile.ZipFile(source) as archive:
                members = [i for i in archive.infolist() if not i.is_dir()]
                if len(members) != 1:
                    names = _list(i.filename for i in members) or "nothing"
                    raise ValueError(
                        f"Cannot read {file}: the zip archive holds {len(members)} files ({names}), "
                        "and a table is read from one; unzip it and pass the file you mean."
                    )
                with archive.open(members[0]) as stream:
                    yield stream
        elif compression is not None:
            opener = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}[compression]
            with opener(source, "rb") as stream:
                yield stream
        else:
            with open(file, "rb") as stream:
                yield stream
    except (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile) as exc:
        raise ValueError(
            f"Cannot read {file}: it is {compression}-compressed but does not decompress ({exc}); "
            "the file may be cut short."
        ) from None


def _head_bytes(file: Path, compression: str | None, size: int = _HEAD_BYTES) -> bytes:
    with _open_binary(file, compression) as stream:
        return stream.read(size)


def _detect_encoding(head: bytes) -> tuple[str, str]:
    """(encoding, the reason) of text that starts with ``head``: a byte order mark, else UTF-8 when it
    decodes, else Windows-1252 when it holds its punctuation bytes (0x80-0x9f: curly quotes, the euro
    sign), else Latin-1, which decodes any byte."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "UTF-8 with a byte order mark"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "UTF-16 with a byte order mark"
    try:
        head.decode("utf-8")
        return "utf-8", "UTF-8"
    except UnicodeDecodeError as exc:
        if len(head) == _HEAD_BYTES and exc.start >= len(head) - 3:  # a character cut by the sample
            return "utf-8", "UTF-8"
    if re.search(rb"[\x80-\x9f]", head):
        try:
            head.decode("cp1252")
            return "cp1252", "not UTF-8; its bytes 0x80-0x9f are Windows-1252 punctuation"
        except UnicodeDecodeError:
            pass
    return "latin-1", "not UTF-8; read as Latin-1 (ISO-8859-1)"


def _split_counts(lines: list[str], sep: str) -> list[int]:
    """How many fields each line has when split on ``sep`` (quotes respected; a regex is a regex)."""
    if sep in _RUN_SEPARATORS:
        return [len(re.split(sep, line.strip() if sep == r"\s+" else line)) for line in lines]
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
    first line may differ: a preamble): one of ``, \\t ; |``, or, only when it splits the lines more
    consistently than any of them, ``r"\\t+"`` (some tabs doubled) or ``r"\\s+"`` (aligned columns);
    ``","`` for one column."""
    lines = [line for line in lines if line.strip()][:_SNIFF_LINES]
    best, best_score = ",", (0.0, 0.0, 0)
    for sep in _SEPARATORS + _RUN_SEPARATORS:
        counts = _split_counts(lines, sep)
        if not counts:
            continue
        rest = _consistency(counts[1:]) if len(counts) > 1 else (0.0, 0)
        whole = _consistency(counts)
        # ties (a ';' file whose text holds commas) go to the separator that splits the header alike too
        score = (max(whole[0], rest[0]), whole[0], max(whole, rest)[1])
        if sep in _RUN_SEPARATORS:
            # a run separator must do strictly better, and never against one that splits every line
            # alike (header included): it cannot hold an empty field between two tabs. Against a comma
            # that splits every row alike but not the header (aligned columns of names like 'Allen, Mr'),
            # a run of spaces wins when it splits every line, header included, into more fields (a
            # preamble line above a comma file splits into as many)
            consistent_rows = best_score[0] == 1.0 and best_score[1] < 1.0
            if score[2] >= 2 and (
                (score[0] > best_score[0] and (best_score[0] < 1.0 or best_score[2] < 2))
                or (consistent_rows and score[1] == 1.0 and score[2] > best_score[2])
            ):
                best, best_score = sep, score
        elif score[2] >= 2 and score > best_score:
            best, best_score = sep, score
    return best


def _sample_rows(lines: list[str], sep: str) -> list[list[str]]:
    """The sample lines split into fields as pandas will split them."""
    if sep == r"\s+":
        return [line.split() for line in lines]
    if sep in _RUN_SEPARATORS:
        return [re.split(sep, line) for line in lines]
    try:
        return list(csv.reader(lines, delimiter=sep))
    except csv.Error:
        return [line.split(sep) for line in lines]


def _sniff_decimal(rows: list[list[str]], sep: str) -> str:
    """',' when more sample cells have a decimal comma ('21,5') than a decimal point, in a file whose
    separator is not a comma (a European spreadsheet's export); else '.'."""
    if sep == ",":
        return "."
    cells = [c.strip() for row in rows for c in row]
    commas = sum(bool(_COMMA_FRACTION.match(c)) for c in cells)
    points = sum(bool(_POINT_FRACTION.match(c)) for c in cells)
    return "," if commas > points else "."


def _count_lines(file: Path, compression: str | None = None, data: bytes | None = None) -> int:
    """Non-empty lines of a file (decompressed; or of ``data``, its bytes already read), counted in
    1 MiB blocks."""
    count, last = 0, b"\n"
    with (
        contextlib.nullcontext(io.BytesIO(data))
        if data is not None
        else _open_binary(file, compression) as stream
    ):
        for block in iter(lambda: stream.read(1 << 20), b""):
            count += block.count(b"\n") - block.count(b"\n\n")
            last = block[-1:]
    return count + (last != b"\n")


def _is_number(values: list[str], decimal: str) -> np.ndarray:
    """Whether each cell reads as a number."""
    return parse_numbers(pd.Series(values, dtype=object), decimal=decimal).notna().to_numpy()


def _has_header(rows: list[list[str]], decimal: str = ".") -> bool:
    """Whether the first row names the columns: in some column the first value is a word where the
    values below are numbers, or (all text) the first row's values never occur again below."""
    if len(rows) < 2:
        return True
    first, rest = rows[0], rows[1:]
    named = [v for v in first if v.strip().lower() not in MISSING_TOKENS]
    if named and _is_number(named, decimal).any():
        return False  # a header holds names, not numbers
    width = len(first)
    for j in range(width):
        below = [r[j] for r in rest if j < len(r) and r[j].strip().lower() not in MISSING_TOKENS]
        if below and _is_number(below, decimal).mean() >= 0.9:
            return True  # a word above numbers
    # every column is text: a header if its values are unlike the rows below (never repeated there)
    repeated = sum(any(j < len(r) and r[j] == first[j] for r in rest) for j in range(width))
    return repeated == 0


def read_table(
    path: str | os.PathLike,
    *,
    sep: str | None = None,
    header: bool | None = None,
    nrows: int | None = None,
    sheet: str | int | None = None,
    sha256: bool = False,
) -> pd.DataFrame:
    """Read a user's table, whatever its format and dialect, into a DataFrame of cleaned columns.

    Formats (told by the file's first bytes, else its name): delimited text (``.csv``, ``.tsv``,
    ``.txt``, ``.data``, ...) plain or compressed (``.gz``, ``.bz2``, ``.xz``, a ``.zip`` of one file),
    Excel and OpenDocument workbooks (``.xlsx``, ``.xls``, ``.ods``; the first sheet unless ``sheet``
    says), Parquet and Feather (with pyarrow), JSON Lines (``.jsonl``, ``.ndjson``).

    For text, the separator (comma, tab, semicolon, pipe, or runs of tabs or whitespace), the decimal
    mark (a comma in a ``;``-separated European export) and whether the first row is a header are
    sniffed from the first lines; leading preamble lines and trailing footer lines (``Source: ...``,
    ``# total``) are skipped; a file without a header gets the
    columns ``"0"``, ``"1"``, ... (as strings, so that ``target="7"`` names one). The encoding is a byte
    order mark's, else UTF-8, else Windows-1252 or Latin-1, and the reason is kept. In every format,
    blank cells and the tokens of :data:`MISSING_TOKENS` (``?``, ``NA``, ``N/A``, ``null``, ``None``,
    ...) become missing, and so do a lone ``-`` or ``.`` in a column of numbers; text columns whose values
    are numbers as people write them become numbers: thousands separators, a currency sign before or
    after, a decimal comma (``"7,380,500"``, ``"$1,234.50"``, ``"1.234,5"``, ``"12 €"``), parentheses for
    negatives (``"(1,234.50)"`` is -1234.5), percent signs (``"12%"`` is 12: the number as written) and
    one unit per column (``"3.5 GB"``; a column of several units stays text, and a note says so). Codes
    written with a leading zero (zip codes ``"02134"``) stay text. A workbook column of Excel serial day
    numbers named like a date becomes dates.

    What was decided is kept in ``frame.attrs``: ``source``, ``format``, ``compression``, ``separator``,
    ``decimal``, ``header``, ``encoding``, ``encoding_reason``, ``sheet`` (and ``sheets``) for a
    workbook, ``footer`` (the lines left out), ``units`` (per column), ``missing`` (per column, the
    missing cells by marker: ``{"Age": {"blank": 177}}``), ``notes`` (columns read in an unusual way) and
    ``dialect``, all of it in one line to print; :func:`reading_decisions` gathers them for config.json.

    Parameters
    ----------
    path : str or path-like
    sep : str, optional
        The separator; None sniffs it.
    header : bool, optional
        Whether the first row names the columns; None sniffs it (a workbook: True).
    nrows : int, optional
        Read only the first ``nrows`` data rows.
    sheet : str or int, optional
        A workbook's sheet, by name or position from 0; None: the first.
    sha256 : bool, default=False
        Hash a text file's bytes as they are parsed, into ``attrs["sha256"]`` (``deepzoo fit``'s
        fingerprint of its data, without reading the file a second time; it costs about a fifth of the
        reading time, so it is asked for).

    Raises
    ------
    FileNotFoundError, ValueError
        As :func:`read_csv` (missing, a folder, empty, a header only, rows whose fields no separator
        explains, naming the first bad line and showing it), and, each in one line: a binary file of no
        known format, a sheet that does not exist (listing the sheets), a sheet asked of a file that is
        not a workbook, a workbook without sheets, a format whose reader is not installed (naming the
        package), a text file larger than the memory available (pointing to Parquet and
        :func:`iter_table`).

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
    _check_file(file)
    fmt, compression = _file_format(file)
    if sheet is not None and fmt != "excel":
        raise ValueError(
            f"Cannot read sheet {sheet!r} of {file}: it is a {fmt} file, and sheets belong to workbooks "
            "(.xlsx, .xls, .ods); leave out --sheet."
        )
    if fmt != "text":
        return _read_other(file, fmt, compression, header=header, nrows=nrows, sheet=sheet)
    if nrows is None:
        _check_memory(file, compression)
    data, digest = None, None
    if compression is not None and nrows is None and file.stat().st_size <= _FOOTER_COMPRESSED_BYTES:
        # read and decompressed once: the fingerprint, the footer check, the line count and the parser
        # all use these bytes
        raw = file.read_bytes()
        digest = hashlib.sha256(raw) if sha256 else None
        data = _whole(file, compression, raw)
        del raw
    elif compression is None and nrows is None and sha256:
        digest = hashlib.sha256()  # fed by the parser's own read of the file
    options, info = _table_options(file, sep, header, compression, data=data)
    n_footer = len(info["footer"])
    if n_footer and "end" not in options and nrows is None:
        # (the first rows of a file are not its footer.) Without the footer's byte (a UTF-16 file) a
        # small file is read by the python parser, the only one that skips a footer; a large one by the C
        # parser (the python one is ~10x slower), its footer rows dropped after
        if file.stat().st_size <= _PYTHON_PARSER_BYTES:
            options.update(skipfooter=n_footer, engine="python")
    footer_rows = n_footer if n_footer and nrows is None and not {"end", "skipfooter"} & set(options) else 0
    if data is not None:
        options["data"] = data
    rows = {"nrows": nrows} if nrows is not None else {}
    feed = {"digest": digest} if data is None and digest is not None else {}
    try:
        try:
            frame = read_csv(file, **options, **rows, **feed)
        except _EncodingError:
            # the sample was UTF-8, a later line is not: the whole file is read as the 8-bit encoding
            whole = data if data is not None else _whole(file, compression)
            options["encoding"] = _detect_encoding(whole)[0]
            info["encoding_reason"] = "not UTF-8 past the first lines; " + options["encoding"]
            if feed:
                digest = feed["digest"] = hashlib.sha256()
            frame = read_csv(file, **options, **rows, **feed)
    except ValueError as exc:
        raise _ragged(exc, file, options) from None
    if feed and "end" in options:  # the footer's bytes, which the parser was not given
        with open(file, "rb") as stream:
            stream.seek(options["end"])
            digest.update(stream.read())
    if options["sep"] == "\t" and nrows is None:
        # tab-separated text rarely quotes: a stray '"' would swallow the lines up to the next one. The
        # rows expected: the lines the parser read (up to the footer's byte, if known), less the
        # preamble, the header, and the footer lines the python parser skipped
        read = data[: options["end"]] if data is not None and "end" in options else data
        if read is None and "end" in options:
            with open(file, "rb") as stream:
                read = stream.read(options["end"])
        n_lines = _count_lines(file, compression, read) - (options["skiprows"] or 0)
        n_lines -= (options["header"] == 0) + options.get("skipfooter", 0)
        if len(frame) < n_lines:
            unquoted = read_csv(file, **options, quoting=csv.QUOTE_NONE)
            if len(unquoted) == n_lines:
                frame = unquoted
    if footer_rows:  # after the repair above, which counts them among the rows read
        frame = _drop_footer_rows(frame, footer_rows, options.get("dtype", {}))
    frame = _finish(frame, file, options, info)
    if digest is not None:
        frame.attrs["sha256"] = digest.hexdigest()  # of the file's bytes: deepzoo fit's fingerprint
    return frame


def iter_table(path: str | os.PathLike, chunksize: int = 100_000, *, sep=None, header=None):
    """:func:`read_table` chunk by chunk (``chunksize`` rows each), for files larger than memory: the
    dialect is sniffed once, every chunk is cleaned the same way. Other formats than text (Parquet,
    Excel, ...) come in one piece."""
    file = Path(path).expanduser()
    _check_file(file)
    fmt, compression = _file_format(file)
    if fmt != "text":
        yield _read_other(file, fmt, compression, header=header)
        return
    options, info = _table_options(file, sep, header, compression)
    # pandas cannot skip a footer chunk by chunk: its rows are held back from the last chunks instead
    chunks = read_csv(file, **options, chunksize=chunksize)
    for chunk in _without_footer(chunks, 0 if "end" in options else len(info["footer"])):
        yield _finish(chunk, file, options, info)


def _drop_footer_rows(frame: pd.DataFrame, n_footer: int, codes: dict) -> pd.DataFrame:
    """The frame without its last ``n_footer`` rows, and the columns that were text only because of
    them ('Source: ...' in a column of integers) as pandas would have read them (codes stay text)."""
    frame = frame.iloc[: len(frame) - n_footer].copy()
    for i, column in enumerate(frame.columns):
        if _is_text(frame.iloc[:, i]) and column not in codes and i not in codes:
            with contextlib.suppress(ValueError, TypeError):
                frame.isetitem(i, pd.to_numeric(frame.iloc[:, i]))  # raises at the first non-number
    return frame


def _without_footer(chunks, n_footer: int):
    """The chunks with their last ``n_footer`` rows left out (held back across chunks, so a footer
    split between two chunks is left out too)."""
    if not n_footer:
        yield from chunks
        return
    held = None
    for chunk in chunks:
        joined = chunk if held is None else pd.concat([held, chunk])
        if len(joined) > n_footer:
            yield joined.iloc[: len(joined) - n_footer]
            held = joined.iloc[len(joined) - n_footer :]
        else:
            held = joined


def _available_memory() -> int | None:
    """Bytes of memory available to a new allocation (MemAvailable of /proc/meminfo, else psutil), or
    None when neither says."""
    try:
        with open("/proc/meminfo") as stream:
            for line in stream:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import psutil
    except ImportError:
        return None
    return int(psutil.virtual_memory().available)


def _text_size(file: Path, compression: str | None) -> int:
    """The bytes of text a file holds once decompressed: its size, the size a zip or gzip records, or
    five times the compressed size (a usual ratio for tables) for bz2 and xz."""
    size = file.stat().st_size
    if compression == "zip":
        with zipfile.ZipFile(file) as archive:
            return sum(i.file_size for i in archive.infolist())
    if compression == "gzip":
        with open(file, "rb") as stream:
            stream.seek(-4, os.SEEK_END)
            recorded = int.from_bytes(stream.read(4), "little")  # the size modulo 2**32
        return recorded + (size * 5 // 2**32) * 2**32 if size * 5 > 2**32 else max(recorded, size)
    return size * 5 if compression in ("bz2", "xz") else size


def _check_memory(file: Path, compression: str | None) -> None:
    """A one-line error, before pandas tries, for a text table larger than the memory available: its
    columns take about as many bytes as its text, and pandas needs room to parse them."""
    available = _available_memory()
    if available is None:
        return
    size = _text_size(file, compression)
    if size > available:
        raise ValueError(
            f"Cannot read {file} whole: it holds about {size / 2**30:.1f} GiB of text and "
            f"{available / 2**30:.1f} GiB of memory is available. Save it as Parquet (pandas.read_csv "
            "with chunksize=, then DataFrame.to_parquet) or stream it with "
            "deepzoo.data.tabular.iter_table(path, chunksize=100_000)."
        )


_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def _ragged(exc: ValueError, file: Path, options: dict) -> ValueError:
    """The parser's 'Expected 3 fields in line 5, saw 5' as one line naming the line and showing it."""
    found = _FIELDS.search(str(exc))
    if not found:
        return exc
    expected, number, saw = (int(g) for g in found.groups())
    shown = ""
    with contextlib.suppress(Exception), _open_binary(file, options.get("compression")) as stream:
        for i, raw in enumerate(stream, start=1):
            if i == number:
                line = raw.decode(options["encoding"], errors="replace").rstrip("\r\n")
                shown = f": {line[:80]!r}" + ("..." if len(line) > 80 else "")
                break
    name = _SEPARATOR_NAMES.get(options["sep"], "runs of whitespace")
    return ValueError(
        f"Cannot read {file} as a table: line {number} has {saw} fields where the table has {expected} "
        f"({name}-separated; no other separator splits the lines more evenly){shown}. Fix or remove "
        "that line, or quote the fields that hold the separator."
    )


def _check_file(file: Path) -> None:
    """Not found, a folder, empty: each its own message."""
    if not file.exists() or file.is_dir():
        read_csv(file)  # raises its messages: not found, a folder
    if file.stat().st_size == 0:
        raise ValueError(f"Cannot read {file} as a table: the file is empty.")


def _whole(file: Path, compression: str | None, raw: bytes | None = None) -> bytes:
    with _open_binary(file, compression, raw) as stream:
        return stream.read()


def _table_options(
    file: Path, sep, header, compression: str | None = None, data: bytes | None = None
) -> tuple[dict, dict]:
    """pandas.read_csv's options for a user's text table (separator, decimal mark, header, encoding
    sniffed from its first lines, leading preamble lines skipped, the missing-value tokens), and what
    else was decided (the reason for the encoding, the footer lines: ``end`` in the options is the byte
    where they start, when it is known). ``data``: a compressed file's text, already decompressed."""
    head = _head_bytes(file, compression)
    encoding, reason = _detect_encoding(head)
    if b"\x00" in head and encoding != "utf-16":
        raise ValueError(
            f"Cannot read {file}: it is a binary file of no format deepzoo knows (text, compressed text, "
            "Excel, OpenDocument, Parquet, Feather, JSON Lines); save the table as CSV."
        )
    text = head.decode(encoding, errors="ignore")
    if not text.strip():
        raise ValueError(f"Cannot read {file} as a table: the file is empty.")
    lines = text.splitlines()[: _SNIFF_LINES + 1]
    if len(lines) > _SNIFF_LINES:
        lines = lines[:-1]  # the last line of the sample may be cut
    if sep is None:
        sep = sniff_separator(lines)
    rows = _sample_rows([line for line in lines if line.strip()], sep)
    # a preamble (UCI's adult.test starts with '|1x3 Cross validator'): leading lines whose number of
    # fields differs from the table's are skipped
    widths = [len(r) for r in rows if r]
    mode = max(set(widths), key=widths.count) if widths else 1
    skip = 0
    while skip < len(rows) and rows[skip] and len(rows[skip]) != mode and mode > 1:
        skip += 1
    decimal = _sniff_decimal(rows[skip + 1 :], sep)
    if header is None:
        header = _has_header([r for r in rows[skip:] if r], decimal)
    options = dict(
        sep=sep,
        header=0 if header else None,
        encoding=encoding,
        decimal=decimal,
        # only blank cells are missing to the parser; clean_frame turns the tokens of MISSING_TOKENS
        # into missing itself, so that it can count each column's markers
        na_values=[""],
        keep_default_na=False,
        # spaces after a separator are skipped only where the sample has them ('a, "b"'): pandas' C
        # parser is a fifth slower with it, and clean_frame strips text cells anyway
        skipinitialspace=sep == r"\t+" or (sep != r"\s+" and any(sep + " " in line for line in lines)),
        skiprows=skip or None,
        compression=compression,
    )
    codes = _code_columns(rows[skip:], header, mode, options["skipinitialspace"])
    if codes:
        options["dtype"] = codes
    if sep in _RUN_SEPARATORS and sep != r"\s+":
        options["engine"] = "python"  # pandas' C parser splits on one character or on \s+ only
    first_words = _first_words(rows[skip + bool(header) :])
    footer, end, short = _footer_lines(file, compression, encoding, sep, mode, data, first_words)
    if end is not None:
        options["end"] = end  # the C parser reads the bytes before the footer
    short = [line for line in lines[skip:] + short if _is_short(line, sep, mode) and line not in footer]
    return options, {
        "encoding_reason": reason,
        "compression": compression,
        "footer": footer,
        "short": list(dict.fromkeys(short)),
    }


def _first_words(rows: list[list[str]]) -> bool:
    """Whether the table's first column holds words (names, labels) in most of the sample rows: then a
    short last line that starts with a word may be a row, not a footer."""
    firsts = [r[0] for r in rows if r]
    return bool(firsts) and np.mean([bool(re.search(r"[^\W\d_]", f)) for f in firsts]) > 0.5


def _is_short(line: str, sep: str, width: int) -> bool:
    """A row with fewer fields than the table's (not blank, not a comment)."""
    if not line.strip() or line.lstrip().startswith("#"):
        return False
    counts = _split_counts([line], sep)
    return bool(counts) and counts[0] < width


def _code_columns(rows: list[list[str]], header: bool, width: int, strip: bool) -> dict:
    """{column: "str"} for the columns whose sample cells hold a code written with a leading zero
    ('02134'): read as text, so that the zero survives to the schema (pandas would read 2134)."""
    body = [r for r in rows[1 if header else 0 :] if r]
    found = [j for j in range(width) if any(j < len(r) and LEADING_ZERO.match(r[j].strip()) for r in body)]
    if not found:
        return {}
    if not header:
        return dict.fromkeys(found, "str")
    names = [c.lstrip() if strip else c for c in rows[0]]
    if len(set(names)) != len(names):
        return {}  # pandas renames repeated names ('a', 'a.1'): leave those files as they were read
    return {names[j]: "str" for j in found if j < len(names)}


def _is_footer(line: str, sep: str, width: int, first_words: bool = False) -> bool:
    """A comment ('# total'), or a line of fewer fields than the table's whose first field holds a
    word ('Source: UCI'); a line of more fields is a bad row, said as such. Where the table's first
    column holds words itself (``first_words``), a short line is a footer only when it is one field or
    its first field reads like a label ('Source:', 'Total:'); else it is a short row."""
    if line.lstrip().startswith("#"):
        return True
    counts = _split_counts([line], sep)
    first = _sample_rows([line], sep)[0][:1] if counts else []
    if not (counts and counts[0] < width and first and re.search(r"[^\W\d_]", first[0])):
        return False
    return not first_words or counts[0] == 1 or ":" in first[0]


# above this many bytes a file with a footer is read by the C parser, its footer rows dropped after
_PYTHON_PARSER_BYTES = 16 << 20
# a compressed file up to this size is decompressed once, into memory, and its end looked at for a footer
_FOOTER_COMPRESSED_BYTES = 64 << 20
# lines at the end of a file looked at for a footer ('Source: ...', '# total')
_TAIL_BYTES = 64 * 1024
_MAX_FOOTER = 20


def _footer_lines(
    file: Path,
    compression: str | None,
    encoding: str,
    sep: str,
    width: int,
    data: bytes | None = None,
    first_words: bool = False,
) -> tuple[list[str], int | None, list[str]]:
    """(the trailing lines of a text table that are not rows, the byte where they start or None, the
    last rows that have fewer fields than the table): the footer lines are comments ('# total') and notes
    ('Source: UCI') whose number of fields differs from the table's ``width``; the byte is known for an
    uncompressed file (or ``data``, a compressed file's text read by the caller) in a
    byte-per-character or UTF-8 encoding. A compressed file larger than 64 MiB is not looked at (its end
    costs a whole decompression) unless the caller gives its ``data``."""
    if width < 2 or (
        data is None and compression is not None and file.stat().st_size > _FOOTER_COMPRESSED_BYTES
    ):
        return [], None, []
    if data is not None:
        size, tail, cut = len(data), data[-_TAIL_BYTES:], len(data) > _TAIL_BYTES
    elif compression is None:
        with open(file, "rb") as stream:
            size = stream.seek(0, os.SEEK_END)
            stream.seek(max(0, size - _TAIL_BYTES))
            tail = stream.read()
            cut = size > _TAIL_BYTES
    else:  # iter_table's compressed file: streamed to its end (it reads it again, chunk by chunk)
        with _open_binary(file, compression) as stream:
            tail, cut = b"", False
            for block in iter(lambda: stream.read(1 << 20), b""):
                cut = cut or len(tail) + len(block) > _TAIL_BYTES
                tail = (tail + block)[-_TAIL_BYTES:]
    kept = tail.decode(encoding, errors="ignore").splitlines(keepends=True)[1 if cut else 0 :]
    lines = [line.rstrip("\r\n") for line in kept]
    n_lines = len(lines)
    while n_lines and not lines[n_lines - 1].strip():
        n_lines -= 1
    footer = []
    for line in reversed(lines[max(0, n_lines - _MAX_FOOTER) : n_lines]):
        if not _is_footer(line, sep, width, first_words):
            break
        footer.append(line)
    rows = lines[max(0, n_lines - _MAX_FOOTER) : n_lines - len(footer)]
    short = [line for line in rows if _is_short(line, sep, width)]
    if not footer or len(footer) >= min(n_lines, _MAX_FOOTER):
        return [], None, short  # no footer, or no row at the end: a file this rule does not understand
    if sum(line.count('"') for line in footer) % 2:
        # an odd number of quotes: the "footer" closes a quoted cell opened above it (the resumes' last
        # cell spans many lines), so these lines are the last row's, not notes after the table
        return [], None, short
    end = None
    if (compression is None or data is not None) and encoding in ("utf-8", "utf-8-sig", "cp1252", "latin-1"):
        trailing = "".join(kept[n_lines - len(footer) :]).encode(encoding.replace("-sig", ""), "ignore")
        end = size - len(trailing)
    return footer[::-1], end, short


class _Bounded(io.RawIOBase):
    """A file's bytes up to ``end`` (None: all of them), what pandas' C parser reads of a table whose
    footer is left out, added to ``digest`` as they are read (the run's fingerprint, without a second
    read of the file)."""

    def __init__(self, file: Path, end: int | None, digest=None):
        self._stream, self._left, self._digest = open(file, "rb"), end, digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = len(buffer) if self._left is None else min(len(buffer), self._left)
        view = memoryview(buffer)[:n]
        got = self._stream.readinto(view) if n > 0 else 0
        if self._left is not None:
            self._left -= got
        if self._digest is not None and got:
            self._digest.update(view[:got])
        return got

    def close(self) -> None:
        self._stream.close()
        super().close()


def _finish(frame: pd.DataFrame, file: Path, options: dict, info: dict) -> pd.DataFrame:
    """Column names as stripped strings, cells cleaned, the sniffed dialect in ``attrs``."""
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = clean_frame(frame, decimal=options["decimal"])
    frame.attrs.update(
        source=str(file),
        format="text",
        compression=info["compression"],
        separator=options["sep"],
        decimal=options["decimal"],
        header=options["header"] == 0,
        encoding=options["encoding"],
        encoding_reason=info["encoding_reason"],
        footer=info.get("footer", []),
    )
    if info.get("footer"):
        frame.attrs["notes"].append(f"{len(info['footer'])} footer line(s) left out: {info['footer'][0]!r}")
    if info.get("short"):
        short, more = info["short"], ", ..." if len(info["short"]) > 1 else ""
        frame.attrs["notes"].append(
            f"{len(short)} row(s) with fewer fields than the header ({short[0]!r}{more}) padded with "
            "missing values (in the first and last lines looked at)"
        )
    frame.attrs["dialect"] = _describe(frame.attrs)
    return frame


_SEPARATOR_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe", r"\t+": "runs of tabs"}


def _describe(attrs: dict) -> str:
    """What was decided about a file, in one line: 'text, semicolon-separated, decimal comma, ...'."""
    parts = [attrs["format"] + (f" ({attrs['compression']})" if attrs.get("compression") else "")]
    if attrs.get("sheet") is not None:
        parts.append(f"sheet {attrs['sheet']!r} of {len(attrs.get('sheets', ()))}")
    if attrs.get("separator") is not None:
        parts.append(_SEPARATOR_NAMES.get(attrs["separator"], "runs of whitespace") + "-separated")
        parts.append("decimal comma" if attrs.get("decimal") == "," else "decimal point")
        parts.append(f"encoding {attrs['encoding']} ({attrs['encoding_reason']})")
        parts.append("header row" if attrs["header"] else "no header row")
    parts += attrs.get("notes", [])
    return ", ".join(parts)


# what read_table decided, as config.json keeps it
_READING_KEYS = (
    "format", "compression", "sheet", "sheets", "separator", "decimal", "header", "encoding",
    "encoding_reason", "footer", "notes", "units", "missing", "dialect",
)  # fmt: skip


def reading_decisions(frame: pd.DataFrame) -> dict:
    """What :func:`read_table` decided about the file ``frame`` came from (its ``attrs``: format,
    dialect, notes, each column's unit and missing cells by marker), for ``config.json``."""
    return {k: frame.attrs[k] for k in _READING_KEYS if frame.attrs.get(k) not in (None, [], {})}


def missing_summary(missing: dict, limit: int = 10) -> str:
    """Missing cells per column by marker in one line: "Age 177 (blank), b 3 (blank 1, '?' 2)"."""
    parts = []
    for column, markers in list(missing.items())[:limit]:
        total = sum(markers.values())
        how = ", ".join(m if len(markers) == 1 else f"{m} {n}" for m, n in markers.items())
        parts.append(f"{column} {total:,} ({how})")
    more = f"; ... ({len(missing) - limit} more columns)" if len(missing) > limit else ""
    return "; ".join(parts) + more


def _require(file: Path, fmt: str) -> None:
    """A one-line error naming the package to install when a format's reader is missing."""
    module, package, label = _READERS[fmt]
    try:
        __import__(module)  # through builtins.__import__, so a test can hide the package
    except ImportError:
        raise ValueError(
            f"Cannot read {file}: {label} files need {package} (pip install {package}), "
            "or save the table as CSV."
        ) from None


def _read_other(file: Path, fmt: str, compression, *, header=None, nrows=None, sheet=None) -> pd.DataFrame:
    """A workbook, a Parquet or Feather file, or JSON Lines, cleaned like text."""
    attrs = {"format": fmt, "compression": compression, "separator": None, "decimal": None}
    attrs.update(header=header is not False, encoding=None)
    if fmt == "excel":
        frame, names, chosen = _read_excel(file, sheet, header, nrows)
        attrs.update(sheet=chosen, sheets=names)
    elif fmt == "jsonl":
        try:
            frame = pd.read_json(file, lines=True, compression=compression, nrows=nrows, dtype=False)
        except ValueError as exc:
            raise ValueError(f"Cannot read {file} as JSON Lines: {str(exc).splitlines()[0]}") from None
    else:
        _require(file, fmt)
        label = _READERS[fmt][2]
        try:
            frame = pd.read_parquet(file) if fmt == "parquet" else pd.read_feather(file)
        except Exception as exc:  # pyarrow's many error types: one message
            raise ValueError(f"Cannot read {file} as {label}: {str(exc).splitlines()[0]}") from None
        if nrows is not None:
            frame = frame.head(nrows)
    if len(frame.columns) == 0:
        raise ValueError(f"Cannot read {file} as a table: it is empty (no columns, no rows).")
    if len(frame) == 0 and nrows is None:
        raise ValueError(
            f"Cannot read {file} as a table: it has a header ({_list(frame.columns)}) but no rows."
        )
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = clean_frame(frame)
    for column in frame.attrs.pop("serial_dates", []):
        frame.attrs["notes"].append(
            f"{column}: Excel serial day numbers read as dates (days since 1899-12-30)"
        )
    frame.attrs.update(source=str(file), **attrs)
    frame.attrs["dialect"] = _describe(frame.attrs)
    return frame


def _sheet_names(file: Path) -> list[str]:
    """The sheets of a workbook, in order."""
    from python_calamine import CalamineWorkbook

    try:
        return list(CalamineWorkbook.from_path(str(file)).sheet_names)
    except Exception as exc:  # calamine's errors: one message
        raise ValueError(f"Cannot read {file} as a workbook: {str(exc).splitlines()[0]}") from None


def _read_excel(file: Path, sheet, header, nrows) -> tuple[pd.DataFrame, list[str], str]:
    """(the sheet's table, the workbook's sheets, the sheet read): the first sheet unless ``sheet``
    names one (or gives its position from 0)."""
    _require(file, "excel")
    names = _sheet_names(file)
    if not names:
        raise ValueError(f"Cannot read {file}: the workbook has no sheets.")
    listed = ", ".join(repr(n) for n in names)
    if sheet is None:
        chosen = names[0]
    elif str(sheet) in names:
        chosen = str(sheet)
    elif isinstance(sheet, int) or str(sheet).lstrip("-").isdigit():
        if not 0 <= int(sheet) < len(names):
            raise ValueError(
                f"Cannot read sheet {sheet} of {file}: it has {len(names)} sheet(s), "
                f"numbered from 0: {listed}."
            )
        chosen = names[int(sheet)]
    else:
        nearest = _nearest(sheet, names)
        hint = f" Did you mean '{nearest}'?" if nearest else ""
        raise ValueError(f"Cannot read {file}: it has no sheet '{sheet}'; its sheets: {listed}.{hint}")
    try:
        frame = pd.read_excel(
            file, sheet_name=chosen, engine="calamine", header=None if header is False else 0, nrows=nrows
        )
    except Exception as exc:
        raise ValueError(f"Cannot read sheet '{chosen}' of {file}: {str(exc).splitlines()[0]}") from None
    frame = frame.dropna(how="all").dropna(axis=1, how="all")  # the blank rows and columns around a table
    for i, column in enumerate(frame.columns):
        stamps = dates.excel_serial_dates(column, frame.iloc[:, i])
        if stamps is not None:  # a date column whose cells were not formatted as dates
            frame.isetitem(i, stamps)
            frame.attrs.setdefault("serial_dates", []).append(str(column))
    if frame.empty and len(frame.columns) == 0:
        raise ValueError(f"Cannot read {file}: its sheet '{chosen}' is empty; the sheets are {listed}.")
    return frame.reset_index(drop=True), names, chosen


def _is_text(series: pd.Series) -> bool:
    return not is_numeric_dtype(series) and not pd.api.types.is_datetime64_any_dtype(series)


def clean_frame(frame: pd.DataFrame, decimal: str = ".") -> pd.DataFrame:
    """Strip the text cells, turn :data:`MISSING_TOKENS` into missing, and text columns that are all
    numbers as people write them (thousands separators, currency signs before or after, a decimal
    comma, percent signs, one unit per column, parentheses for negatives; a lone '-' or '.' as missing)
    into numbers. ``decimal`` is the file's decimal mark, tried first. Codes written with a leading zero
    (zip codes ``02134``) stay text. Other columns are left as they are.

    What was read unusually is listed in ``attrs["notes"]``, each column's unit in ``attrs["units"]``
    and each column's missing cells by marker in ``attrs["missing"]`` (``{"Age": {"blank": 177}}``)."""
    names = list(frame.columns)
    # a shallow copy, each changed column replaced in it: the float columns of a million rows are
    # never copied (pd.concat would consolidate them into one new block)
    cleaned = frame.copy(deep=False)
    notes, units, missing = [], {}, {}
    for i, column in enumerate(names):
        series = frame.iloc[:, i]
        # numbers, categories, and plain text (nothing to strip, nothing missing but blanks, not
        # numbers) are kept as read
        if not _is_text(series) or isinstance(series.dtype, pd.CategoricalDtype) or _plain_text(series):
            blank = int(series.isna().sum())
            if blank:
                missing[column] = {"blank": blank}
            continue
        # each distinct cell is cleaned once, then spread back to the rows: a million rows of a few
        # categories cost a factorize, not a million string operations
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
        raw = pd.Series(uniques, dtype=object).astype("string")
        text = raw.str.strip()
        markers = _count_markers(text, counts, int((codes < 0).sum()))
        text = text.mask(text.str.lower().isin(MISSING_TOKENS))
        numbers_, how, unit = _as_numbers(text, decimal, counts)
        if numbers_ is not None:
            values = np.append(numbers_.to_numpy(dtype="float64"), np.nan)
            cleaned.isetitem(i, pd.Series(values[codes], index=series.index, name=column))
            dashes = text.isin(_NUMERIC_MISSING).to_numpy()
            if dashes.any():
                markers["'-'/'.'"] = int(counts[dashes].sum())
            if unit:
                units[column] = unit
        elif not (text.isna().any() or (text != raw).any()):
            pass  # nothing to strip, nothing missing: the column stays as the parser gave it
        else:
            values = np.append(text.astype(object).where(text.notna(), np.nan).to_numpy(), np.nan)
            cleaned.isetitem(i, pd.Series(values[codes], index=series.index, name=column, dtype=object))
        if how:
            notes.append(f"{column}: {how}")
        if markers:
            missing[column] = markers
    cleaned.attrs = dict(frame.attrs)
    cleaned.attrs.update(notes=notes, units=units, missing=missing)
    return cleaned


def _plain_text(series: pd.Series) -> bool:
    """Whether a text column stays as the parser read it: its distinct cells need no stripping, hold
    no missing token, and some of the first thousand is no number. (A distinct-values pass costs less
    than the factorize the cleaning needs; most text columns of a large file are such.)"""
    uniques = pd.Series(series.unique(), dtype=object).dropna().astype("string")
    if uniques.empty or (uniques.str.strip() != uniques).any():
        return False
    if uniques.str.lower().isin(MISSING_TOKENS).any():
        return False
    first = uniques[~uniques.isin(_NUMERIC_MISSING)].iloc[:1000]
    return bool(_read_numbers(first, ".")[0].isna().any()) and bool(_read_numbers(first, ",")[0].isna().any())


def _count_markers(text: pd.Series, counts: np.ndarray, n_nan: int) -> dict:
    """{marker: cells} of the missing cells of one column: 'blank' (empty or spaces, and cells the
    parser already read as missing) and each token of :data:`MISSING_TOKENS` as written."""
    found = {"blank": n_nan} if n_nan else {}
    lowered = text.str.lower()
    for j in np.flatnonzero(lowered.isin(MISSING_TOKENS).to_numpy()):
        marker = "blank" if text.iloc[j] == "" else text.iloc[j]
        found[marker] = found.get(marker, 0) + int(counts[j])
    return found
