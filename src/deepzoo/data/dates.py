"""Dates as people store them beyond text: ``20210131`` integers, Excel serial day numbers, clock times.

The schema (:mod:`deepzoo.data.schema`) decides which columns are dates and in which order day and
month come; this module adds the forms it cannot see in text alone:

* integers ``YYYYMMDD`` (``20210131``): a date when the column is named like a date, or when every
  value is a valid date (a column of codes rarely is);
* Excel serial dates (days since 1899-12-30, ``44227`` = 2021-01-31), in workbooks whose cells were not
  formatted as dates (calamine returns formatted ones as datetimes already), for a column named like a
  date;
* clock times (``12:51 AM``, ``23:05``) and dates with a 12-hour clock (``1/31/2021 12:51 AM``): read
  on the day 1900-01-01, so that reading them does not depend on the day the program runs.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

__all__ = ["MORE_FORMATS", "date_text", "excel_serial_dates", "integer_dates", "named_like_a_date"]

# tried after the schema's own formats: clock times and 12-hour clocks
MORE_FORMATS = (
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%Y-%m-%d %I:%M %p",
    "%I:%M %p",
    "%I:%M:%S %p",
    "%I %p",
    "%H:%M",
    "%H:%M:%S",
    "%Y/%m",
    "%b %Y",
    "%B %Y",
)
# a word of the name (camelCase split, words joined by _ - . or spaces) that says "a date"
_DATE_WORDS = re.compile(
    r"(^|_)(date|dates|datetime|time|timestamp|day|dt|when|period|month|datum|fecha|birthday|birthdate|dob)(_|$)"
)
# Excel's day 0 (1899-12-30: Excel counts 1900 as a leap year, so serials from March 1900 on read right)
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
# serials of 1950-01-01 .. 2100-01-01: a column of such numbers named like a date is a date
_SERIAL_RANGE = (18264, 73051)
# YYYYMMDD integers from 1800 to 2200
_INTEGER_RANGE = (18000101, 22001231)


def named_like_a_date(name) -> bool:
    """Whether a column's name says it holds dates: 'date', 'OrderDate', 'created_dt', 'day', ...

    Examples
    --------
    >>> from deepzoo.data.dates import named_like_a_date
    >>> named_like_a_date("OrderDate"), named_like_a_date("update_count")
    (True, False)
    """
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name)).lower()
    return bool(_DATE_WORDS.search(re.sub(r"[\s.\-]+", "_", words)))


def date_text(values: pd.Series) -> pd.Series:
    """Numbers as the text of their integers (``20210131.0`` -> ``'20210131'``), so that a column of
    ``YYYYMMDD`` numbers with missing cells reads with ``%Y%m%d``; other values as they are."""
    if not is_numeric_dtype(values) or values.dtype == bool:
        return values
    present = values.dropna()
    if len(present) and not np.allclose(present, np.round(present)):
        return values
    return values.astype("Int64").astype("string")


def integer_dates(name, values: pd.Series) -> str:
    """Why a column of numbers is ``YYYYMMDD`` dates ('' when it is not): every present value an integer
    that reads as a date (named like a date: 95% of them, the rest becoming missing).

    Examples
    --------
    >>> import pandas as pd
    >>> from deepzoo.data.dates import integer_dates
    >>> integer_dates("when", pd.Series([20210131, 20210201]))
    'integers written YYYYMMDD (20210131: every value a valid date)'
    >>> integer_dates("amount", pd.Series([20211301, 20210201]))
    ''
    """
    present = values.dropna()
    if not is_numeric_dtype(values) or values.dtype == bool or present.nunique() < 2:
        return ""
    numbers = present.to_numpy(dtype="float64")
    if not np.allclose(numbers, np.round(numbers)):
        return ""
    inside = (numbers >= _INTEGER_RANGE[0]) & (numbers <= _INTEGER_RANGE[1])
    named = named_like_a_date(name)
    if inside.mean() < (0.95 if named else 1.0):
        return ""
    stamps = pd.to_datetime(date_text(present[inside]), format="%Y%m%d", errors="coerce")
    valid = float(stamps.notna().sum()) / len(present)
    if valid == 1.0 or (named and valid >= 0.95):
        example = int(present.iloc[0])
        because = "named like a date" if named and valid < 1.0 else "every value a valid date"
        return f"integers written YYYYMMDD ({example}: {because})"
    return ""


def excel_serial_dates(name, values: pd.Series) -> pd.Series | None:
    """The dates of a workbook column of Excel serial day numbers (``44227`` -> 2021-01-31), when it is
    named like a date and every present value is a serial of 1950-2100; else None."""
    if not is_numeric_dtype(values) or values.dtype == bool or not named_like_a_date(name):
        return None
    present = values.dropna()
    if present.empty or not present.between(*_SERIAL_RANGE).all():
        return None
    days = pd.to_timedelta(values.astype("float64"), unit="D")
    return (_EXCEL_EPOCH + days).rename(values.name)
