"""deepzoo fit --tune against the untuned defaults, the baselines and a peer (issue 19), one run per set.

    python benchmarks/bench_tune.py --only adult --tune-time 600            # the issue's budget on adult
    python benchmarks/bench_tune.py --only diabetes california_housing --tune 30
    python benchmarks/bench_tune.py --only diabetes --pruning                # the same study unpruned too
    python benchmarks/bench_tune.py --only diabetes --peer                   # Optuna + scikit-learn's MLP
    python benchmarks/bench_tune.py --only adult --tune-time 600 --autogluon /work/ag-venv/bin/python
    python benchmarks/bench_tune.py --only breast_cancer --pruning --set n_members=1   # cheaper trials

Each row: the test figure of the untuned MLP ("MLP (deepzoo, default)"), of the tuned one and of the best
baseline, all from the one leaderboard deepzoo.fit writes (same split); the tuning's trials, pruned trials,
trial-epochs and seconds. ``--pruning`` runs the same study again with Optuna's NopPruner and reports the
trial-epochs pruning saved and both best validation scores. ``--peer`` tunes scikit-learn's
MLPClassifier/MLPRegressor with Optuna on the same encoded features, the same validation rows and the same
number of trials, refits the best on the training rows and scores it on the same test rows.
The issue's targets are checked at the end.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_own_data import DATASETS, TABLE_CLASSIFICATION  # noqa: E402

import deepzoo  # noqa: E402

TABLES = (*TABLE_CLASSIFICATION, "california_housing", "insurance", "diabetes")


def _load(name: str):
    data, target = DATASETS[name]
    return (data() if callable(data) else data), target


def _figures(result) -> dict:
    board = result.leaderboard.set_index("model")
    metric = {"classify": "roc_auc" if "roc_auc" in board else "accuracy", "regress": "rmse"}[result.task]
    higher = metric != "rmse"
    baselines = board[(board["kind"] == "baseline") & (board.index != "MLP (deepzoo, default)")]
    best = baselines[metric].idxmax() if higher else baselines[metric].idxmin()
    m = result.metrics
    return {
        "metric": metric,
        "default": float(board.loc["MLP (deepzoo, default)", metric]),
        "tuned": float(board.loc["MLP (deepzoo, tuned)", metric]),
        "best_baseline": best,
        "baseline": float(board.loc[best, metric]),
        "trials": m["tune_trials"],
        "pruned": m["tune_pruned"],
        "trial_epochs": m["tune_trial_epochs"],
        "tune_s": round(m["tune_seconds"], 1),
        "val_default": m["tune_default_value"],
        "val_best": m["tune_best_value"],
        "tuned_fit_s": float(board.loc["MLP (deepzoo, tuned)", "fit_seconds"]),
        "default_fit_s": float(board.loc["MLP (deepzoo, default)", "fit_seconds"]),
    }


def run_one(name: str, args, out_root: Path) -> dict:
    data, target = _load(name)
    if args.peer_only:
        return {"dataset": name, **_peer(None, name, data, target, args, args.tune)}
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = deepzoo.fit(
            data,
            target,
            out=out_root / name,
            seed=args.seed,
            tune=args.tune,
            tune_time=args.tune_time,
            settings=args.settings,
        )
    row = {"dataset": name, **_figures(result), "total_s": round(time.perf_counter() - started, 1)}
    if args.pruning:
        row.update(_unpruned(name, data, target, args, out_root, row))
    if args.peer:
        row.update(_peer(result, name, data, target, args, row["trials"], row["tune_s"]))
    if args.autogluon:
        row.update(_autogluon(name, data, target, args, row["tune_s"]))
    return row


def _unpruned(name, data, target, args, out_root, pruned_row) -> dict:
    """The same study (same seed, same trials or time) with Optuna's NopPruner."""
    import optuna

    from deepzoo.tasks import tune

    keep = tune._pruner
    tune._pruner = optuna.pruners.NopPruner
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = deepzoo.fit(
                data,
                target,
                out=out_root / f"{name}-unpruned",
                seed=args.seed,
                tune=args.tune,
                tune_time=args.tune_time,
                settings=args.settings,
            )
    finally:
        tune._pruner = keep
    m = result.metrics
    saved = 1 - pruned_row["trial_epochs"] / max(1, m["tune_trial_epochs"])
    return {
        "unpruned_trials": m["tune_trials"],
        "unpruned_trial_epochs": m["tune_trial_epochs"],
        "unpruned_val_best": m["tune_best_value"],
        "unpruned_tune_s": round(m["tune_seconds"], 1),
        "epochs_saved": round(saved, 3),
    }


def _peer(result, name, data, target, args, n_trials: int, seconds: float | None = None) -> dict:
    """Optuna + scikit-learn's MLP: the same encoded features (deepzoo's TableEncoder), the same
    validation rows carved from the same training rows, the same number of trials and at most the
    same ``seconds`` of tuning as deepzoo's study; test scored once."""
    import optuna
    from sklearn.base import clone
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import Pipeline

    from deepzoo.tasks import table, tune
    from deepzoo.tasks.base import FitConfig, classification_scores, regression_scores
    from deepzoo.tasks.detect import detect

    config = FitConfig(target=target, seed=args.seed)
    frame = data if isinstance(data, pd.DataFrame) else None
    source = detect(frame if frame is not None else data, config)
    _, _, X_train, y_train, X_test, y_test = table.train_test(source, config)
    task = source.schema.task
    y_tr = table.target_values(y_train, task)
    carve = FitConfig(seed=args.seed, test_size=tune.VALIDATION_FRACTION)
    X_fit, X_val, y_fit, y_val, _ = table.split(X_train, y_train, task, carve)
    y_fit, y_val = table.target_values(y_fit, task), table.target_values(y_val, task)
    metric, direction = tune.tuning_metric(task, y_train.nunique() if task == "classify" else None)
    Estimator = MLPClassifier if task == "classify" else MLPRegressor
    shapes = {
        "64": (64,),
        "128": (128,),
        "128-64": (128, 64),
        "256-128": (256, 128),
        "256-128-64": (256, 128, 64),
    }

    def make(params):
        est = Estimator(
            hidden_layer_sizes=shapes[params["hidden_layer_sizes"]],
            alpha=params["alpha"],
            learning_rate_init=params["learning_rate_init"],
            batch_size=params["batch_size"],
            early_stopping=True,
            max_iter=200,
            random_state=args.seed,
        )
        return Pipeline([("encode", table.encoder_for(source.schema)), ("mlp", est)])

    def score(model, X, y):
        if task == "classify":
            classes = model[-1].classes_
            return classification_scores(y, model.predict_proba(X), classes)
        return regression_scores(y, model.predict(X))

    def objective(trial):
        params = {
            "hidden_layer_sizes": trial.suggest_categorical("hidden_layer_sizes", list(shapes)),
            "alpha": trial.suggest_float("alpha", 1e-6, 1e-1, log=True),
            "learning_rate_init": trial.suggest_float("learning_rate_init", 1e-4, 1e-2, log=True),
            "batch_size": trial.suggest_categorical("batch_size", [64, 128, 256, 512]),
        }
        model = make(params).fit(X_fit, y_fit)
        return score(model, X_val, y_val)[metric]

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction=direction, sampler=optuna.samplers.TPESampler(seed=args.seed))
    study.enqueue_trial(
        {"hidden_layer_sizes": "128", "alpha": 1e-4, "learning_rate_init": 1e-3, "batch_size": 256}
    )
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(objective, n_trials=n_trials, timeout=seconds)
        tune_s = time.perf_counter() - started
        best = clone(make(study.best_params)).fit(X_train, y_tr)
    test = score(best, X_test, y_test)
    primary = (
        "roc_auc"
        if task == "classify" and "roc_auc" in test
        else ("accuracy" if task == "classify" else "rmse")
    )
    return {
        "peer_sklearn_mlp": test[primary],
        "peer_trials": len(study.trials),
        "peer_tune_s": round(tune_s, 1),
        "peer_val_best": study.best_value,
    }


# run by the AutoGluon venv's python: fit TabularPredictor on train.parquet within the time limit,
# write its test predictions (probabilities of each class, or numbers) to pred.parquet
_AUTOGLUON_SCRIPT = """
import json, sys, time
import pandas as pd
from autogluon.tabular import TabularPredictor
folder, target, problem, metric, limit = sys.argv[1:6]
train = pd.read_parquet(folder + "/train.parquet")
test = pd.read_parquet(folder + "/test.parquet")
started = time.perf_counter()
predictor = TabularPredictor(label=target, problem_type=problem, eval_metric=metric, path=folder + "/ag",
                             verbosity=0).fit(train, time_limit=float(limit))
fit_s = time.perf_counter() - started
if problem == "regression":
    out = pd.DataFrame({"prediction": predictor.predict(test)})
else:
    out = predictor.predict_proba(test)
    out.columns = [str(c) for c in out.columns]
out.to_parquet(folder + "/pred.parquet")
print(json.dumps({"fit_s": fit_s, "best": predictor.model_best}))
"""


def _autogluon(name, data, target, args, seconds: float) -> dict:
    """AutoGluon's TabularPredictor (its default preset) with ``time_limit`` equal to deepzoo's tuning
    time, on the same training rows, scored on the same test rows by deepzoo's own metrics. It runs in
    its own venv (``--autogluon PYTHON``; never a deepzoo dependency), fed through Parquet files."""
    import subprocess

    from deepzoo.tasks import table
    from deepzoo.tasks.base import FitConfig, classification_scores, regression_scores
    from deepzoo.tasks.detect import detect

    config = FitConfig(target=target, seed=args.seed)
    source = detect(data, config)
    _, _, X_train, y_train, X_test, y_test = table.train_test(source, config)
    task = source.schema.task
    classes = np.unique(y_train) if task == "classify" else None
    problem = "regression" if task == "regress" else ("binary" if len(classes) == 2 else "multiclass")
    metric = {"regression": "root_mean_squared_error", "binary": "roc_auc", "multiclass": "log_loss"}[problem]
    with tempfile.TemporaryDirectory(prefix="bench_ag_") as folder:
        X_train.assign(**{target: y_train}).to_parquet(f"{folder}/train.parquet")
        X_test.to_parquet(f"{folder}/test.parquet")
        started = time.perf_counter()
        done = subprocess.run(
            [str(args.autogluon), "-c", _AUTOGLUON_SCRIPT, folder, target, problem, metric, str(seconds)],
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
        if done.returncode != 0:
            print(done.stderr[-3000:], file=sys.stderr)
            return {"autogluon": None, "autogluon_s": round(wall, 1)}
        facts = json.loads(done.stdout.strip().splitlines()[-1])
        pred = pd.read_parquet(f"{folder}/pred.parquet")
    if task == "classify":
        proba = pred[[str(c) for c in classes]].to_numpy()
        test = classification_scores(y_test.to_numpy(), proba, classes)
        primary = "roc_auc" if "roc_auc" in test else "accuracy"
    else:
        test, primary = (
            regression_scores(y_test.to_numpy().astype(float), pred["prediction"].to_numpy()),
            "rmse",
        )
    return {
        "autogluon": test[primary],
        "autogluon_fit_s": round(facts["fit_s"], 1),
        "autogluon_s": round(wall, 1),
        "autogluon_best": facts["best"],
    }


def check_targets(rows: pd.DataFrame) -> list[str]:
    lines = []
    for _, r in rows.iterrows():
        if r.dataset == "adult":
            gap = r.tuned - r.baseline
            lines.append(
                f"adult: tuned ROC-AUC {r.tuned:.4f} vs {r.best_baseline} {r.baseline:.4f} "
                f"({gap:+.4f}; target >= -0.005) in {r.tune_s:.0f} s of tuning (target <= 600): "
                + ("met" if gap >= -0.005 and r.tune_s <= 600 else "NOT met")
            )
        if r.dataset in ("california_housing", "diabetes"):
            lines.append(
                f"{r.dataset}: tuned RMSE {r.tuned:.4g} vs best baseline {r.baseline:.4g} "
                f"({r.best_baseline}): " + ("met" if r.tuned <= r.baseline else "NOT met")
            )
        if "epochs_saved" in r and pd.notna(r.get("epochs_saved")):
            lines.append(
                f"{r.dataset}: pruning saved {r.epochs_saved:.0%} of trial-epochs ({r.trial_epochs} vs "
                f"{r.unpruned_trial_epochs}; target >= 40%), best validation {r.val_best:.4f} pruned vs "
                f"{r.unpruned_val_best:.4f} unpruned: " + ("met" if r.epochs_saved >= 0.4 else "NOT met")
            )
    if len(rows) > 1:
        higher = rows.metric != "rmse"
        better = np.where(higher, rows.tuned >= rows.default, rows.tuned <= rows.default)
        lines.append(
            f"tuned >= default on the test split on {better.mean():.0%} of {len(rows)} sets (target >= 80%): "
            + ("met" if better.mean() >= 0.8 else "NOT met")
        )
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", default=list(TABLES), choices=TABLES)
    parser.add_argument("--tune", type=int, default=None, help="trials per set")
    parser.add_argument("--tune-time", type=float, default=None, help="seconds of tuning per set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pruning", action="store_true", help="also the same study without pruning")
    parser.add_argument("--peer", action="store_true", help="also Optuna + scikit-learn's MLP")
    parser.add_argument("--peer-only", action="store_true", help="the peer alone, --tune trials")
    parser.add_argument(
        "--autogluon",
        type=Path,
        default=None,
        metavar="PYTHON",
        help="also AutoGluon's TabularPredictor, run by this python (its own venv), time_limit = tuning s",
    )
    parser.add_argument("--csv", type=Path, default=None, help="append the rows to this CSV")
    parser.add_argument(
        "--set",
        dest="sets",
        nargs="+",
        default=[],
        help="fixed MLP settings, e.g. n_members=1 (cheaper trials)",
    )
    args = parser.parse_args(argv)
    args.settings = {k: ast.literal_eval(v) for k, v in (item.split("=", 1) for item in args.sets)}
    if args.tune is None and args.tune_time is None:
        args.tune = 20
    out_root = Path(tempfile.mkdtemp(prefix="bench_tune_"))
    rows = []
    for name in args.only:
        row = run_one(name, args, out_root)
        rows.append(row)
        print(json.dumps(row), flush=True)
        if args.csv is not None:
            pd.DataFrame([row]).to_csv(args.csv, mode="a", header=not args.csv.exists(), index=False)
    frame = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 40):
        print(frame.to_string(index=False))
    if not args.peer_only:
        for line in check_targets(frame):
            print(line)


if __name__ == "__main__":
    main()
