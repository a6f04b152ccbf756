"""deepzoo's video estimators against a plain PyTorch recipe of the same networks, in one run.

The recipe is what a PyTorch tutorial writes: a ``Dataset`` that returns one clip as a float tensor
(pixels / 255), a ``DataLoader(batch_size, shuffle=True)`` that collates clips one by one, Adam and a
hand-written epoch loop. It trains the *same* network classes deepzoo builds (``ForecastNet``,
``ClipClassifierNet``), with the same loss, learning rate, batch size, epochs and seed, on the same clips;
deepzoo trains through ``fit_loop`` (batches sliced from one uint8 tensor, threads sized by the
network's multiply-adds, a cosine learning rate in both here).

* ``forecaster``  Moving MNIST clips (20 frames of 64x64 from MNIST's digits), VideoForecaster with the
  ``moving_mnist`` case's network; test figure: squared error per frame on held-out clips.
* ``classifier``  the ``motion`` case's clips (10 frames of 32x32), VideoClassifier (LeNet-5 per frame
  + LSTM(64)); test figure: accuracy.

    DEEPZOO_DATA_DIR=../shared/datasets python benchmarks/bench_video.py
    python benchmarks/bench_video.py --model classifier --epochs 3      # one of the two
    python benchmarks/bench_video.py --threads 1                        # on a busy machine
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F

from deepzoo import VideoClassifier, VideoForecaster
from deepzoo.cases import motion, moving_mnist
from deepzoo.models.video.metrics import mse_per_frame


class Clips(torch.utils.data.Dataset):
    """The tutorial's dataset: clip ``i`` (and its label, if any) as float tensors, one at a time."""

    def __init__(self, clips: np.ndarray, labels: np.ndarray | None = None):
        self.clips, self.labels = clips, labels

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, i):
        clip = torch.from_numpy(self.clips[i].astype(np.float32) / 255.0)
        return clip if self.labels is None else (clip, int(self.labels[i]))


def recipe(net, loss_fn, dataset, epochs: int, batch_size: int, learning_rate: float, seed: int) -> float:
    """Train ``net`` the tutorial way; return the seconds it took."""
    torch.manual_seed(seed)
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True)
    optimizer = torch.optim.Adam(net.parameters(), lr=learning_rate)
    started = time.perf_counter()
    for epoch in range(epochs):
        for group in optimizer.param_groups:  # the same half cosine as deepzoo's lr_schedule='cosine'
            group["lr"] = learning_rate * 0.5 * (1 + math.cos(math.pi * epoch / epochs))
        net.train()
        for batch in loader:
            loss = loss_fn(net, batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return time.perf_counter() - started


def bench_forecaster(args) -> dict:
    config = moving_mnist.Config(n_train=args.n_train or 1000, n_test=200, seed=args.seed)
    train, test = moving_mnist.make_clips(config, *moving_mnist.load_digits_split(config)[:2])
    t_in = config.n_input_frames
    model = VideoForecaster(
        config.hidden_layer_sizes, kernel_size=config.kernel_size, patch_size=config.patch_size,
        n_motions=config.n_motions, motion_size=config.motion_size, loss=config.loss,
        learning_rate=config.learning_rate, lr_schedule="cosine", batch_size=config.batch_size,
        max_iter=args.epochs, device="cpu", random_state=args.seed,
    )  # fmt: skip
    started = time.perf_counter()
    model.fit(train[:, :t_in], train[:, t_in:])
    ours = time.perf_counter() - started
    # the same network, built by the estimator's own code, trained the tutorial way
    net = model._build_module()

    def loss_fn(net, clips):
        out = net(clips).clamp(1e-6, 1 - 1e-6)
        return F.binary_cross_entropy(out, clips[:, 1:])

    theirs = recipe(
        net, loss_fn, Clips(train), args.epochs, config.batch_size, config.learning_rate, args.seed
    )
    net.eval()
    with torch.no_grad():
        predicted = net(torch.from_numpy(test[:, :t_in].astype(np.float32) / 255.0))[:, t_in - 1 :].numpy()
    future = test[:, t_in:]
    return {
        "clips": len(train),
        "epochs": args.epochs,
        "deepzoo": {
            "fit_seconds": ours,
            "mse_per_frame": mse_per_frame(future, model.predict(test[:, :t_in])),
        },
        "plain PyTorch + DataLoader": {
            "fit_seconds": theirs,
            "mse_per_frame": mse_per_frame(future, predicted),
        },
    }


def bench_classifier(args) -> dict:
    config = motion.Config(n_train=args.n_train or 4000, n_test=1000, seed=args.seed)
    X, y, X_test, y_test = motion.load_clips(config)
    model = VideoClassifier(
        config.architecture, width=config.width, hidden_layer_sizes=config.hidden_layer_sizes,
        cell=config.cell, learning_rate=config.learning_rate, lr_schedule="cosine",
        batch_size=config.batch_size, max_iter=args.epochs, device="cpu", random_state=args.seed,
    )  # fmt: skip
    started = time.perf_counter()
    model.fit(X, y)
    ours = time.perf_counter() - started
    net = model._build_module()

    def loss_fn(net, batch):
        clips, labels = batch
        return F.cross_entropy(net(clips), labels)

    theirs = recipe(
        net, loss_fn, Clips(X, y), args.epochs, config.batch_size, config.learning_rate, args.seed
    )
    net.eval()
    with torch.no_grad():
        accuracy = float((net(torch.from_numpy(X_test)).argmax(1).numpy() == y_test).mean())
    return {
        "clips": len(X), "epochs": args.epochs,
        "deepzoo": {"fit_seconds": ours, "accuracy": model.score(X_test, y_test)},
        "plain PyTorch + DataLoader": {"fit_seconds": theirs, "accuracy": accuracy},
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("forecaster", "classifier", "both"), default="both")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--n-train", type=int, default=None, help="training clips (default 1000 / 4000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads for both (default: torch's)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.threads:
        torch.set_num_threads(args.threads)
    load_before = os.getloadavg()[0]
    results = {}
    if args.model in ("forecaster", "both"):
        results["forecaster (Moving MNIST)"] = bench_forecaster(args)
    if args.model in ("classifier", "both"):
        results["classifier (motion)"] = bench_classifier(args)
    print(
        f"{platform.node()} {time.strftime('%Y-%m-%d %H:%M')}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, load {load_before:.1f} -> {os.getloadavg()[0]:.1f}"
    )
    print(json.dumps(results, indent=1))
    for name, result in results.items():
        ratio = result["plain PyTorch + DataLoader"]["fit_seconds"] / result["deepzoo"]["fit_seconds"]
        print(f"{name}: plain recipe seconds / deepzoo seconds = {ratio:.2f}x")


if __name__ == "__main__":
    main()
