"""Stacked autoencoders: any stack of encoder layers, mirrored by the decoder, trained through fit_loop.

Denoising by Gaussian noise or masking noise on the input, dropout after hidden layers, and a
masked loss for sparse inputs: NaN entries (for example unrated movies) are fed to the network as 0
and left out of the loss, so the network learns to predict only what was observed (AutoRec).
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import TransformerMixin
from torch import nn

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
from .mlp import _as_tuple

__all__ = ["AutoEncoder", "StackedAutoEncoder"]

ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "identity": nn.Identity,
}


class AutoEncoder(nn.Module):
    """Encoder: Linear -> activation -> [Dropout] per size; decoder: the mirror image, then the output."""

    def __init__(
        self,
        n_features: int,
        hidden_layer_sizes: tuple,
        activation: str = "relu",
        output_activation: str = "identity",
        dropout: float = 0.0,
        noise: float = 0.0,
        input_dropout: float = 0.0,
    ):
        super().__init__()
        self.noise = noise
        self.input_dropout = input_dropout

        def stack(sizes):
            layers: list[nn.Module] = []
            for width, size in zip(sizes[:-1], sizes[1:]):
                layers += [nn.Linear(width, size), ACTIVATIONS[activation]()]
                if dropout > 0:
                    layers.append(nn.Dropout(dropout))
            return layers

        sizes = (n_features, *hidden_layer_sizes)
        self.encoder = nn.Sequential(*stack(sizes))
        mirrored = sizes[::-1]  # (code, ..., first hidden, n_features)
        self.decoder = nn.Sequential(
            *stack(mirrored[:-1]), nn.Linear(mirrored[-2], n_features), ACTIVATIONS[output_activation]()
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.nan_to_num(x)  # missing entries enter as 0  # (N, n_features)
        if self.training and self.noise > 0:
            x = x + self.noise * torch.randn_like(x)
        if self.training and self.input_dropout > 0:
            x = F.dropout(x, self.input_dropout)  # masking noise: the denoising autoencoder
        return self.encoder(x)  # (N, code size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encode(x))  # (N, n_features)


def masked_squared_error(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample squared error over the observed (non-NaN) entries, divided by n_features: shape (N,).

    On complete data this is the mean squared error of each row; on sparse data every observed
    entry weighs the same, however many a row has.
    """
    observed = ~torch.isnan(target)
    diff = torch.where(observed, output - torch.nan_to_num(target), torch.zeros_like(output))
    return (diff**2).sum(dim=1) / target.shape[1]


@register
class StackedAutoEncoder(TransformerMixin, TorchEstimator):
    """A stacked (optionally denoising) autoencoder with scikit-learn's transformer API.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(64, 32)
        Encoder widths; the last one is the code size. The decoder mirrors them: (64, 32) builds
        n_features -> 64 -> 32 -> 64 -> n_features.
    activation : {'relu', 'tanh', 'sigmoid', 'gelu', 'identity'}, default='relu'
        Activation of every hidden layer, the code included.
    output_activation : {'identity', 'sigmoid', ...}, default='identity'
        'sigmoid' for inputs in [0, 1].
    dropout : float in [0, 1), default=0.0
        Dropout after each hidden activation.
    noise : float, default=0.0
        Standard deviation of Gaussian noise added to the input while training (denoising).
    input_dropout : float in [0, 1), default=0.0
        Share of input entries zeroed while training (masking noise, denoising).
    alpha : float, default=1e-4
        L2 penalty on the weights.
    solver : {'adam', 'adamw', 'sgd'}, default='adam'
    learning_rate : float, default=1e-3
    batch_size : int, default=200
    max_iter : int, default=200
    tol, n_iter_no_change : float, int
        Stop when the monitored loss has not improved by ``tol`` for ``n_iter_no_change`` epochs.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows and keep the weights of the best epoch.
    validation_fraction : float, default=0.1
    warm_start : bool, default=False
    verbose : bool, default=False
    device : str, default='auto'
    random_state : int, RandomState or None, default=None

    Attributes
    ----------
    module_ : AutoEncoder
    n_features_in_ : int
    history_ : dict
        'loss' (and 'val_loss') per epoch: the masked squared error per entry.
    n_iter_ : int

    Notes
    -----
    NaN in ``X`` marks a missing entry: it is fed as 0 and left out of the loss (sparse inputs such
    as ratings). ``transform`` and ``inverse_transform(transform(X))`` then fill in every entry.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from deepzoo import StackedAutoEncoder
    >>> X = load_digits().data / 16
    >>> ae = StackedAutoEncoder((32, 2), output_activation="sigmoid", max_iter=5, random_state=0).fit(X)
    >>> ae.transform(X).shape
    (1797, 2)
    """

    _parameter_constraints = {
        "hidden_layer_sizes": ["int_tuple"],
        "activation": [Options(*ACTIVATIONS)],
        "output_activation": [Options(*ACTIVATIONS)],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "noise": [Interval(numbers.Real, 0, None, closed="left")],
        "input_dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "solver": [Options("adam", "adamw", "sgd")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "early_stopping": [bool],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "warm_start": [bool],
        "verbose": [bool, Interval(numbers.Integral, 0, None, closed="left")],
        "device": ["device"],
        "random_state": ["random_state"],
    }
    _fitted_attributes = frozenset(
        {"n_features_in_", "feature_names_in_", "history_", "n_iter_", "best_epoch_", "loss_"}
    )

    def __init__(
        self,
        hidden_layer_sizes=(64, 32),
        *,
        activation: str = "relu",
        output_activation: str = "identity",
        dropout: float = 0.0,
        noise: float = 0.0,
        input_dropout: float = 0.0,
        alpha: float = 1e-4,
        solver: str = "adam",
        learning_rate: float = 1e-3,
        batch_size: int = 200,
        max_iter: int = 200,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        warm_start: bool = False,
        verbose: bool = False,
        device="auto",
        random_state=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.output_activation = output_activation
        self.dropout = dropout
        self.noise = noise
        self.input_dropout = input_dropout
        self.alpha = alpha
        self.solver = solver
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.verbose = verbose
        self.device = device
        self.random_state = random_state

    def _sizes(self) -> tuple:
        return _as_tuple(self.hidden_layer_sizes)

    def _build_module(self) -> AutoEncoder:
        return AutoEncoder(
            self.n_features_in_,
            self._sizes(),
            self.activation,
            self.output_activation,
            self.dropout,
            self.noise,
            self.input_dropout,
        )

    def _validate_X(self, X, reset: bool) -> np.ndarray:
        return self._validate_numeric(X, reset=reset, allow_nan=True)

    def _fit(self, X, incremental: bool):
        self._check_params()
        if not self._sizes():
            raise ValueError("hidden_layer_sizes must hold at least one layer size, e.g. (64, 32).")
        continuing = (self.warm_start or incremental) and hasattr(self, "module_")
        X = self._validate_X(X, reset=not continuing)
        device = resolve_device(self.device)
        seed = seed_from(self.random_state)
        X_t = torch.as_tensor(X, device=device)
        with local_torch_seed(seed, device):
            if not continuing:
                self.module_ = self._build_module().to(device)
                self.history_ = {}
                self.n_iter_ = 0
                self.optimizer_ = None
            if incremental:
                settings = dict(max_iter=1, early_stopping=False, warn_on_max_iter=False)
            else:
                settings = dict(max_iter=self.max_iter, early_stopping=self.early_stopping)
            result, self.optimizer_ = fit_loop(
                self.module_,
                masked_squared_error,
                X_t,
                None,
                optimizer=self.optimizer_ if continuing else None,
                solver=self.solver,
                learning_rate=self.learning_rate,
                weight_decay=self.alpha,
                batch_size=min(self.batch_size, len(X)),
                validation_fraction=self.validation_fraction,
                n_iter_no_change=self.n_iter_no_change,
                tol=self.tol,
                seed=seed + self.n_iter_,
                verbose=bool(self.verbose),
                description="StackedAutoEncoder",
                **settings,
            )
        for key, values in result.history.items():
            self.history_.setdefault(key, []).extend(values)
        self.best_epoch_ = None if result.best_epoch is None else self.n_iter_ + result.best_epoch
        self.n_iter_ += result.n_iter
        self.loss_ = self.history_["loss"][-1]
        return self

    def fit(self, X, y=None):
        """Train to reconstruct ``X`` (n_samples, n_features); NaN entries are missing. Returns ``self``."""
        return self._fit(X, incremental=False)

    def partial_fit(self, X, y=None):
        """One epoch over ``X``, continuing from the current weights."""
        return self._fit(X, incremental=True)

    def _run(self, part: nn.Module, X: np.ndarray) -> np.ndarray:
        device = next(self.module_.parameters()).device
        return numpy_out(predict_batches(part, torch.as_tensor(X, device=device)))

    def transform(self, X) -> np.ndarray:
        """The codes, shape (n_samples, hidden_layer_sizes[-1]); NaN entries enter as 0."""
        self._check_fitted()
        X = self._validate_X(X, reset=False)
        return self._run(_Encoder(self.module_), X)

    def inverse_transform(self, X) -> np.ndarray:
        """Decode codes back to the input space, shape (n_samples, n_features)."""
        self._check_fitted()
        X = np.asarray(X, dtype=np.float32)
        code = self._sizes()[-1]
        if X.ndim != 2 or X.shape[1] != code:
            raise ValueError(
                f"inverse_transform expects codes of shape (n_samples, {code}) such as transform(X) "
                f"returns; got shape {X.shape}."
            )
        return self._run(self.module_.decoder, X)

    def reconstruct(self, X) -> np.ndarray:
        """``inverse_transform(transform(X))`` in one pass: every entry filled in, missing ones too."""
        self._check_fitted()
        return self._run(self.module_, self._validate_X(X, reset=False))

    def score_samples(self, X) -> np.ndarray:
        """Minus the squared reconstruction error of each row over its observed entries, per entry."""
        self._check_fitted()
        X = self._validate_X(X, reset=False)
        out = torch.as_tensor(self.reconstruct(X))
        return -numpy_out(masked_squared_error(out, torch.as_tensor(X))).astype(np.float64)

    def score(self, X, y=None) -> float:
        """Mean of ``score_samples``: minus the reconstruction error (higher is better)."""
        return float(np.mean(self.score_samples(X)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float32"]  # computed in float32 whatever comes in
        return tags


class _Encoder(nn.Module):
    """The encoding half of an AutoEncoder as a module (for predict_batches)."""

    def __init__(self, autoencoder: AutoEncoder):
        super().__init__()
        self.autoencoder = autoencoder

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.autoencoder.encode(x)
