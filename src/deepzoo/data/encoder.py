"""TableEncoder: a user's raw table columns -> the float32 features a network reads.

It is the first step of every model ``deepzoo fit`` trains on a table, so that the saved model takes
raw rows as they come (text categories, ``"1,234"`` numbers, blank cells, dates as text) in
``predict``, ``deepzoo predict`` and ``deepzoo serve``. Its fitted state is plain data (medians,
scales, category lists, date formats), saved as JSON beside the network: no pickle.

Per role (see :mod:`deepzoo.data.schema`):

* numeric: parsed (thousands separators, currency signs), missing -> the training median plus a 0/1
  "was missing" column when the training data had gaps, clipped to the training range, standardised
  (``scale="standard"``), mapped onto [0, 1] (``scale="minmax"``) or kept in their own unit
  (``scale="none"``: columns measured in one unit, such as pixel intensities, whose relative sizes a
  distance should see);
* binary: 0/1 (the first of the two sorted values is 0); missing or unseen -> 0.5;
* categorical: one-hot of the values seen at least ``min_frequency`` times (at most ``max_categories``),
  plus an "other" column for the rest, unseen values and missing cells; a column of more than
  ``max_categories`` values also gets string coordinates (below), so that the values
  beyond the one-hot (142 countries) do not all look alike;
* date: year (standardised) and the day of the year, day of the week and time of day as points on a
  circle (sin, cos), each only where it varies in the training data;
* list: 0/1 presence of each item (``"['a', 'b']"``, ``a;b;c``) seen at least ``min_frequency`` times (at
  most ``max_categories``, the most frequent);
* url: one-hot of the address's domain (web or e-mail), as a categorical column's values;
* text: 0/1 presence of the ``max_words`` most frequent words (in at least 2 rows);
* a categorical column of more than ``max_categories`` values also gets ``string_components`` coordinates
  of its character 3-4-grams (TF-IDF within word bounds, then a truncated SVD: latent semantic analysis, as
  skrub's ``StringEncoder`` does), so that the values beyond the kept ones do not all share one "other"
  column (gapminder's 142 countries). Text columns do not get them: on titanic's names and churn's
  surnames the deep model learned the n-grams by heart and lost 0.02-0.04 ROC-AUC.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import TruncatedSVD
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.preprocessing import normalize
from threadpoolctl import threadpool_limits

from ..engine.persistence import register
from .lists import domains, list_separator, split_lists
from .schema import date_format as _date_format
from .schema import parse_dates
from .tabular import MISSING_TOKENS, parse_numbers

__all__ = ["TableEncoder"]

_WORD = re.compile(r"[a-z0-9]+")
# character n-grams within word bounds, as skrub's StringEncoder counts them
_GRAMS = {"analyzer": "char_wb", "ngram_range": (3, 4), "lowercase": True}


def _string_docs(values: pd.Series) -> list[str]:
    """The cells as the character n-grams read them: '_' is a space, as it is to the words of text
    columns (``NEAR_BAY`` and ``NEAR BAY``, ``De_Luca`` in a whitespace-aligned export, are one name)."""
    return _text(values).fillna("").str.replace("_", " ", regex=False).tolist()


def _text(values: pd.Series) -> pd.Series:
    """Stripped strings with the missing tokens as NA; whole numbers read the same whether the column
    came as integers or as floats (25 and 25.0 are both '25')."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.astype("float64")
        whole = numbers.notna() & (numbers % 1 == 0)
        text = numbers.astype("string").mask(whole, numbers[whole].astype("int64").astype("string"))
        return text
    text = values.astype("string").str.strip()
    return text.mask(text.str.lower().isin(MISSING_TOKENS))


def _dates(values: pd.Series, fmt: str | None) -> pd.Series:
    return parse_dates(values, fmt)


def _circle(values: np.ndarray, period: float) -> list[np.ndarray]:
    angle = 2 * np.pi * values / period
    return [np.sin(angle), np.cos(angle)]


@register
class TableEncoder(TransformerMixin, BaseEstimator):
    """Encode raw table columns (numbers, binaries, categories, dates, text) as float32 features.

    Parameters
    ----------
    numeric, binary, categorical, dates, text, lists, urls : tuple of str, default=()
        The columns of each role; other columns of X are ignored (with a warning at ``transform``).
    min_frequency : int, default=5
        Categories seen fewer times join "other".
    max_categories : int, default=50
        At most this many categories per column get their own feature (the most frequent).
    max_words : int, default=100
        Words per text column.
    string_components : int, default=30
        Coordinates from the character n-grams (TF-IDF + truncated SVD) of each categorical column of
        more than ``max_categories`` values; 0 for none.
    scale : {'standard', 'minmax', 'none'}, default='standard'
        Numeric columns centred and divided by their standard deviation, mapped from their training range
        onto [0, 1], or left in their own unit (missing cells and the clip to the training range apply
        either way).

    Attributes
    ----------
    feature_names_in_ : ndarray of str
        The columns ``transform`` needs, in order.
    n_features_out_ : int
    medians_, means_, scales_, lows_, highs_, has_missing_ : dict
        Numeric and date statistics of the training data, per column.
    binary_values_, categories_, date_formats_, date_parts_, vocabulary_, list_separators_, items_,
    domains_ : dict
        What was learned for the other roles, per column.
    grams_, idf_, components_, string_scales_ : dict
        Per text column (and categorical column of more than ``max_categories`` values): its character
        n-grams, their inverse document frequencies, the SVD's axes (n_components, n_grams) and the
        divisor that gives the coordinates a total variance of 1.

    Examples
    --------
    >>> import pandas as pd
    >>> from deepzoo.data.encoder import TableEncoder
    >>> X = pd.DataFrame({"plan": ["a", "b", "a", "a"], "total": ["1,200", " ", "300", "?"]})
    >>> enc = TableEncoder(numeric=("total",), categorical=("plan",), min_frequency=1).fit(X)
    >>> enc.get_feature_names_out().tolist()
    ['total', 'total_missing', 'plan=a', 'plan=b', 'plan=other']
    >>> enc.transform(X).shape
    (4, 5)
    """

    def __init__(
        self,
        numeric=(),
        binary=(),
        categorical=(),
        dates=(),
        text=(),
        lists=(),
        urls=(),
        *,
        min_frequency: int = 5,
        max_categories: int = 50,
        max_words: int = 100,
        string_components: int = 30,
        scale: str = "standard",
    ):
        self.numeric = numeric
        self.binary = binary
        self.categorical = categorical
        self.dates = dates
        self.text = text
        self.lists = lists
        self.urls = urls
        self.min_frequency = min_frequency
        self.max_categories = max_categories
        self.max_words = max_words
        self.string_components = string_components
        self.scale = scale

    def _columns(self) -> list[str]:
        return [
            str(c)
            for group in (self.numeric, self.binary, self.categorical, self.dates, self.text, *self._more())
            for c in group
        ]

    def _more(self) -> tuple:
        """The list and url columns (a model saved before they existed has neither)."""
        return tuple(getattr(self, "lists", ())), tuple(getattr(self, "urls", ()))

    def _frame(self, X) -> pd.DataFrame:
        if isinstance(X, pd.DataFrame):
            return X
        if isinstance(X, dict):
            return pd.DataFrame(X)
        X = np.asarray(X, dtype=object)
        if X.ndim != 2:
            raise ValueError(f"TableEncoder expects a table (a DataFrame or 2-D rows); got shape {X.shape}.")
        names = self._columns() if not hasattr(self, "feature_names_in_") else list(self.feature_names_in_)
        if X.shape[1] != len(names):
            raise ValueError(
                f"TableEncoder expects {len(names)} columns ({', '.join(names)}) or a DataFrame; got "
                f"{X.shape[1]} unnamed columns."
            )
        return pd.DataFrame(X, columns=names)

    def fit(self, X, y=None):
        """Learn the statistics of each column from the training table ``X``."""
        frame = self._frame(X)
        names = self._columns()
        if len(set(names)) != len(names):
            raise ValueError(
                f"A column has two roles in TableEncoder: {sorted(n for n in names if names.count(n) > 1)}."
            )
        missing = [c for c in names if c not in frame.columns]
        if missing:
            raise ValueError(f"X lacks the columns {missing}; it has {list(map(str, frame.columns))}.")
        if not names:
            raise ValueError(
                "TableEncoder has no column to encode: give at least one of numeric, binary, "
                "categorical, dates or text."
            )
        if len(frame) == 0:
            raise ValueError("TableEncoder cannot fit an empty table (0 rows).")
        if self.scale not in ("standard", "minmax", "none"):
            raise ValueError(
                "The 'scale' parameter of TableEncoder must be a str among {'minmax', 'none', 'standard'}. "
                f"Got {self.scale!r} instead."
            )
        if not isinstance(self.string_components, (int, np.integer)) or self.string_components < 0:
            raise ValueError(
                "The 'string_components' parameter of TableEncoder must be an int in the range [0, inf). "
                f"Got {self.string_components!r} instead."
            )
        self.medians_, self.means_, self.scales_, self.lows_, self.highs_, self.has_missing_ = (
            {},
            {},
            {},
            {},
            {},
            {},
        )
        for column in self.numeric:
            values = parse_numbers(frame[column]).to_numpy(dtype=float)
            self._fit_number(column, values, self.scale)
        self.binary_values_ = {}
        for column in self.binary:
            values = self._binary_values(frame[column])
            self.binary_values_[column] = sorted(values.dropna().unique().tolist())[:2]
            self.has_missing_[column] = bool(values.isna().any())
        self.categories_ = {}
        self.grams_, self.idf_, self.components_, self.string_scales_ = {}, {}, {}, {}
        for column in self.categorical:
            counts = _text(frame[column]).value_counts()
            kept = counts[counts >= self.min_frequency].index[: self.max_categories]
            self.categories_[column] = sorted(str(v) for v in kept)
            if len(counts) > self.max_categories:  # the rest would share one "other" column
                self._fit_strings(column, _string_docs(frame[column]))
        self.date_formats_, self.date_parts_ = {}, {}
        for column in self.dates:
            self.date_formats_[column] = _date_format(frame[column])
            stamps = _dates(frame[column], self.date_formats_[column])
            parts = self._date_values(stamps)
            varying = [part for part, v in parts.items() if np.nanstd(v) > 0]
            self.date_parts_[column] = varying
            if "year" in varying:
                self._fit_number(f"{column}.year", parts["year"])
            else:
                self.has_missing_[f"{column}.year"] = bool(np.isnan(parts["year"]).any())
        self.vocabulary_ = {}
        for column in self.text:
            docs = _text(frame[column]).fillna("").str.lower().map(lambda t: set(_WORD.findall(t)))
            counts = pd.Series([w for words in docs for w in words]).value_counts()
            self.vocabulary_[column] = sorted(counts[counts >= 2].index[: self.max_words].tolist())
        # text columns keep their words only: with the n-gram coordinates too, the deep model learned
        # titanic's names and churn's surnames by heart (ROC-AUC 0.8474 -> 0.8097 and 0.8500 -> 0.8277,
        # bench_own_data.py, idle, 2026-12-08), though they helped gradient boosting on fastfood's items
        self.list_separators_, self.items_, self.domains_ = {}, {}, {}
        for column in self.lists:
            text = _text(frame[column]).dropna()
            self.list_separators_[column] = list_separator(text) or ";"
            counts = split_lists(text, self.list_separators_[column]).explode().value_counts()
            kept = counts[counts >= self.min_frequency].index[: self.max_categories]
            self.items_[column] = sorted(str(v) for v in kept)
        for column in self.urls:
            counts = self._domains(frame[column]).value_counts()
            kept = counts[counts >= self.min_frequency].index[: self.max_categories]
            self.domains_[column] = sorted(str(v) for v in kept)
        self.feature_names_in_ = np.asarray(names, dtype=object)
        self.n_features_out_ = len(self.get_feature_names_out())
        return self

    def _fit_strings(self, column: str, docs: list[str]) -> None:
        """Latent semantic analysis of a column's character n-grams (see the module's docstring)."""
        k = int(self.string_components)
        tfidf = TfidfVectorizer(**_GRAMS, dtype=np.float64)
        try:
            counts = tfidf.fit_transform(docs)
        except ValueError:  # no n-gram at all (every cell empty or shorter than 3 characters)
            counts = None
        k = 0 if counts is None else min(k, counts.shape[0] - 1, counts.shape[1] - 1)
        if k < 1:
            self.grams_[column], self.idf_[column] = [], np.zeros(0)
            self.components_[column], self.string_scales_[column] = np.zeros((0, 0)), 1.0
            return
        # a fixed seed: the same table gives the same encoding whatever the model's random_state; one BLAS
        # thread: these small products lose more to threads than they gain (20x slower on a busy 2-core
        # machine: 0.6 s against 0.03 s for 93 car names)
        with threadpool_limits(1):
            svd = TruncatedSVD(n_components=k, random_state=0).fit(counts)
            coords = svd.transform(counts)
        scale = float(np.sqrt(coords.var(axis=0).sum()))
        grams = sorted(tfidf.vocabulary_, key=tfidf.vocabulary_.get)
        self.grams_[column], self.idf_[column] = grams, tfidf.idf_.astype(np.float64)
        self.components_[column] = svd.components_.astype(np.float64)
        self.string_scales_[column] = scale if scale > 0 else 1.0

    def _strings(self, column: str, docs: list[str]) -> np.ndarray:
        """The SVD coordinates (n_samples, n_components) of a text column's cells (none for a model saved
        before there were any)."""
        grams = getattr(self, "grams_", {}).get(column)
        if not grams:
            return np.zeros((len(docs), 0))
        counts = CountVectorizer(**_GRAMS, vocabulary={g: i for i, g in enumerate(grams)}).transform(docs)
        tfidf = normalize(counts.multiply(self.idf_[column]).tocsr())  # TfidfVectorizer's l2 rows
        return np.asarray(tfidf @ self.components_[column].T) / self.string_scales_[column]

    @staticmethod
    def _domains(values: pd.Series) -> pd.Series:
        """Each cell's domain (missing where a cell is not an address)."""
        return domains(_text(values).fillna(""), min_share=0.0)

    def _string_names(self, column: str) -> list[str]:
        return [f"{column}~{i}" for i in range(len(getattr(self, "components_", {}).get(column, ())))]

    def _fit_number(self, name: str, values: np.ndarray, scale: str = "standard") -> None:
        """The column's median (for missing cells), range (the clip), and the shift and divisor that
        ``scale`` asks for, kept as ``means_`` and ``scales_``."""
        present = values[np.isfinite(values)]
        median = float(np.median(present)) if len(present) else 0.0
        filled = np.where(np.isfinite(values), values, median)
        if scale == "standard":
            shift, divisor = filled.mean(), filled.std()
        elif scale == "minmax":
            shift, divisor = filled.min(), filled.max() - filled.min()
        else:
            shift, divisor = 0.0, 1.0
        self.medians_[name] = median
        self.means_[name] = float(shift)
        self.scales_[name] = float(divisor) if divisor > 0 else 1.0
        self.lows_[name] = float(filled.min())
        self.highs_[name] = float(filled.max())
        self.has_missing_[name] = bool(not np.isfinite(values).all())

    @staticmethod
    def _binary_values(values: pd.Series, numeric: bool | None = None) -> pd.Series:
        """Numbers for a column of numbers (so that 1 and '1.0' agree), else stripped strings."""
        if numeric is None:
            numeric = pd.api.types.is_numeric_dtype(values)
        return parse_numbers(values) if numeric else _text(values)

    @staticmethod
    def _date_values(stamps: pd.Series) -> dict[str, np.ndarray]:
        def part(values) -> np.ndarray:
            return np.asarray(values, dtype=float)

        return {
            "year": part(stamps.dt.year),
            "day_of_year": part(stamps.dt.day_of_year - 1),
            "day_of_week": part(stamps.dt.day_of_week),
            "time_of_day": part(stamps.dt.hour * 3600 + stamps.dt.minute * 60 + stamps.dt.second),
        }

    def _number(self, name: str, values: np.ndarray) -> list[np.ndarray]:
        missing = ~np.isfinite(values)
        filled = np.clip(np.where(missing, self.medians_[name], values), self.lows_[name], self.highs_[name])
        out = [(filled - self.means_[name]) / self.scales_[name]]
        if self.has_missing_[name]:
            out.append(missing.astype(float))
        return out

    def transform(self, X) -> np.ndarray:
        """The float32 features of the raw table ``X`` (n_samples, n_features_out_)."""
        if not hasattr(self, "feature_names_in_"):
            raise NotFittedError("This TableEncoder instance is not fitted yet. Call 'fit' first.")
        frame = self._frame(X)
        names = list(self.feature_names_in_)
        missing = [c for c in names if c not in frame.columns]
        if missing:
            raise ValueError(
                f"The table lacks the columns {missing} that the model was trained on; add them (blank "
                f"cells are fine: they count as missing). Expected: {', '.join(names)}."
            )
        extra = [str(c) for c in frame.columns if c not in set(names)]
        if extra:
            shown = ", ".join(extra[:10]) + (f" and {len(extra) - 10} more" if len(extra) > 10 else "")
            warnings.warn(f"Ignoring the columns the model does not use: {shown}.", UserWarning, stacklevel=2)
        blocks: list[np.ndarray] = []
        for column in self.numeric:
            blocks += self._number(column, parse_numbers(frame[column]).to_numpy(dtype=float))
        for column in self.binary:
            known = self.binary_values_[column]
            values = self._binary_values(frame[column], numeric=bool(known) and not isinstance(known[0], str))
            code = np.full(len(frame), 0.5)
            for value, bit in zip(known, (0.0, 1.0)):
                code[(values == value).fillna(False).to_numpy(dtype=bool)] = bit
            blocks.append(code)
        for column in self.categorical:
            known = self.categories_[column]
            codes = pd.Categorical(_text(frame[column]).astype(object), categories=known).codes  # -1: other
            onehot = np.zeros((len(frame), len(known) + 1))
            onehot[np.arange(len(frame)), np.where(codes < 0, len(known), codes)] = 1.0
            blocks += list(onehot.T)
            blocks += list(self._strings(column, _string_docs(frame[column])).T)
        for column in self.dates:
            parts = self._date_values(_dates(frame[column], self.date_formats_[column]))
            for part in self.date_parts_[column]:
                if part == "year":
                    blocks += self._number(f"{column}.year", parts["year"])
                    continue
                period = {"day_of_year": 365.25, "day_of_week": 7.0, "time_of_day": 86400.0}[part]
                values = np.nan_to_num(parts[part], nan=0.0)
                blocks += _circle(values, period)
        for column in self.text:
            docs = _text(frame[column]).fillna("").str.lower().map(lambda t: set(_WORD.findall(t)))
            for word in self.vocabulary_[column]:
                blocks.append(np.fromiter((word in d for d in docs), dtype=float, count=len(docs)))
            blocks += list(self._strings(column, _string_docs(frame[column])).T)
        for column in self._more()[0]:
            cells = split_lists(_text(frame[column]), self.list_separators_[column])
            for item in self.items_[column]:
                blocks.append(np.fromiter((item in c for c in cells), dtype=float, count=len(cells)))
        for column in self._more()[1]:
            known = self.domains_[column]
            hosts = self._domains(frame[column])
            codes = pd.Categorical(hosts.where(hosts.isin(known)).astype(object), categories=known).codes
            onehot = np.zeros((len(frame), len(known) + 1))
            onehot[np.arange(len(frame)), np.where(codes < 0, len(known), codes)] = 1.0
            blocks += list(onehot.T)
        if not blocks:
            return np.zeros((len(frame), 0), dtype=np.float32)
        return np.column_stack(blocks).astype(np.float32)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        names: list[str] = []
        for column in self.numeric:
            names += [column] + ([f"{column}_missing"] if self.has_missing_[column] else [])
        names += list(self.binary)
        for column in self.categorical:
            names += [f"{column}={v}" for v in self.categories_[column]] + [f"{column}=other"]
            names += self._string_names(column)
        for column in self.dates:
            for part in self.date_parts_[column]:
                if part == "year":
                    key = f"{column}.year"
                    names += [key] + ([f"{key}_missing"] if self.has_missing_[key] else [])
                else:
                    names += [f"{column}.{part}_sin", f"{column}.{part}_cos"]
        for column in self.text:
            names += [f"{column}:{w}" for w in self.vocabulary_[column]]
            names += self._string_names(column)
        for column in self._more()[0]:
            names += [f"{column}[{item}]" for item in self.items_[column]]
        for column in self._more()[1]:
            names += [f"{column}@{d}" for d in self.domains_[column]] + [f"{column}@other"]
        return np.asarray(names, dtype=object)

    def input_schema(self) -> list[dict]:
        """What a served model takes: one entry per input column with its kind (number, binary,
        category, date, text) and, for binaries and categories, the values seen in training."""
        if not hasattr(self, "feature_names_in_"):
            raise NotFittedError("This TableEncoder instance is not fitted yet. Call 'fit' first.")
        schema = []
        for column in self.numeric:
            schema.append({"name": column, "kind": "number", "nullable": True})
        for column in self.binary:
            schema.append({"name": column, "kind": "binary", "categories": list(self.binary_values_[column])})
        for column in self.categorical:
            schema.append(
                {
                    "name": column,
                    "kind": "category",
                    "categories": list(self.categories_[column]),
                    "open": True,
                }
            )
        for column in self.dates:
            schema.append({"name": column, "kind": "date", "format": self.date_formats_[column]})
        for column in (*self.text, *self._more()[0], *self._more()[1]):
            schema.append({"name": column, "kind": "text"})
        return schema

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        return tags
