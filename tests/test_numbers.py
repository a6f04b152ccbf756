"""Numbers as people write them (data/numbers.py): cells read one by one, against the values a
spreadsheet formatted them from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepzoo.data import numbers


def test_parse_numbers_leaves_units_and_words_to_the_column():
    values = pd.Series(["1,234.5", "(12)", "$3", "40%", "12 kg", "n/a", "(3", "1,23,4"])
    np.testing.assert_array_equal(
        numbers.parse_numbers(values), [1234.5, -12, 3, 40, np.nan, np.nan, np.nan, np.nan]
    )
    comma = pd.Series(["1.234,5", "(1.234,5)", "12,5 %", "1 234,5"])
    np.testing.assert_array_equal(numbers.parse_numbers(comma, decimal=","), [1234.5, -1234.5, 12.5, 1234.5])


@settings(max_examples=60, deadline=None)
@given(
    value=st.floats(min_value=-1e9, max_value=1e9, allow_nan=False),
    style=st.sampled_from(["us", "eu", "parentheses", "percent", "currency-after"]),
)
def test_parse_numbers_reads_back_what_a_spreadsheet_writes(value, style):
    value = round(value, 2)
    us = f"{abs(value):,.2f}"  # '1,234,567.89'
    eu = us.replace(",", " ").replace(".", ",").replace(" ", ".")  # '1.234.567,89'
    sign = "-" if value < 0 else ""
    written, decimal = {
        "us": (f"{sign}{us}", "."),
        "eu": (f"{sign}{eu}", ","),
        "parentheses": (f"({us})" if value < 0 else us, "."),
        "percent": (f"{sign}{us}%", "."),
        "currency-after": (f"{sign}{eu} €", ","),
    }[style]
    parsed = numbers.parse_numbers(pd.Series([written]), decimal=decimal).iloc[0]
    # the text holds two decimals, so the float read back is the rounded value to float64 rounding
    assert parsed == pytest.approx(value, rel=1e-12, abs=1e-9), written
