"""A table with a target: classification or regression with the MLP, beside the classical baselines.

read (done by the caller) -> schema -> split (stratified 80/20, or the data's own train/test) ->
TableEncoder + MLP, and on the same encoded split LogisticRegression/Ridge, HistGradientBoosting and the
trivial answer (majority class, mean) -> leaderboard -> pictures, explanations, fairness -> model/.

The MLP's settings for an unseen table (every one can be overridden with ``--set``):

* ``n_bins=16``: piecewise-linear encoding of each numeric input (Gorishniy et al., 2022), which lets
  the network draw thresholds and steep slopes as trees do;
* ``n_members=8`` up to 50,000 training rows: eight networks trained side by side, their probabilities
  averaged (a deep ensemble in one module);
* under 2,000 training rows the weight decay (1e-4 or 1e-2) is chosen by 3-fold cross-validation on the
  training part (not with ``--time-limit`` or ``--set alpha=...``);
* early stopping on a 10% validation part from 300 training rows (the best epoch's weights are kept);
* ``batch_size`` grows with the data (200 up to 20,000 rows, then 1% of the rows, at most 4,096) and
  the learning rate with the square root of the batch, so that a million rows take minutes, not hours.

``deepzoo fit --tune N`` searches around these defaults (:func:`search_space`; the defaults themselves
are the first trial, :func:`default_trial`) and fits the best settings beside the untuned default.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from .. import plots
from ..data.encoder import TableEncoder
from ..data.schema import Schema
from ..engine import distributed
from ..models.mlp import MLPClassifier, MLPRegressor
from .base import (
    FitConfig,
    Leaderboard,
    Outcome,
    Source,
    TableProbe,
    TaskKind,
    baseline_threads,
    classification_scores,
    primary_metric,
    regression_scores,
    stopwatch,
)

# an ensemble of 8 networks up to this many training rows (beyond, one network: the data tame the variance
# and the time matters)
_ENSEMBLE_ROWS = 50_000
# below this many training rows the weight decay is chosen by 3-fold cross-validation on the training part
_CHOOSE_ALPHA_ROWS = 2_000
ALPHAS = (1e-4, 1e-2)


def encoder_for(schema: Schema) -> TableEncoder:
    """The TableEncoder of the schema's feature columns."""
    return TableEncoder(
        numeric=tuple(schema.names("numeric")),
        binary=tuple(schema.names("binary")),
        categorical=tuple(schema.names("categorical")),
        dates=tuple(schema.names("date")),
        text=tuple(schema.names("text")),
    )


def mlp_settings(n_train: int, task: str) -> dict:
    """The MLP's parameters for a table of ``n_train`` training rows (see the module's docstring)."""
    batch_size = 200 if n_train <= 20_000 else int(min(4096, n_train // 100))
    return {
        "hidden_layer_sizes": (128, 64),
        "n_bins": 16,
        "n_members": 8 if n_train <= _ENSEMBLE_ROWS else 1,
        "batch_size": batch_size,
        "learning_rate": 1e-3 * float(np.sqrt(batch_size / 200)),
        "early_stopping": "auto",  # the MLP's own rule: from EARLY_STOPPING_MIN_SAMPLES training rows
        "n_iter_no_change": 10,
        "max_iter": 200,
    }


# deepzoo fit --tune: the shapes of hidden layers tried (the default's own shape is added when missing);
# a string per shape, so that Optuna's storage, dashboard and importances read them as they are written
HIDDEN_SHAPES = ("64", "128", "256", "64-32", "128-64", "256-128", "512-256", "256-128-64")


def search_space(trial, n_train: int, task: str, fixed=()) -> dict:
    """The MLP's settings for one Optuna ``trial`` (``deepzoo fit --tune``), around
    :func:`mlp_settings`: depth and width, dropout, weight decay, learning rate, bins of the numeric
    encoding, batch size and ensemble size. Each parameter is named as the MLP names it, so that
    ``--set NAME=VALUE`` fixes it (named in ``fixed``, it is left out of the search) and
    :func:`default_trial` can replay the defaults as the first trial."""
    defaults = {**mlp_settings(n_train, task), **default_trial(n_train, task)}
    bs = defaults["batch_size"]
    lr = defaults["learning_rate"]
    suggest = {
        "hidden_layer_sizes": lambda name: trial.suggest_categorical(
            name, _with(HIDDEN_SHAPES, defaults[name])
        ),
        "dropout": lambda name: trial.suggest_float(name, 0.0, 0.5),
        "alpha": lambda name: trial.suggest_float(name, 1e-6, 1e-1, log=True),
        # a decade either side of the default, which already grows with the batch
        "learning_rate": lambda name: trial.suggest_float(name, lr / 10, lr * 10, log=True),
        "n_bins": lambda name: trial.suggest_categorical(name, _with((0, 8, 16, 32), defaults[name])),
        "batch_size": lambda name: trial.suggest_categorical(
            name, _with(tuple(max(16, bs * k // 4) for k in (1, 2, 4, 8)), bs)
        ),
        "n_members": lambda name: trial.suggest_categorical(name, _with((1, 4, 8), defaults[name])),
    }
    return {name: pick(name) for name, pick in suggest.items() if name not in fixed}


def default_trial(n_train: int, task: str) -> dict:
    """:func:`mlp_settings` (and the MLP's own defaults it leaves out) in :func:`search_space`'s terms:
    the first trial of every study, so that tuning starts from what ``deepzoo fit`` does untuned."""
    defaults = mlp_settings(n_train, task)
    sizes = defaults.get("hidden_layer_sizes", MLPClassifier().hidden_layer_sizes)
    return {
        "hidden_layer_sizes": "-".join(str(int(s)) for s in np.atleast_1d(sizes)),
        "dropout": float(defaults.get("dropout", MLPClassifier().dropout)),
        "alpha": float(defaults.get("alpha", MLPClassifier().alpha)),
        "learning_rate": float(defaults["learning_rate"]),
        "n_bins": int(defaults.get("n_bins", MLPClassifier().n_bins)),
        "batch_size": int(defaults["batch_size"]),
        "n_members": int(defaults.get("n_members", MLPClassifier().n_members)),
    }


def settings_of(params: dict) -> dict:
    """Optuna's parameters as MLP settings: the hidden shape "128-64" becomes (128, 64)."""
    settings = dict(params)
    if isinstance(settings.get("hidden_layer_sizes"), str):
        settings["hidden_layer_sizes"] = tuple(int(s) for s in settings["hidden_layer_sizes"].split("-"))
    return settings


def _with(choices: tuple, default) -> list:
    return sorted(set(choices) | {default}, key=lambda c: (len(str(c).split("-")), c))


def choose_alpha(report, model: Pipeline, X_train, y_train, task: str, seed: int) -> float:
    """Small tables: the weight decay among :data:`ALPHAS` with the best 3-fold cross-validated score on
    the training part (ROC-AUC, log-loss or RMSE), set on ``model``'s MLP and shown in the report.

    On a few hundred rows one setting does not suit every table: a strong decay rescues sets where the
    network over-fits (690 credit applications, 442 diabetes patients) and costs sets with a clean
    signal (breast cancer, Titanic); the folds tell which, without looking at the test rows."""
    from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold

    if task == "classify":
        binary = len(np.unique(y_train)) == 2
        scoring = "roc_auc" if binary else "neg_log_loss"
        folds = StratifiedKFold(3, shuffle=True, random_state=seed)
        if pd.Series(y_train).value_counts().min() < 3:
            folds = KFold(3, shuffle=True, random_state=seed)
    else:
        scoring, folds = "neg_root_mean_squared_error", KFold(3, shuffle=True, random_state=seed)
    probe = clone(model).set_params(mlp__checkpoint=None, mlp__resume=False, mlp__verbose=False)
    search = GridSearchCV(probe, {"mlp__alpha": list(ALPHAS)}, cv=folds, scoring=scoring, refit=False)
    search.fit(X_train, y_train)
    alpha = float(search.best_params_["mlp__alpha"])
    model.set_params(mlp__alpha=alpha)
    table = pd.DataFrame(
        {
            "alpha": ALPHAS,
            f"cv_{scoring}": search.cv_results_["mean_test_score"],
            "std": search.cv_results_["std_test_score"],
        }
    )
    report.add_table(
        "alpha_choice",
        table.round(5),
        f"The MLP's weight decay, chosen by 3-fold cross-validation on the {len(X_train):,} training rows "
        f"(small tables only): alpha={alpha:g}.",
    )
    report.add_metrics(chosen_alpha=alpha)
    return alpha


def split(X: pd.DataFrame, y: pd.Series, task: str, config: FitConfig):
    """Train and test parts: stratified for classes (plain when a class is too small for it)."""
    from sklearn.model_selection import train_test_split

    stratify = y if task == "classify" and y.value_counts().min() >= 2 else None
    return train_test_split(X, y, test_size=config.test_size, random_state=config.seed, stratify=stratify)


def baselines(task: str, steps: list, seed: int) -> dict:
    """(display name, key, role) -> an unfitted Pipeline of ``steps`` (the deep model's own
    preprocessing, cloned) and a classical or trivial model: everyone sees the same features."""
    from sklearn.dummy import DummyClassifier, DummyRegressor
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression, RidgeCV

    if task == "classify":
        models = {
            ("LogisticRegression", "logistic_regression", "baseline"): LogisticRegression(max_iter=2000),
            ("HistGradientBoosting", "hist_gradient_boosting", "baseline"): HistGradientBoostingClassifier(
                random_state=seed
            ),
            ("majority class", "majority", "trivial"): DummyClassifier(strategy="prior"),
        }
    else:
        models = {
            ("Ridge", "ridge", "baseline"): RidgeCV(alphas=np.logspace(-3, 3, 13)),
            ("HistGradientBoosting", "hist_gradient_boosting", "baseline"): HistGradientBoostingRegressor(
                random_state=seed
            ),
            ("mean", "mean", "trivial"): DummyRegressor(strategy="mean"),
        }
    return {k: Pipeline([*clone(Pipeline(steps)).steps, ("model", m)]) for k, m in models.items()}


def _scores(task: str, model, X, y, classes) -> tuple[dict, np.ndarray]:
    if task == "classify":
        proba = model.predict_proba(X)
        return classification_scores(y, proba, classes), proba
    pred = model.predict(X)
    return regression_scores(y, pred), pred


def compare(
    task: str, model, fit_seconds: float, others: dict, X_train, y_train, X_test, y_test, classes=None
):
    """The fitted deep ``model`` and the ``others`` (from :func:`baselines`, fitted here on the same
    training rows, timed) scored on the same test rows: (Leaderboard, {model name: test output})."""
    return compare_named(
        task, "MLP (deepzoo)", "mlp", model, fit_seconds, others, X_train, y_train, X_test, y_test, classes
    )


def compare_named(
    task: str,
    name: str,
    key: str,
    model,
    fit_seconds: float,
    others: dict,
    X_train,
    y_train,
    X_test,
    y_test,
    classes=None,
):
    """:func:`compare` for a deep model other than the MLP, shown as ``name`` (its metrics under their
    plain names; ``key`` names it in the leaderboard), e.g. an RBM's features read by a linear model."""
    board = Leaderboard(primary_metric(task, None if classes is None else len(classes)))
    deep_scores, deep_out = _scores(task, model, X_test, y_test, classes)
    board.add(name, deep_scores, fit_seconds, key=key, role="deep")
    outputs = {name: deep_out}
    n_cells = len(X_train) * int(getattr(model[-1], "n_features_in_", 1))
    for (name, key, role), baseline in others.items():
        with stopwatch() as took, baseline_threads(n_cells):
            baseline.fit(X_train, y_train)
        scores, out = _scores(task, baseline, X_test, y_test, classes)
        board.add(name, scores, took(), key=key, role=role)
        outputs[name] = out
    return board, outputs


def train_test(source, config: FitConfig):
    """``(frame, test_frame, X_train, y_train, X_test, y_test)``: the rows with a target, the data's own
    test part (or None), and the rows the model learns from and is scored on (:func:`split`)."""
    frame, test_frame, schema = source.frame, source.test_frame, source.schema
    task, target = schema.task, schema.target
    frame = frame[frame[target].notna()]
    X, y = frame[schema.features], frame[target]
    if test_frame is not None:
        test_frame = test_frame[test_frame[target].notna()]
        X_train, y_train, X_test, y_test = X, y, test_frame[schema.features], test_frame[target]
        if task == "classify":
            y_test = _align_labels(y_test, y_train)
    else:
        X_train, X_test, y_train, y_test = split(X, y, task, config)
    return frame, test_frame, X_train, y_train, X_test, y_test


def target_values(y_train: pd.Series, task: str) -> np.ndarray:
    """The training target as the MLP takes it (floats for regression)."""
    values = y_train.to_numpy()
    return values.astype(float) if task == "regress" else values


def fit_mlp(report, config: FitConfig, schema: Schema, X_train, y_train, overrides: dict, ckpt="mlp"):
    """The encoder + MLP Pipeline with :func:`mlp_settings` and ``overrides``, fitted on the training
    rows (the weight decay chosen by :func:`choose_alpha` on small tables unless ``overrides`` fix
    it), checkpointed as ``checkpoints/<ckpt>.ckpt``: ``(model, fit seconds)``."""
    from ..engine.training import time_limit

    task = schema.task
    settings = {**mlp_settings(len(X_train), task), **overrides}
    Estimator = MLPClassifier if task == "classify" else MLPRegressor
    mlp = Estimator(random_state=config.seed, device=config.device, verbose=config.verbose)
    try:
        mlp.set_params(**settings)
    except ValueError as exc:
        raise ValueError(f"--set: {exc}") from None
    if distributed.is_main_process():
        mlp.set_params(checkpoint=str(report.out_dir / "checkpoints" / f"{ckpt}.ckpt"), resume=config.resume)
    model = Pipeline([("encode", encoder_for(schema)), ("mlp", mlp)])
    with stopwatch() as seconds, time_limit(config.time_limit):
        if len(X_train) < _CHOOSE_ALPHA_ROWS and "alpha" not in overrides and config.time_limit is None:
            choose_alpha(report, model, X_train, y_train, task, config.seed)
        model.fit(X_train, y_train)
    mlp.set_params(checkpoint=None, resume=False)
    return model, seconds()


def run(source, config: FitConfig, report, tuned: dict | None = None) -> Outcome:
    """Fit the table task on ``source.frame`` (scored on ``source.test_frame`` when the data bring one).

    With ``tuned`` (settings found by :mod:`deepzoo.tasks.tune` on the training rows alone), the MLP
    with those settings is the deep model, "MLP (deepzoo, tuned)", and the untuned default stands
    beside it on the leaderboard as "MLP (deepzoo, default)"; the tuned one is saved."""
    schema = source.schema
    task = schema.task
    frame, test_frame, X_train, y_train, X_test, y_test = train_test(source, config)
    y_train_values = target_values(y_train, task)
    model, fit_seconds = fit_mlp(report, config, schema, X_train, y_train_values, config.settings)
    name, default = "MLP (deepzoo)", None
    if tuned is not None:
        default, default_seconds = model, fit_seconds
        overrides = {**tuned, **config.settings}
        fitted = default[-1].get_params()
        if any(_differ(fitted[k], v) for k, v in overrides.items()):  # else the default won: no refit
            # a checkpoint per tuned setting: a resumed study whose best trial changed starts a fresh fit
            ckpt = "mlp_tuned_" + hashlib.sha256(repr(sorted(overrides.items())).encode()).hexdigest()[:8]
            model, fit_seconds = fit_mlp(report, config, schema, X_train, y_train_values, overrides, ckpt)
        name = "MLP (deepzoo, tuned)"
    mlp = model[-1]
    classes = mlp.classes_ if task == "classify" else None
    others = baselines(task, [("encode", model[0])], config.seed)
    board, outputs = compare_named(
        task, name, "mlp", model, fit_seconds, others, X_train, y_train_values, X_test, y_test, classes
    )
    if default is not None:
        scores, outputs["MLP (deepzoo, default)"] = _scores(task, default, X_test, y_test, classes)
        board.add("MLP (deepzoo, default)", scores, default_seconds, key="mlp_default")
    report.add_metrics(**board.metrics(), n_train=len(X_train), n_test=len(X_test), epochs=mlp.n_iter_)
    board.add_to_report(report)
    add_pictures(report, task, mlp, y_test, outputs, classes, name=name)
    add_importance(report, model, X_test, y_test, task, config.seed)
    if config.group and task == "classify" and len(classes) == 2:
        rows = frame.loc[X_test.index] if test_frame is None else test_frame
        groups = {}
        for column in config.group:
            if column not in rows.columns:
                raise ValueError(
                    f"--group {column!r} is not a column of the data; columns: {', '.join(rows.columns)}."
                )
            groups[column] = rows[column].astype(str).to_numpy()
        add_fairness(report, model.predict_proba(X_test)[:, 1], y_test, classes, groups, config.seed)
    return Outcome(task, model, report.metrics, board.frame(), report.out_dir, schema, board.verdict())


def _differ(a, b) -> bool:
    """Two parameter values differ (tuples and lists of the same sizes alike; floats to 1e-12)."""
    if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        return tuple(np.atleast_1d(a)) != tuple(np.atleast_1d(b))
    if isinstance(a, float) or isinstance(b, float):
        return not np.isclose(a, b, rtol=1e-12, atol=0)
    return a != b


def _align_labels(y_test: pd.Series, y_train: pd.Series) -> pd.Series:
    """A test file whose labels are spelled with a trailing '.' (UCI adult.test: '>50K.') reads as the
    training labels when that is all that differs."""
    known = set(y_train.unique())
    if set(y_test.unique()) <= known:
        return y_test
    stripped = y_test.astype(str).str.rstrip(".").str.strip()
    if set(stripped.unique()) <= {str(v) for v in known}:
        lookup = {str(v): v for v in known}
        return stripped.map(lookup)
    unseen = sorted(set(y_test.unique()) - known, key=str)[:5]
    raise ValueError(f"The test data hold labels the training data do not have: {unseen}.")


def add_pictures(report, task: str, mlp, y_test, outputs: dict, classes, name="MLP (deepzoo)") -> None:
    """Learning curves; ROC curves of every model and the confusion matrix (classes), or predicted
    against actual values (regression)."""
    report.add_history(mlp.history_)
    report.add_figure(
        "learning_curves",
        plots.plot_loss(mlp),
        "Loss per epoch; with early stopping the dot marks the epoch whose weights were kept.",
    )
    if task == "classify" and len(classes) == 2:
        ax = None
        for label, proba in outputs.items():
            if "majority" in label:
                continue
            ax = plots.plot_roc(np.asarray(y_test) == classes[1], proba[:, 1], ax=ax, label=label)
        report.add_figure("roc_curve", ax, "ROC curves of every model on the test rows.")
    if task == "classify":
        proba = outputs[name]
        report.add_figure(
            "confusion_matrix",
            plots.plot_confusion_matrix(np.asarray(y_test), classes[proba.argmax(1)], labels=list(classes)),
            "The MLP's test predictions.",
        )
    else:
        report.add_figure(
            "predicted_vs_actual",
            plots.plot_predicted_vs_actual(np.asarray(y_test, dtype=float), outputs[name]),
            "The MLP's test predictions against the truth: on the diagonal is right.",
        )


def add_importance(report, model, X_test: pd.DataFrame, y_test, task: str, seed: int) -> pd.DataFrame:
    """Permutation importance of each raw column on (up to 2,000) test rows: table and bar chart."""
    from ..audit import permutation_importance_table

    rows = X_test.iloc[:2000]
    target = np.asarray(y_test)[:2000]
    if task == "regress":
        target = target.astype(float)
    table = permutation_importance_table(
        model,
        rows,
        target,
        n_repeats=3,
        random_state=seed,
        scoring="neg_root_mean_squared_error" if task == "regress" else None,
    )
    report.add_table("importance", table.round(5), "Permutation importance of each column (test rows).")
    report.add_figure(
        "importance",
        plots.plot_importance(table),
        "How much the test score drops when one column is shuffled: what the MLP relies on.",
    )
    return table


def add_fairness(report, scores, y_test, classes, groups: dict, seed: int, n_bootstrap: int = 200):
    """Scores by group of each column in ``groups`` ({name: values of the test rows}): tables of rates
    and gaps, and a rates chart per column. Returns the FairnessReport."""
    from ..audit import fairness_report

    positive = (np.asarray(y_test) == classes[1]).astype(int)
    fairness = fairness_report(positive, scores, groups, n_bootstrap=n_bootstrap, random_state=seed)
    report.add_table(
        "fairness_by_group",
        fairness.by_group.round(4),
        f"Test rows by group (positive class: {classes[1]}). A gap in selection rates can reflect real "
        "differences between groups (compare the TPR/FPR of equalized odds), not only a biased model.",
    )
    report.add_table("fairness_summary", fairness.summary.round(4), "Gaps between groups, per column.")
    for column in groups:
        report.add_figure(
            f"rates_by_{column}".replace(" ", "_").lower(),
            plots.plot_group_rates(fairness, column),
            f"Share of each {column} group predicted {classes[1]!r}, and the true positive rate, with "
            f"bootstrap {int(fairness.confidence * 100)}% intervals.",
        )
    return fairness


# -- predict and detection: rows of a table in, a class or a number out ---------------------------------
def predict_rows(model, frame: pd.DataFrame) -> pd.DataFrame:
    """``prediction`` (+ ``proba_<class>`` for a classifier) for the rows of a table."""
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    out = pd.DataFrame(index=frame.index)
    if hasattr(final, "classes_") and hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(frame), dtype=float)
        classes = np.asarray(final.classes_)
        out["prediction"] = classes[proba.argmax(axis=1)]
        for j, label in enumerate(classes):
            out[f"proba_{label}"] = proba[:, j]
    else:
        out["prediction"] = np.asarray(model.predict(frame))
    return out


def detect_table(probe: TableProbe) -> Source:
    """Any table with a target: classes or numbers, as :func:`deepzoo.data.schema.infer_schema` decides."""
    schema = probe.schema
    if schema.target is None:
        raise ValueError(f"--task {probe.task} needs a target: pass --target COLUMN.")
    return Source(
        schema.task, schema.task_reason, frame=probe.frame, test_frame=probe.test_frame, schema=schema
    )


KIND = TaskKind(
    name="table",
    tasks=("classify", "regress"),
    rule="a table with a target: classes (two values, text, or a few integers) or numbers",
    run=run,
    predict=predict_rows,
    saves=(MLPClassifier, MLPRegressor),
    serves="rows",
    detect_table=detect_table,
)
