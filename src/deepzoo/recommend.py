"""Recommenders on a rating matrix, built on :mod:`deepzoo.rbm` and :mod:`deepzoo.autoencoder`.

All three are fitted on ``(user, item, rating)`` triples, with ids of any kind (they need not be dense),
on any rating scale (read from the data unless ``rating_scale`` is given; half stars are fine):

* :class:`BiasRecommender`, the classical baseline: global mean + user bias + item bias, shrunk
  towards 0 for users and items with few ratings (Koren's baseline predictor);
* :class:`AutoEncoderRecommender` predicts graded ratings with a :class:`~deepzoo.StackedAutoEncoder`
  on the rows of the matrix: items (``kind='item'``, I-AutoRec, Sedhain et al. 2015) or users
  (``kind='user'``, the course's model), with a loss on the observed ratings only and early stopping
  on held-out ratings;
* :class:`RBMRecommender` learns liked / not liked (ratings below ``like_threshold`` -> 0, the others
  -> 1, unrated masked) with a :class:`~deepzoo.BernoulliRBM` whose visible units are the items.

Each fits the bias model too: users or items never seen in training (cold start) get its answer
(the item's bias for a new user, the user's for a new item, the global mean for both), with a
:class:`ColdStartWarning` that counts them.

Bad input, documented and tested: NaN in a triple, ratings that are not numbers and ratings outside
a given ``rating_scale`` raise a ValueError; duplicate (user, item) pairs warn and keep the last
rating; ``recommend`` for an unknown user warns and ranks the items by their bias.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator

from .autoencoder import AutoEncoder, StackedAutoEncoder, masked_squared_error
from .base import Interval, Options, check_params, local_torch_seed, numpy_out, resolve_device, seed_from
from .rbm import RBM, BernoulliRBM
from .training import fit_loop

__all__ = ["AutoEncoderRecommender", "BiasRecommender", "RBMRecommender", "ranking_metrics"]


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
    >>> round(mean + bu[1] + bi[0], 6)  # no shrinkage: user 1's only rating is fitted exactly
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
        self.global_mean_, self.user_bias_, self.item_bias_ = bias_terms(
            u, i, targets, len(self.users_), len(self.items_), reg_user=self._bias_reg[0],
            reg_item=self._bias_reg[1], n_iter=self._bias_sweeps,
        )  # fmt: skip
        self._fit_ratings(u, i, targets)
        return self

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
    ((1.0, 5.0), array([3.04]))
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


def _logit(p, eps: float = 1e-3):
    p = np.clip(p, eps, 1 - eps)
    return np.log(p) - np.log1p(-p)


class RBMRecommender(_MatrixRecommender):
    """Liked / not-liked recommendations from a restricted Boltzmann machine (Deep Learning A-Z).

    Ratings below ``like_threshold`` become 0 (not liked), the others 1 (liked); unrated items are
    masked. Each user is a row of visible units; ``predict`` gives P(liked) from one mean-field
    pass v -> h -> v from the user's training ratings. Binary ratings (0/1, clicks) need no
    threshold: the default (the middle of the scale) takes the higher value as liked.

    Two choices differ from the course's machine, and both can be switched back:

    * ``encoding='both'``: two visible units per item, liked and not liked (one of them on for a
      rated item, both masked for an unrated one). With the course's one unit ('liked') a rating
      of "not liked" enters the hidden units exactly like "not rated": the machine cannot see
      dislikes. On a random 80/20 split of MovieLens 100K the ROC-AUC of P(liked) rises from 0.74
      to 0.79 (benchmarks/RESULTS.md).
    * ``with_bias=True``: the machine's P(liked) is combined with the bias model's (global + user +
      item share of likes) as independent evidence: their log-odds are added and the base rate's
      taken once away (a product of experts). The machine brings what the user's other ratings
      say; the bias model how generous the user is and how liked the item is.

    Parameters
    ----------
    n_components : int, default=100
        Hidden units (the course uses 100).
    like_threshold : float or None, default=None
        Ratings >= this are "liked"; None: the middle of the rating scale (3 on 1-5 stars, as the
        course: 1-2 -> 0, 3-5 -> 1; 0.5 on 0/1 ratings).
    rating_scale : tuple or None, default=None
        Lowest and highest valid rating; None reads them from the training ratings.
    encoding : {'both', 'liked'}, default='both'
        Visible units per item: liked and not liked, or the course's single 'liked' unit.
    with_bias : bool, default=True
        Combine P(liked) with the bias model's (see above); False: the machine alone.
    n_gibbs_steps : int, default=1
    learning_rate : float, default=0.003
    batch_size : int, default=32
    max_iter : int, default=30
    alpha : float, default=0.0
    device, random_state, verbose
        As in :class:`~deepzoo.BernoulliRBM`.

    Attributes
    ----------
    like_threshold_ : float
        The threshold used.

    Examples
    --------
    >>> import pandas as pd
    >>> from deepzoo import RBMRecommender
    >>> ratings = pd.DataFrame({"user": [1, 1, 2, 2, 3], "item": [10, 20, 10, 30, 20],
    ...                         "rating": [5, 1, 4, 2, 5]})
    >>> rec = RBMRecommender(n_components=4, max_iter=2, random_state=0).fit(ratings)
    >>> rec.like_threshold_, rec.predict([1], [30]).shape
    (3.0, (1,))
    """

    _parameter_constraints = {
        "n_components": [Interval(numbers.Integral, 1, None, closed="left")],
        "like_threshold": [Interval(numbers.Real, None, None), None],
        "rating_scale": [tuple, list, None],
        "encoding": [Options("both", "liked")],
        "with_bias": [bool],
        "n_gibbs_steps": [Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "device": ["device"],
        "random_state": ["random_state"],
        "verbose": [bool],
    }
    _fitted_attributes = _Recommender._fitted_attributes | {"like_threshold_"}

    def __init__(
        self,
        n_components: int = 100,
        *,
        like_threshold=None,
        rating_scale=None,
        encoding: str = "both",
        with_bias: bool = True,
        n_gibbs_steps: int = 1,
        learning_rate: float = 0.003,
        batch_size: int = 32,
        max_iter: int = 30,
        alpha: float = 0.0,
        device="auto",
        random_state=None,
        verbose: bool = False,
    ):
        self.n_components = n_components
        self.like_threshold = like_threshold
        self.rating_scale = rating_scale
        self.encoding = encoding
        self.with_bias = with_bias
        self.n_gibbs_steps = n_gibbs_steps
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.alpha = alpha
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _threshold(self) -> float:
        if self.like_threshold is not None:
            return float(self.like_threshold)
        low, high = self._scale()
        return (low + high) / 2

    def _targets(self, ratings):
        self.like_threshold_ = self._threshold()
        return (ratings >= self.like_threshold_).astype(np.float32)

    def _clip(self, values):
        return np.clip(values, 0.0, 1.0)  # P(liked)

    def _visible(self, R: np.ndarray) -> np.ndarray:
        """The visible units of each user: liked (and not liked, with encoding='both'); NaN unrated."""
        return np.concatenate([R, 1 - R], axis=1) if self.encoding == "both" else R

    def _build_module(self) -> RBM:
        n_visible = len(self.items_) * (2 if self.encoding == "both" else 1)
        module = RBM(n_visible, self.n_components)
        module.register_buffer("ratings", torch.full((len(self.users_), n_visible), float("nan")))
        return module

    def _fit_ratings(self, u, i, targets):
        R = self._visible(self._matrix(u, i, targets))
        self.shape_ = (len(self.users_), len(self.items_))
        rbm = BernoulliRBM(
            self.n_components,
            method="cd",
            n_gibbs_steps=self.n_gibbs_steps,
            learning_rate=self.learning_rate,
            batch_size=self.batch_size,
            max_iter=self.max_iter,
            alpha=self.alpha,
            device=self.device,
            random_state=self.random_state,
            verbose=self.verbose,
        ).fit(R)
        self.module_ = rbm.module_
        self.module_.register_buffer("ratings", torch.as_tensor(R, device=resolve_device(self.device)))
        self.history_, self.n_iter_ = rbm.history_, rbm.n_iter_

    @torch.no_grad()
    def _row_scores(self, rows):
        v = self.module_.ratings[torch.as_tensor(rows, device=self._device())]
        h = torch.sigmoid(self.module_.hidden_logits(torch.nan_to_num(v)))
        visible = numpy_out(self.module_.visible_mean(h)).astype(np.float64)  # (rows, n_visible)
        n = len(self.items_)
        p = (
            visible[:, :n] / np.maximum(visible[:, :n] + visible[:, n:], 1e-12)
            if self.encoding == "both"
            else visible
        )
        if self.with_bias:  # a product of experts: add the log-odds, count the base rate once
            log_odds = _logit(p) + _logit(self._bias_rows(rows)) - _logit(self.global_mean_)
            p = 1 / (1 + np.exp(-log_odds))
        return p

    def evaluate(self, X, y=None, *, k: int = 10) -> dict:
        """Accuracy, MAE and RMSE of P(liked) on held-out ratings, plus precision@k and NDCG@k.

        ``accuracy`` compares ``P(liked) >= 0.5`` with the truth; ``mae`` is the mean of
        ``|liked - P(liked)|`` (the course's "test loss" is the same quantity with sampled units);
        ``baseline_accuracy`` is that of always answering "liked". Cold-start pairs are included,
        scored by the bias model.
        """
        self._check_fitted()
        users, items, ratings, _ = self._validate(X, y, "The test ratings")
        liked = (ratings >= self.like_threshold_).astype(np.float64)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ColdStartWarning)
            p = self.predict(users, items)
        for w in caught:
            warnings.warn(w.message, w.category, stacklevel=2)
        metrics = {
            "accuracy": float(np.mean((p >= 0.5) == (liked == 1))),
            "mae": float(np.mean(np.abs(liked - p))),
            "rmse": float(np.sqrt(np.mean((liked - p) ** 2))),
            "baseline_accuracy": float(max(liked.mean(), 1 - liked.mean())),
            "n_ratings": len(liked),
        }
        metrics.update(ranking_metrics(users, liked, p, k))
        return metrics


class AutoEncoderRecommender(_MatrixRecommender):
    """Rating predictions from a stacked autoencoder on the rows of the rating matrix (AutoRec).

    ``kind='item'`` (I-AutoRec, Sedhain et al. 2015) encodes each item's vector of ratings by all
    users and is the more accurate; ``kind='user'`` encodes each user's ratings of all items, as in
    Deep Learning A-Z. Missing ratings enter as 0 and are left out of the loss; predictions are
    clipped to the rating scale.

    Three defaults make it generalise to data it was not tuned on (each can be switched off):

    * ``residual=True``: the network reads the raw ratings (which also say who rated what) but
      learns each rating's difference from the bias model (global mean + user bias + item bias);
      its last layer starts at zero, so training starts from the bias model, and an item or user
      with few ratings keeps nearly the bias model's answer. After training, the correction is
      scaled by the factor in [0, 1] that fits the held-out ratings best (``shrinkage_``): a network
      that learned nothing useful leaves the bias model as it is.
    * ``early_stopping=True``: ``validation_fraction`` of the training ratings (not whole rows) is
      held out; training stops when their error has not improved by ``tol`` for
      ``n_iter_no_change`` epochs and the best epoch's weights are kept. Every training rating is
      then an input at prediction time.
    * ``alpha`` is the L2 penalty per observed rating: the weight decay is ``alpha`` times the share
      of the matrix that is observed, so that one value suits dense and sparse matrices.

    Parameters
    ----------
    kind : {'item', 'user'}, default='item'
    hidden_layer_sizes : tuple of int, default=(500,)
        The encoder; the decoder mirrors it (the course: (20, 10)).
    activation : str, default='sigmoid'
    alpha : float, default=1e-3
        L2 penalty on the weights, per observed rating (see above).
    residual : bool, default=True
        Learn the differences from the bias model (see above); False learns the ratings themselves.
    dropout, input_dropout : float, default=0.0
    learning_rate : float, default=1e-3
    batch_size : int, default=64
    max_iter : int, default=200
    solver : {'adam', 'adamw', 'sgd'}, default='adam'
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training ratings and keep the best epoch's weights.
        False: train all ``max_iter`` epochs.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
    tol : float, default=1e-4
        Least improvement of the held-out mean squared error that counts.
    rating_scale : tuple or None, default=None
        Lowest and highest valid rating; None reads them from the training ratings.
    checkpoint : str or path, default=None
        File written atomically after every epoch; with ``resume=True`` a killed fit continues from it.
    resume : bool, default=False
    device, random_state, verbose
        As in :class:`~deepzoo.StackedAutoEncoder`.

    Attributes
    ----------
    history_ : dict
        'loss' (and 'val_loss'): mean squared error per training (held-out) rating, per epoch (of
        the differences from the bias model when ``residual``).
    best_epoch_ : int or None
        The epoch whose weights were kept (0-based), with early stopping.
    shrinkage_ : float
        The share of the network's correction that is used (1 without ``residual``).

    Examples
    --------
    >>> from deepzoo import AutoEncoderRecommender
    >>> from deepzoo.data.ratings import make_ratings
    >>> ratings = make_ratings(60, 40, 1200, scale=(0.5, 5), step=0.5, random_state=0)
    >>> rec = AutoEncoderRecommender(hidden_layer_sizes=(16,), max_iter=5, random_state=0).fit(ratings)
    >>> rec.rating_scale_, rec.predict([1], [2]).shape
    ((0.5, 5.0), (1,))
    """

    _parameter_constraints = {
        "kind": [Options("item", "user")],
        "hidden_layer_sizes": ["int_tuple"],
        "activation": [Options("relu", "tanh", "sigmoid", "gelu", "identity")],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "residual": [bool],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "input_dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "solver": [Options("adam", "adamw", "sgd")],
        "early_stopping": [bool],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "rating_scale": [tuple, list, None],
        "checkpoint": [str, "pathlike", None],
        "resume": [bool],
        "device": ["device"],
        "random_state": ["random_state"],
        "verbose": [bool],
    }
    _fitted_attributes = _Recommender._fitted_attributes | {"shrinkage_"}

    def __init__(
        self,
        kind: str = "item",
        *,
        hidden_layer_sizes=(500,),
        activation: str = "sigmoid",
        alpha: float = 1e-3,
        residual: bool = True,
        dropout: float = 0.0,
        input_dropout: float = 0.0,
        learning_rate: float = 1e-3,
        batch_size: int = 64,
        max_iter: int = 200,
        solver: str = "adam",
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        rating_scale=None,
        checkpoint=None,
        resume: bool = False,
        device="auto",
        random_state=None,
        verbose: bool = False,
    ):
        self.kind = kind
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.alpha = alpha
        self.residual = residual
        self.dropout = dropout
        self.input_dropout = input_dropout
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.solver = solver
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.rating_scale = rating_scale
        self.checkpoint = checkpoint
        self.resume = resume
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @property
    def _transposed(self) -> bool:
        return self.kind == "item"

    def _build_module(self) -> AutoEncoder:
        est = StackedAutoEncoder(
            self.hidden_layer_sizes,
            activation=self.activation,
            output_activation="identity",
            dropout=self.dropout,
            input_dropout=self.input_dropout,
        )
        est.n_features_in_ = self.shape_[1]
        module = est._build_module()
        module.register_buffer("ratings", torch.full(tuple(self.shape_), float("nan")))
        return module

    def _held_out(self, n_ratings: int, seed: int) -> np.ndarray:
        """Which training ratings are held out for early stopping (none without it)."""
        if not self.early_stopping:
            return np.zeros(n_ratings, dtype=bool)
        held = np.random.default_rng(seed % 2**32).random(n_ratings) < self.validation_fraction
        if not held.any() or held.all():
            raise ValueError(
                f"early_stopping holds out validation_fraction={self.validation_fraction} of "
                f"{n_ratings} training ratings, which leaves none to validate or none to train on. "
                "Use more ratings, another validation_fraction, or early_stopping=False."
            )
        return held

    def _fit_ratings(self, u, i, targets):
        device = resolve_device(self.device)
        seed = seed_from(self.random_state)
        held = self._held_out(len(targets), seed)
        kept = ~held
        goal = targets
        if self.residual:
            # the bias model of the input ratings only: held-out ratings must not inform what they judge
            self.global_mean_, self.user_bias_, self.item_bias_ = bias_terms(
                u[kept], i[kept], targets[kept], len(self.users_), len(self.items_),
                reg_user=self._bias_reg[0], reg_item=self._bias_reg[1], n_iter=self._bias_sweeps,
            )  # fmt: skip
            goal = targets - self._bias(u, i)
        inputs = self._matrix(u[kept], i[kept], targets[kept])
        self.shape_ = inputs.shape
        X = torch.as_tensor(inputs, device=device)
        y = (
            torch.as_tensor(self._matrix(u[kept], i[kept], goal[kept]), device=device)
            if self.residual
            else None
        )
        val = (
            torch.as_tensor(self._matrix(u[held], i[held], goal[held]), device=device) if held.any() else None
        )
        n_cells = inputs.shape[0] * inputs.shape[1]
        with local_torch_seed(seed, device):
            module = self._build_module().to(device)
            if self.residual:  # start from the bias model: a zero correction
                last = module.decoder[-2]
                torch.nn.init.zeros_(last.weight)
                torch.nn.init.zeros_(last.bias)
            result, _ = fit_loop(
                module,
                masked_squared_error,
                X,
                y,
                solver=self.solver,
                learning_rate=self.learning_rate,
                weight_decay=self.alpha * int(kept.sum()) / n_cells,  # alpha per observed rating
                batch_size=min(self.batch_size, len(inputs)),
                max_iter=self.max_iter,
                early_stopping=self.early_stopping,
                validation_data=None if val is None else (X, val),
                # without early stopping: a fixed budget of max_iter epochs
                n_iter_no_change=self.n_iter_no_change if self.early_stopping else self.max_iter + 1,
                # the loss is a row's squared errors summed / n_columns: tol per held-out rating
                tol=self.tol * int(held.sum()) / n_cells,
                seed=seed,
                verbose=self.verbose,
                description="AutoEncoderRecommender",
                checkpoint=self.checkpoint,
                resume=self.resume,
                warn_on_max_iter=self.early_stopping,
            )
        module.eval()
        self.shrinkage_ = 1.0
        if self.residual and val is not None:  # the share of the correction that fits held-out ratings
            with torch.no_grad():
                observed = ~torch.isnan(val)
                out = module(X)[observed].double()
                truth = val[observed].double()
                self.shrinkage_ = float(
                    ((out * truth).sum() / (out * out).sum().clamp_min(1e-12)).clamp(0, 1)
                )
        module.ratings = torch.as_tensor(self._matrix(u, i, targets), device=device)  # every rating an input
        self.module_ = module
        # the loop's losses are a row's squared errors summed / n_columns: per rating they are MSEs
        per_rating = {
            "loss": n_cells / max(int(kept.sum()), 1),
            "val_loss": n_cells / max(int(held.sum()), 1),
        }
        self.history_ = {
            k: [float(v) * per_rating[k] for v in values] for k, values in result.history.items()
        }
        self.n_iter_ = result.n_iter
        self.best_epoch_ = result.best_epoch if self.early_stopping else None

    @torch.no_grad()
    def _row_scores(self, rows):
        self.module_.eval()
        v = self.module_.ratings[torch.as_tensor(rows, device=self._device())]
        out = numpy_out(self.module_(v)).astype(np.float64)
        if self.residual:
            out = self._bias_rows(rows) + self.shrinkage_ * out
        return out

    def evaluate(self, X, y=None, *, k: int = 10, relevant_from: float | None = None) -> dict:
        """RMSE and MAE of the predicted ratings, and precision@k / NDCG@k of each user's test items.

        Items rated ``>= relevant_from`` count as relevant for the ranking metrics (None: three
        quarters of the way up the scale, 4 on 1-5 stars). Cold-start pairs are included, scored by
        the bias model (with a :class:`ColdStartWarning`).
        """
        self._check_fitted()
        users, items, ratings, _ = self._validate(X, y, "The test ratings")
        pred = self.predict(users, items)
        if relevant_from is None:
            low, high = self._scale()
            relevant_from = low + 0.75 * (high - low)
        metrics = {
            "rmse": float(np.sqrt(np.mean((pred - ratings) ** 2))),
            "mae": float(np.mean(np.abs(pred - ratings))),
            "n_ratings": len(ratings),
        }
        metrics.update(ranking_metrics(users, ratings >= relevant_from, pred, k))
        return metrics
