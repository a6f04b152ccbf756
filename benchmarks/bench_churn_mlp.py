"""deepzoo's MLPClassifier against scikit-learn's and a Keras-style recipe on the churn data, in one run.

All models see the same seed-0 80/20 split of Churn_Modelling.csv and the same preprocessing (the
course's: one-hot Geography, encode Gender, standard-scale everything). Fitted one after the other,
so that they share whatever load the machine has:

* ``deepzoo``          MLPClassifier((64, 32)) with exactly the settings of ``sklearn`` below (ReLU,
                       Adam 0.002, alpha 1e-4, batch 512, no dropout or batch norm) for exactly
                       ``--epochs`` epochs: the like-for-like speed comparison;
* ``deepzoo-case``     what ``deepzoo run churn`` fits: the case study's settings (batch norm,
                       dropout 0.2, early stopping on 10% held out, patience 30, best weights restored);
* ``sklearn``          sklearn.neural_network.MLPClassifier with the same layers, solver, learning
                       rate, alpha, batch size and number of epochs (its loss-plateau stop disabled);
* ``sklearn-1t``       the same with its BLAS held to one thread (as deepzoo holds torch to one thread
                       for a net this small): on a shared 2-core machine BLAS threads can spin-wait;
* ``sklearn-b200``     the same at scikit-learn's default batch size (200);
* ``keras-recipe``     the course's Keras network (2 x 6 ReLU, sigmoid output, Adam, batch 10,
                       100 epochs), written in plain PyTorch the way a Keras user writes it: a
                       TensorDataset, a DataLoader and the usual loop.

Reported per model: test accuracy, ROC-AUC, fit seconds (median of ``--repeats`` fits; the recipe
once) and the fit-time ratio to deepzoo.

    pip install "torch==2.13.0" ".[bench]"
    DEEPZOO_DATA_DIR=../shared/datasets python benchmarks/bench_churn_mlp.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
import warnings

import numpy as np
import sklearn
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.pipeline import Pipeline

from deepzoo import MLPClassifier
from deepzoo.cases.churn import Config, network_settings
from deepzoo.data import churn as churn_data


def deepzoo_model(epochs: int) -> MLPClassifier:
    c = Config()
    return MLPClassifier(
        c.hidden_layer_sizes,
        alpha=c.alpha,
        learning_rate=c.learning_rate,
        batch_size=c.batch_size,
        max_iter=epochs,
        n_iter_no_change=epochs + 1,  # never stop on a loss plateau: exactly `epochs` epochs
        random_state=0,
        device="cpu",
    )


def deepzoo_case_model() -> MLPClassifier:
    """The MLP of the churn case study, as ``deepzoo run churn`` sets it over the table task's."""
    return MLPClassifier(random_state=0, device="cpu", **network_settings(Config()))


def sklearn_model(epochs: int, batch_size: int) -> SkMLPClassifier:
    c = Config()
    return SkMLPClassifier(
        c.hidden_layer_sizes,
        activation="relu",
        solver="adam",
        alpha=c.alpha,
        learning_rate_init=c.learning_rate,
        batch_size=batch_size,
        max_iter=epochs,
        n_iter_no_change=epochs + 1,  # never stop on a loss plateau: exactly `epochs` epochs
        random_state=0,
    )


class OneThread:
    """A model whose fit runs with BLAS/OpenMP held to one thread."""

    def __init__(self, model):
        self.model = model

    def fit(self, X, y):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            self.model.fit(X, y)
        self.n_iter_ = self.model.n_iter_
        return self

    def predict_proba(self, X):
        return self.model.predict_proba(X)


class KerasRecipe:
    """The course's Keras ANN (Dense(6, relu), Dense(6, relu), Dense(1, sigmoid); Adam; batch 10)."""

    def __init__(self, epochs: int = 100, batch_size: int = 10, seed: int = 0):
        self.epochs, self.batch_size, self.seed = epochs, batch_size, seed

    def fit(self, X, y):
        torch.manual_seed(self.seed)
        self.net = torch.nn.Sequential(
            torch.nn.Linear(X.shape[1], 6),
            torch.nn.ReLU(),
            torch.nn.Linear(6, 6),
            torch.nn.ReLU(),
            torch.nn.Linear(6, 1),
        )
        data = torch.utils.data.TensorDataset(
            torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)
        )
        loader = torch.utils.data.DataLoader(data, batch_size=self.batch_size, shuffle=True)
        optimizer = torch.optim.Adam(self.net.parameters())  # Keras' default Adam: lr 0.001
        loss_fn = torch.nn.BCEWithLogitsLoss()
        for _ in range(self.epochs):
            for xb, yb in loader:
                optimizer.zero_grad()
                loss_fn(self.net(xb).squeeze(1), yb).backward()
                optimizer.step()
        return self

    def predict_proba(self, X):
        with torch.no_grad():
            p = torch.sigmoid(self.net(torch.as_tensor(X, dtype=torch.float32))).squeeze(1).numpy()
        return np.column_stack([1 - p, p])


def measure(make, X_train, y_train, X_test, y_test, repeats: int) -> dict:
    """Fit ``make()`` ``repeats`` times; median seconds, scores of the last fit."""
    seconds = []
    for _ in range(repeats):
        model = make()
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train, y_train)
        seconds.append(time.perf_counter() - started)
    proba = model.predict_proba(X_test)[:, 1]
    return {
        "accuracy": accuracy_score(y_test, proba >= 0.5),
        "roc_auc": roc_auc_score(y_test, proba),
        "fit_seconds": statistics.median(seconds),
        "epochs": getattr(model, "n_iter_", getattr(model, "epochs", None)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100, help="epochs of the fixed-budget MLPs")
    parser.add_argument("--repeats", type=int, default=3, help="fits per model; the median time counts")
    parser.add_argument("--no-recipe", action="store_true", help="skip the (slow) batch-10 Keras recipe")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()

    X, y = churn_data.load_data()
    X_train, X_test, y_train, y_test = churn_data.split(X, y, 0.2, 0)
    prep = Pipeline(churn_data.scaled_pipeline_steps()).fit(X_train)
    Xtr = prep.transform(X_train).astype(np.float32)
    Xte = prep.transform(X_test).astype(np.float32)
    print(
        f"{platform.platform()} | {os.cpu_count()} CPUs | Python {platform.python_version()} | torch "
        f"{torch.__version__} (threads {torch.get_num_threads()}) | scikit-learn {sklearn.__version__}"
    )
    print(f"churn: {len(Xtr)} training and {len(Xte)} test customers, {Xtr.shape[1]} features\n")

    # the first torch optimizer of a process imports torch._dynamo (seconds): pay it before any timing
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    candidates = {
        "deepzoo": (lambda: deepzoo_model(args.epochs), args.repeats),
        "deepzoo-case": (deepzoo_case_model, args.repeats),
        "sklearn": (lambda: sklearn_model(args.epochs, Config().batch_size), args.repeats),
        "sklearn-1t": (lambda: OneThread(sklearn_model(args.epochs, Config().batch_size)), args.repeats),
        "sklearn-b200": (lambda: sklearn_model(args.epochs, 200), args.repeats),
    }
    if not args.no_recipe:
        candidates["keras-recipe"] = (lambda: KerasRecipe(), 1)
    results = {}
    for name, (make, repeats) in candidates.items():
        results[name] = measure(make, Xtr, y_train, Xte, y_test, repeats)
        r = results[name]
        print(
            f"{name:13s} accuracy {r['accuracy']:.4f}  roc_auc {r['roc_auc']:.4f}  "
            f"fit {r['fit_seconds']:7.2f} s  epochs {r['epochs']}",
            flush=True,
        )
    base = results["deepzoo"]["fit_seconds"]
    print("\nfit-time ratio of each model to deepzoo (fixed epochs, same settings as sklearn):")
    for name in results:
        if name != "deepzoo":
            print(f"  {name:13s} {results[name]['fit_seconds'] / base:6.1f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"epochs": args.epochs, "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
