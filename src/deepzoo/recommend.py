"""Recommenders on a rating matrix, built on :mod:`deepzoo.rbm` and :mod:`deepzoo.autoencoder`.

Both are fitted on ``(user, item, rating)`` triples, with ids of any kind (they need not be dense):

* :class:`RBMRecommender` learns liked / not liked (ratings below ``like_threshold`` -> 0, the others
  -> 1, unrated masked) with a :class:`~deepzoo.BernoulliRBM` whose visible units are the items;
* :class:`AutoEncoderRecommender` predicts 1-5 star ratings with a :class:`~deepzoo.StackedAutoEncoder`
  on the rows of the matrix: users (``kind='user'``, the course's model) or items (``kind='item'``,
  I-AutoRec, Sedhain et al. 2015), with a loss on the observed ratings only.

Bad input, documented and tested: NaN in a triple and ratings outside ``rating_scale`` raise a
ValueError; duplicate (user, item) pairs warn and keep the last rating; ids never seen in training
(cold start) warn and fall back to the item's mean, the user's mean, then the global mean;
``recommend`` for an unknown user warns and ranks the items by their mean rating.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator

from .autoencoder import AutoEncoder, StackedAutoEncoder
from .base import Interval, Options, check_params, numpy_out, resolve_device
from .rbm import RBM, BernoulliRBM

__all__ = ["AutoEncoderRecommender", "RBMRecommender", "ranking_metrics"]


class ColdStartWarning(UserWarning):
    """Predictions were asked for users or items not seen in training; fallbacks were used."""


def _as_triples(X, y=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(users, items, ratings) from a DataFrame (user/item/rating or the first three columns), an
    (n, 3) array, or (n, 2) pairs with ``y``."""
    if isinstance(X, pd.DataFrame):
        if y is not None:
            frame = X.iloc[:, :2]
        elif {"user", "item", "rating"} <= set(X.columns):
            frame = X[["user", "item", "rating"]]
        else:
            frame = X.iloc[:, :3]
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
    try:
        ratings = np.asarray(ratings, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Ratings must be numbers; got {exc}.") from exc
    return np.asarray(users), np.asarray(items), ratings


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
    """What both recommenders share: triples -> matrix, id maps, fallbacks, predict/recommend/evaluate."""

    _parameter_constraints: dict = {}
    _fitted_attributes = frozenset(
        {"users_", "items_", "global_mean_", "user_means_", "item_means_", "history_", "n_iter_", "shape_"}
    )
    _transposed = False  # True when the matrix rows are items (item-based)

    def _check_params(self) -> None:
        check_params(self, self._parameter_constraints)
        low, high = self._scale()
        if not low < high:
            raise ValueError(
                f"rating_scale must be (lowest, highest) with lowest < highest; got {self.rating_scale!r}."
            )

    def _scale(self) -> tuple[float, float]:
        scale = self.rating_scale
        if not (
            isinstance(scale, (tuple, list))
            and len(scale) == 2
            and all(isinstance(v, numbers.Real) for v in scale)
        ):
            raise ValueError(f"rating_scale must be a pair of numbers such as (1, 5); got {scale!r}.")
        return float(scale[0]), float(scale[1])

    def _validate(self, X, y, what: str, check_scale: bool = True):
        users, items, ratings = _as_triples(X, y)
        for name, values in (("user", users), ("item", items), ("rating", ratings)):
            bad = _nan_rows(values)
            if bad.any():
                raise ValueError(
                    f"{what} has {int(bad.sum())} missing {name} value(s) (NaN), the first in row "
                    f"{int(bad.argmax())}. Drop those rows first, e.g. ratings.dropna()."
                )
        low, high = self._scale()
        outside = (ratings < low) | (ratings > high)
        if check_scale and outside.any():
            row = int(outside.argmax())
            raise ValueError(
                f"{what} has {int(outside.sum())} rating(s) outside rating_scale=({low:g}, {high:g}), e.g. "
                f"{ratings[row]:g} (user {users[row]!r}, item {items[row]!r}). Fix or drop them, or set "
                "rating_scale to the scale of your data."
            )
        return _dedupe(users, items, ratings, what)

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

    def _matrix(self, users, items, values) -> np.ndarray:
        """The (n_users, n_items) matrix, NaN where unrated; (n_items, n_users) when item-based."""
        u, _ = self._index(users, self.users_)
        i, _ = self._index(items, self.items_)
        R = np.full((len(self.users_), len(self.items_)), np.nan, dtype=np.float32)
        R[u, i] = values
        return R.T.copy() if self._transposed else R

    def _fit_stats(self, users, items, targets) -> None:
        self.users_ = np.unique(users)
        self.items_ = np.unique(items)
        self.global_mean_ = float(np.mean(targets))
        frame = pd.DataFrame({"u": users, "i": items, "r": targets})
        self.user_means_ = frame.groupby("u")["r"].mean().reindex(self.users_).to_numpy(np.float64)
        self.item_means_ = frame.groupby("i")["r"].mean().reindex(self.items_).to_numpy(np.float64)

    # -- subclass hooks ---------------------------------------------------------------------------
    def _targets(self, ratings: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _fit_matrix(self, R: np.ndarray) -> None:
        raise NotImplementedError

    def _scores(self, rows: np.ndarray) -> np.ndarray:
        """Predictions for every column of the given rows of the training matrix."""
        raise NotImplementedError

    # -- public API -------------------------------------------------------------------------------
    def fit(self, X, y=None):
        """Fit on ratings: a DataFrame with user/item/rating columns, an (n, 3) array, or pairs + ``y``."""
        self._check_params()
        users, items, ratings = self._validate(X, y, "The training ratings")
        targets = self._targets(ratings)
        self._fit_stats(users, items, targets)
        R = self._matrix(users, items, targets)
        self.shape_ = R.shape
        self._fit_matrix(R)
        return self

    def _training_matrix(self) -> torch.Tensor:
        return self.module_.ratings

    def predict(self, user, item) -> np.ndarray:
        """Predicted score for each (user, item) pair; scalars or arrays of equal length.

        Ids never seen in training (cold start) get the item's mean, else the user's mean, else the
        global mean, with a :class:`ColdStartWarning` that counts them.
        """
        self._check_fitted()
        users, items = np.atleast_1d(np.asarray(user)), np.atleast_1d(np.asarray(item))
        if users.shape != items.shape or users.ndim != 1:
            raise ValueError(
                f"predict expects users and items of the same length; got {users.shape} and {items.shape}."
            )
        u, u_ok = self._index(users, self.users_)
        i, i_ok = self._index(items, self.items_)
        out = np.full(len(users), self.global_mean_)
        out[~u_ok & i_ok] = self.item_means_[i[~u_ok & i_ok]]
        out[u_ok & ~i_ok] = self.user_means_[u[u_ok & ~i_ok]]
        known = u_ok & i_ok
        if known.any():
            rows, cols = (i[known], u[known]) if self._transposed else (u[known], i[known])
            unique_rows, inverse = np.unique(rows, return_inverse=True)
            scores = self._scores(unique_rows)
            out[known] = scores[inverse, cols]
        if not known.all():
            warnings.warn(
                f"{int((~u_ok).sum())} unknown user(s) and {int((~i_ok).sum())} unknown item(s) among "
                f"{len(users)} pairs (cold start): fell back to the item's mean, the user's mean or the "
                "global mean of the training ratings.",
                ColdStartWarning,
                stacklevel=2,
            )
        return out

    def recommend(self, user, n: int = 10, *, exclude_seen: bool = True) -> pd.DataFrame:
        """The ``n`` best-scored items for ``user``, excluding the items rated in training.

        An unknown user gets the items with the best mean rating, with a :class:`ColdStartWarning`.

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
                "the best mean rating.",
                ColdStartWarning,
                stacklevel=2,
            )
            scores, seen = self.item_means_.copy(), np.zeros(len(self.items_), bool)
        else:
            u = int(pos[0])
            if self._transposed:
                scores = self._scores(np.arange(len(self.items_)))[:, u]
                seen = ~np.isnan(numpy_out(self._training_matrix()[:, u]))
            else:
                scores = self._scores(np.array([u]))[0]
                seen = ~np.isnan(numpy_out(self._training_matrix()[u]))
        if exclude_seen:
            scores = np.where(seen, -np.inf, scores)
        order = np.argsort(-scores, kind="stable")[: min(n, int(np.isfinite(scores).sum()))]
        return pd.DataFrame({"item": self.items_[order], "score": scores[order]})

    def _check_fitted(self) -> None:
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "module_")

    # -- persistence hooks --------------------------------------------------------------------------
    def _device(self) -> torch.device:
        return next(self.module_.buffers()).device


class RBMRecommender(_Recommender):
    """Liked / not-liked recommendations from a restricted Boltzmann machine (Deep Learning A-Z).

    Ratings below ``like_threshold`` become 0 (not liked), the others 1 (liked); unrated items are
    masked. Each user is a row of visible units; ``predict`` gives P(liked) from one mean-field
    pass v -> h -> v from the user's training ratings.

    Parameters
    ----------
    n_components : int, default=100
        Hidden units (the course uses 100).
    like_threshold : float, default=3
        Ratings >= this are "liked" (the course: 1-2 -> 0, 3-5 -> 1).
    rating_scale : tuple, default=(1, 5)
        Lowest and highest valid rating; others are refused.
    n_gibbs_steps : int, default=1
    learning_rate : float, default=0.01
    batch_size : int, default=32
    max_iter : int, default=30
    alpha : float, default=0.0
    device, random_state, verbose
        As in :class:`~deepzoo.BernoulliRBM`.

    Examples
    --------
    >>> import pandas as pd
    >>> from deepzoo import RBMRecommender
    >>> ratings = pd.DataFrame({"user": [1, 1, 2, 2, 3], "item": [10, 20, 10, 30, 20],
    ...                         "rating": [5, 1, 4, 2, 5]})
    >>> rec = RBMRecommender(n_components=4, max_iter=2, random_state=0).fit(ratings)
    >>> rec.predict([1], [30]).shape
    (1,)
    """

    _parameter_constraints = {
        "n_components": [Interval(numbers.Integral, 1, None, closed="left")],
        "like_threshold": [Interval(numbers.Real, None, None)],
        "rating_scale": [tuple, list],
        "n_gibbs_steps": [Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "device": ["device"],
        "random_state": ["random_state"],
        "verbose": [bool],
    }

    def __init__(
        self,
        n_components: int = 100,
        *,
        like_threshold: float = 3,
        rating_scale: tuple = (1, 5),
        n_gibbs_steps: int = 1,
        learning_rate: float = 0.01,
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
        self.n_gibbs_steps = n_gibbs_steps
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.alpha = alpha
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _targets(self, ratings):
        return (ratings >= self.like_threshold).astype(np.float32)

    def _build_module(self) -> RBM:
        module = RBM(len(self.items_), self.n_components)
        module.register_buffer("ratings", torch.full(tuple(self.shape_), float("nan")))
        return module

    def _fit_matrix(self, R):
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
    def _scores(self, rows):
        v = self.module_.ratings[torch.as_tensor(rows, device=self._device())]
        h = torch.sigmoid(self.module_.hidden_logits(torch.nan_to_num(v)))
        return numpy_out(self.module_.visible_mean(h)).astype(np.float64)  # P(liked)

    def evaluate(self, X, y=None, *, k: int = 10) -> dict:
        """Accuracy, MAE and RMSE of P(liked) on held-out ratings, plus precision@k and NDCG@k.

        ``accuracy`` compares ``P(liked) >= 0.5`` with the truth; ``mae`` is the mean of
        ``|liked - P(liked)|`` (the course's "test loss" is the same quantity with sampled units);
        ``baseline_accuracy`` is that of always answering "liked". Cold-start pairs are included,
        scored by their fallback.
        """
        users, items, ratings = self._validate(X, y, "The test ratings")
        liked = self._targets(ratings)
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


class AutoEncoderRecommender(_Recommender):
    """Star-rating predictions from a stacked autoencoder on the rows of the rating matrix.

    ``kind='item'`` (I-AutoRec) encodes each item's vector of ratings by all users and is the more
    accurate; ``kind='user'`` encodes each user's ratings of all items, as in Deep Learning A-Z.
    Missing ratings enter as 0 and are left out of the loss; predictions are clipped to
    ``rating_scale``.

    Parameters
    ----------
    kind : {'item', 'user'}, default='item'
    hidden_layer_sizes : tuple of int, default=(500,)
        The encoder; the decoder mirrors it (the course: (20, 10)).
    activation : str, default='sigmoid'
    alpha : float, default=1e-3
        L2 penalty on the weights.
    dropout, input_dropout : float, default=0.0
    learning_rate : float, default=1e-3
    batch_size : int, default=64
    max_iter : int, default=200
    solver : {'adam', 'adamw', 'sgd'}, default='adam'
    rating_scale : tuple, default=(1, 5)
    device, random_state, verbose
        As in :class:`~deepzoo.StackedAutoEncoder`.
    """

    _parameter_constraints = {
        "kind": [Options("item", "user")],
        "hidden_layer_sizes": ["int_tuple"],
        "activation": [Options("relu", "tanh", "sigmoid", "gelu", "identity")],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "input_dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "solver": [Options("adam", "adamw", "sgd")],
        "rating_scale": [tuple, list],
        "device": ["device"],
        "random_state": ["random_state"],
        "verbose": [bool],
    }

    def __init__(
        self,
        kind: str = "item",
        *,
        hidden_layer_sizes=(500,),
        activation: str = "sigmoid",
        alpha: float = 1e-3,
        dropout: float = 0.0,
        input_dropout: float = 0.0,
        learning_rate: float = 1e-3,
        batch_size: int = 64,
        max_iter: int = 200,
        solver: str = "adam",
        rating_scale: tuple = (1, 5),
        device="auto",
        random_state=None,
        verbose: bool = False,
    ):
        self.kind = kind
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.alpha = alpha
        self.dropout = dropout
        self.input_dropout = input_dropout
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.solver = solver
        self.rating_scale = rating_scale
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @property
    def _transposed(self) -> bool:
        return self.kind == "item"

    def _targets(self, ratings):
        return ratings.astype(np.float32)

    def _estimator(self) -> StackedAutoEncoder:
        return StackedAutoEncoder(
            self.hidden_layer_sizes,
            activation=self.activation,
            output_activation="identity",
            dropout=self.dropout,
            input_dropout=self.input_dropout,
            alpha=self.alpha,
            solver=self.solver,
            learning_rate=self.learning_rate,
            batch_size=self.batch_size,
            max_iter=self.max_iter,
            n_iter_no_change=self.max_iter + 1,  # a fixed budget: the training loss keeps falling
            device=self.device,
            random_state=self.random_state,
            verbose=self.verbose,
        )

    def _build_module(self) -> AutoEncoder:
        est = self._estimator()
        est.n_features_in_ = self.shape_[1]
        module = est._build_module()
        module.register_buffer("ratings", torch.full(tuple(self.shape_), float("nan")))
        return module

    def _fit_matrix(self, R):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)  # the fixed budget's ConvergenceWarning
            ae = self._estimator().fit(R)
        self.module_ = ae.module_
        self.module_.register_buffer("ratings", torch.as_tensor(R, device=resolve_device(self.device)))
        self.history_, self.n_iter_ = ae.history_, ae.n_iter_

    @torch.no_grad()
    def _scores(self, rows):
        self.module_.eval()
        v = self.module_.ratings[torch.as_tensor(rows, device=self._device())]
        low, high = self._scale()
        return numpy_out(self.module_(v).clamp(low, high)).astype(np.float64)

    def evaluate(self, X, y=None, *, k: int = 10, relevant_from: float = 4) -> dict:
        """RMSE and MAE of the predicted ratings, and precision@k / NDCG@k of each user's test items.

        Items rated ``>= relevant_from`` count as relevant for the ranking metrics. Cold-start pairs
        are included, scored by their fallback (with a :class:`ColdStartWarning`).
        """
        users, items, ratings = self._validate(X, y, "The test ratings")
        pred = self.predict(users, items)
        metrics = {
            "rmse": float(np.sqrt(np.mean((pred - ratings) ** 2))),
            "mae": float(np.mean(np.abs(pred - ratings))),
            "n_ratings": len(ratings),
        }
        metrics.update(ranking_metrics(users, ratings >= relevant_from, pred, k))
        return metrics
