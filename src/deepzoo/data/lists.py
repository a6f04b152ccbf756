"""Cells that hold several things: lists (``"['a', 'b']"``, ``a;b;c``) and addresses (URLs, e-mails).

The schema asks :func:`list_separator` and :func:`domains` whether a text column is made of them; the
encoder splits the cells with :func:`split_lists` (multi-hot of the items) and :func:`domains` (the
domain as a category).
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["domains", "list_separator", "split_lists"]

# separators of items in one cell; a comma is left out: "Smith, John" and prose hold commas
_SEPARATORS = (";", "|")
# a cell that is a Python or JSON list literal: ['a', 'b'], ["a","b"], [] (numbers too: [1, 2])
_BRACKETS = re.compile(r"^\[.*\]$", re.S)
_QUOTED = re.compile(r"""'([^']*)'|"([^"]*)"|([^,'"\s][^,]*)""")
_URL = re.compile(
    r"^(?:[a-z][a-z0-9+.-]*://)?(?:www\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)+)(?::\d+)?(?:[/?#]\S*)?$", re.I
)
_EMAIL = re.compile(r"^[^@\s]+@([a-z0-9-]+(?:\.[a-z0-9-]+)+)$", re.I)
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*://|www\.)", re.I)
# lists: a bracket in nearly every cell, or a separator in at least this share of the cells
_BRACKET_SHARE = 0.95
_SEPARATOR_SHARE = 0.2
# addresses: in nearly every cell
_ADDRESS_SHARE = 0.95


def list_separator(text: pd.Series) -> str | None:
    """ "[" for a column of list literals, ";" or "|" for items joined by one, None otherwise; ``text``
    is the column's present cells as stripped strings. Items must be short (a few words): sentences
    joined by ";" are text."""
    if text.empty:
        return None
    if text.str.match(_BRACKETS).mean() >= _BRACKET_SHARE:
        return "["
    for sep in _SEPARATORS:
        joined = text.str.contains(sep, regex=False)
        if joined.mean() >= _SEPARATOR_SHARE:
            items = text[joined].str.split(sep, regex=False).explode().str.strip()
            if items.str.split().str.len().mean() <= 3:
                return sep
    return None


def split_lists(text: pd.Series, sep: str) -> pd.Series:
    """Each cell as a list of its items (stripped, lower-cased, empty ones left out); missing cells
    give empty lists."""
    text = text.astype("string").str.strip()

    def items(cell) -> list[str]:
        if cell is None or cell is pd.NA or (isinstance(cell, float) and cell != cell):
            return []
        if sep == "[":
            inner = str(cell).strip()[1:-1]
            found = ("".join(groups).strip() for groups in _QUOTED.findall(inner))
        else:
            found = (part.strip() for part in str(cell).split(sep))
        return sorted({item.lower() for item in found if item})

    return pd.Series([items(c) for c in text.to_numpy(dtype=object, na_value=None)], index=text.index)


def domains(text: pd.Series, min_share: float = _ADDRESS_SHARE) -> pd.Series | None:
    """The domain of each web or e-mail address (``www.`` left out, lower-cased; missing where a cell is
    not one) when at least ``min_share`` of the cells are addresses, else None (0: always the domains).
    A bare ``example.com`` counts only beside addresses with a scheme or an ``@`` in most cells (else
    ``3.5`` or ``a.b`` names would pass)."""
    if text.empty and min_share > 0:
        return None
    text = text.astype(str).str.strip()
    email = text.str.extract(_EMAIL)[0]
    url = text.str.extract(_URL)[0]
    marked = text.str.contains("@", regex=False) | text.str.match(_SCHEME)
    found = email.fillna(url)
    if min_share > 0 and (found.notna().mean() < min_share or marked.mean() < 0.5):
        return None
    return found.str.lower().str.removeprefix("www.")
