"""RBMRecommender: liked / not liked from a restricted Boltzmann machine whose visible units are the items."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import torch

from ...engine.base import Interval, Options, numpy_out, resolve_device, seed_from
from ...engine.persistence import register
from ..rbm import RBM, BernoulliRBM
from .base import ColdStartWarning, _MatrixRecommender, _Recommender, held_out, ranking_metrics

__all__ = ["RBMRecommender"]


def _logit(p, eps: float = 1e-3):
    p = np.clip(p, eps, 1 - eps)
    return np.log(p) - np.log1p(-p)


@register
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
      item share of likes): ``validation_fraction`` of the training ratings is held out from both,
      and a logistic regression on the two log-odds, fitted on those held-out ratings, gives the
      answer (``combination_``). The machine brings what the user's other ratings say; the bias
      model how generous the user is and how liked the item is.

    With ``early_stopping`` (the default) training stops when the ROC-AUC of the machine's P(liked)
    on the held-out ratings has not improved by ``tol`` for ``n_iter_no_change`` epochs, and the
    best epoch's weights are kept: small data get the epochs they need, large data no more. (The
    ranking, not the log-loss: the machine grows over-confident long before it stops ranking
    better, and the combination above recalibrates it.)

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
    validation_fraction : float, default=0.1
        Share of the training ratings held out for early stopping and to fit the combination.
    early_stopping : bool, default=True
        Stop on the held-out ROC-AUC (see above); False: train all ``max_iter`` epochs.
    n_iter_no_change : int, default=10
    tol : float, default=1e-4
    n_gibbs_steps : int, default=1
    learning_rate : float, default=0.003
    batch_size : int, default=32
    max_iter : int, default=100
        Most epochs (all of them without early stopping).
    alpha : float, default=0.0
    device, random_state, verbose
        As in :class:`~deepzoo.BernoulliRBM`.

    Attributes
    ----------
    like_threshold_ : float
        The threshold used.
    history_ : dict
        'loss': the free-energy gap per epoch; 'val_score': the held-out ROC-AUC of the machine.
    best_epoch_ : int or None
        The epoch whose weights were kept (0-based), with early stopping.
    combination_ : tuple of float
        ``(a, b, c)``: the answer's log-odds are ``a * machine's + b * bias model's + c``; (1, 0, 0)
        without ``with_bias``.

    Examples
    --------
    >>> from deepzoo import RBMRecommender
    >>> from deepzoo.data.ratings import make_ratings
    >>> ratings = make_ratings(60, 40, 1200, random_state=0)  # 1-5 stars
    >>> rec = RBMRecommender(n_components=8, max_iter=5, random_state=0).fit(ratings)
    >>> rec.like_threshold_, rec.predict([1], [30]).shape
    (3.0, (1,))
    """

    _parameter_constraints = {
        "n_components": [Interval(numbers.Integral, 1, None, closed="left")],
        "like_threshold": [Interval(numbers.Real, None, None), None],
        "rating_scale": [tuple, list, None],
        "encoding": [Options("both", "liked")],
        "with_bias": [bool],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "early_stopping": [bool],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "n_gibbs_steps": [Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "device": ["device"],
        "random_state": ["random_state"],
        "verbose": [bool],
    }
    _fitted_attributes = _Recommender._fitted_attributes | {"like_threshold_", "combination_"}

    def __init__(
        self,
        n_components: int = 100,
        *,
        like_threshold=None,
        rating_scale=None,
        encoding: str = "both",
        with_bias: bool = True,
        validation_fraction: float = 0.1,
        early_stopping: bool = True,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        n_gibbs_steps: int = 1,
        learning_rate: float = 0.003,
        batch_size: int = 32,
        max_iter: int = 100,
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
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
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
        self.shape_ = (len(self.users_), len(self.items_))
        held = np.zeros(len(targets), dtype=bool)
        if self.with_bias or self.early_stopping:  # held out of the machine and of the bias model
            held = held_out(len(targets), self.validation_fraction, seed_from(self.random_state))
            self._fit_bias(u[~held], i[~held], targets[~held])
        kept = ~held
        device = resolve_device(self.device)
        R = torch.as_tensor(self._visible(self._matrix(u[kept], i[kept], targets[kept])), device=device)
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
        )
        if self.early_stopping:
            self._fit_early_stopping(rbm, R, u[held], i[held], targets[held])
        else:
            rbm.fit(numpy_out(R))
            self.module_ = rbm.module_
            self.module_.register_buffer("ratings", R)
            self.history_, self.n_iter_, self.best_epoch_ = rbm.history_, rbm.n_iter_, None
        self.combination_ = (1.0, 0.0, 0.0)
        liked = targets[held]
        if self.with_bias and 0 < liked.mean() < 1:
            from sklearn.linear_model import LogisticRegression

            features = np.c_[
                _logit(self._held_machine(u[held], i[held])), _logit(self._bias(u[held], i[held]))
            ]
            combiner = LogisticRegression(C=100.0).fit(features, liked)
            self.combination_ = (*map(float, combiner.coef_[0]), float(combiner.intercept_[0]))
        self.module_.ratings = torch.as_tensor(self._visible(self._matrix(u, i, targets)), device=device)

    def _held_machine(self, u, i) -> np.ndarray:
        """The machine's P(liked) for held-out pairs (positions), from the users' other ratings."""
        rows, inverse = np.unique(u, return_inverse=True)
        return self._machine(rows)[inverse, i]

    def _fit_early_stopping(self, rbm: BernoulliRBM, R: torch.Tensor, u, i, liked) -> None:
        """One epoch at a time (``partial_fit``), scored by the held-out ROC-AUC; the best weights kept."""
        from sklearn.metrics import roc_auc_score

        from ...engine.training import TimeLimitError

        data = numpy_out(R)
        rbm.set_params(verbose=False)  # one progress bar per epoch would be noise
        best, best_state, self.best_epoch_, waited = -np.inf, None, None, 0
        history = {"loss": [], "val_score": []}
        both = 0 < liked.mean() < 1  # else no ROC-AUC: the last epoch is kept
        for epoch in range(self.max_iter):
            try:
                rbm.partial_fit(data)
            except TimeLimitError:
                if epoch == 0:
                    raise
                break  # the time limit: keep the best epoch so far
            if epoch == 0:
                self.module_ = rbm.module_
                self.module_.register_buffer("ratings", R)
            history["loss"].append(rbm.history_["loss"][-1])
            score = float(roc_auc_score(liked, self._held_machine(u, i))) if both else float(epoch)
            history["val_score"].append(score)
            if score > best + self.tol:
                best, self.best_epoch_, waited = score, epoch, 0
                best_state = {k: v.clone() for k, v in self.module_.state_dict().items() if k != "ratings"}
            else:
                waited += 1
                if waited >= self.n_iter_no_change:
                    break
        self.module_.load_state_dict(best_state, strict=False)
        self.history_, self.n_iter_ = history, len(history["loss"])

    @torch.no_grad()
    def _machine(self, rows) -> np.ndarray:
        """The machine's P(liked) for every item of the given users: one mean-field pass v -> h -> v."""
        v = self.module_.ratings[torch.as_tensor(rows, device=self._device())]
        h = torch.sigmoid(self.module_.hidden_logits(torch.nan_to_num(v)))
        visible = numpy_out(self.module_.visible_mean(h)).astype(np.float64)  # (rows, n_visible)
        if self.encoding == "liked":
            return visible
        n = len(self.items_)
        return visible[:, :n] / np.maximum(visible[:, :n] + visible[:, n:], 1e-12)

    def _row_scores(self, rows):
        p = self._machine(rows)
        a, b, c = self.combination_
        if (a, b, c) == (1.0, 0.0, 0.0):
            return p
        log_odds = a * _logit(p) + b * _logit(self._bias_rows(rows)) + c
        return 1 / (1 + np.exp(-log_odds))

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
