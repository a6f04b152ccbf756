"""What the recommenders share: (user, item, rating) triples, the scale, the bias model that answers for
unseen users and items, predict and recommend; :class:`BiasRecommender` itself; ranking metrics."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator

from ...engine.base import Interval, check_params, numpy_out
from ...engine.persistence import register

__all__ = ["BiasRecommender", "ColdStartWarning", "bias_terms", "numeric_ratings", "ranking_metrics"]


class ColdStartWarning(UserWarning):
    """Predictions were asked for users or items not seen in training; the bias model answered."""


def _as_triples(X, y=None):
    """(users, items, ratings, names) from a DataFrame (user/item/rating or the first three columns),
    an (n, 3) array, or (n, 2) pairs with ``y``; ``names`` are the DataFrame's user and item columns."""
    names = None
    if isinstance(X, pd.DataFrame):
        if y is not None:
            frame = X.iloc[:, :2]
        elif {"user", "item", "rating"} <= set(X.columns):
            frame = X[["user", "item", "rating"]]
        else:
            frame = X.iloc[:, :3]
        names = [str(c) for c in frame.columns]
        cols = [frame.iloc[:, j].to_numpy() for j in range(frame.shape[1])]
    else:
        array = np.asarray(X, dtype=object if not isinstance(X, np.ndarray) else None)
        if array.ndim != 2:
            raise ValueError(
                f"Expected ratings as (user, item, rating) rows: a DataFrame or an array of shape "
                f"(n_ratings, 3); got an array of shape {array.shape}."
            )
        cols = [array[:, j] for j in range(array.shape[1])]
    if y is not None:
        cols = cols[:2] + [np.asarray(y)]
        if names is not None:
            names = names[:2] + [str(getattr(y, "name", None) or "rating")]
    if len(cols) != 3:
        raise ValueError(
            f"Expected 3 columns (user, item, rating); got {len(cols)}. Pass (user, item) pairs with y."
        )
    users, items, ratings = cols
    if not (len(users) == len(items) == len(ratings)):
        raise ValueError(
            f"users, items and ratings differ in length: {len(users)}, {len(items)}, {len(ratings)}."
        )
    if len(users) == 0:
        raise ValueError("No ratings given: expected at least one (user, item, rating) row.")
    ratings = numeric_ratings(ratings, names[2] if names else "rating")
    return np.asarray(users), np.asarray(items), ratings, names


def numeric_ratings(values, column: str = "rating") -> np.ndarray:
    """``values`` as floats (True/False as 1/0); a value that is not a number is named with its row.

    Examples
    --------
    >>> numeric_ratings(["4", 3.5, True])
    array([4. , 3.5, 1. ])
    """
    values = pd.Series(np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values)
    if values.dtype == bool or pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(float)
    parsed = pd.to_numeric(values.map(lambda v: float(v) if isinstance(v, (bool, np.bool_)) else v),
                           errors="coerce")  # fmt: skip
    bad = parsed.isna() & values.notna()
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise ValueError(
            f"The rating column {column!r} holds {values.iloc[row]!r} (row {row}), which is not a number; "
            f"{int(bad.sum())} value(s) are not numbers. Ratings must be numbers (stars, scores, 0/1 for "
            "liked / not liked): map the words to numbers first."
        )
    return parsed.to_numpy(float)


def _nan_rows(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind == "O":
        return pd.isna(values)
    return np.zeros(len(values), dtype=bool)


def _dedupe(users, items, ratings, what: str):
    """Keep the last rating of each (user, item) pair, with a warning that counts the others."""
    frame = pd.DataFrame({"u": users, "i": items})
    dup = frame.duplicated(keep="last").to_numpy()
    if dup.any():
        first = int(dup.argmax())
        warnings.warn(
            f"{what} has {int(dup.sum())} duplicate (user, item) pairs (e.g. user {users[first]!r}, item "
            f"{items[first]!r}); keeping the last rating of each.",
            UserWarning,
            stacklevel=4,
        )
        keep = ~dup
        return users[keep], items[keep], ratings[keep]
    return users, items, ratings


def bias_terms(users, items, values, n_users: int, n_items: int, *, reg_user: float, reg_item: float,
               n_iter: int = 10) -> tuple[float, np.ndarray, np.ndarray]:  # fmt: skip
    """Global mean and regularised biases by alternating least squares (Koren 2010, eq. 2-3).

    ``users`` and ``items`` are positions (0 .. n-1). Each sweep sets every item's bias to
    ``sum(r - mean - b_user) / (reg_item + n_ratings_of_item)``, then every user's likewise: a bias
    backed by few ratings stays near 0. Returns ``(mean, user_bias, item_bias)``.

    Examples
    --------
    >>> mean, bu, bi = bias_terms([0, 0, 1], [0, 1, 0], [5.0, 3.0, 4.0], 2, 2, reg_user=0, reg_item=0)
    >>> float(round(mean + bu[1] + bi[0], 6))  # no shrinkage: user 1's only rating is fitted exactly
    4.0
    """
    values = np.asarray(values, dtype=np.float64)
    mean = float(values.mean())
    residual = values - mean
    n_u = np.bincount(users, minlength=n_users)
    n_i = np.bincount(items, minlength=n_items)
    b_u, b_i = np.zeros(n_users), np.zeros(n_items)
    for _ in range(n_iter):
        b_i = np.bincount(items, residual - b_u[users], n_items) / (reg_item + n_i)
        b_u = np.bincount(users, residual - b_i[items], n_users) / (reg_user + n_u)
    return mean, b_u, b_i


def held_out(n_ratings: int, fraction: float, seed: int) -> np.ndarray:
    """A seeded boolean mask of ``fraction`` of ``n_ratings`` training ratings, held out for validation."""
    held = np.random.default_rng(seed % 2**32).random(n_ratings) < fraction
    if not held.any() or held.all():
        raise ValueError(
            f"validation_fraction={fraction} of {n_ratings} training ratings leaves none to validate or "
            "none to train on. Use more ratings or another validation_fraction."
        )
    return held


def ranking_metrics(users, relevance, scores, k: int = 10) -> dict:
    """Precision@k and NDCG@k, averaged over users.

    Each user's own test items are ranked by ``scores``; ``relevance`` (1 relevant, 0 not) marks
    what should come first. Precision@k = relevant among the top min(k, n_items of the user) /
    that number; NDCG@k with binary gains. Users without any relevant item are skipped for NDCG.
    """
    frame = pd.DataFrame({"u": users, "rel": np.asarray(relevance, float), "s": np.asarray(scores, float)})
    frame = frame.sort_values(["u", "s"], ascending=[True, False], kind="mergesort")
    frame["rank"] = frame.groupby("u").cumcount()
    top = frame[frame["rank"] < k]
    precision = top.groupby("u")["rel"].mean().mean()
    top = top.assign(gain=top["rel"] / np.log2(top["rank"] + 2))
    dcg = top.groupby("u")["gain"].sum()
    ideal = frame.sort_values(["u", "rel"], ascending=[True, False], kind="mergesort")
    ideal = ideal.assign(rank=ideal.groupby("u").cumcount())
    ideal = ideal[ideal["rank"] < k]
    idcg = (ideal["rel"] / np.log2(ideal["rank"] + 2)).groupby(ideal["u"]).sum()
    has = idcg > 0
    ndcg = (dcg[has] / idcg[has]).mean()
    return {f"precision_at_{k}": float(precision), f"ndcg_at_{k}": float(ndcg)}


class _Recommender(BaseEstimator):
    """What the recommenders share: triples -> ids, scale, the bias model, fallbacks, predict/recommend."""

    _parameter_constraints: dict = {}
    _fitted_attributes = frozenset(
        {
            "users_",
            "items_",
            "global_mean_",
            "user_bias_",
            "item_bias_",
            "rating_scale_",
            "feature_names_in_",
            "history_",
            "n_iter_",
            "shape_",
            "best_epoch_",
        }
    )
    _transposed = False  # True when the matrix rows are items (item-based)
    # shrinkage and sweeps of the bias model that answers for unseen users and items (as BiasRecommender)
    _bias_reg = (5.0, 5.0)
    _bias_sweeps = 10

    def _check_params(self) -> None:
        check_params(self, self._parameter_constraints)
        if self.rating_scale is not None:
            low, high = self._given_scale()
            if not low < high:
                raise ValueError(
                    "rating_scale must be (lowest, highest) with lowest < highest; got "
                    f"{self.rating_scale!r}."
                )

    def _given_scale(self) -> tuple[float, float]:
        scale = self.rating_scale
        if not (
            isinstance(scale, (tuple, list))
            and len(scale) == 2
            and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in scale)
        ):
            raise ValueError(
                f"rating_scale must be None (read from the data) or a pair of numbers such as (1, 5); "
                f"got {scale!r}."
            )
        return float(scale[0]), float(scale[1])

    def _scale(self) -> tuple[float, float]:
        """The fitted scale: the given one, or the lowest and highest training rating."""
        return tuple(self.rating_scale_)

    def _validate(self, X, y, what: str):
        users, items, ratings, names = _as_triples(X, y)
        for name, values in (("user", users), ("item", items), ("rating", ratings)):
            bad = _nan_rows(values)
            if bad.any():
                raise ValueError(
                    f"{what} has {int(bad.sum())} missing {name} value(s) (NaN), the first in row "
                    f"{int(bad.argmax())}. Drop those rows first, e.g. ratings.dropna()."
                )
        if self.rating_scale is not None:
            low, high = self._given_scale()
            outside = (ratings < low) | (ratings > high)
            if outside.any():
                row = int(outside.argmax())
                raise ValueError(
                    f"{what} has {int(outside.sum())} rating(s) outside rating_scale=({low:g}, {high:g}), "
                    f"e.g. {ratings[row]:g} (user {users[row]!r}, item {items[row]!r}). Fix or drop them, "
                    "or set rating_scale to the scale of your data (None reads it from the data)."
                )
        users, items, ratings = _dedupe(users, items, ratings, what)
        return users, items, ratings, names

    def _index(self, ids, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions of ``ids`` in the sorted ``known`` ids, and which of them are known."""
        ids = np.asarray(ids)
        try:
            pos = np.searchsorted(known, ids)
        except TypeError as exc:
            raise ValueError(
                f"ids of type {ids.dtype} cannot be compared with the training ids ({known.dtype}); use "
                "the same kind of ids as in fit."
            ) from exc
        pos = np.clip(pos, 0, len(known) - 1)
        found = known[pos] == ids
        return pos, np.asarray(found, dtype=bool)

    def _matrix(self, u, i, values) -> np.ndarray:
        """The (n_users, n_items) matrix at positions ``u``, ``i``, NaN where unrated; transposed when
        item-based."""
        R = np.full((len(self.users_), len(self.items_)), np.nan, dtype=np.float32)
        R[u, i] = values
        return R.T.copy() if self._transposed else R

    def _bias(self, u, i) -> np.ndarray:
        """The bias model's answer for known positions ``u``, ``i``."""
        return self.global_mean_ + self.user_bias_[u] + self.item_bias_[i]

    # -- subclass hooks ---------------------------------------------------------------------------
    def _targets(self, ratings: np.ndarray) -> np.ndarray:
        return ratings

    def _fit_ratings(self, u: np.ndarray, i: np.ndarray, targets: np.ndarray) -> None:
        """Train on the targets at positions ``u``, ``i`` (the bias model is already fitted)."""
        raise NotImplementedError

    def _pair_scores(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        """Predictions for known (user, item) positions."""
        raise NotImplementedError

    def _user_scores(self, u: int) -> tuple[np.ndarray, np.ndarray]:
        """(prediction for every item, which items the user rated in training) for a known user."""
        raise NotImplementedError

    def _clip(self, values: np.ndarray) -> np.ndarray:
        low, high = self._scale()
        return np.clip(values, low, high)

    # -- public API -------------------------------------------------------------------------------
    def fit(self, X, y=None):
        """Fit on ratings: a DataFrame with user/item/rating columns (or user, item and rating as its
        first three columns), an (n, 3) array, or (user, item) pairs + ``y``."""
        self._check_params()
        users, items, ratings, names = self._validate(X, y, "The training ratings")
        self.rating_scale_ = (
            self._given_scale()
            if self.rating_scale is not None
            else (float(ratings.min()), float(ratings.max()))
        )
        if names is not None:
            self.feature_names_in_ = np.asarray(names[:2], dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        targets = self._targets(ratings).astype(np.float64)
        self.users_, u = np.unique(users, return_inverse=True)
        self.items_, i = np.unique(items, return_inverse=True)
        self._fit_bias(u, i, targets)
        self._fit_ratings(u, i, targets)
        return self

    def _fit_bias(self, u: np.ndarray, i: np.ndarray, targets: np.ndarray) -> None:
        """The bias model of the targets at positions ``u``, ``i`` (all users and items get a bias)."""
        self.global_mean_, self.user_bias_, self.item_bias_ = bias_terms(
            u, i, targets, len(self.users_), len(self.items_), reg_user=self._bias_reg[0],
            reg_item=self._bias_reg[1], n_iter=self._bias_sweeps,
        )  # fmt: skip

    def predict(self, user, item) -> np.ndarray:
        """Predicted score for each (user, item) pair; scalars or arrays of equal length.

        Ids never seen in training (cold start) get the bias model's answer (the item's bias for an
        unknown user, the user's for an unknown item, the global mean for both), with a
        :class:`ColdStartWarning` that counts them.
        """
        self._check_fitted()
        users, items = np.atleast_1d(np.asarray(user)), np.atleast_1d(np.asarray(item))
        if users.shape != items.shape or users.ndim != 1:
            raise ValueError(
                f"predict expects users and items of the same length; got {users.shape} and {items.shape}."
            )
        u, u_ok = self._index(users, self.users_)
        i, i_ok = self._index(items, self.items_)
        out = (
            self.global_mean_
            + np.where(u_ok, self.user_bias_[u], 0.0)
            + np.where(i_ok, self.item_bias_[i], 0.0)
        )
        known = u_ok & i_ok
        if known.any():
            out[known] = self._pair_scores(u[known], i[known])
        if not known.all():
            warnings.warn(
                f"{int((~known).sum())} of {len(users)} pairs have a user or item unseen in training "
                f"({int((~u_ok).sum())} unknown user(s), {int((~i_ok).sum())} unknown item(s)); cold start: "
                "they got the bias model's answer (global mean + the known user's or item's bias).",
                ColdStartWarning,
                stacklevel=2,
            )
        return self._clip(out)

    def recommend(self, user, n: int = 10, *, exclude_seen: bool = True) -> pd.DataFrame:
        """The ``n`` best-scored items for ``user``, excluding the items rated in training.

        An unknown user gets the items with the best bias, with a :class:`ColdStartWarning`.

        Returns
        -------
        DataFrame with columns ``item`` and ``score``, best first.
        """
        self._check_fitted()
        if not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"n must be a positive int; got {n!r}.")
        pos, ok = self._index(np.asarray([user]), self.users_)
        if not ok[0]:
            warnings.warn(
                f"User {user!r} was not in the training ratings (cold start): recommending the items with "
                "the best bias (the global mean + the item's bias).",
                ColdStartWarning,
                stacklevel=2,
            )
            scores, seen = self.global_mean_ + self.item_bias_, np.zeros(len(self.items_), bool)
        else:
            scores, seen = self._user_scores(int(pos[0]))
        scores = self._clip(np.asarray(scores, dtype=np.float64))
        if exclude_seen:
            scores = np.where(seen, -np.inf, scores)
        order = np.argsort(-scores, kind="stable")[: min(n, int(np.isfinite(scores).sum()))]
        return pd.DataFrame({"item": self.items_[order], "score": scores[order]})

    def _check_fitted(self) -> None:
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "users_")


@register
class BiasRecommender(_Recommender):
    """The classical baseline: global mean + user bias + item bias, regularised.

    The biases minimise the squared error plus ``reg_user * sum(b_user**2) + reg_item *
    sum(b_item**2)`` by alternating least squares, so that a user or item with few ratings stays
    near the global mean (Koren, "Factor in the neighbors", 2010). It is also what the deep
    recommenders answer for users and items unseen in training.

    Parameters
    ----------
    reg_user, reg_item : float, default=5.0
        Shrinkage: a bias counts as if ``reg`` extra ratings at the global mean were added.
    max_iter : int, default=10
        Alternating sweeps (they converge in a few).
    rating_scale : tuple or None, default=None
        Lowest and highest valid rating; None reads them from the training ratings. Predictions are
        clipped to it.

    Attributes
    ----------
    users_, items_ : ndarray
        The sorted training ids.
    global_mean_ : float
    user_bias_, item_bias_ : ndarray
    rating_scale_ : tuple of float
    seen_ : ndarray of int
        ``user position * n_items + item position`` of every training rating (``recommend``
        leaves them out).

    Examples
    --------
    >>> import pandas as pd
    >>> from deepzoo import BiasRecommender
    >>> ratings = pd.DataFrame({"user": [1, 1, 2, 2, 3], "item": [10, 20, 10, 30, 20],
    ...                         "rating": [5, 1, 4, 2, 4.5]})
    >>> rec = BiasRecommender().fit(ratings)
    >>> rec.rating_scale_, rec.predict([1], [30]).round(2)
    ((1.0, 5.0), array([2.99]))
    """

    _parameter_constraints = {
        "reg_user": [Interval(numbers.Real, 0, None, closed="left")],
        "reg_item": [Interval(numbers.Real, 0, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "rating_scale": [tuple, list, None],
    }
    _fitted_attributes = _Recommender._fitted_attributes | {"seen_"}

    def __init__(
        self, reg_user: float = 5.0, reg_item: float = 5.0, *, max_iter: int = 10, rating_scale=None
    ):
        self.reg_user = reg_user
        self.reg_item = reg_item
        self.max_iter = max_iter
        self.rating_scale = rating_scale

    @property
    def _bias_reg(self):
        return (self.reg_user, self.reg_item)

    @property
    def _bias_sweeps(self):
        return self.max_iter

    def _fit_ratings(self, u, i, targets):
        self.seen_ = np.sort(u.astype(np.int64) * len(self.items_) + i)
        self.n_iter_ = self.max_iter

    def _pair_scores(self, u, i):
        return self._bias(u, i)

    def _user_scores(self, u):
        scores = self._bias(np.full(len(self.items_), u), np.arange(len(self.items_)))
        seen = np.zeros(len(self.items_), bool)
        start, stop = np.searchsorted(self.seen_, [u * len(self.items_), (u + 1) * len(self.items_)])
        seen[self.seen_[start:stop] - u * len(self.items_)] = True
        return scores, seen


class _MatrixRecommender(_Recommender):
    """A recommender whose network reads rows of the rating matrix (kept as the ``ratings`` buffer)."""

    def _check_fitted(self) -> None:
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "module_")

    def _device(self) -> torch.device:
        return next(self.module_.buffers()).device

    def _bias_rows(self, rows: np.ndarray) -> np.ndarray:
        """The bias model's answer for every column of the given matrix rows."""
        if self._transposed:  # rows are items, columns users
            return self.global_mean_ + self.item_bias_[rows, None] + self.user_bias_[None, :]
        return self.global_mean_ + self.user_bias_[rows, None] + self.item_bias_[None, :]

    def _row_scores(self, rows: np.ndarray) -> np.ndarray:
        """Predictions for every column of the given rows of the training matrix."""
        raise NotImplementedError

    def _pair_scores(self, u, i):
        rows, cols = (i, u) if self._transposed else (u, i)
        unique_rows, inverse = np.unique(rows, return_inverse=True)
        return self._row_scores(unique_rows)[inverse, cols]

    def _user_scores(self, u):
        R = self.module_.ratings
        if self._transposed:
            scores = self._row_scores(np.arange(len(self.items_)))[:, u]
            seen = ~np.isnan(numpy_out(R[:, u]))
        else:
            scores = self._row_scores(np.array([u]))[0]
            seen = ~np.isnan(numpy_out(R[u, : len(self.items_)]))
        return scores, seen
