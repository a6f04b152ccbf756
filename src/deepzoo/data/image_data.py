"""A user's labelled images, read into one shape: :class:`ImageData` (training and test images, as
arrays or as lists of files, with their labels and how they were split).

* :func:`load_folder`: ``root/<class>/*.jpg``, with or without ``train/`` + ``test/`` (or
  ``training_set/`` + ``test_set/``) above the class folders: the folder's own split is kept unless
  ``pool_splits``; every file is decoded once up front, so that a corrupt one stops
  (``on_error='raise'``) or is skipped with a warning (``'warn'``) before any training;
* :func:`load_idx`: MNIST's IDX files, the ``train-*`` / ``t10k-*`` split kept;
* :func:`load_npz`: ``x_train``, ``y_train``, ``x_test``, ``y_test`` (split kept), or one array of
  images and one of labels;
* :func:`from_arrays`: images from Python, (n, H, W), (n, C, H, W) or channels-last (n, H, W, C);
* :func:`image_files`: the files ``deepzoo predict`` scores (a folder, a list of paths, one image).

Without a split of their own, the images are split stratified by ``test_size`` with ``seed``.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import images as image_io
from .splits import holdout

__all__ = [
    "ImageData",
    "from_arrays",
    "idx_files",
    "image_files",
    "iter_image_files",
    "load_folder",
    "load_idx",
    "load_npz",
]

_GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}
ON_ERROR = ("raise", "warn")


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


def _split(y: np.ndarray, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    """Train and test indices: stratified, a class of fewer than 3 images kept in training
    (:func:`deepzoo.data.splits.holdout`), and how the split was made."""
    train, test, stratified, note = holdout(y, test_size, seed)
    how = "stratified " if stratified else ""
    return (
        train,
        test,
        f"a {how}{test_size:.0%} test split drawn with seed {seed}" + (f"; {note}" if note else ""),
    )


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


def idx_files(folder) -> list[Path]:
    """The IDX image files (``*idx3-ubyte`` or ``*idx3-ubyte.gz``) of ``folder``, sorted."""
    return sorted(p for p in Path(folder).iterdir() if re.search(r"idx3-ubyte(\.gz)?$", p.name))


def load_idx(folder, *, test_size: float = 0.2, seed: int = 0) -> ImageData:
    """IDX files in MNIST's layout: ``*-images-idx3-ubyte[.gz]`` beside ``*-labels-idx1-ubyte[.gz]``;
    a ``train*`` and a ``t10k*`` (or ``test*``) pair keep their split, a single pair is split here."""
    folder = Path(folder)
    parts = {}
    for images in idx_files(folder):
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
    if on_error not in ON_ERROR:
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
