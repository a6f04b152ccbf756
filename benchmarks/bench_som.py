"""SelfOrganizingMap against MiniSom (and somoclu when installed), in one run, on the same data and start.

Two cases, each with the same initial weights (random rows of the data, NumPy seed 0) for every tool and
the quantization error (QE: mean Euclidean distance from a sample to its best unit) computed by one
NumPy function from each tool's final weights:

* ``credit``  the fraud case study's data (690 applications, A1..A14 scaled to [0, 1]) on a 10x10 map,
              sigma 1.0 and learning rate 0.5 with MiniSom's default (asymptotic) decays, 10,000 updates:
              MiniSom ``train`` in data order vs deepzoo ``algorithm='online'`` (the same rule, so the same
              weights up to float32 rounding), and deepzoo batch / somoclu with 15 passes (10,350 samples).
* ``mnist``   the first 20,000 MNIST training images (784 pixels / 255) on a 30x30 map, sigma 5 decaying
              linearly to 1, learning rate 0.5 (asymptotic): MiniSom ``train_random`` for 20,000 updates (one
              pass; ``--minisom-passes 1 5`` adds 100,000, the samples the batch tools see, which takes
              five times as long), deepzoo online for 20,000 updates, deepzoo batch and somoclu for 5
              passes. Without the MNIST files, uniform random data of the same shape (said in the output).

Seconds are wall time of the training call only (deepzoo's ``fit`` includes its input checks and the
final pass that sets ``labels_``). Every tool runs with its default threads.

    pip install -e ".[bench]"          # minisom, somoclu (somoclu builds from source: see RESULTS.md)
    python benchmarks/bench_som.py                 # 5 to 10 minutes on 2 shared CPU cores
    python benchmarks/bench_som.py --cases credit  # seconds
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import time
import warnings

import numpy as np
import torch

from deepzoo import SelfOrganizingMap


def quantization_error(W: np.ndarray, X: np.ndarray) -> float:
    """Mean Euclidean distance to the nearest row of W, in float64, the same for every tool."""
    W, X = W.reshape(-1, X.shape[1]).astype(np.float64), X.astype(np.float64)
    squared = (X**2).sum(1)[:, None] + (W**2).sum(1)[None] - 2 * X @ W.T
    return float(np.sqrt(np.maximum(squared.min(1), 0)).mean())


def topographic_error(W: np.ndarray, X: np.ndarray, n_columns: int) -> float:
    """Share of samples whose two nearest units are not neighbours on the rectangular grid (8 around)."""
    W, X = W.reshape(-1, X.shape[1]).astype(np.float64), X.astype(np.float64)
    scores = (W**2).sum(1)[None] - 2 * X @ W.T
    best_two = np.argsort(scores, axis=1)[:, :2]
    rows, cols = np.divmod(best_two, n_columns)
    return float(np.mean(np.hypot(rows[:, 0] - rows[:, 1], cols[:, 0] - cols[:, 1]) > 1.42))


def load_credit() -> np.ndarray:
    from sklearn.preprocessing import MinMaxScaler

    from deepzoo.cases.fraud import ATTRIBUTES, load_data

    return MinMaxScaler().fit_transform(load_data()[list(ATTRIBUTES)].to_numpy(float)).astype(np.float32)


def load_mnist(n_rows: int, random: bool = False) -> tuple[np.ndarray, str]:
    from deepzoo.data.registry import DatasetNotFoundError, dataset_file

    if random:
        return np.random.default_rng(0).random((n_rows, 784), dtype=np.float32), f"random {n_rows:,} x 784"
    try:
        path = dataset_file("mnist", "train-images-idx3-ubyte.gz")
    except (DatasetNotFoundError, ValueError) as exc:
        print(f"MNIST not found ({str(exc)[:80]}...): using uniform random data of the same shape")
        return np.random.default_rng(0).random((n_rows, 784), dtype=np.float32), "random 20,000 x 784"
    with gzip.open(path) as stream:
        images = np.frombuffer(stream.read(), np.uint8, offset=16).reshape(-1, 784)
    return (images[:n_rows] / 255.0).astype(np.float32), f"MNIST train[:{n_rows}]"


def run_case(name, X, grid, sigma, sigma_decay, random_order, plan, tools) -> list[dict]:
    """Train each tool from the same start; ``plan`` lists MiniSom's and deepzoo online's update counts and
    the batch tools' pass counts."""
    n_rows, n_columns = grid
    init = X[np.random.default_rng(0).integers(0, len(X), n_rows * n_columns)].copy()  # (U, D)
    minisom_sigma = {"asymptotic": "asymptotic_decay", "linear": "linear_decay_to_one"}[sigma_decay]
    results = []

    def record(tool, algorithm, samples, what, weights, seconds):
        row = dict(
            case=name, tool=tool, algorithm=algorithm, samples=samples, iterations=what, seconds=seconds
        )
        row.update(qe=quantization_error(weights, X), te=topographic_error(weights, X, n_columns))
        results.append(row)
        print(f"{name:7s} {tool:8s} {algorithm:7s} {what:>16s} {seconds:9.2f} s  QE {row['qe']:.4f}  "
              f"TE {row['te']:.4f}", flush=True)  # fmt: skip

    for n_updates in plan["minisom_updates"] if "minisom" in tools else []:
        from minisom import MiniSom

        ms = MiniSom(n_rows, n_columns, X.shape[1], sigma=sigma, learning_rate=0.5, random_seed=0,
                     sigma_decay_function=minisom_sigma)  # fmt: skip
        ms._weights = init.reshape(n_rows, n_columns, -1).astype(np.float64)  # the shared start
        started = time.perf_counter()
        ms.train(X, n_updates, random_order=random_order)
        weights, seconds = ms.get_weights(), time.perf_counter() - started
        record("MiniSom", "online", n_updates, f"{n_updates:,} updates", weights, seconds)
    common = dict(sigma=sigma, sigma_decay=sigma_decay, init=init, random_state=0, device="cpu")
    for n_updates in plan["online_updates"] if "deepzoo-online" in tools else []:
        som = SelfOrganizingMap(grid, algorithm="online", max_iter=n_updates, shuffle=random_order, **common)
        started = time.perf_counter()
        weights, seconds = som.fit(X).cluster_centers_, time.perf_counter() - started
        record("deepzoo", "online", n_updates, f"{n_updates:,} updates", weights, seconds)
    for passes in plan["batch_passes"] if "deepzoo-batch" in tools else []:
        som = SelfOrganizingMap(grid, algorithm="batch", max_iter=passes, **common)
        started = time.perf_counter()
        weights, seconds = som.fit(X).cluster_centers_, time.perf_counter() - started
        record("deepzoo", "batch", passes * len(X), f"{passes} passes", weights, seconds)
    for passes in plan["somoclu_passes"] if "somoclu" in tools else []:
        try:
            import somoclu

            som = somoclu.Somoclu(
                n_columns, n_rows, initialcodebook=init.copy(), compactsupport=False, std_coeff=1.0
            )
            final = sigma / 3 if sigma_decay == "asymptotic" else 1.0
            started = time.perf_counter()
            som.train(X, epochs=passes, radius0=sigma, radiusN=final, scale0=1.0, scaleN=1.0)
            weights, seconds = som.codebook.reshape(-1, X.shape[1]), time.perf_counter() - started
            record("somoclu", "batch", passes * len(X), f"{passes} passes", weights, seconds)
        except Exception as exc:  # not installed, or installed without its compiled library
            print(f"somoclu skipped: {type(exc).__name__}: {str(exc)[:120]}")
    return results


def interleaved(X: np.ndarray, rounds: int, passes: int) -> None:
    """Load-matched timing on a shared machine: alternate 1,000 MiniSom updates (on the 30x30 map, over
    the same sigma schedule as 20,000) with one whole deepzoo batch fit, ``rounds`` times; MiniSom's
    20,000-update time is estimated as 20 x its median 1,000-update chunk (its steps cost the same)."""
    from minisom import MiniSom

    n = len(X)
    init = X[np.random.default_rng(0).integers(0, n, 900)].copy()
    ms = MiniSom(30, 30, X.shape[1], sigma=5.0, learning_rate=0.5, random_seed=0,
                 sigma_decay_function="linear_decay_to_one")  # fmt: skip
    ms._weights = init.reshape(30, 30, -1).astype(np.float64)
    chunks, fits = [], []
    for r in range(rounds):
        started = time.perf_counter()
        for t in range(r * n // rounds, r * n // rounds + 1000):  # a slice of the schedule per round
            x = X[t % n]
            ms.update(x, ms.winner(x), t, n)
        chunks.append(time.perf_counter() - started)
        som = SelfOrganizingMap((30, 30), sigma=5.0, sigma_decay="linear", init=init, max_iter=passes,
                                random_state=0, device="cpu")  # fmt: skip
        started = time.perf_counter()
        som.fit(X)
        fits.append(time.perf_counter() - started)
        print(f"round {r + 1}: MiniSom 1,000 updates {chunks[-1]:.2f} s, deepzoo batch {passes} passes "
              f"{fits[-1]:.2f} s", flush=True)  # fmt: skip
    estimate = n / 1000 * float(np.median(chunks))
    print(f"interleaved: MiniSom {n:,} updates ~ {estimate:.1f} s (20 x median chunk), deepzoo batch median "
          f"{np.median(fits):.2f} s: {estimate / np.median(fits):.1f}x")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", nargs="+", default=["credit", "mnist"], choices=["credit", "mnist"])
    parser.add_argument(
        "--tools", nargs="+", default=["minisom", "deepzoo-online", "deepzoo-batch", "somoclu"]
    )
    parser.add_argument("--mnist-rows", type=int, default=20_000)
    parser.add_argument("--mnist-passes", type=int, default=5, help="batch passes on MNIST")
    help_passes = "MiniSom runs on MNIST, in passes of updates (5: as many samples as the batch tools see)"
    parser.add_argument("--minisom-passes", type=int, nargs="+", default=[1], help=help_passes)
    parser.add_argument("--random-data", action="store_true", help="uniform random data instead of MNIST")
    help_interleaved = "instead: alternate MiniSom chunks and deepzoo batch fits on MNIST (load-matched)"
    parser.add_argument("--interleaved", type=int, metavar="ROUNDS", help=help_interleaved)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    warnings.simplefilter("ignore", UserWarning)  # MNIST's blank border pixels: zero-variance warning
    print(f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
          f"torch {torch.__version__}, numpy {np.__version__}")  # fmt: skip
    if args.interleaved:
        X, what = load_mnist(args.mnist_rows, random=args.random_data)
        print(f"mnist: {what}")
        return interleaved(X, args.interleaved, args.mnist_passes)
    results = []
    if "credit" in args.cases:
        X = load_credit()
        plan = dict(
            minisom_updates=[10_000], online_updates=[10_000], batch_passes=[15, 50], somoclu_passes=[15]
        )
        results += run_case("credit", X, (10, 10), 1.0, "asymptotic", False, plan, args.tools)
    if "mnist" in args.cases:
        X, what = load_mnist(args.mnist_rows, random=args.random_data)
        print(f"mnist: {what}")
        n, passes = len(X), args.mnist_passes
        plan = dict(minisom_updates=sorted({k * n for k in args.minisom_passes}), online_updates=[n],
                    batch_passes=[passes], somoclu_passes=[passes])  # fmt: skip
        results += run_case("mnist", X, (30, 30), 5.0, "linear", True, plan, args.tools)
    print("\nagainst each MiniSom run (speed: MiniSom seconds / tool seconds; QE: tool / MiniSom - 1)")
    for base in [r for r in results if r["tool"] == "MiniSom"]:
        for r in results:
            if r["case"] == base["case"] and r["tool"] != "MiniSom":
                speed, qe = base["seconds"] / r["seconds"], 100 * (r["qe"] / base["qe"] - 1)
                print(f"{r['case']:7s} {r['tool']:8s} {r['algorithm']:7s} {r['iterations']:>16s} vs MiniSom "
                      f"{base['iterations']:>16s}: {speed:7.1f}x faster, QE {qe:+.2f}%")  # fmt: skip
    if args.json:
        with open(args.json, "w") as stream:
            json.dump(results, stream, indent=1)


if __name__ == "__main__":
    main()
