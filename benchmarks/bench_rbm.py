"""BernoulliRBM against scikit-learn's BernoulliRBM: seconds per epoch and pseudo-likelihood, in one run.

Two data sets, binarised at half intensity: scikit-learn's 1,797 8x8 digits, and MNIST (registry
name 'mnist', the first ``--mnist-rows`` training images, 784 pixels). Both estimators get the same
number of hidden units and epochs and are scored on the same held-out rows with the same
pseudo-likelihood (scikit-learn's definition; deepzoo's is tested equal to it on equal weights):

* ``sklearn``         scikit-learn's BernoulliRBM with its defaults (persistent CD, batch 10, lr 0.1),
                      NumPy's BLAS with its default threads;
* ``sklearn-1thread``  the same with the BLAS limited to one thread (threadpoolctl): on a small shared
                      machine its many tiny matrix products run far faster without thread hand-offs;
* ``deepzoo``         deepzoo's BernoulliRBM with its defaults (CD-1, Adam lr 0.01, batch 64);
* ``deepzoo-batch10`` deepzoo's with scikit-learn's batch size, for the per-batch overhead.

Seconds per epoch = fit seconds / epochs, on the CPU with torch's and NumPy's default threads.

    pip install "torch==2.13.0" ".[bench]"
    DEEPZOO_DATA_DIR=../shared/datasets python benchmarks/bench_rbm.py
    python benchmarks/bench_rbm.py --datasets digits --epochs 20
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM as SklearnRBM

from deepzoo import BernoulliRBM
from deepzoo.data.registry import dataset_file


def load(name: str, mnist_rows: int) -> np.ndarray:
    if name == "digits":
        return (load_digits().data / 16 > 0.5).astype(np.float32)
    with gzip.open(dataset_file("mnist", "train-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    return (images[:mnist_rows] > 127).astype(np.float32)


def run(model, X_train, X_test, epochs: int, blas_threads: int | None = None) -> dict:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(blas_threads):
        started = time.perf_counter()
        model.fit(X_train)
        seconds = time.perf_counter() - started
    return {
        "seconds_per_epoch": seconds / epochs,
        "pseudo_likelihood": float(np.mean(model.score_samples(X_test))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["digits", "mnist"], choices=["digits", "mnist"])
    parser.add_argument("--n-components", type=int, default=256)
    parser.add_argument("--epochs", type=int, nargs="+", default=[20, 3], help="per data set, in order")
    parser.add_argument("--mnist-rows", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-batch10", action="store_true", help="skip deepzoo with batch_size=10")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    print(
        f"# {platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads)"
    )
    # warm up torch (thread pools, first-call allocations) so that no estimator pays for it
    BernoulliRBM(8, max_iter=1, device="cpu", random_state=0).fit(load("digits", 0)[:100])
    results = []
    for k, name in enumerate(args.datasets):
        epochs = args.epochs[min(k, len(args.epochs) - 1)]
        X = load(name, args.mnist_rows)
        X_train, X_test = train_test_split(X, test_size=0.2, random_state=args.seed)
        models = {
            "sklearn": SklearnRBM(n_components=args.n_components, n_iter=epochs, random_state=args.seed),
            "sklearn-1thread": SklearnRBM(
                n_components=args.n_components, n_iter=epochs, random_state=args.seed
            ),
            "deepzoo": BernoulliRBM(args.n_components, max_iter=epochs, device="cpu", random_state=args.seed),
        }
        if not args.no_batch10:
            models["deepzoo-batch10"] = BernoulliRBM(
                args.n_components, batch_size=10, max_iter=epochs, device="cpu", random_state=args.seed
            )
        rows = {}
        for label, model in models.items():
            rows[label] = run(model, X_train, X_test, epochs, 1 if label == "sklearn-1thread" else None)
            print(
                f"{name:7s} {X_train.shape[0]:6d}x{X.shape[1]:<4d} {label:16s} epochs {epochs:3d}  "
                f"{rows[label]['seconds_per_epoch']:8.3f} s/epoch  "
                f"PL {rows[label]['pseudo_likelihood']:9.3f}",
                flush=True,
            )
        # the fairer reference: scikit-learn at its faster thread setting on this machine
        best = min(rows["sklearn"]["seconds_per_epoch"], rows["sklearn-1thread"]["seconds_per_epoch"])
        for label in rows:
            if label.startswith("deepzoo"):
                ratio = best / rows[label]["seconds_per_epoch"]
                print(f"{name:7s} {label} is {ratio:.1f}x faster per epoch than sklearn's faster setting")
                rows[label]["speedup_vs_sklearn"] = ratio
        results.append({"dataset": name, "rows": X_train.shape[0], "epochs": epochs, "results": rows})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
