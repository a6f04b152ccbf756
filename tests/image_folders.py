"""Tiny synthetic image datasets for the image tests: class folders, arrays and IDX files."""

from __future__ import annotations

import gzip

import numpy as np
from PIL import Image


def _pattern(label: int, rng, size: int = 12, channels: int = 1) -> np.ndarray:
    """A noisy image with a bright square in the top-left (class 0) or the bottom-right (class 1)."""
    image = rng.integers(0, 60, (size, size, channels), dtype=np.uint8)
    half = size // 2
    corner = slice(1, half) if label == 0 else slice(half, size - 1)
    image[corner, corner] = 250
    return image


def make_folder(root, *, n: int = 12, size: int = 12, mode: str = "L", classes=("a", "b"), split=False):
    """``root/<class>/*.png`` (or under train/ and test/), ``n`` images per class (and part)."""
    rng = np.random.default_rng(0)
    parts = ["train", "test"] if split else [""]
    for part in parts:
        for label, name in enumerate(classes):
            folder = root / part / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                pixels = _pattern(label % 2, rng, size, 1 if mode == "L" else 3)
                Image.fromarray(pixels[..., 0] if mode == "L" else pixels, mode).save(folder / f"{i:03d}.png")
    return root


def make_arrays(n: int = 40, size: int = 12, channels: int = 1, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = np.stack([_pattern(label, rng, size, channels) for label in y])  # (n, H, W, C)
    return X, y


def write_idx(path, array: np.ndarray) -> None:
    """An IDX file (uint8) of ``array``, gzip-compressed."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())
