"""Numbers as people write them: thousands separators in both styles, a currency sign before or after,
percent signs, a unit, parentheses for negatives.

:func:`parse_numbers` reads cells one by one; :func:`as_numbers` decides for a whole column of
distinct cells (one decimal mark, one unit, one currency, codes with a leading zero left as text) and
says how it read them. :mod:`deepzoo.data.tabular` calls it on every text column of a file it reads.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

__all__ = ["LEADING_ZERO", "NUMERIC_MISSING", "as_numbers", "parse_numbers", "read_numbers"]

# Read as missing only in a column whose other cells are all numbers: elsewhere '-' or '.' may be a value.
NUMERIC_MISSING = ("-", "--", ".")


def as_numbers(text: pd.Series, decimal: str, counts: np.ndarray) -> tuple[pd.Series | None, str, str | None]:
    """(the distinct cells ``text`` as numbers, how they were read, their unit) when every present one
    is a number, read with the file's decimal mark, else the other one, a lone '-' or '.' as missing;
    (None, why not or '', None) otherwise. ``counts``: rows per cell. The readings are tried on the
    first cells before all of them, so a column of words costs little."""
    present = text.dropna()
    if present.empty:
        return None, "", None
    dashes = present.isin(NUMERIC_MISSING)
    other = "," if decimal == "." else "."
    readings = [(decimal, False), (other, False), (decimal, True), (other, True)]
    sample = present.iloc[:1000]
    for mark, mask_dashes in readings:
        cells = sample[~sample.isin(NUMERIC_MISSING)] if mask_dashes else sample
        if cells.empty or read_numbers(cells, mark)[0].isna().any():
            continue
        cells = present[~dashes] if mask_dashes else present
        if cells.empty:
            continue
        values, parts = read_numbers(cells, mark)
        if values.isna().any():
            continue
        zeros = cells.str.match(LEADING_ZERO)
        if zeros.any():
            example = cells[zeros].iloc[0]
            return None, f"codes with leading zeros ({example!r}) kept as text", None
        found = sorted(parts["unit"].dropna().unique())
        if len(found) > 1:
            listed = ", ".join(repr(u) for u in found[:5])
            return None, f"numbers in several units ({listed}) kept as text; convert them to one unit", None
        money = sorted(parts["currency"].dropna().replace({"US$": "$", "USD": "$", "EUR": "€"}).unique())
        if len(money) > 1:
            listed = ", ".join(repr(m) for m in money[:5])
            return None, f"amounts in several currencies ({listed}) kept as text; convert them to one", None
        n_dashes = int(counts[dashes[dashes].index].sum())
        how = ["decimal comma"] if mark == "," and decimal == "." else []
        how += ["decimal point"] if mark == "." and decimal == "," else []
        how += [f"{n_dashes} lone '-'/'.' as missing"] if mask_dashes and n_dashes else []
        how += _number_notes(cells, values, parts, counts[cells.index])
        # every present cell is read above; the others (missing, and masked dashes) are NaN
        return values.reindex(text.index), ", ".join(how), (found[0] if found else None)
    return None, "", None


def _number_notes(cells: pd.Series, values: pd.Series, parts: pd.DataFrame, counts) -> list[str]:
    """What was taken off numbers as people write them, with an example, to print."""
    notes = []

    def example(mask) -> str:
        return repr(cells[mask.to_numpy()].iloc[0])

    percent = parts["percent"].fillna(False).astype(bool)
    if percent.any():
        j = int(np.flatnonzero(percent.to_numpy())[0])
        notes.append(
            f"percent signs dropped: {cells.iloc[j]!r} read as {values.iloc[j]:g} "
            f"(the number as written, not divided by 100; {int(counts[percent.to_numpy()].sum())} cells)"
        )
    unit = parts["unit"].notna()
    if unit.any():
        notes.append(f"unit {parts['unit'][unit].iloc[0]!r} ({example(unit)}) dropped from the numbers")
    negative = parts["parentheses"].fillna(False).astype(bool)
    if negative.any():
        notes.append(
            f"parentheses as negatives ({example(negative)}, {int(counts[negative.to_numpy()].sum())} cells)"
        )
    currency = parts["currency"].notna()
    if currency.any():
        notes.append(f"currency sign {parts['currency'][currency].iloc[0]!r} dropped ({example(currency)})")
    return notes


def _number_pattern(decimal: str) -> re.Pattern:
    """A number as people write it, for one decimal mark: '(1,234.50)', '-$12', '12 %', '3.5 GB', '12€'
    ('1.234,5', '12,5 %' for a decimal comma)."""
    group, digits = ("\\.", ",") if decimal == "," else (",", "\\.")
    body = (
        rf"\d{{1,3}}(?:{group}\d{{3}})+(?:{digits}\d*)?"  # thousands grouped: 1,234.5 / 1.234,5
        rf"|\d{{1,3}}(?:[ \u00a0\u202f]\d{{3}})+(?:{digits}\d*)?"  # grouped by spaces: 1 234,5
        rf"|\d+(?:{digits}\d*)?(?:[eE][-+]?\d+)?|{digits}\d+(?:[eE][-+]?\d+)?"
    )
    money_after = r"[$€£¥₹]|USD|EUR|GBP|CHF|JPY"
    money = r"[$€£¥₹]|(?:USD|EUR|GBP|CHF|JPY)(?=\s)"  # a code before the number: 'USD 12'
    unit = r"°[CFK]|[^\W\d_]{1,6}(?:/[^\W\d_]{1,5})?[²³]?"
    return re.compile(
        rf"^(?P<open>\()?\s*(?P<sign>[-+−])?\s*(?P<cur>{money})?\s*(?P<sign2>[-+−])?\s*(?P<num>{body})"
        rf"\s*(?P<cur2>{money_after})?\s*(?P<pct>%)?\s*(?P<unit>{unit})?\s*(?P<close>\))?$"
    )


_PATTERNS = {mark: _number_pattern(mark) for mark in ".,"}
# a code written with a leading zero (zip codes 02134, 007): text, so that the schema sees the zero
LEADING_ZERO = re.compile(r"^0\d+$")


def read_numbers(text: pd.Series, decimal: str = ".") -> tuple[pd.Series, pd.DataFrame]:
    """(floats, parts) of text cells read as numbers as people write them; parts holds, per cell, the
    ``unit``, ``currency``, ``percent`` and ``parentheses`` taken off. Cells that are no number: NaN."""
    text = text.astype("string").str.strip()
    parts = pd.DataFrame(
        {"unit": None, "currency": None, "percent": False, "parentheses": False}, index=text.index
    ).astype({"unit": object, "currency": object})
    # plain numbers first (pandas' own parser, fast); only the rest go through the pattern
    if decimal == ".":
        values = pd.to_numeric(text, errors="coerce").astype("float64")
    else:
        plain = text.where(~text.str.contains(".", regex=False, na=False))
        values = pd.to_numeric(plain.str.replace(",", ".", regex=False), errors="coerce").astype("float64")
    rest = values.isna() & text.notna() & (text != "")
    if not rest.any():
        return values, parts
    found = text[rest].str.extract(_PATTERNS[decimal])
    ok = found["num"].notna() & (found["open"].notna() == found["close"].notna())
    found = found[ok]
    if found.empty:
        return values, parts
    group = "." if decimal == "," else ","
    number = found["num"].str.replace(group, "", regex=False).str.replace(r"[ \u00a0\u202f]", "", regex=True)
    number = pd.to_numeric(number.str.replace(decimal, ".", regex=False), errors="coerce").astype("float64")
    negative = (
        found["sign"].isin(["-", "−"]) | found["sign2"].isin(["-", "−"]) | found["open"].notna()
    ).to_numpy()
    values.loc[found.index] = np.where(negative, -number, number)
    parts.loc[found.index, "unit"] = found["unit"].astype(object).where(found["unit"].notna(), None)
    currency = found["cur"].fillna(found["cur2"])
    parts.loc[found.index, "currency"] = currency.astype(object).where(currency.notna(), None)
    parts.loc[found.index, "percent"] = found["pct"].notna()
    parts.loc[found.index, "parentheses"] = found["open"].notna()
    return values, parts


def parse_numbers(values: pd.Series, decimal: str = ".") -> pd.Series:
    """Floats from text cells: plain numbers, and numbers as people write them: thousands separators
    (``decimal="."``: '1,234.5'; ``decimal=","``: '1.234,5'), a currency sign before or after ('$12',
    '12 €'), a percent sign ('12%' reads 12: the number as written), parentheses for negatives
    ('(1,234.50)' reads -1234.5). Anything else (words, numbers with a unit, missing) becomes NaN; a
    column's unit is decided by :func:`clean_frame`, where one unit per column is known.

    Examples
    --------
    >>> import pandas as pd
    >>> from deepzoo.data.numbers import parse_numbers
    >>> parse_numbers(pd.Series(["1,234.5", "(12)", "$3", "40%", "n/a"])).tolist()
    [1234.5, -12.0, 3.0, 40.0, nan]
    """
    if is_numeric_dtype(values):
        return values.astype("float64")
    numbers, parts = read_numbers(values, decimal)
    numbers = numbers.mask(parts["unit"].notna().to_numpy())
    return pd.Series(np.asarray(numbers, dtype="float64"), index=values.index, name=values.name)
