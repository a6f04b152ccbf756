"""Video: next frames with a ConvLSTM, and clip classification with a per-frame CNN and an LSTM/GRU.

* :class:`ConvLSTMCell` -- Shi et al. (2015)'s LSTM whose gates are convolutions, so that its state is
  a stack of feature maps (N, hidden, h, w) instead of a vector;
* :class:`VideoForecaster` -- an encoder-forecaster with shared weights: reads the observed frames of a
  clip and draws the next ones, feeding each drawn frame back as the next input;
* :class:`VideoClassifier` -- a per-frame CNN (the architectures of :class:`~deepzoo.ConvNetClassifier`)
  turns each frame into a vector, an LSTM/GRU (:class:`~deepzoo.models.sequence.recurrent.RecurrentStack`)
  reads the vectors in order, its last state gives the class.

Clips are arrays ``(n_clips, n_frames, channels, height, width)`` of uint8 pixels (0-255) or floats in
[0, 1]; :mod:`deepzoo.data.video` generates, reads and writes them. Both estimators train through
:func:`deepzoo.engine.training.fit_loop` on tensors sliced into batches; their networks live in
:mod:`deepzoo.models.video.networks`.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

from ...data.video import stack_clips
from ...engine.base import Interval, Options, numpy_out
from ...engine.persistence import register
from ...engine.training import predict_batches
from ..sequence.recurrent import CELLS, _as_tuple, _RecurrentBase
from ..vision.architectures import ARCHITECTURES
from .networks import ClipClassifierNet, ConvLSTM, ConvLSTMCell, ForecastNet, _unit_pixels

__all__ = ["ConvLSTM", "ConvLSTMCell", "VideoClassifier", "VideoForecaster", "check_clips"]


# -- input checks ------------------------------------------------------------------------------------
_RANK_HINTS = {
    4: "For grayscale clips (n_clips, n_frames, height, width) use X[:, :, None]; for one clip "
    "(n_frames, channels, height, width) use X[None].",
    3: "For one grayscale clip (n_frames, height, width) use X[None, :, None].",
    2: "Rows of pixels are not clips: reshape them, e.g. X.reshape(n_clips, n_frames, 1, height, width).",
}


def check_clips(X, estimator: str, what: str = "X") -> np.ndarray:
    """Clips as an array (n_clips, n_frames, channels, height, width): uint8, or float32 in [0, 1].

    A list of clips is stacked (a clip of another length or frame size is named); other ranks, a
    channels-last layout, NaN, values outside [0, 1] and non-numeric values get a message with the fix.
    """
    if isinstance(X, (list, tuple)):
        X = stack_clips(X)
    X = np.asarray(X)
    if X.ndim != 5:
        raise ValueError(
            f"{estimator} expects {what} of shape (n_clips, n_frames, channels, height, width); got shape "
            f"{X.shape}. " + _RANK_HINTS.get(X.ndim, "Reshape the clips to that layout.")
        )
    if X.shape[2] not in (1, 3, 4) and X.shape[-1] in (1, 3, 4):
        raise ValueError(
            f"{what} of shape {X.shape} looks channels-last (n_clips, n_frames, height, width, channels); "
            f"{estimator} expects channels before height and width. Use {what}.transpose(0, 1, 4, 2, 3)."
        )
    if 0 in X.shape:
        raise ValueError(
            f"{estimator} got an empty {what} of shape {X.shape}; pass at least one frame of one clip."
        )
    if X.dtype == np.uint8:
        return X
    if X.dtype.kind not in "fiub":
        raise ValueError(f"{estimator} expects numeric pixels in {what}; got values of dtype {X.dtype}.")
    X = X.astype(np.float32, copy=False)
    if not np.isfinite(X).all():
        raise ValueError(f"{what} contains NaN or infinity; {estimator} needs finite pixels.")
    low, high = float(X.min()), float(X.max())
    if low < 0 or high > 1:
        raise ValueError(
            f"{estimator} reads pixels as uint8 (0-255) or floats in [0, 1]; {what} holds values from "
            f"{low:g} "
            f"to {high:g}. Scale them, e.g. {what} / 255 for 0-255 values, or pass them as uint8."
        )
    return X


def _check_same_frames(X: np.ndarray, expected: tuple, estimator: str, what: str = "X") -> None:
    if tuple(X.shape[2:]) != tuple(expected):
        raise ValueError(
            f"{what} has frames of {'x'.join(map(str, X.shape[2:]))} (channels x height x width) but "
            f"{estimator} was fitted on {'x'.join(map(str, expected))}. Resize the frames to that size."
        )


_TRAINING_FITTED = frozenset({"history_", "n_iter_", "loss_", "best_epoch_"})


class _VideoBase(_RecurrentBase):
    """What both video estimators share: their hyperparameter checks and a cosine learning rate."""

    _parameter_constraints = {
        **{k: v for k, v in _RecurrentBase._parameter_constraints.items() if k not in ("cell", "dropout")},
        "hidden_layer_sizes": ["int_tuple"],
        "lr_schedule": [Options("constant", "cosine")],
        "checkpoint": [str, "pathlike", None],
        "resume": [bool],
    }

    def _check_params(self) -> None:
        super()._check_params()
        if self.lr_schedule == "cosine" and self.early_stopping:
            raise ValueError(
                f"{type(self).__name__} cannot combine lr_schedule='cosine' with early_stopping=True (the "
                "schedule needs a fixed number of epochs); choose one."
            )

    def _fit_module(self, clips: np.ndarray, y_t, *, continuing: bool, stratify=None):
        return self._train(
            torch.from_numpy(np.ascontiguousarray(clips)),
            y_t,
            continuing=continuing,
            stratify=stratify,
            build=self._build_module,
            cosine=self.lr_schedule == "cosine",
            count_work=True,
            checkpoint=self.checkpoint,
            resume=self.resume,
        )

    def _explain_forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.module_(inputs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


@register
class VideoForecaster(RegressorMixin, _VideoBase):
    """Next frames of a clip from its first frames: a ConvLSTM encoder-forecaster (Shi et al., 2015).

    The frames are cut into ``patch_size`` x ``patch_size`` patches stacked as channels (64x64 frames
    with ``patch_size=4`` become 16 maps of 16x16, as PredRNN does), so that the recurrent layers work
    at a sixteenth of the pixels. The ConvLSTM reads the observed frames one by one (the encoder) and
    then goes on alone, feeding each frame it draws back as its next input (the forecaster); unlike
    Shi et al.'s two networks, encoder and forecaster share their weights, as in PredRNN. After every
    frame it draws the next one, and it learns from every next-frame prediction of the clip (the
    observed part included), with gradients through the frames it fed back, so that training and
    prediction run the same way.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(64, 64)
        Channels of each stacked ConvLSTM layer.
    kernel_size : int, default=3
        Side of the gates' convolutions (odd).
    patch_size : int, default=4
        Frames are read in patches of this side; height and width must be multiples of it.
    n_motions : int, default=4
        Kernels the network predicts at each step to move the frame before (CDNA, Finn et al., 2016);
        each pixel of the next frame mixes the moved frames and a drawn one. 0 only draws.
    motion_size : int, default=11
        Side of the motion kernels (odd): moves of up to ``motion_size // 2`` pixels per frame.
    loss : {'mse', 'bce'}, default='mse'
        Squared error, or binary cross-entropy on the pixels as probabilities (sharper digits).
    lr_schedule : {'constant', 'cosine'}, default='constant'
        'cosine' lowers the learning rate along a half cosine to 0 over ``max_iter`` epochs.
    checkpoint : str or path, default=None
        File written atomically after every epoch; with ``resume=True`` a killed fit continues from it
        (needs a fixed ``random_state``).
    resume : bool, default=False
    alpha, solver, learning_rate, batch_size, max_iter, tol, n_iter_no_change, early_stopping,
    validation_fraction, clip_grad_norm, warm_start, verbose, device, random_state
        As in :class:`deepzoo.LSTMForecaster`.

    Attributes
    ----------
    n_input_frames_, n_output_frames_ : int
        Frames read and frames drawn, from the shapes of ``X`` and ``y`` in ``fit``.
    frame_shape_ : tuple
        (channels, height, width).
    input_shape_ : tuple
        (n_input_frames, channels, height, width), what the network and its ONNX export take.
    module_, history_, n_iter_ : the network and its training record.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from deepzoo import VideoForecaster
    >>> from deepzoo.data.video import make_moving_digits
    >>> clips = make_moving_digits(load_digits().images, 64, n_frames=8, frame_size=16, n_digits=1,
    ...                            speed=(1, 2), random_state=0)
    >>> model = VideoForecaster((8,), patch_size=2, max_iter=2, random_state=0)
    >>> model.fit(clips[:, :5], clips[:, 5:]).predict(clips[:2, :5]).shape
    (2, 3, 1, 16, 16)
    """

    _parameter_constraints = {
        **_VideoBase._parameter_constraints,
        "kernel_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "patch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_motions": [Interval(numbers.Integral, 0, None, closed="left")],
        "motion_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "loss": [Options("mse", "bce")],
    }
    _fitted_attributes = _TRAINING_FITTED | {
        "n_input_frames_", "n_output_frames_", "frame_shape_", "input_shape_"
    }  # fmt: skip

    def __init__(
        self,
        hidden_layer_sizes=(64, 64),
        *,
        kernel_size=3,
        patch_size=4,
        n_motions=4,
        motion_size=11,
        loss="mse",
        alpha=0.0,
        solver="adam",
        learning_rate=1e-3,
        lr_schedule="constant",
        batch_size=16,
        max_iter=10,
        tol=1e-6,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        clip_grad_norm=None,
        warm_start=False,
        checkpoint=None,
        resume=False,
        verbose=False,
        device="auto",
        random_state=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.kernel_size = kernel_size
        self.patch_size = patch_size
        self.n_motions = n_motions
        self.motion_size = motion_size
        self.loss = loss
        self.alpha = alpha
        self.solver = solver
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.clip_grad_norm = clip_grad_norm
        self.warm_start = warm_start
        self.checkpoint = checkpoint
        self.resume = resume
        self.verbose = verbose
        self.device = device
        self.random_state = random_state

    def _check_params(self) -> None:
        super()._check_params()
        for name in ("kernel_size", "motion_size"):
            value = getattr(self, name)
            if value % 2 == 0:
                raise ValueError(
                    f"The {name!r} parameter of VideoForecaster must be odd (the frames keep their size); "
                    f"got {value}. Use {value + 1}."
                )

    def _build_module(self) -> ForecastNet:
        return ForecastNet(
            self.frame_shape_[0],
            _as_tuple(self.hidden_layer_sizes),
            self.kernel_size,
            self.patch_size,
            self.n_input_frames_,
            self.n_output_frames_,
            n_motions=self.n_motions,
            motion_size=self.motion_size,
        )

    def _loss(self, output, clips):
        target = _unit_pixels(clips[:, 1:])  # (N, T-1, C, H, W): every next frame
        if self.loss == "bce":
            per_pixel = F.binary_cross_entropy(output.float().clamp(1e-6, 1 - 1e-6), target, reduction="none")
        else:
            per_pixel = F.mse_loss(output.float(), target, reduction="none")
        return per_pixel.flatten(1).mean(1)  # (N,)

    def fit(self, X, y) -> VideoForecaster:
        """Fit on observed frames ``X`` (n_clips, n_input_frames, C, H, W) and the frames that follow
        them, ``y`` (n_clips, n_output_frames, C, H, W); pixels uint8 (0-255) or floats in [0, 1]."""
        self._check_params()
        name = type(self).__name__
        continuing = self.warm_start and hasattr(self, "module_")
        if y is None:
            raise ValueError(f"{name} requires y, the frames that follow X, but the target y is None.")
        X, y = check_clips(X, name, "X"), check_clips(y, name, "y")
        if len(X) != len(y):
            raise ValueError(f"X and y have different numbers of clips: {len(X)} and {len(y)}.")
        if X.shape[2:] != y.shape[2:]:
            raise ValueError(
                f"X and y have frames of different sizes: {X.shape[2:]} and {y.shape[2:]} (channels, height, "
                "width). y must continue the clips of X."
            )
        if continuing:
            _check_same_frames(X, self.frame_shape_, name)
            if (X.shape[1], y.shape[1]) != (self.n_input_frames_, self.n_output_frames_):
                raise ValueError(
                    f"warm_start continues a fit on {self.n_input_frames_} observed and "
                    f"{self.n_output_frames_} "
                    f"next frames; got {X.shape[1]} and {y.shape[1]}. Refit with warm_start=False."
                )
        height, width = X.shape[3:]
        if height % self.patch_size or width % self.patch_size:
            fits = [p for p in range(1, self.patch_size) if height % p == 0 and width % p == 0]
            raise ValueError(
                f"{name} reads frames in patches of patch_size={self.patch_size}, but the frames are "
                f"{height}x{width}, not multiples of {self.patch_size}. Use patch_size={max(fits)}, or "
                f"crop or pad the frames to {-(-height // self.patch_size) * self.patch_size}x"
                f"{-(-width // self.patch_size) * self.patch_size}."
            )
        if not continuing:
            self.n_input_frames_, self.n_output_frames_ = X.shape[1], y.shape[1]
            self.frame_shape_ = tuple(int(s) for s in X.shape[2:])
            self.input_shape_ = (self.n_input_frames_, *self.frame_shape_)
        if X.dtype == np.uint8 and y.dtype == np.uint8:
            clips = np.concatenate([X, y], axis=1)  # stays uint8: a quarter of the memory of floats
        else:
            clips = np.concatenate([_as_unit(X), _as_unit(y)], axis=1)
        return self._fit_module(clips, None, continuing=continuing)

    def _explain_inputs(self, X) -> torch.Tensor:
        """Observed frames checked as ``predict`` checks them: float32 (N, T, C, H, W) in [0, 1]."""
        self._check_fitted()
        name = type(self).__name__
        X = check_clips(X, name)
        _check_same_frames(X, self.frame_shape_, name)
        if X.shape[1] != self.n_input_frames_:
            raise ValueError(
                f"X has clips of {X.shape[1]} frames but {name} was fitted to read {self.n_input_frames_}; "
                + (
                    f"pass the last {self.n_input_frames_} frames of each clip, "
                    f"X[:, -{self.n_input_frames_}:]."
                    if X.shape[1] > self.n_input_frames_
                    else f"a clip shorter than the {self.n_input_frames_} frames it reads cannot be forecast."
                )
            )
        return torch.as_tensor(_as_unit(X), device=self._device())

    def _explain_forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """The drawn frames (N, n_output_frames, C, H, W) of observed frames (N, n_input_frames, C, H, W)."""
        return self.module_(inputs)[:, self.n_input_frames_ - 1 :]

    def predict(self, X) -> np.ndarray:
        """The next ``n_output_frames_`` frames after each clip's observed frames ``X``, as floats in
        [0, 1] of shape (n_clips, n_output_frames, channels, height, width)."""
        inputs = self._explain_inputs(X)
        out = predict_batches(self.module_, inputs, batch_size=64)  # small batches: 19 steps of state
        return numpy_out(out[:, self.n_input_frames_ - 1 :])

    def score(self, X, y, sample_weight=None) -> float:
        """R² of the predicted pixels: 1 - (squared error) / (squared deviation of each pixel from its
        mean over the clips); 1 is perfect, 0 is as good as the mean clip. Every pixel counts, also
        those that are black in every clip (scikit-learn's multi-output R² would drop them)."""
        truth = _as_unit(check_clips(y, type(self).__name__, "y")).astype(np.float64)
        predicted = self.predict(X).astype(np.float64)
        if predicted.shape != truth.shape:
            raise ValueError(f"y has shape {truth.shape} but the predictions have {predicted.shape}.")
        weights = (
            np.ones(len(truth)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        )
        weights = weights.reshape(-1, *([1] * (truth.ndim - 1)))
        mean = (truth * weights).sum(0) / weights.sum()
        total = float((weights * (truth - mean) ** 2).sum())
        error = float((weights * (truth - predicted) ** 2).sum())
        return 1.0 - error / total if total > 0 else float(error == 0)


def _as_unit(X: np.ndarray) -> np.ndarray:
    """uint8 pixels as float32 in [0, 1]; float pixels as they are."""
    return X.astype(np.float32) / 255.0 if X.dtype == np.uint8 else X


@register
class VideoClassifier(ClassifierMixin, _VideoBase):
    """Clip classifier: a CNN reads each frame, an LSTM/GRU reads the frames' vectors in order.

    Each frame goes through the same convolutional network (``architecture``, as in
    :class:`~deepzoo.ConvNetClassifier`, without its last layer); the recurrent layers read the
    resulting vectors frame by frame, and the state after the last frame gives the class. The CNN
    sees one frame at a time: what depends on the order of the frames (a direction of motion, an
    action) is learnt by the recurrent part.

    Parameters
    ----------
    architecture : str, default='lenet5'
        The per-frame network: 'lenet5', 'small_vgg', 'resnet18', 'mobilenet_v2' or 'efficientnet_lite0'
        (trained from scratch).
    width : float, default=1.0
        Multiplies the per-frame network's channels.
    batch_norm : bool, default=True
        Batch normalisation in the per-frame network (lenet5, small_vgg; the others always have it).
    hidden_layer_sizes : tuple of int, default=(64,)
        Units of each stacked recurrent layer.
    cell : {'lstm', 'gru', 'rnn'}, default='lstm'
    dropout : float in [0, 1), default=0.0
        Dropout after each recurrent layer.
    lr_schedule : {'constant', 'cosine'}, default='constant'
    checkpoint, resume : as in :class:`VideoForecaster`
    alpha, solver, learning_rate, batch_size, max_iter, tol, n_iter_no_change, early_stopping,
    validation_fraction, clip_grad_norm, warm_start, verbose, device, random_state
        As in :class:`deepzoo.MLPClassifier`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    frame_shape_ : tuple
        (channels, height, width).
    input_shape_ : tuple
        (n_frames, channels, height, width) of the training clips; other numbers of frames work too.
    mean_, std_ : tuple
        Per-channel mean and spread of the training pixels (scaled to [0, 1]), normalised in the network.
    module_, history_, n_iter_ : the network and its training record.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from deepzoo import VideoClassifier
    >>> from deepzoo.data.video import make_motion_clips
    >>> clips, y = make_motion_clips(load_digits().images, 64, n_frames=4, frame_size=12, random_state=0)
    >>> model = VideoClassifier("small_vgg", width=0.25, hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    >>> model.fit(clips, y).predict_proba(clips[:3]).shape
    (3, 8)
    """

    _parameter_constraints = {
        **_VideoBase._parameter_constraints,
        "architecture": [Options(*ARCHITECTURES)],
        "width": [Interval(numbers.Real, 0, None, closed="neither")],
        "batch_norm": [bool],
        "cell": [Options(*CELLS)],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    }
    _fitted_attributes = _TRAINING_FITTED | {"classes_", "frame_shape_", "input_shape_", "mean_", "std_"}

    def __init__(
        self,
        architecture="lenet5",
        *,
        width=1.0,
        batch_norm=True,
        hidden_layer_sizes=(64,),
        cell="lstm",
        dropout=0.0,
        alpha=0.0,
        solver="adam",
        learning_rate=1e-3,
        lr_schedule="constant",
        batch_size=32,
        max_iter=20,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        clip_grad_norm=None,
        warm_start=False,
        checkpoint=None,
        resume=False,
        verbose=False,
        device="auto",
        random_state=None,
    ):
        self.architecture = architecture
        self.width = width
        self.batch_norm = batch_norm
        self.hidden_layer_sizes = hidden_layer_sizes
        self.cell = cell
        self.dropout = dropout
        self.alpha = alpha
        self.solver = solver
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.clip_grad_norm = clip_grad_norm
        self.warm_start = warm_start
        self.checkpoint = checkpoint
        self.resume = resume
        self.verbose = verbose
        self.device = device
        self.random_state = random_state

    @staticmethod
    def _score_fn(output, target):
        return (output.argmax(1) == target).float().mean()

    @staticmethod
    def _loss(output, target):
        return F.cross_entropy(output, target, reduction="none")

    def _build_module(self) -> ClipClassifierNet:
        return ClipClassifierNet(
            self.frame_shape_, self.architecture, self.width, self.batch_norm,
            _as_tuple(self.hidden_layer_sizes), self.cell, self.dropout, len(self.classes_),
            self.mean_, self.std_,
        )  # fmt: skip

    def fit(self, X, y) -> VideoClassifier:
        """Fit on clips ``X`` (n_clips, n_frames, C, H, W), pixels uint8 or floats in [0, 1], and one
        label per clip ``y``."""
        self._check_params()
        name = type(self).__name__
        continuing = self.warm_start and hasattr(self, "module_")
        if y is None:
            raise ValueError(f"{name} requires y to be passed, but the target y is None.")
        X = check_clips(X, name)
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if len(X) != len(y):
            raise ValueError(f"X and y have different numbers of clips: {len(X)} and {len(y)}.")
        if len(X) < 2:
            raise ValueError(f"{name} needs at least 2 clips to train (batch statistics); got {len(X)}.")
        if continuing:
            _check_same_frames(X, self.frame_shape_, name)
            if not np.isin(y, self.classes_).all():
                raise ValueError(f"y has labels unseen in the first fit; known: {self.classes_.tolist()}.")
        else:
            self.classes_ = np.unique(y)
            if len(self.classes_) < 2:
                raise ValueError(
                    f"{name} needs clips of at least 2 classes; y holds only {self.classes_.tolist()}."
                )
            self.frame_shape_ = tuple(int(s) for s in X.shape[2:])
            self.input_shape_ = (X.shape[1], *self.frame_shape_)
            sample = _as_unit(X[:: max(1, len(X) // 500)])  # per-channel statistics of the pixels
            self.mean_ = tuple(float(v) for v in sample.mean(axis=(0, 1, 3, 4)))
            self.std_ = tuple(float(max(v, 1e-6)) for v in sample.std(axis=(0, 1, 3, 4)))
        y_t = torch.as_tensor(np.searchsorted(self.classes_, y), dtype=torch.long)
        return self._fit_module(X, y_t, continuing=continuing, stratify=y)

    def _explain_inputs(self, X) -> torch.Tensor:
        """Clips checked as ``predict`` checks them: float32 (N, T, C, H, W) in [0, 1]."""
        self._check_fitted()
        X = check_clips(X, type(self).__name__)
        _check_same_frames(X, self.frame_shape_, type(self).__name__)
        return torch.as_tensor(_as_unit(X), device=self._device())

    def _logits(self, X) -> np.ndarray:
        return numpy_out(predict_batches(self.module_, self._explain_inputs(X), batch_size=256))

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (n_clips, n_classes); rows sum to 1."""
        logits = self._logits(X).astype(np.float64)
        proba = np.exp(logits - logits.max(axis=1, keepdims=True))
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """The most probable class of each clip."""
        return self.classes_[self._logits(X).argmax(axis=1)]
