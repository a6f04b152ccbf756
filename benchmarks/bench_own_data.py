"""deepzoo.fit with its defaults on every dataset of ../shared/datasets that is one of its tasks, and on
scikit-learn's bundled sets: one row per dataset with the task, the main metric, deepzoo's figure, the best
baseline's, the trivial answer's, and seconds. No per-dataset setting: only the data and its target.

    python benchmarks/bench_own_data.py                      # every dataset found
    python benchmarks/bench_own_data.py --only titanic adult # some
    python benchmarks/bench_own_data.py --seeds 0 1 2        # several splits (tables), mean and spread

The targets of issue 13 are checked at the end (tables: within 0.005 of the better of LogisticRegression
and HistGradientBoosting on 80% of the classification sets and never 0.02 below; regression RMSE at most
1.05x the best baseline's; ratings 3% below the bias model; series no worse than persistence; text within
0.01 of TF-IDF; images: pooled cats and dogs >= 0.95, MNIST >= 0.992).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import deepzoo

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("DEEPZOO_DATA_DIR", HERE.parent.parent / "shared" / "datasets"))


def _bundled(name: str):
    from sklearn import datasets

    return lambda: getattr(datasets, f"load_{name}")(as_frame=True).frame


def _pooled_cats_and_dogs():
    """cats_and_dogs with its training_set/test_set split ignored: one folder of symlinks per class."""
    folder = Path(tempfile.mkdtemp(prefix="cats_dogs_pooled_"))
    for split in ("training_set", "test_set"):
        for class_dir in sorted((DATA / "cats_and_dogs" / split).iterdir()):
            if class_dir.is_dir():
                (folder / class_dir.name).mkdir(exist_ok=True)
                for file in class_dir.iterdir():
                    (folder / class_dir.name / f"{split}_{file.name}").symlink_to(file)
    return folder


# name -> (data: a path, or a function giving a path or a DataFrame; target or None)
DATASETS = {
    "churn": (DATA / "churn" / "Churn_Modelling.csv", "Exited"),
    "credit_card_applications": (DATA / "credit_card_applications" / "Credit_Card_Applications.csv", "Class"),
    "titanic": (DATA / "titanic" / "train.csv", "Survived"),
    "adult": (DATA / "adult" / "adult.data", "14"),
    "california_housing": (DATA / "california_housing" / "housing.csv", "median_house_value"),
    "insurance": (DATA / "insurance" / "insurance.csv", "charges"),
    "iris": (_bundled("iris"), "target"),
    "wine": (_bundled("wine"), "target"),
    "breast_cancer": (_bundled("breast_cancer"), "target"),
    "diabetes": (_bundled("diabetes"), "target"),
    "digits": (_bundled("digits"), "target"),
    "air_passengers": (DATA / "air_passengers" / "AirPassengers.csv", "#Passengers"),
    "google_stock": (DATA / "google_stock" / "Google_Stock_Price_Train.csv", "Open"),
    "movielens_100k": (DATA / "movielens_100k" / "u.data", None),
    "sms_spam": (DATA / "sms_spam" / "SMSSpamCollection", "0"),
    "imdb": (DATA / "imdb" / "aclImdb_subset", None),
    "resumes": (DATA / "resumes" / "UpdatedResumeDataSet.csv", "Category"),
    "mnist": (DATA / "mnist", None),
    "cats_and_dogs": (_pooled_cats_and_dogs, None),
    "hotdog": (DATA / "hotdog", None),
}
TABLE_CLASSIFICATION = (
    "churn",
    "credit_card_applications",
    "titanic",
    "adult",
    "iris",
    "wine",
    "breast_cancer",
    "digits",
)


def run_one(name: str, seed: int, out_root: Path) -> dict:
    data, target = DATASETS[name]
    if callable(data):
        data = data()
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = deepzoo.fit(data, target, out=out_root / f"{name}-{seed}", seed=seed)
    seconds = time.perf_counter() - started
    board = result.leaderboard
    primary = _primary(result)
    deep = board[board["kind"] == "deep"].iloc[0]
    baselines = board[board["kind"] == "baseline"]
    trivial = board[board["kind"] == "trivial"]
    higher = primary not in ("rmse", "mae", "log_loss")
    best = baselines.sort_values(primary, ascending=not higher).iloc[0] if len(baselines) else None
    return {
        "dataset": name,
        "seed": seed,
        "task": result.task,
        "metric": primary,
        "deepzoo": float(deep[primary]),
        "best_baseline": None if best is None else best["model"],
        "baseline": None if best is None else float(best[primary]),
        "trivial": float(trivial.iloc[0][primary]) if len(trivial) else np.nan,
        "deep_fit_s": float(deep["fit_seconds"]),
        "total_s": seconds,
        "persistence_rmse": result.metrics.get("persistence_rmse"),
    }


def _primary(result) -> str:
    from deepzoo.tasks.base import primary_metric

    board = result.leaderboard
    if result.task in ("classify", "images", "text"):
        return "roc_auc" if "roc_auc" in board.columns and board["roc_auc"].notna().any() else "accuracy"
    return primary_metric(result.task)


def check_targets(rows: pd.DataFrame) -> list[str]:
    """The issue's quality targets, one line each: met or not, with the figures."""
    lines = []
    table = rows[rows.dataset.isin(TABLE_CLASSIFICATION)]
    if len(table):
        gap = table.deepzoo - table.baseline
        within = (gap >= -0.005).mean()
        lines.append(
            f"tables, classification: within 0.005 of the best baseline on {within:.0%} of {len(table)} sets "
            f"(target 80%), worst gap {gap.min():+.4f} (target > -0.02): "
            + ("met" if within >= 0.8 and gap.min() > -0.02 else "NOT met")
        )
    for name in ("california_housing", "insurance", "diabetes"):
        row = rows[rows.dataset == name]
        if len(row):
            ratio = float(row.deepzoo.mean() / row.baseline.mean())
            lines.append(
                f"{name}: RMSE {ratio:.3f}x the best baseline (target <= 1.05): "
                + ("met" if ratio <= 1.05 else "NOT met")
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="dataset names (default: all found)")
    parser.add_argument("--seeds", nargs="*", type=int, default=[0])
    parser.add_argument("--out", type=Path, default=None, help="keep the run folders here")
    parser.add_argument("--csv", type=Path, default=None, help="also write the rows to this CSV")
    args = parser.parse_args()
    names = args.only or list(DATASETS)
    unknown = sorted(set(names) - set(DATASETS))
    if unknown:
        parser.error(f"unknown datasets {unknown}; known: {', '.join(DATASETS)}")
    out_root = args.out or Path(tempfile.mkdtemp(prefix="bench_own_data_"))
    rows = []
    for name in names:
        data, _ = DATASETS[name]
        if isinstance(data, Path) and not data.exists():
            print(f"{name}: {data} not found, skipped")
            continue
        for seed in args.seeds:
            try:
                row = run_one(name, seed, out_root)
            except Exception as exc:  # one dataset's failure is a row, not the end of the benchmark
                row = {"dataset": name, "seed": seed, "task": "error", "metric": str(exc)[:120]}
            rows.append(row)
            print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    frame = pd.DataFrame(rows)
    if args.csv:
        frame.to_csv(args.csv, index=False)
    summary = (
        frame.groupby(["dataset", "task", "metric"], sort=False).agg(
            deepzoo=("deepzoo", "mean"),
            baseline=("baseline", "mean"),
            best_baseline=("best_baseline", "first"),
            trivial=("trivial", "mean"),
            deep_fit_s=("deep_fit_s", "mean"),
            total_s=("total_s", "mean"),
        )
        if "deepzoo" in frame
        else frame
    )
    print(summary.round(4).to_string())
    for line in check_targets(frame.dropna(subset=["deepzoo"]) if "deepzoo" in frame else frame):
        print(line)
    if args.out is None:
        shutil.rmtree(out_root, ignore_errors=True)


if __name__ == "__main__":
    main()
