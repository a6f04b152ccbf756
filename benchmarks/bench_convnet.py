"""deepzoo's ConvNetClassifier against a Keras-style plain-PyTorch recipe of the same network, in one run.

``--mode plain`` and ``--mode augment`` (MNIST): both train the same network (LeNet-5 with batch norm,
channels scaled by ``--width``) on the same MNIST training images with Adam (learning rate 1e-3,
constant), batch 128, for ``--epochs`` epochs, then are scored on the 10,000 test digits:

* ``deepzoo``       ``ConvNetClassifier("lenet5")``: images normalised once into one tensor, batches
                    sliced from it by ``training.fit_loop``; with ``augment``, one affine warp per batch
                    (``data.images.augment``: shifts 8%, rotations 8 degrees, zoom 8%, the mnist case's);
* ``keras-recipe``  what a Keras user writes in PyTorch: a ``Dataset`` whose ``__getitem__`` converts
                    and normalises one image at a time (with ``augment``, one random PIL affine warp per
                    image with the same ranges, as torchvision's RandomAffine or Keras'
                    ImageDataGenerator do), a ``DataLoader(shuffle=True)`` collating them, and the usual
                    loop (``model.train()``, ``zero_grad``, ``backward``, ``step``).

``--mode transfer`` (hot dog, 496 training / 499 test photos): ImageNet EfficientNet-Lite0 with a frozen
backbone and a new two-class last layer (dropout 0.3, Adam 3e-3, L2 1e-3, batch 64), ``--epochs`` epochs at
``--image-size`` pixels:

* ``deepzoo``       ``ConvNetClassifier("efficientnet_lite0", pretrained=True, freeze="backbone")``:
                    the backbone's features are computed once, then the last layer trains on them;
* ``keras-recipe``  the usual ``base.trainable = False`` model: the frozen backbone (in eval mode, as
                    Keras runs it) stays in the forward pass, so every epoch pushes every photo through
                    it again, from a per-sample ``Dataset`` that resizes and normalises one photo at a time.

They run one after the other, with the same number of torch CPU threads after one small warm-up fit
each, so that they share whatever load the machine has. Printed per model: seconds per epoch (fit seconds
/ epochs), images per second, test accuracy, and the recipe-to-deepzoo time ratio.

    DEEPZOO_DATA_DIR=../shared/datasets python benchmarks/bench_convnet.py --epochs 1 --n-train 10000
    DEEPZOO_DATA_DIR=../shared/datasets python benchmarks/bench_convnet.py --mode augment --epochs 1
    DEEPZOO_DATA_DIR=../shared/datasets python benchmarks/bench_convnet.py --mode transfer --epochs 10
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from deepzoo import ConvNetClassifier
from deepzoo.data import images as image_io
from deepzoo.data.image_data import load_idx
from deepzoo.data.registry import resolve
from deepzoo.models.vision.architectures import build_network, load_pretrained, pretrained_path

AUGMENT = {"shift": 0.08, "rotation": 8.0, "scale": 0.08}  # the mnist case's ranges


class LeNet5(nn.Module):
    """The same layers as deepzoo's lenet5 (conv-BN-ReLU-pool twice, dense 120 and 84 times width)."""

    def __init__(self, width: float):
        super().__init__()
        c1, c2, f1, f2 = (max(1, round(v * width)) for v in (6, 16, 120, 84))
        self.net = nn.Sequential(
            nn.Conv2d(1, c1, 5, padding=2, bias=False), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 5, padding=2, bias=False), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(c2 * 7 * 7, f1), nn.ReLU(), nn.Linear(f1, f2), nn.ReLU(),
            nn.Linear(f2, 10),
        )  # fmt: skip

    def forward(self, x):
        return self.net(x)  # (N, 1, 28, 28) -> (N, 10)


def random_affine(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uint8 (H, W) image through one random PIL affine warp (rotation, zoom, shift about the centre),
    the per-image work of torchvision's RandomAffine."""
    from PIL import Image

    h, w = image.shape
    angle = math.radians(rng.uniform(-AUGMENT["rotation"], AUGMENT["rotation"]))
    zoom = rng.uniform(1 - AUGMENT["scale"], 1 + AUGMENT["scale"])
    tx, ty = rng.uniform(-AUGMENT["shift"], AUGMENT["shift"], 2) * (w, h)
    cos, sin = math.cos(angle) / zoom, math.sin(angle) / zoom
    cx, cy = w / 2, h / 2  # PIL maps each output pixel back to its input position
    data = (cos, sin, cx - cos * cx - sin * cy - tx, -sin, cos, cy + sin * cx - cos * cy - ty)
    return np.asarray(Image.fromarray(image).transform((w, h), Image.AFFINE, data, Image.BILINEAR))


class MnistDataset(torch.utils.data.Dataset):
    """Per-sample conversion, the way torchvision's ToTensor + Normalize do it (and RandomAffine)."""

    def __init__(self, images, labels, mean, std, augment=False, seed=0):
        self.images, self.labels, self.mean, self.std = images, labels, mean, std
        self.rng = np.random.default_rng(seed) if augment else None

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        image = self.images[i] if self.rng is None else random_affine(self.images[i], self.rng)
        x = torch.from_numpy(image.astype(np.float32) / 255.0)[None]
        return (x - self.mean) / self.std, int(self.labels[i])


def keras_recipe(X, y, X_test, y_test, epochs, width, seed, augment=False):
    torch.manual_seed(seed)
    mean, std = float(X.mean() / 255), float(X.std() / 255)
    model = LeNet5(width)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = MnistDataset(X, y, mean, std, augment=augment, seed=seed)
    loader = torch.utils.data.DataLoader(data, batch_size=128, shuffle=True)
    test = torch.utils.data.DataLoader(MnistDataset(X_test, y_test, mean, std), batch_size=1000)
    return usual_loop(model, optimizer, loader, test, epochs)


def usual_loop(model, optimizer, loader, test, epochs) -> tuple[float, float]:
    """The training loop every PyTorch tutorial shows; returns (training seconds, test accuracy)."""
    started = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - started
    model.eval()
    with torch.no_grad():
        correct = sum(int((model(xb).argmax(1) == yb).sum()) for xb, yb in test)
    return seconds, correct / len(test.dataset)


def timed_fit(clf, X, y, X_test, y_test, epochs) -> tuple[float, float]:
    """Fit ``clf`` for exactly ``epochs`` epochs; returns (training seconds, test accuracy)."""
    clf.set_params(n_iter_no_change=epochs + 1)  # no stop on the training loss before `epochs`
    started = time.perf_counter()
    clf.fit(X, y)
    seconds = time.perf_counter() - started
    return seconds, clf.score(X_test, y_test)


def deepzoo_fit(X, y, X_test, y_test, epochs, width, seed, augment=False):
    clf = ConvNetClassifier(
        "lenet5", width=width, learning_rate=1e-3, batch_size=128, max_iter=epochs, random_state=seed,
        augment=dict(AUGMENT) if augment else None,
    )  # fmt: skip
    return timed_fit(clf, X, y, X_test, y_test, epochs)


LITE_MEAN, LITE_STD = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)  # EfficientNet-Lite0's input scaling


class PhotoDataset(torch.utils.data.Dataset):
    """One uint8 (3, h, w) photo at a time: to float, resized, normalised (as torchvision's transforms)."""

    def __init__(self, images, labels, size):
        self.images, self.labels, self.size = images, labels, size

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        x = torch.from_numpy(self.images[i].astype(np.float32) / 255.0)[None]
        x = image_io.normalize(image_io.resize(x, self.size), LITE_MEAN, LITE_STD)
        return x[0], int(self.labels[i])


def transfer_recipe(X, y, X_test, y_test, epochs, size, seed):
    torch.manual_seed(seed)
    net = build_network("efficientnet_lite0", (3, size, size), 2, dropout=0.3)
    load_pretrained(net, pretrained_path("efficientnet_lite0"))
    net.freeze_backbone(True)  # base.trainable = False: backbone weights fixed, its batch norm in eval mode
    head = [p for p in net.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(
        [{"params": [p for p in head if p.ndim > 1], "weight_decay": 1e-3},
         {"params": [p for p in head if p.ndim <= 1]}], lr=3e-3,
    )  # fmt: skip
    loader = torch.utils.data.DataLoader(PhotoDataset(X, y, size), batch_size=64, shuffle=True)
    test = torch.utils.data.DataLoader(PhotoDataset(X_test, y_test, size), batch_size=128)
    return usual_loop(net, optimizer, loader, test, epochs)  # net.train() keeps the frozen part in eval


def transfer_deepzoo(X, y, X_test, y_test, epochs, size, seed):
    clf = ConvNetClassifier(
        "efficientnet_lite0", pretrained=True, freeze="backbone", image_size=size, dropout=0.3, alpha=1e-3,
        learning_rate=3e-3, batch_size=64, max_iter=epochs, random_state=seed,
    )  # fmt: skip
    return timed_fit(clf, X, y, X_test, y_test, epochs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=("plain", "augment", "transfer"), default="plain")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--n-train", type=int, default=60000, help="MNIST training images (plain, augment)")
    parser.add_argument("--width", type=float, default=1.0, help="LeNet-5 channel multiplier")
    parser.add_argument("--image-size", type=int, default=112, help="transfer: photo side")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads for both")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.mode == "transfer":
        from deepzoo.data.images import find_splits, load_image_folder

        splits = find_splits(resolve("hotdog"))
        X, y, classes = load_image_folder(splits["train"], mode="RGB")
        X_test, y_test, _ = load_image_folder(splits["test"], mode="RGB", classes=classes)
        y, y_test = np.searchsorted(classes, y), np.searchsorted(classes, y_test)  # class names -> 0, 1
        fits = (("deepzoo", transfer_deepzoo), ("keras-recipe", transfer_recipe))
        setting = args.image_size
    else:
        mnist = load_idx(resolve("mnist"))  # (n, 1, 28, 28); the recipe reads (n, 28, 28)
        X, y, X_test, y_test = mnist.X_train[:, 0], mnist.y_train, mnist.X_test[:, 0], mnist.y_test
        X, y = X[: args.n_train], y[: args.n_train]
        augment = args.mode == "augment"
        fits = (
            ("deepzoo", lambda *a: deepzoo_fit(*a, augment=augment)),
            ("keras-recipe", lambda *a: keras_recipe(*a, augment=augment)),
        )
        setting = args.width
    y, y_test = y.astype(np.int64), y_test.astype(np.int64)
    results = {}
    for _, fit in fits:  # torch's one-time start-up (oneDNN kernels) outside the timing
        fit(X[:64], y[:64], X_test[:32], y_test[:32], 1, setting, args.seed)
    for name, fit in fits:
        seconds, accuracy = fit(X, y, X_test, y_test, args.epochs, setting, args.seed)
        results[name] = {
            "seconds_per_epoch": seconds / args.epochs,
            "images_per_second": len(X) * args.epochs / seconds,
            "test_accuracy": accuracy,
        }
        print(f"{name:13s} {seconds / args.epochs:8.2f} s/epoch {len(X) * args.epochs / seconds:8.0f} img/s "
              f"accuracy {accuracy:.4f}", flush=True)  # fmt: skip
    ratio = results["keras-recipe"]["seconds_per_epoch"] / results["deepzoo"]["seconds_per_epoch"]
    load = os.getloadavg()
    print(
        f"[{args.mode}] keras-recipe / deepzoo time ratio: {ratio:.2f}x  "
        f"(load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})"
    )
    summary = dict(
        results=results,
        ratio=ratio,
        args=vars(args),
        load_average=load,
        machine=platform.processor() or platform.machine(),
        cpus=os.cpu_count(),
        torch=torch.__version__,
    )
    if args.json:
        with open(args.json + ".tmp", "w") as f:
            json.dump(summary, f, indent=1)
        os.replace(args.json + ".tmp", args.json)


if __name__ == "__main__":
    main()
