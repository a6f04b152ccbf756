"""The multilayer perceptron ("ANN"): MLPClassifier and MLPRegressor.

Same vocabulary as scikit-learn's ``sklearn.neural_network`` estimators, trained by
:func:`deepzoo.engine.training.fit_loop` on PyTorch (CPU, CUDA, or several processes under torchrun).
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_array, column_or_1d
from torch import nn

from ..engine import distributed
from ..engine.base import (
    Interval,
    Options,
    TorchEstimator,
    local_torch_seed,
    numpy_out,
    resolve_device,
    seed_from,
)
from ..engine.persistence import register
from ..engine.training import fit_loop, predict_batches

__all__ = [
    "MLP",
    "MLPClassifier",
    "MLPRegressor",
    "MemberLinear",
    "MemberScale",
    "PiecewiseLinear",
    "varying_columns",
]

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU}
# early_stopping='auto' holds out validation_fraction (10%) from this many training rows: a validation
# part of 30+ rows already picks a better epoch than the training loss does (deepzoo fit's tables of
# 300-1,000 rows, titanic's 712 among them, were measured with it); one rule for Python and deepzoo fit
EARLY_STOPPING_MIN_SAMPLES = 300
# a CPU fit whose gradient step costs fewer multiply-adds (forward pass of one batch) trains on one
# thread: PyTorch's second thread saves little on such small products and costs far more when the CPU
# is busy with other work (a 412-row, 119-column table, 8 members, batch 103: 0.24 s a product with
# 2 threads against 0.011 s with 1 on this project's loaded 2-core machine; the whole fit 219 s)
ONE_THREAD_MACS = 100_000_000


class PiecewiseLinear(nn.Module):
    """Piecewise-linear encoding of numeric inputs (Gorishniy, Rubachev & Babenko, "On Embeddings for
    Numerical Features in Tabular Deep Learning", NeurIPS 2022): feature j, cut at quantile edges
    b_0 < ... < b_T, becomes T values clamp((x - b_{t-1}) / (b_t - b_{t-1}), 0, 1), so that the next
    Linear layer can draw a different slope in every bin (thresholds such as "capital gain above 5,000"
    or a price that rises steeply with income). The raw inputs are kept beside the bins, for the slope
    beyond the training range.

    ``columns`` lists the inputs that get bins (those with 3+ distinct training values: a 0/1 or one-hot
    column has no threshold to learn); None gives every input ``n_bins`` slots, the layout of models saved
    before ``bin_columns='varying'``, where the slots of two-valued columns stay 0."""

    def __init__(self, n_features: int, n_bins: int, columns=None):
        super().__init__()
        n_binned = n_features if columns is None else len(columns)
        # edges are set from the training data by MLP estimators (or loaded from the saved state);
        # padding bins have lower=+inf, so they encode to 0 for every input
        self.register_buffer("lower", torch.full((n_binned, n_bins), float("inf")))
        self.register_buffer("width", torch.ones(n_binned, n_bins))
        self.columns = None if columns is None else [int(c) for c in columns]
        # the binned columns as an index tensor on the module's device (a Python list would be turned
        # into a tensor and copied to the device at every batch); rebuilt from bin_columns_, not saved
        index = torch.as_tensor(self.columns if columns is not None else [], dtype=torch.long)
        self.register_buffer("column_index", index, persistent=False)

    @torch.no_grad()
    def set_edges(self, X: np.ndarray) -> None:
        """Quantile edges of each binned column of the training inputs ``X`` (n_samples, n_features)."""
        if self.columns is not None:
            X = X[:, self.columns]
        n_features, n_bins = self.lower.shape
        lower = np.full((n_features, n_bins), np.inf, dtype=np.float32)
        width = np.ones((n_features, n_bins), dtype=np.float32)
        quantiles = np.linspace(0, 1, n_bins + 1)
        for j in range(n_features):
            edges = np.unique(np.quantile(X[:, j], quantiles).astype(np.float32))
            if len(edges) < 3 or len(np.unique(X[:, j])) < 3:
                continue
            k = len(edges) - 1
            lower[j, :k] = edges[:-1]
            width[j, :k] = np.maximum(np.diff(edges), 1e-6)
        self.lower.copy_(torch.from_numpy(lower))
        self.width.copy_(torch.from_numpy(width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        binned = x if self.columns is None else x.index_select(1, self.column_index)  # (N, F_binned)
        bins = ((binned[:, :, None] - self.lower) / self.width).clamp(0.0, 1.0)  # (N, F_binned, T)
        return torch.cat([x, bins.flatten(1)], dim=1)  # (N, F + F_binned * T)


def varying_columns(X: np.ndarray) -> list[int]:
    """The columns of ``X`` with at least 3 distinct values: those a piecewise-linear encoding can cut."""
    return [j for j in range(X.shape[1]) if len(np.unique(X[: min(len(X), 100_000), j])) >= 3]


class MemberLinear(nn.Module):
    """``n_members`` independent Linear layers side by side: (N, in) or (N, k, in) -> (N, k, out).

    Each member is initialised as ``nn.Linear`` would be, independently, so that the members of an
    ensemble start apart and learn different functions from the same batches."""

    def __init__(self, n_members: int, in_features: int, out_features: int):
        super().__init__()
        bound = 1.0 / np.sqrt(in_features)
        self.weight = nn.Parameter(torch.empty(n_members, in_features, out_features).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(n_members, out_features).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 2:  # one input shared by every member
            return torch.einsum("ni,kio->nko", x, self.weight) + self.bias  # (N, k, out)
        return torch.einsum("nki,kio->nko", x, self.weight) + self.bias  # (N, k, out)


class _MemberBatchNorm(nn.BatchNorm1d):
    """Batch normalisation of every member's units: (N, k, d) normalised as (N, k * d)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.flatten(1)).view_as(x)


class MemberScale(nn.Module):
    """One shared layer's output seen by ``n_members`` members: (N, d) -> (N, k, d), each member's copy
    multiplied by its own vector and shifted by its own bias (the rank-1 "adapters" of BatchEnsemble and
    Gorishniy et al.'s TabM, ICLR 2025, placed after the shared weights so that the wide first layer is
    computed once per row, not once per member). The vectors start as random signs, as TabM starts its
    adapters, so that the members differ from the first step."""

    def __init__(self, n_members: int, features: int, bound: float):
        super().__init__()
        signs = torch.randint(0, 2, (n_members, features)).float() * 2 - 1
        self.weight = nn.Parameter(signs)
        self.bias = nn.Parameter(torch.empty(n_members, features).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, None, :] * self.weight + self.bias  # (N, d) -> (N, k, d)


class MLP(nn.Module):
    """Fully connected layers: [piecewise-linear encoding] -> (Linear -> [BatchNorm] -> activation ->
    [Dropout]) per hidden layer, then a Linear head.

    With ``n_members`` > 1 the hidden layers and the head are that many networks trained side by side
    on the same batches: independent (``ensemble='independent'``, a deep ensemble computed as one
    network), or sharing the first hidden layer's weights (``ensemble='shared'``: TabM's idea, Gorishniy
    et al., ICLR 2025; each member scales the shared layer's output by its own vector, see
    :class:`MemberScale`, and has its own later layers and head). In training ``forward`` gives every
    member's output (N, k, n_outputs) so that each member has its own loss; in eval mode the members'
    answers are combined: ``combine='mean'`` averages them (regression), ``'proba'`` gives the log of the mean
    softmax probabilities, logits whose softmax is the ensemble's average (classification)."""

    def __init__(
        self,
        n_features: int,
        hidden_layer_sizes: tuple,
        n_outputs: int,
        activation: str = "relu",
        dropout: float = 0.0,
        batch_norm: bool = False,
        n_bins: int = 0,
        n_members: int = 1,
        combine: str = "mean",
        ensemble: str = "independent",
        bin_columns=None,
        linear_path: bool = False,
    ):
        super().__init__()
        self.n_members, self.combine = n_members, combine
        layers: list[nn.Module] = []
        width = n_features
        if n_bins:
            layers.append(PiecewiseLinear(n_features, n_bins, bin_columns))
            width = n_features + (n_features if bin_columns is None else len(bin_columns)) * n_bins
        for i, size in enumerate(hidden_layer_sizes):
            if n_members > 1 and ensemble == "shared" and i == 0:
                layers.append(nn.Linear(width, size, bias=False))  # (N, in) -> (N, size), once per row
                layers.append(MemberScale(n_members, size, 1.0 / np.sqrt(width)))  # -> (N, k, size)
                if batch_norm:
                    layers.append(_MemberBatchNorm(n_members * size))
            elif n_members > 1:
                layers.append(MemberLinear(n_members, width, size))
                if batch_norm:
                    layers.append(_MemberBatchNorm(n_members * size))
            else:
                layers.append(nn.Linear(width, size))
                if batch_norm:
                    layers.append(nn.BatchNorm1d(size))
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(
            MemberLinear(n_members, width, n_outputs) if n_members > 1 else nn.Linear(width, n_outputs)
        )
        self.layers = nn.Sequential(*layers)
        # a linear model of the raw inputs beside the network, its output added to every member's: on
        # a small table the network then only has to learn what a linear model misses. Zero at the
        # start (and made after the layers, which draw the same weights as without it), so that
        # training begins from the plain network
        self.linear = nn.Linear(n_features, n_outputs) if linear_path else None
        if self.linear is not None:
            nn.init.zeros_(self.linear.weight)
            nn.init.zeros_(self.linear.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layers(x)  # (N, n_features) -> (N, n_outputs), or (N, k, n_outputs) for an ensemble
        if self.linear is not None:
            linear = self.linear(x)  # (N, n_outputs)
            out = out + (linear if out.ndim == 2 else linear[:, None, :])
        if out.ndim == 2 or self.training:
            return out
        if self.combine == "proba":
            return torch.log(torch.softmax(out, dim=-1).mean(dim=1).clamp_min(1e-30))  # (N, n_outputs)
        return out.mean(dim=1)  # (N, n_outputs)


def _as_tuple(sizes) -> tuple:
    return (int(sizes),) if isinstance(sizes, numbers.Integral) else tuple(int(s) for s in sizes)


class _BaseMLP(TorchEstimator):
    """What the MLP classifier and regressor share: parameters, data checks, the call to fit_loop."""

    _parameter_constraints = {
        "hidden_layer_sizes": ["int_tuple"],
        "activation": [Options(*ACTIVATIONS)],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "batch_norm": [bool],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "solver": [Options("adam", "adamw", "sgd")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "early_stopping": [bool, Options("auto")],
        "n_bins": [Interval(numbers.Integral, 0, None, closed="left")],
        "n_members": [Interval(numbers.Integral, 1, None, closed="left")],
        "ensemble": [Options("independent", "shared")],
        "bin_columns": [Options("all", "varying")],
        "linear_path": [bool],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "clip_grad_norm": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "warm_start": [bool],
        "verbose": [bool, Interval(numbers.Integral, 0, None, closed="left")],
        "device": ["device"],
        "random_state": ["random_state"],
        "checkpoint": [str, "pathlike", None],
        "resume": [bool],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        activation="relu",
        dropout=0.0,
        batch_norm=False,
        n_bins=0,
        bin_columns="all",
        n_members=1,
        ensemble="independent",
        linear_path=False,
        alpha=1e-4,
        solver="adam",
        learning_rate=1e-3,
        batch_size=200,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping="auto",
        validation_fraction=0.1,
        clip_grad_norm=None,
        warm_start=False,
        verbose=False,
        device="auto",
        random_state=None,
        checkpoint=None,
        resume=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.n_bins = n_bins
        self.bin_columns = bin_columns
        self.n_members = n_members
        self.ensemble = ensemble
        self.linear_path = linear_path
        self.alpha = alpha
        self.solver = solver
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.clip_grad_norm = clip_grad_norm
        self.warm_start = warm_start
        self.verbose = verbose
        self.device = device
        self.random_state = random_state
        self.checkpoint = checkpoint
        self.resume = resume

    # -- subclass hooks ---------------------------------------------------------------------------
    def _validate_y(self, y) -> np.ndarray:
        raise NotImplementedError

    def _encode_targets(self, y, first_call: bool, classes=None) -> torch.Tensor:
        raise NotImplementedError

    def _loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    _score_fn = None
    _combine = "mean"  # how an ensemble's members are combined (see MLP)

    # -- shared machinery -------------------------------------------------------------------------
    def _build_module(self) -> MLP:
        return MLP(
            self.n_features_in_,
            _as_tuple(self.hidden_layer_sizes),
            self.n_outputs_,
            self.activation,
            self.dropout,
            self.batch_norm,
            self.n_bins,
            self.n_members,
            self._combine,
            self.ensemble,
            # models saved before bin_columns have no bin_columns_: every input had bins then
            getattr(self, "bin_columns_", None),
            self.linear_path,
        )

    def _early_stopping(self, n_samples: int) -> bool:
        """``early_stopping='auto'``: on from EARLY_STOPPING_MIN_SAMPLES training rows (a validation part
        of 30 rows), as HistGradientBoosting's 'auto' turns it on for large enough data."""
        if self.early_stopping == "auto":
            return n_samples >= EARLY_STOPPING_MIN_SAMPLES
        return bool(self.early_stopping)

    def _validate_X(self, X, reset: bool):
        return self._validate_numeric(X, reset=reset)

    def _fit(self, X, y, sample_weight=None, *, incremental=False, classes=None):
        self._check_params()
        continuing = (self.warm_start or incremental) and hasattr(self, "module_")
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        X = self._validate_X(X, reset=not continuing)
        y = self._validate_y(y)
        if len(y) != len(X):
            raise ValueError(
                f"X and y have different numbers of samples: {len(X)} and {len(y)}. Pass one target per row."
            )
        y_t = self._encode_targets(y, first_call=not continuing, classes=classes)
        device = distributed.device_for_rank(resolve_device(self.device))
        distributed.ensure_initialized(device)
        weights = None
        if sample_weight is not None or getattr(self, "class_weight", None) is not None:
            weights = _check_sample_weight(sample_weight, X, dtype=np.float32, ensure_non_negative=True)
            if getattr(self, "class_weight", None) is not None:
                weights = weights * compute_sample_weight(self.class_weight, y).astype(np.float32)
            if not weights.sum() > 0:
                raise ValueError(
                    "sample_weight (times class_weight) sums to zero: no sample would count. "
                    "Give some samples a positive weight."
                )
            weights = torch.as_tensor(weights, device=device)
        seed = seed_from(self.random_state)
        X_t = torch.as_tensor(X, device=device)
        y_t = y_t.to(device)
        with local_torch_seed(seed, device):
            if not continuing:
                self.bin_columns_ = (
                    varying_columns(X) if self.n_bins and self.bin_columns == "varying" else None
                )
                self.module_ = self._build_module().to(device)
                if self.n_bins:
                    self.module_.layers[0].set_edges(X)
                self.history_ = {}
                self.n_iter_ = 0
                self.optimizer_ = None
            else:
                self.module_.to(device)
            if incremental:
                # partial_fit: one pass over the data, no early stopping, the same optimizer
                settings = dict(max_iter=1, early_stopping=False, warn_on_max_iter=False, checkpoint=None)
            else:
                settings = dict(
                    max_iter=self.max_iter,
                    early_stopping=self._early_stopping(len(X)),
                    checkpoint=self.checkpoint,
                    resume=self.resume,
                )
            result, self.optimizer_ = fit_loop(
                self.module_,
                self._loss,
                X_t,
                y_t,
                sample_weight=weights,
                optimizer=self.optimizer_ if continuing else None,
                solver=self.solver,
                learning_rate=self.learning_rate,
                weight_decay=self.alpha,
                batch_size=min(self.batch_size, len(X)),
                validation_fraction=self.validation_fraction,
                n_iter_no_change=self.n_iter_no_change,
                tol=self.tol,
                clip_grad_norm=self.clip_grad_norm,
                score_fn=self._score_fn,
                stratify=self._stratify(y),
                seed=seed + self.n_iter_,
                verbose=bool(self.verbose),
                description=type(self).__name__,
                # one thread for a small network (ONE_THREAD_MACS: its dense weights x the batch)
                one_thread_below=ONE_THREAD_MACS,
                work_per_sample=sum(p.numel() for p in self.module_.parameters() if p.ndim > 1),
                **settings,
            )
        for key, values in result.history.items():
            self.history_.setdefault(key, []).extend(values)
        # best_epoch_ indexes history_, which a warm start extends
        self.best_epoch_ = None if result.best_epoch is None else self.n_iter_ + result.best_epoch
        self.n_iter_ += result.n_iter
        self.loss_ = self.history_["loss"][-1]
        return self

    def _stratify(self, y):
        return None

    def _forward(self, X) -> torch.Tensor:
        self._check_fitted()
        X = self._validate_X(X, reset=False)
        device = next(self.module_.parameters()).device
        return predict_batches(self.module_, torch.as_tensor(X, device=device))

    # -- the explanation / export contract (deepzoo.audit.explain, deepzoo.serving.export) ----------------
    def _explain_inputs(self, X) -> torch.Tensor:
        """X checked as ``predict`` checks it: float32 (N, n_features) on the module's device."""
        self._check_fitted()
        X = self._validate_X(X, reset=False)
        return torch.as_tensor(X, device=next(self.module_.parameters()).device)

    def _explain_forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Raw outputs (N, n_outputs): logits for classifiers (binary: 2 columns), predictions for
        regressors; differentiable. The caller puts the module in eval mode."""
        return self.module_(inputs)  # (N, n_features) -> (N, n_outputs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


_MLP_FITTED = frozenset(
    {
        "n_features_in_",
        "feature_names_in_",
        "n_outputs_",
        "history_",
        "n_iter_",
        "loss_",
        "best_epoch_",
        "bin_columns_",
    }
)


@register
class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multilayer perceptron classifier (binary and multiclass) on PyTorch.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer.
    activation : {'relu', 'tanh', 'sigmoid', 'gelu'}, default='relu'
    dropout : float in [0, 1), default=0.0
        Dropout after each hidden activation.
    batch_norm : bool, default=False
        Batch normalisation after each hidden Linear layer.
    n_bins : int, default=0
        Piecewise-linear encoding of each input with ``n_bins`` quantile bins of the training data
        (:class:`PiecewiseLinear`), before the first layer; 0 feeds the inputs as they are. 16 helps
        on tables with thresholds and skewed columns (what ``deepzoo fit`` uses).
    bin_columns : {'all', 'varying'}, default='all'
        Which inputs get the ``n_bins`` bins: every one ('all': the first layer is ``n_bins + 1`` times
        as wide as the inputs), or only those with 3+ distinct training values ('varying': 0/1 and
        one-hot columns have no threshold to learn, and the first layer stays narrow on such tables).
    n_members : int, default=1
        Networks trained side by side on the same batches, each with its own loss, whose predicted
        probabilities are averaged (a deep ensemble in one network: smoother, steadier predictions on
        small tables).
    ensemble : {'independent', 'shared'}, default='independent'
        With ``n_members`` > 1: independent networks (k times the work of every layer), or members that
        share the first hidden layer's weights, each scaling its output by its own learned vector
        (:class:`MemberScale`, after TabM, Gorishniy et al. 2025): the widest layer is computed once.
    linear_path : bool, default=False
        Add a linear model of the inputs to the network's output (a skip connection from the inputs to
        the head, starting at zero): on small tables the network then adds to a linear fit instead of
        having to rebuild it.
    alpha : float, default=1e-4
        L2 penalty on the weights (weight decay), not on biases.
    solver : {'adam', 'adamw', 'sgd'}, default='adam'
    learning_rate : float, default=1e-3
    batch_size : int, default=200
    max_iter : int, default=200
        Number of epochs at most.
    tol, n_iter_no_change : float, int
        Stop when the monitored loss (validation loss with ``early_stopping``, else training loss) has
        not improved by ``tol`` for ``n_iter_no_change`` epochs.
    early_stopping : bool or 'auto', default='auto'
        Hold out ``validation_fraction`` of the training data (stratified) and restore the weights of
        the epoch with the best validation loss. 'auto' (unlike scikit-learn's False) turns it on from
        300 training rows (a validation part of 30), the rule deepzoo fit's tables were measured with.
    validation_fraction : float, default=0.1
    clip_grad_norm : float or None, default=None
    class_weight : dict, 'balanced' or None, default=None
        Multiplies each sample's loss by the weight of its class.
    warm_start : bool, default=False
        Continue training the fitted network (and its optimizer) at the next ``fit``.
    verbose : bool, default=False
        Show a Rich progress bar with the loss per epoch.
    device : str, default='auto'
        'auto' picks CUDA when present, else CPU.
    random_state : int, RandomState or None, default=None
        Seeds weight initialisation, dropout and batch order; the global RNG is left as it was.
    checkpoint : str or path, default=None
        File written atomically after every epoch; with ``resume=True`` a killed fit continues from it.
    resume : bool, default=False

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    module_ : torch.nn.Module
    history_ : dict of lists
        'loss' (and 'score' = accuracy, 'val_loss', 'val_score' with early stopping) per epoch.
    n_iter_ : int
        Epochs run.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from deepzoo import MLPClassifier
    >>> X, y = make_moons(200, noise=0.1, random_state=0)
    >>> clf = MLPClassifier((32, 32), max_iter=200, learning_rate=0.01, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.95
    True
    """

    _parameter_constraints = {
        **_BaseMLP._parameter_constraints,
        "class_weight": ["dict", Options("balanced"), None],
    }
    _fitted_attributes = _MLP_FITTED | {"classes_"}

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        activation="relu",
        dropout=0.0,
        batch_norm=False,
        n_bins=0,
        bin_columns="all",
        n_members=1,
        ensemble="independent",
        linear_path=False,
        alpha=1e-4,
        solver="adam",
        learning_rate=1e-3,
        batch_size=200,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping="auto",
        validation_fraction=0.1,
        clip_grad_norm=None,
        class_weight=None,
        warm_start=False,
        verbose=False,
        device="auto",
        random_state=None,
        checkpoint=None,
        resume=False,
    ):
        super().__init__(
            hidden_layer_sizes,
            activation=activation,
            dropout=dropout,
            batch_norm=batch_norm,
            n_bins=n_bins,
            bin_columns=bin_columns,
            n_members=n_members,
            ensemble=ensemble,
            linear_path=linear_path,
            alpha=alpha,
            solver=solver,
            learning_rate=learning_rate,
            batch_size=batch_size,
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            clip_grad_norm=clip_grad_norm,
            warm_start=warm_start,
            verbose=verbose,
            device=device,
            random_state=random_state,
            checkpoint=checkpoint,
            resume=resume,
        )
        self.class_weight = class_weight

    _combine = "proba"

    @staticmethod
    def _score_fn(output, target):
        if output.ndim == 3:  # an ensemble in training: the members' mean probabilities
            output = torch.softmax(output, dim=-1).mean(dim=1)
        return (output.argmax(1) == target).float().mean()

    def _loss(self, output, target):
        if output.ndim == 3:  # (N, k, C): each member's own loss, averaged over the members
            n, k, c = output.shape
            return (
                F.cross_entropy(output.reshape(n * k, c), target.repeat_interleave(k), reduction="none")
                .view(n, k)
                .mean(1)
            )
        return F.cross_entropy(output, target, reduction="none")

    def _stratify(self, y):
        return y

    def _validate_y(self, y):
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] > 1:
            raise ValueError(
                f"MLPClassifier supports binary and multiclass targets of shape (n_samples,); got y of "
                f"shape {y.shape}. For several labels per sample fit one classifier per label."
            )
        return column_or_1d(y, warn=True)  # a column vector becomes 1-d, with scikit-learn's warning

    def _encode_targets(self, y, first_call, classes=None):
        check_classification_targets(y)
        if type_of_target(y) not in ("binary", "multiclass"):
            raise ValueError(
                f"MLPClassifier supports binary and multiclass targets; got {type_of_target(y)!r}. "
                "For several labels per sample fit one classifier per label."
            )
        if first_call:
            self.classes_ = np.unique(y) if classes is None else np.unique(np.asarray(classes))
            self.n_outputs_ = max(len(self.classes_), 2)
        elif classes is not None and not np.array_equal(np.unique(np.asarray(classes)), self.classes_):
            raise ValueError(
                f"classes={list(classes)} differs from the classes of the first partial_fit "
                f"({self.classes_.tolist()}); pass the same classes every time."
            )
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if len(unseen):
            raise ValueError(
                f"y contains labels {unseen.tolist()[:5]} not seen in the first fit (classes_ = "
                f"{self.classes_.tolist()}). Refit without warm_start, or pass every class to partial_fit."
            )
        return torch.as_tensor(np.searchsorted(self.classes_, y), dtype=torch.long)

    def fit(self, X, y, sample_weight=None):
        """Train on ``X`` (n_samples, n_features) and labels ``y``; returns ``self``."""
        return self._fit(X, y, sample_weight)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over ``(X, y)``; ``classes`` (every label) is required on the first call."""
        if not hasattr(self, "module_") and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit (every possible label)."
            )
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes); rows sum to 1."""
        self._check_fitted()
        proba = numpy_out(torch.softmax(self._forward(X), dim=1)).astype(np.float64)
        proba = proba[:, : len(self.classes_)]
        return proba / proba.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X) -> np.ndarray:
        return np.log(np.clip(self.predict_proba(X), 1e-300, None))

    def decision_function(self, X) -> np.ndarray:
        """Logits; for binary problems the log-odds of the positive class, shape (n_samples,)."""
        self._check_fitted()
        logits = numpy_out(self._forward(X)).astype(np.float64)
        if len(self.classes_) == 2:
            return logits[:, 1] - logits[:, 0]
        return logits[:, : len(self.classes_)]

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row."""
        self._check_fitted()
        return self.classes_[numpy_out(self._forward(X))[:, : len(self.classes_)].argmax(axis=1)]


@register
class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multilayer perceptron regressor (squared error) on PyTorch; one or several targets.

    Parameters are those of :class:`MLPClassifier` but ``class_weight``. ``y`` of shape (n_samples,)
    gives predictions of shape (n_samples,); (n_samples, n_targets) gives that shape back. The network
    learns standardised targets (``target_mean_``, ``target_scale_``, from the first fit), so the loss in
    ``history_`` is in units of the targets' variance; predictions are in the units of y.

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo import MLPRegressor
    >>> X = np.linspace(-1, 1, 200)[:, None]
    >>> reg = MLPRegressor((32,), max_iter=300, learning_rate=0.01, random_state=0).fit(X, X[:, 0] ** 2)
    >>> reg.score(X, X[:, 0] ** 2) > 0.9
    True
    """

    _fitted_attributes = _MLP_FITTED | {"target_ndim_", "target_mean_", "target_scale_"}

    def _loss(self, output, target):
        if output.ndim == 3:  # (N, k, T): each member's own loss, averaged over the members
            return F.mse_loss(output, target[:, None, :].expand_as(output), reduction="none").mean(dim=(1, 2))
        return F.mse_loss(output, target, reduction="none").mean(dim=1)

    def _forward(self, X) -> torch.Tensor:
        return self._unscale(super()._forward(X))

    def _explain_forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self._unscale(self.module_(inputs))  # (N, n_features) -> (N, n_outputs), in y's units

    def _unscale(self, out: torch.Tensor) -> torch.Tensor:
        """The network predicts standardised targets; back to the units of y."""
        mean = torch.as_tensor(self.target_mean_, dtype=out.dtype, device=out.device)
        scale = torch.as_tensor(self.target_scale_, dtype=out.dtype, device=out.device)
        return out * scale + mean

    def _validate_y(self, y):
        try:
            # numeric, finite, 1-d or 2-d; NaN/inf get scikit-learn's "Input y contains NaN" message
            return check_array(y, ensure_2d=False, dtype="numeric", input_name="y", ensure_min_samples=0)
        except ValueError as exc:
            if "convert" in str(exc) or "string" in str(exc):
                raise ValueError(
                    f"MLPRegressor expects numeric targets y; got non-numeric values ({exc})."
                ) from exc
            raise

    def _encode_targets(self, y, first_call, classes=None):
        y2 = y.reshape(len(y), -1).astype(np.float64)
        if first_call:
            self.n_outputs_ = y2.shape[1]
            self.target_ndim_ = y.ndim
            # the network learns standardised targets: the default learning rate and weight scale then
            # suit house prices in dollars as well as rates in [0, 1] (scikit-learn's MLPRegressor
            # learns y as given; TransformedTargetRegressor is its usual fix)
            scale = y2.std(axis=0)
            self.target_mean_ = y2.mean(axis=0)
            self.target_scale_ = np.where(scale > 0, scale, 1.0)
        elif y2.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {y2.shape[1]} targets but the model was fitted with {self.n_outputs_}.")
        return torch.as_tensor(((y2 - self.target_mean_) / self.target_scale_).astype(np.float32))

    def fit(self, X, y, sample_weight=None):
        """Train on ``X`` (n_samples, n_features) and targets ``y``; returns ``self``."""
        return self._fit(X, y, sample_weight)

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over ``(X, y)``, continuing from the current weights."""
        return self._fit(X, y, sample_weight, incremental=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # y of shape (n_samples, n_targets) is supported
        return tags

    def predict(self, X) -> np.ndarray:
        """Predicted targets, shape (n_samples,) or (n_samples, n_targets) like the ``y`` of ``fit``."""
        out = numpy_out(self._forward(X)).astype(np.float64)
        return out[:, 0] if self.n_outputs_ == 1 and self.target_ndim_ == 1 else out
