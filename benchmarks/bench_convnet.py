"""deepzoo's ConvNetClassifier against a Keras-style plain-PyTorch recipe of the same LeNet-5, in one run.

Both train the same network (LeNet-5 with batch norm, channels scaled by ``--width``) on the same MNIST
training images with Adam (learning rate 1e-3, constant), batch 128, no augmentation, for ``--epochs``
epochs, then are scored on the 10,000 test digits. They run one after the other, with the same number
of torch CPU threads after one small warm-up fit each, so that they share whatever load the machine has:

* ``deepzoo``       ``ConvNetClassifier("lenet5")``: images normalised once into one tensor, batches
                    sliced from it by ``training.fit_loop``;
* ``keras-recipe``  what a Keras user writes in PyTorch: a ``Dataset`` whose ``__getitem__`` converts
                    and normalises one image at a time, a ``DataLoader(shuffle=True)`` collating them,
                    and the usual loop (``model.train()``, ``zero_grad``, ``backward``, ``step``).

Printed per model: seconds per epoch (fit seconds / epochs), images per second, test accuracy, and the
recipe-to-deepzoo time ratio.

    DEEPZOO_DATA_DIR=../shared/datasets python benchmarks/bench_convnet.py --epochs 2 --n-train 20000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from deepzoo import ConvNetClassifier
from deepzoo.cases.mnist import load_data


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


class MnistDataset(torch.utils.data.Dataset):
    """Per-sample conversion, the way torchvision's ToTensor + Normalize do it."""

    def __init__(self, images, labels, mean, std):
        self.images, self.labels, self.mean, self.std = images, labels, mean, std

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        x = torch.from_numpy(self.images[i].astype(np.float32) / 255.0)[None]
        return (x - self.mean) / self.std, int(self.labels[i])


def keras_recipe(X, y, X_test, y_test, epochs, width, seed):
    torch.manual_seed(seed)
    mean, std = float(X.mean() / 255), float(X.std() / 255)
    model = LeNet5(width)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = torch.utils.data.DataLoader(MnistDataset(X, y, mean, std), batch_size=128, shuffle=True)
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
    test = torch.utils.data.DataLoader(MnistDataset(X_test, y_test, mean, std), batch_size=1000)
    with torch.no_grad():
        correct = sum(int((model(xb).argmax(1) == yb).sum()) for xb, yb in test)
    return seconds, correct / len(y_test)


def deepzoo_fit(X, y, X_test, y_test, epochs, width, seed):
    clf = ConvNetClassifier(
        "lenet5", width=width, learning_rate=1e-3, batch_size=128, max_iter=epochs, random_state=seed
    )
    clf.set_params(n_iter_no_change=epochs + 1)  # exactly `epochs` epochs
    started = time.perf_counter()
    clf.fit(X, y)
    seconds = time.perf_counter() - started
    return seconds, clf.score(X_test, y_test)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--n-train", type=int, default=60000)
    parser.add_argument("--width", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads for both")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    X, y, X_test, y_test = load_data()
    X, y = X[: args.n_train], y[: args.n_train].astype(np.int64)
    y_test = y_test.astype(np.int64)
    results = {}
    for fit in (deepzoo_fit, keras_recipe):  # torch's one-time start-up (oneDNN kernels) outside the timing
        fit(X[:256], y[:256], X_test[:100], y_test[:100], 1, args.width, args.seed)
    for name, fit in (("deepzoo", deepzoo_fit), ("keras-recipe", keras_recipe)):
        seconds, accuracy = fit(X, y, X_test, y_test, args.epochs, args.width, args.seed)
        results[name] = {
            "seconds_per_epoch": seconds / args.epochs,
            "images_per_second": len(X) * args.epochs / seconds,
            "test_accuracy": accuracy,
        }
        print(f"{name:13s} {seconds / args.epochs:8.1f} s/epoch {len(X) * args.epochs / seconds:8.0f} img/s "
              f"accuracy {accuracy:.4f}", flush=True)  # fmt: skip
    ratio = results["keras-recipe"]["seconds_per_epoch"] / results["deepzoo"]["seconds_per_epoch"]
    load = os.getloadavg()
    print(
        f"keras-recipe / deepzoo time ratio: {ratio:.2f}x  "
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
