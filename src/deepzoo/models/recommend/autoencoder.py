"""AutoEncoderRecommender: ratings from a stacked autoencoder on the rows of the rating matrix (AutoRec)."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from ...engine.base import Interval, Options, local_torch_seed, numpy_out, resolve_device, seed_from
from ...engine.persistence import register
from ...engine.training import fit_loop
from ..autoencoder import AutoEncoder, StackedAutoEncoder, masked_squared_error
from .base import _MatrixRecommender, _Recommender, held_out, ranking_metrics

__all__ = ["AutoEncoderRecommender"]


@register
class AutoEncoderRecommender(_MatrixRecommender):
    """Rating predictions from a stacked autoencoder on the rows of the rating matrix (AutoRec).

    ``kind='item'`` (I-AutoRec, Sedhain et al. 2015) encodes each item's vector of ratings by all
    users and is the more accurate; ``kind='user'`` encodes each user's ratings of all items, as in
    Deep Learning A-Z. Missing ratings enter as 0 and are left out of the loss; predictions are
    clipped to the rating scale.

    Four defaults make it generalise to data it was not tuned on (each can be switched off):

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
    * ``input_dropout=0.5``: each training step hides half of the input ratings (a denoising
      autoencoder), so that the network learns to predict ratings it does not see rather than to
      copy them; on sparse matrices (most items rated a few times) this is what keeps it from
      overfitting (benchmarks/RESULTS.md).
    * ``alpha`` is the L2 penalty per observed rating: the weight decay is ``alpha`` times the share
      of the matrix that is observed, so that one value suits dense and sparse matrices; and the
      network reads ratings in units of a quarter of the scale (one star on 1-5 stars), so that one
      set of defaults suits every scale (0.5-5 or 0-10 stars, 0.5-2.5 half stars...).

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
    input_dropout : float, default=0.5
        Share of the input ratings hidden from the network at each training step (denoising): it
        must then predict ratings it does not see, as at prediction time.
    dropout : float, default=0.0
        Dropout after the hidden layers.
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
        input_dropout: float = 0.5,
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

    def _fit_ratings(self, u, i, targets):
        device = resolve_device(self.device)
        seed = seed_from(self.random_state)
        if self.early_stopping:
            held = held_out(len(targets), self.validation_fraction, seed)
        else:
            held = np.zeros(len(targets), dtype=bool)
        kept = ~held
        unit = self._unit()
        scaled = self._scaled(targets)
        goal = scaled
        if self.residual:
            # the bias model of the input ratings only: held-out ratings must not inform what they judge
            self._fit_bias(u[kept], i[kept], targets[kept])
            goal = (targets - self._bias(u, i)) / unit
        inputs = self._matrix(u[kept], i[kept], scaled[kept])
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
                # the loss is a row's squared errors summed / n_columns, in units: tol per held-out rating
                tol=self.tol / unit**2 * int(held.sum()) / n_cells,
                seed=seed,
                verbose=self.verbose,
                description="AutoEncoderRecommender",
                checkpoint=self.checkpoint,
                resume=self.resume,
                warn_on_max_iter=False,
            )
        if self.early_stopping and not result.converged and result.n_iter >= self.max_iter:
            warnings.warn(
                f"AutoEncoderRecommender ran all max_iter={self.max_iter} epochs "
                "and the held-out ratings' error was still improving; raise max_iter.",
                ConvergenceWarning,
                stacklevel=3,
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
        module.ratings = torch.as_tensor(self._matrix(u, i, scaled), device=device)  # every rating an input
        self.module_ = module
        # the loop's losses are a row's squared errors summed / n_columns, in units: per rating they
        # are MSEs, in squared rating points once multiplied by unit**2
        per_rating = {
            "loss": unit**2 * n_cells / max(int(kept.sum()), 1),
            "val_loss": unit**2 * n_cells / max(int(held.sum()), 1),
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
        out = numpy_out(self.module_(v)).astype(np.float64) * self._unit()
        if self.residual:
            return self._bias_rows(rows) + self.shrinkage_ * out
        return self._scale()[0] + out - self._unit()  # back from 1 + (rating - lowest) / unit

    def _unit(self) -> float:
        """A quarter of the scale's width (one star on 1-5 stars): the network works in these units."""
        low, high = self._scale()
        return (high - low) / 4 if high > low else 1.0

    def _scaled(self, ratings: np.ndarray) -> np.ndarray:
        """Ratings as the network reads them: the lowest is 1, each unit a quarter of the scale (1-5
        stars stay 1-5; 0.5-2.5 or 0-10 become 1-5 too), so that the defaults suit every scale and
        a missing rating (0) is never a rating."""
        return 1 + (ratings - self._scale()[0]) / self._unit()

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
