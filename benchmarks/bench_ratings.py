"""deepzoo fit on ratings, defaults only, beside the bias model, the global mean / majority and Surprise.

For each ratings set, ``deepzoo.fit`` runs exactly as a user runs it (auto-detected task, its seeded
split where every test user and item is also in training, the deep model's defaults, its baselines:
the bias model and the trivial answer); Surprise's SVD and BaselineOnly (when scikit-surprise is
installed: the ``bench`` extra) are then fitted on the same split, in the same run. One row per set.

Sets (all from ``$DEEPZOO_DATA_DIR/movielens_100k/u.data`` or drawn by ``make_ratings``):

* ``ml100k``: MovieLens 100K, 1-5 stars;
* ``ml100k_half``: the same ratings divided by 2, a half-star scale 0.5-2.5 (same structure, other
  numbers: checks that nothing assumes 1-5 stars);
* ``ml100k_liked``: the course's liked / not liked (rating >= 3 -> 1, else 0): binary, the RBM;
* ``synthetic_half``: ``make_ratings(610, 9724, 100836, scale=(0.5, 5), step=0.5, random_state=0)``,
  the shape of MovieLens' "latest-small" half-star set (610 users, 9,724 items, most rated a few
  times), with a clear taste signal (taste 0.6, noise 0.6);
* ``synthetic_half_weak``: the same with taste 0.4 and noise 0.8, where the taste is nearly out of
  reach at this sparsity (Surprise's SVD gains ~0.3% over the bias model on it).

    DEEPZOO_DATA_DIR=../shared/datasets python benchmarks/bench_ratings.py
    python benchmarks/bench_ratings.py --sets ml100k ml100k_liked --json /tmp/ratings.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import deepzoo
from deepzoo.data.ratings import make_ratings
from deepzoo.tasks.ratings import ratings_table, split


def load(name: str) -> pd.DataFrame:
    if name.startswith("ml100k"):
        folder = Path(os.environ.get("DEEPZOO_DATA_DIR", "../shared/datasets")) / "movielens_100k"
        names = ["user", "item", "rating", "time"]
        frame = pd.read_csv(folder / "u.data", sep="\t", header=None, names=names)[names[:3]]
        if name == "ml100k_half":
            return frame.assign(rating=frame["rating"] / 2)
        if name == "ml100k_liked":
            return frame.assign(rating=(frame["rating"] >= 3).astype(int)).rename(columns={"rating": "liked"})
        return frame
    shape = dict(n_users=610, n_items=9724, n_ratings=100836, scale=(0.5, 5), step=0.5, random_state=0)
    if name == "synthetic_half":
        return make_ratings(**shape)
    if name == "synthetic_half_weak":
        return make_ratings(**shape, taste=0.4, noise=0.8)
    raise ValueError(name)


def surprise_models(train: pd.DataFrame, test: pd.DataFrame, binary: bool, seed: int) -> dict:
    """{name: (score, seconds)} of Surprise's SVD and BaselineOnly on the same split; {} without it."""
    try:
        import surprise
    except ImportError:
        return {}
    from sklearn.metrics import roc_auc_score

    truth = test.iloc[:, 2].to_numpy(float)
    scale = (float(train.iloc[:, 2].min()), float(train.iloc[:, 2].max()))
    data = surprise.Dataset.load_from_df(train.iloc[:, :3], surprise.Reader(rating_scale=scale))
    trainset = data.build_full_trainset()
    out = {}
    for name, algo in (
        ("svd", surprise.SVD(random_state=seed)),
        ("baseline_only", surprise.BaselineOnly(verbose=False)),
    ):
        started = time.perf_counter()
        algo.fit(trainset)
        pred = np.array([algo.predict(u, i).est for u, i in zip(test.iloc[:, 0], test.iloc[:, 1])])
        seconds = time.perf_counter() - started
        score = roc_auc_score(truth >= 0.5, pred) if binary else float(np.sqrt(np.mean((pred - truth) ** 2)))
        out[name] = (float(score), seconds)
    return out


def main() -> None:
    sets = ["ml100k", "ml100k_half", "ml100k_liked", "synthetic_half", "synthetic_half_weak"]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=sets, choices=sets)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args()
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((line.split(":", 1)[1].strip() for line in cpu.splitlines() if "Model name" in line), "?")
    print(f"# {platform.node()} {model}, {os.cpu_count()} CPUs, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads)")  # fmt: skip
    rows = []
    for name in args.sets:
        frame = load(name)
        load_before = os.getloadavg()[0]
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            result = deepzoo.fit(frame, out=out, seed=args.seed, device="cpu")
            total = time.perf_counter() - started
        m = result.metrics
        binary = "roc_auc" in m
        metric = "roc_auc" if binary else "rmse"
        trivial = "majority" if binary else "mean"
        row = {
            "set": name,
            "model": type(result.model).__name__,
            "n_test": m["n_test"],
            "metric": metric,
            "deepzoo": m[metric],
            "bias": m[f"baseline_bias_{metric}"],
            "trivial": m[f"baseline_{trivial}_{metric}"],
            "ratio_to_bias": m[metric] / m[f"baseline_bias_{metric}"],
            "deepzoo_seconds": m["fit_seconds"],
            "epochs": m["epochs"],
            "run_seconds": total,
        }
        if binary:
            row["accuracy"] = m["accuracy"]
            row["bias_accuracy"] = m["baseline_bias_accuracy"]
            row["majority_accuracy"] = m["baseline_majority_accuracy"]
        # the same split as deepzoo's, for the peers
        table, _ = ratings_table(frame, dict(zip(("user", "item", "rating"), frame.columns)))
        train, test = split(table, 0.2, args.seed)
        assert len(test) == m["n_test"], "the peers must see deepzoo's split"
        for peer, (score, seconds) in surprise_models(train, test, binary, args.seed).items():
            row[f"surprise_{peer}"], row[f"surprise_{peer}_seconds"] = score, seconds
        row["load"] = f"{load_before:.1f} -> {os.getloadavg()[0]:.1f}"
        rows.append(row)
        shown = "  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items())
        print(shown, flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
