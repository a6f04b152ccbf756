"""Dates beyond text: YYYYMMDD integers, Excel serial day numbers, clock times; and their call sites in
the schema (a role decided, a format found, the values parsed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deepzoo.data import dates
from deepzoo.data.schema import _role, date_order, parse_dates
from deepzoo.data.tabular import read_table


@pytest.mark.parametrize(
    "name, expected",
    [("date", True), ("OrderDate", True), ("created_dt", True), ("Day", True), ("sale time", True),
     ("update_count", False), ("days_since", False), ("birthday", True), ("weekday", False)],
)  # fmt: skip
def test_named_like_a_date(name, expected):
    assert dates.named_like_a_date(name) is expected


def test_integer_dates_become_a_date_column():
    stamps = 20210101 + np.arange(40) % 28
    assert _role("value", pd.Series(stamps))[0] == "date"  # every value a valid date
    with_gap = pd.Series(stamps.astype(float)).mask(np.arange(40) == 3)
    assert date_order(with_gap)[0] == "%Y%m%d"
    parsed = parse_dates(with_gap)
    assert parsed.iloc[0] == pd.Timestamp("2021-01-01") and pd.isna(parsed.iloc[3])
    # one invalid value (month 13): a date only when the name says so
    odd = pd.Series(np.append(stamps, 20211301))
    assert _role("amount", odd)[0] != "date"
    assert "named like a date" in _role("order_date", odd)[1]
    # numbers of eight digits that are not dates, and plain counts, stay numbers
    assert _role("code", pd.Series(10_000_000 + 37 * np.arange(40)))[0] != "date"
    assert _role("n", pd.Series(np.arange(40) % 7 + 1))[0] != "date"


def test_clock_times_read_on_a_fixed_day():
    times = pd.Series(["12:51 AM", "1:05 PM", "11:59 PM", "7:00 AM"] * 5)
    assert _role("t", times)[0] == "date" and date_order(times)[0] == "%I:%M %p"
    parsed = parse_dates(times)
    # the day 1900-01-01 whatever day the test runs, so a model's features do not drift with the clock
    assert parsed.iloc[0] == pd.Timestamp("1900-01-01 00:51") and parsed.iloc[1].hour == 13
    stamps = pd.Series(["1/31/2021 12:51 AM", "2/1/2021 3:15 PM"] * 5)
    assert parse_dates(stamps).iloc[1] == pd.Timestamp("2021-02-01 15:15")


def test_months_written_yyyy_mm():
    months = pd.Series([f"2021-{m:02d}" for m in range(1, 13)] * 2)
    assert _role("month", months)[0] == "date"
    assert parse_dates(months).iloc[11] == pd.Timestamp("2021-12-01")


def test_excel_serial_dates_in_a_workbook(tmp_path):
    path = tmp_path / "orders.xlsx"
    pd.DataFrame(
        {
            "OrderDate": 44227 + np.arange(6),  # cells not formatted as dates: the serial numbers
            "shipped": pd.date_range("2021-02-01", periods=6),  # formatted: calamine gives datetimes
            "price": 44227 + np.arange(6),  # same numbers, a name that says nothing of dates
        }
    ).to_excel(path, index=False)
    frame = read_table(path)
    assert frame["OrderDate"].iloc[0] == pd.Timestamp("2021-01-31")
    assert frame["shipped"].dtype.kind == "M" and frame["price"].dtype.kind in "iuf"
    assert "OrderDate: Excel serial day numbers read as dates" in frame.attrs["dialect"]
