"""Recurrent networks: the layers, and forecasting a series with them.

* :class:`RecurrentStack` -- stacked LSTM/GRU/RNN layers, optionally bidirectional, that respect
  padding: padding (id 0) is always at the END of a sequence and a backward layer reads each sequence
  from its own last token (the reversal is a gather, so networks stay plain, traceable modules).
* :class:`LSTMForecaster` -- windows ``(n_samples, n_timesteps, n_features)`` -> the next value(s);
  ``forecast`` rolls forward on its own predictions.

The same layers serve :class:`~deepzoo.SequenceClassifier` (documents -> a class) and
:class:`~deepzoo.TextGenerator` (continue a prompt), each in its own module so that every file stays short.
All train through :func:`deepzoo.engine.training.fit_loop` on tensors sliced into batches;
``_RecurrentBase`` holds their shared training settings.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import RegressorMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.validation import check_array
from torch import nn

from ...engine.base import (
    Interval,
    Options,
    TorchEstimator,
    local_torch_seed,
    numpy_out,
    resolve_device,
    seed_from,
)
from ...engine.persistence import register
from ...engine.training import cosine_schedule, fit_loop, multiply_adds, predict_batches

__all__ = ["LSTMForecaster", "RecurrentStack"]

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


def _reverse_padded(x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    """Reverse each sequence within its own length; padding stays at the end. (N, T, D) -> (N, T, D)."""
    if lengths is None:
        return x.flip(1)
    t = torch.arange(x.shape[1], device=x.device)[None, :]  # (1, T)
    idx = torch.where(t < lengths[:, None], lengths[:, None] - 1 - t, t)  # (N, T)
    return x.gather(1, idx[:, :, None].expand(-1, -1, x.shape[2]))


class RecurrentStack(nn.Module):
    """Stacked recurrent layers (each optionally bidirectional) with dropout between them."""

    def __init__(self, n_inputs: int, hidden_sizes, cell: str, dropout: float, bidirectional: bool):
        super().__init__()
        self.bidirectional = bidirectional
        self.forward_layers, self.backward_layers = nn.ModuleList(), nn.ModuleList()
        width = n_inputs
        for size in hidden_sizes:
            self.forward_layers.append(CELLS[cell](width, size, batch_first=True))
            if bidirectional:
                self.backward_layers.append(CELLS[cell](width, size, batch_first=True))
            width = size * (2 if bidirectional else 1)
        self.dropout = nn.Dropout(dropout)
        self.n_outputs = width

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        for i, layer in enumerate(self.forward_layers):
            out, _ = layer(x)  # (N, T, H): padding at the end never reaches the real positions
            if self.bidirectional:
                back, _ = self.backward_layers[i](_reverse_padded(x, lengths))
                out = torch.cat([out, _reverse_padded(back, lengths)], dim=2)  # (N, T, 2H)
            x = self.dropout(out)
        return x


class ForecastNet(nn.Module):
    """Recurrent stack -> the state after the last step -> Linear; optional persistence skip."""

    def __init__(self, n_features, hidden_sizes, cell, dropout, bidirectional, n_outputs, skip_columns):
        super().__init__()
        self.rnn = RecurrentStack(n_features, hidden_sizes, cell, dropout, bidirectional)
        self.head = nn.Linear(self.rnn.n_outputs, n_outputs)
        self.register_buffer("skip_columns", torch.as_tensor(skip_columns, dtype=torch.long))
        self.use_skip = len(skip_columns) > 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.rnn(x)  # (N, T, H)
        half = h.shape[2] // 2
        # forward direction: its last step; backward direction: its output at step 0 (read everything)
        last = torch.cat([h[:, -1, :half], h[:, 0, half:]], 1) if self.rnn.bidirectional else h[:, -1]
        out = self.head(last)  # (N, n_outputs)
        if self.use_skip:
            out = out + x[:, -1, :].index_select(1, self.skip_columns)  # learn the change from "same as now"
        return out


def _as_tuple(sizes) -> tuple:
    return (int(sizes),) if isinstance(sizes, numbers.Integral) else tuple(int(s) for s in sizes)


_POSITIVE_INT = Interval(numbers.Integral, 1, None, closed="left")


class _RecurrentBase(TorchEstimator):
    """Training settings shared by the recurrent estimators and the call to fit_loop."""

    _parameter_constraints = {
        "cell": [Options(*CELLS)],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "solver": [Options("adam", "adamw", "sgd")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "batch_size": [_POSITIVE_INT],
        "max_iter": [_POSITIVE_INT],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "n_iter_no_change": [_POSITIVE_INT],
        "early_stopping": [bool],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "clip_grad_norm": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "warm_start": [bool],
        "verbose": [bool, Interval(numbers.Integral, 0, None, closed="left")],
        "device": ["device"],
        "random_state": ["random_state"],
    }
    _score_fn = None

    def _device(self) -> torch.device:
        return next(self.module_.parameters()).device

    def _train(
        self,
        X_t,
        y_t,
        *,
        continuing: bool,
        stratify=None,
        build=None,
        cosine=False,
        count_work=False,
        checkpoint=None,
        resume=False,
        **loop_options,
    ):
        """fit_loop over ``module_`` (built by ``build`` unless continuing); ``y_t`` None trains on the
        inputs themselves. ``cosine``: a half-cosine learning rate over ``max_iter`` epochs (no stop on
        the training loss); ``count_work``: size the CPU threads by the network's multiply-adds (for
        convolutions, whose few parameters do much work); ``checkpoint``, ``resume``: as in fit_loop, else the
        estimator's own parameters of those names (SeriesForecaster); ``loop_options`` pass through."""
        device = resolve_device(self.device)
        seed = seed_from(self.random_state)
        X_t = X_t.to(device)
        with local_torch_seed(seed, device):
            if not continuing:
                self.module_ = build().to(device)
                self.history_, self.n_iter_, self.optimizer_ = {}, 0, None
            result, self.optimizer_ = fit_loop(
                self.module_,
                self._loss,
                X_t,
                None if y_t is None else y_t.to(device),
                optimizer=self.optimizer_ if continuing else None,
                solver=self.solver,
                learning_rate=self.learning_rate,
                weight_decay=self.alpha,
                batch_size=min(self.batch_size, len(X_t)),
                max_iter=self.max_iter,
                early_stopping=self.early_stopping,
                validation_fraction=self.validation_fraction,
                n_iter_no_change=self.max_iter + 1 if cosine else self.n_iter_no_change,
                tol=self.tol,
                clip_grad_norm=self.clip_grad_norm,
                score_fn=self._score_fn,
                stratify=stratify,
                seed=seed + self.n_iter_,
                verbose=bool(self.verbose),
                description=type(self).__name__,
                lr_schedule=cosine_schedule(self.learning_rate, self.max_iter) if cosine else None,
                warn_on_max_iter=not cosine,
                work_per_sample=loop_options.pop(
                    "work_per_sample", multiply_adds(self.module_, X_t[:1]) if count_work else None
                ),
                checkpoint=checkpoint if checkpoint is not None else getattr(self, "checkpoint", None),
                resume=resume or getattr(self, "resume", False),
                **loop_options,
            )
        for key, values in result.history.items():
            self.history_.setdefault(key, []).extend(values)
        self.best_epoch_ = None if result.best_epoch is None else self.n_iter_ + result.best_epoch
        self.n_iter_ += result.n_iter
        self.loss_ = self.history_["loss"][-1]
        return self


_TRAINING_FITTED = frozenset({"history_", "n_iter_", "loss_", "best_epoch_"})


@register
class LSTMForecaster(RegressorMixin, _RecurrentBase):
    """Recurrent forecaster of the next value(s) of a series from windows of its past.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(50,)
        Units of each stacked recurrent layer (the course's recipe is ``(50, 50, 50, 50)``).
    cell : {'lstm', 'gru', 'rnn'}, default='lstm'
    dropout : float in [0, 1), default=0.0
        Dropout after each recurrent layer.
    bidirectional : bool, default=False
        Also read each window backwards (a window is all past, so this only re-reads it).
    persistence_skip : bool, default=False
        Add the last input value of the predicted column(s) to the output: the network learns the
        change from the persistence forecast ("tomorrow = today") instead of the level.
    target_index : int, default=0
        The input column that ``y`` continues (used by ``persistence_skip`` and ``forecast``). When
        ``y`` has one column per input feature, ``y`` continues every column and this is ignored.
    alpha, solver, learning_rate, batch_size, max_iter, tol, n_iter_no_change, early_stopping,
    validation_fraction, clip_grad_norm, warm_start, verbose, device, random_state
        As in :class:`deepzoo.MLPRegressor`.

    Attributes
    ----------
    n_features_in_ : int
        Features per time step.
    n_outputs_ : int
        Values predicted per window (1, the horizon of a direct multi-step fit, or n_features).
    module_, history_, n_iter_ : the network and its training record.

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo import LSTMForecaster
    >>> from deepzoo.data.sequences import make_windows
    >>> X, y = make_windows(np.sin(np.arange(300) / 5), 20)
    >>> model = LSTMForecaster((16,), max_iter=30, learning_rate=0.01, random_state=0).fit(X, y)
    >>> model.predict(X[:2]).shape, model.forecast(X[:1], 5).shape
    ((2,), (1, 5))
    """

    _parameter_constraints = {
        **_RecurrentBase._parameter_constraints,
        "hidden_layer_sizes": ["int_tuple"],
        "bidirectional": [bool],
        "persistence_skip": [bool],
        "target_index": [Interval(numbers.Integral, 0, None, closed="left")],
    }
    _fitted_attributes = _TRAINING_FITTED | {"n_features_in_", "n_outputs_"}

    def __init__(
        self,
        hidden_layer_sizes=(50,),
        *,
        cell="lstm",
        dropout=0.0,
        bidirectional=False,
        persistence_skip=False,
        target_index=0,
        alpha=0.0,
        solver="adam",
        learning_rate=1e-3,
        batch_size=32,
        max_iter=100,
        tol=1e-6,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        clip_grad_norm=None,
        warm_start=False,
        verbose=False,
        device="auto",
        random_state=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.cell = cell
        self.dropout = dropout
        self.bidirectional = bidirectional
        self.persistence_skip = persistence_skip
        self.target_index = target_index
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

    def _validate_X(self, X, reset: bool) -> np.ndarray:
        name = type(self).__name__
        shape = getattr(X, "shape", None)
        if shape is not None and len(shape) not in (2, 3):
            raise ValueError(
                f"{name} expects X of shape (n_samples, n_timesteps, n_features); got {tuple(shape)}. "
                "Reshape your data, e.g. cut a series into windows with deepzoo.data.sequences.make_windows."
            )
        X = check_array(X, allow_nd=True, dtype=np.float32, input_name="X")
        if X.ndim == 2:  # (n_samples, n_timesteps): one feature
            X = X[:, :, None]
        if reset:
            self.n_features_in_ = X.shape[2]
        elif X.shape[2] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[2]} features per time step, but {name} was fitted with "
                f"{self.n_features_in_}. Pass windows of the same columns."
            )
        return X

    def _skip_columns(self) -> list:
        if not self.persistence_skip:
            return []
        if self.n_outputs_ == self.n_features_in_ and self.n_features_in_ > 1:
            return list(range(self.n_features_in_))
        return [self.target_index] * self.n_outputs_

    def _build_module(self) -> ForecastNet:
        return ForecastNet(
            self.n_features_in_,
            _as_tuple(self.hidden_layer_sizes),
            self.cell,
            self.dropout,
            self.bidirectional,
            self.n_outputs_,
            self._skip_columns(),
        )

    @staticmethod
    def _loss(output, target):
        return F.mse_loss(output, target, reduction="none").mean(1)

    def fit(self, X, y) -> LSTMForecaster:
        """Fit on windows ``X`` (n_samples, n_timesteps[, n_features]) and ``y`` (n_samples[, n_outputs])."""
        self._check_params()
        continuing = self.warm_start and hasattr(self, "module_")
        X = self._validate_X(X, reset=not continuing)
        if y is None:
            raise ValueError("LSTMForecaster requires y to be passed, but the target y is None.")
        y = check_array(y, ensure_2d=False, dtype=np.float32, input_name="y")
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected. Please change the shape of y "
                "to (n_samples,), for example using ravel().",
                DataConversionWarning,
                stacklevel=2,
            )
        y = y[:, None] if y.ndim == 1 else y
        if len(y) != len(X):
            raise ValueError(f"X and y have different numbers of samples: {len(X)} and {len(y)}.")
        if self.target_index >= self.n_features_in_:
            raise ValueError(
                f"target_index={self.target_index} but X has {self.n_features_in_} feature(s) per time step."
            )
        if not continuing:
            self.n_outputs_ = y.shape[1]
        return self._train(
            torch.as_tensor(X), torch.as_tensor(y), continuing=continuing, build=self._build_module
        )

    def predict(self, X) -> np.ndarray:
        """The next value(s) after each window: (n_samples,) or (n_samples, n_outputs)."""
        self._check_fitted()
        out = numpy_out(predict_batches(self.module_, self._explain_inputs(X)))
        return out[:, 0] if self.n_outputs_ == 1 else out

    def forecast(self, X, n_steps: int) -> np.ndarray:
        """Roll forward ``n_steps`` past each window, feeding predictions back as inputs.

        Needs a model that predicts every input feature (``y`` with ``n_features`` columns) or a
        one-feature series. Returns (n_samples, n_steps) for one feature, else (n_samples, n_steps,
        n_features).
        """
        self._check_fitted()
        if isinstance(n_steps, bool) or not isinstance(n_steps, numbers.Integral) or n_steps < 1:
            raise ValueError(f"n_steps must be a positive int; got {n_steps!r}.")
        F_ = self.n_features_in_
        if not (F_ == 1 or self.n_outputs_ == F_):
            raise ValueError(
                f"forecast feeds predictions back as inputs, but this model predicts {self.n_outputs_} "
                f"value(s) for windows of {F_} features. Fit y with one column per feature, or use predict."
            )
        window = self._explain_inputs(X)  # (N, T, F)
        steps = []
        produced = 0
        while produced < n_steps:
            out = predict_batches(self.module_, window)  # (N, n_outputs)
            new = out[:, None, :] if F_ > 1 else out[:, :, None]  # (N, k, F)
            steps.append(new)
            produced += new.shape[1]
            window = torch.cat([window, new], 1)[:, -window.shape[1] :]
        path = numpy_out(torch.cat(steps, 1)[:, :n_steps])
        return path[:, :, 0] if F_ == 1 else path

    def _explain_inputs(self, X) -> torch.Tensor:
        """Windows checked as ``predict`` checks them: float32 (N, T, F) on the module's device."""
        self._check_fitted()
        return torch.as_tensor(self._validate_X(X, reset=False), device=self._device())

    def _explain_forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Predictions (N, n_outputs), differentiable in the windows."""
        return self.module_(inputs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags
