"""deepzoo's recommenders against Surprise's SVD and SVD++ on MovieLens 100K u1, in one run.

Every model is fitted on u1.base (80,000 ratings) and scored on u1.test (20,000), one after the
other on the same machine:

* ``AutoRec (item)``  AutoEncoderRecommender(kind='item') with the movies_autoencoder case's settings
  (deepzoo fit's defaults since issue 13: residual over the bias model, denoising, early stopping);
* ``AutoEncoder (user)``  the course's model: kind='user', 20-10 sigmoid layers;
* ``RBM``  RBMRecommender with the movies_rbm case's settings (liked / not liked, so only accuracy);
* ``Surprise SVD`` and ``Surprise SVD++`` with their defaults (skipped when scikit-surprise is absent).

Reported: RMSE and MAE of the predicted stars (accuracy of liked / not liked for the RBM and, with
predictions >= 2.5 meaning liked, for the others) and the fit seconds.

    pip install "torch==2.13.0" ".[bench]"
    DEEPZOO_DATA_DIR=../shared/datasets python benchmarks/bench_recommenders.py
    python benchmarks/bench_recommenders.py --models autorec svd --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings

import numpy as np
import torch

from deepzoo import AutoEncoderRecommender
from deepzoo.cases import movies_autoencoder, movies_rbm
from deepzoo.data.ratings import load_movielens_100k
from deepzoo.models.recommend import ColdStartWarning
from deepzoo.tasks.ratings import surprise_svd


def deepzoo_model(name: str, seed: int):
    if name == "autorec":
        config = movies_autoencoder.Config(seed=seed, device="cpu")
        return movies_autoencoder.make_model(config)
    if name == "user":
        # the course's model as it was: no bias model, no denoising, a fixed budget; alpha is per
        # observed rating (2e-3 x the 5% observed share of u1.base's matrix = the 1e-4 decay used before)
        return AutoEncoderRecommender(
            "user", hidden_layer_sizes=(20, 10), activation="sigmoid", alpha=2e-3, learning_rate=0.003,
            batch_size=16, max_iter=60, residual=False, input_dropout=0.0, early_stopping=False,
            device="cpu", random_state=seed,
        )  # fmt: skip
    if name == "rbm":
        return movies_rbm.make_model(movies_rbm.Config(seed=seed, device="cpu"))
    raise ValueError(name)


LABELS = {"autorec": "AutoRec (item)", "user": "AutoEncoder (user)", "rbm": "RBM", "svd": "Surprise SVD",
          "svdpp": "Surprise SVD++"}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(LABELS), choices=list(LABELS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    print(
        f"# {platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads)"
    )
    train, test, _ = load_movielens_100k("u1")
    truth = test["rating"].to_numpy()
    liked = truth >= 3
    results = []
    for seed in args.seeds:
        for name in args.models:
            row = {"model": LABELS[name], "seed": seed}
            if name in ("svd", "svdpp"):
                out = surprise_svd(train, test, seed, "SVD" if name == "svd" else "SVDpp")
                if out is None:
                    print(f"{LABELS[name]}: scikit-surprise is not installed; skipped")
                    continue
                pred, row["fit_seconds"] = out
            else:
                model = deepzoo_model(name, seed)
                started = time.perf_counter()
                model.fit(train)
                row["fit_seconds"] = time.perf_counter() - started
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ColdStartWarning)
                    pred = model.predict(test["user"], test["item"])
            if name == "rbm":
                row["accuracy"] = float(np.mean((pred >= 0.5) == liked))
            else:
                row["rmse"] = float(np.sqrt(np.mean((pred - truth) ** 2)))
                row["mae"] = float(np.mean(np.abs(pred - truth)))
                row["accuracy"] = float(np.mean((pred >= 2.5) == liked))
            results.append(row)
            shown = "  ".join(f"{k} {v:.4f}" for k, v in row.items() if isinstance(v, float))
            print(f"seed {seed}  {row['model']:20s} {shown}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
