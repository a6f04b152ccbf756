"""A table with a target: classification or regression with the MLP, beside the classical baselines.

read (done by the caller) -> schema -> split (stratified 80/20, or the data's own train/test) ->
TableEncoder + MLP, and on the same encoded split LogisticRegression/Ridge, HistGradientBoosting and the
trivial answer (majority class, mean) -> leaderboard -> pictures, explanations, fairness -> model/.

The MLP's settings for an unseen table (every one can be overridden with ``--set``), sized to the data
(issue 21: the same quality as the earlier defaults at a fraction of their time):

* ``n_bins=16``, ``bin_columns='varying'``: piecewise-linear encoding (Gorishniy et al., 2022) of the
  inputs with 3+ distinct values only, which lets the network draw thresholds and steep slopes as trees
  do without making the first layer 17 times as wide as the table (0/1 and one-hot columns get no bins);
* ``n_members=8``, ``ensemble='shared'`` up to 50,000 training rows: eight members that share the first
  layer's weights, each with its own scaling vector, later layer and head (after TabM, Gorishniy et al.,
  2025), their probabilities averaged: an ensemble's steadiness for little more than one network's work;
* ``batch_size`` a power of two near 1/32 of the training rows (128 to 4,096), the learning rate growing
  with its square root (never below Adam's 1e-3), and ``max_iter`` such that training takes at most
  about 4,000 steps (20 to 200 epochs), so that the work follows the data's size;
* under 2,000 training rows the weight decay (1e-4 or 1e-2; under 500 rows also 1e-1 with a linear
  path beside the network, ``linear_path=True``) is chosen by
  3-fold cross-validation on the training part (not with ``--time-limit`` or ``--set alpha=...``);
* early stopping on a 10% validation part from 300 training rows (the best epoch's weights are kept).

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
from ..data.splits import holdout
from ..engine import distributed
from ..models.mlp import EARLY_STOPPING_MIN_SAMPLES, MLPClassifier, MLPRegressor, varying_columns
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
# members share the first layer's weights from this many training rows: there the shared layer saves most
# of the work; below it a fit takes seconds either way and independent members were better (MASS/cpus, 167
# training rows, quick budget, RMSE 30.8/48.1 on seeds 0/1 against 33.7/50.8 shared; credit below)
_SHARED_ROWS = 5_000
_ENSEMBLE_ROWS = 50_000
# below this many training rows the weight decay is chosen by 3-fold cross-validation on the training part
_CHOOSE_ALPHA_ROWS = 2_000
# below this many training rows the weight decay's choice includes a strong one (SMALL_CHOICES)
_SMALL_ROWS = 500
# gradient steps at most (the epochs follow: a flat 200 epochs was 180,000 steps on 180,000 rows)
_STEP_BUDGET = 4_000
ALPHAS = (1e-4, 1e-2)
# under _SMALL_ROWS a third choice joins: a strong decay with a linear path (MLP's linear_path: a linear
# model of the inputs added to the network's output), which keeps a network on ~100 rows close to a
# linear model when that is what the folds prefer. The strong decay alone let the network collapse to
# the majority class (MASS/survey: 0.50 accuracy, 0.90 with the path, LogisticRegression 0.85); issue
# 21's small tables of benchmarks/corpus.py are measured in RESULTS.md
SMALL_CHOICES = ({"alpha": 1e-4}, {"alpha": 1e-2}, {"alpha": 1e-1, "linear_path": True})


def encoder_for(schema: Schema) -> TableEncoder:
    """The TableEncoder of the schema's feature columns."""
    return TableEncoder(
        numeric=tuple(schema.names("numeric")),
        binary=tuple(schema.names("binary")),
        categorical=tuple(schema.names("categorical")),
        dates=tuple(schema.names("date")),
        text=tuple(schema.names("text")),
        lists=tuple(schema.names("list")),
        urls=tuple(schema.names("url")),
    )


def mlp_settings(n_train: int, task: str) -> dict:
    """The MLP's parameters for a table of ``n_train`` training rows (see the module's docstring)."""
    # batch: a power of two near n_train / 32 (about 30 steps an epoch), 128 to 4,096 rows: on small
    # tables a step costs its fixed overhead whatever its size (batches of 64 made insurance's 1,070 rows
    # as slow as the old eight independent members), but a 240-row table still takes 2 steps an epoch;
    # Adam's rate grows with the batch's square root above 200 rows and stays at 1e-3 below
    batch_size = int(np.clip(2 ** round(np.log2(max(n_train, 1) / 32)), 128, 4096))
    steps_per_epoch = int(np.ceil(0.9 * n_train / batch_size))
    return {
        "hidden_layer_sizes": (128, 64),
        "n_bins": 16,  # 8 bins: california_housing RMSE 51,768 against 48,252 with 16 (old 47,287)
        "bin_columns": "varying",
        "n_members": 8 if n_train <= _ENSEMBLE_ROWS else 1,
        "ensemble": "shared" if n_train > _SHARED_ROWS else "independent",
        "batch_size": batch_size,
        "learning_rate": 1e-3 * float(np.sqrt(max(batch_size, 200) / 200)),
        "early_stopping": "auto",  # the MLP's own rule: from EARLY_STOPPING_MIN_SAMPLES training rows
        "n_iter_no_change": 10,
        "max_iter": int(np.clip(np.ceil(_STEP_BUDGET / steps_per_epoch), 20, 200)),
    }


# what the default MLP's training reached on this project's CPU (2-core AMD EPYC, idle, 2026-12-08,
# /tmp probe of 3 fixed epochs): 14-59 billion multiply-adds a second (22,000 x 6 categorical: 13.7;
# 1,600 x 216: 24.9; 30,000 x 300: 58.7; a training step counted as 3 forward passes: forward, and the
# backward pass's two products) and 3-60 ms a gradient step; the constants take the slow end, so the
# figure is what a fit costs at most when it runs all its epochs. A CPU shared with other jobs is slower
# (the same fits took 5-10x longer at load ~20); early stopping ends most fits well before max_iter
# (13 of 130 epochs on 22,000 x 6, 30 of 182 on 30,000 x 300): benchmarks/bench_table_defaults.py
# --estimate prints the estimate beside the measured seconds
MACS_PER_SECOND = 14e9
SECONDS_PER_STEP = 0.003
# rows of the training part that say_estimate encodes to learn the encoded width (not all: an estimate
# must cost little beside the fit it announces)
ESTIMATE_SAMPLE_ROWS = 2_000


def fit_work(
    settings: dict, n_train: int, n_features: int, n_binned: int, n_outputs: int
) -> tuple[float, int]:
    """``(multiply-adds, gradient steps)`` of one fit of the MLP with ``settings`` (those of
    :func:`mlp_settings`, overrides included) on ``n_train`` rows of ``n_features`` encoded columns, of
    which ``n_binned`` get bins, when it runs all of its ``max_iter`` epochs (early stopping ends sooner)."""
    sizes = [int(s) for s in np.atleast_1d(settings.get("hidden_layer_sizes", (100,)))]
    members = int(settings.get("n_members", 1))
    width = n_features + n_binned * int(settings.get("n_bins", 0))
    widths = [width, *sizes, n_outputs]
    per_member = [a * b for a, b in zip(widths[:-1], widths[1:], strict=True)]
    if members > 1 and settings.get("ensemble") == "shared":  # the first layer computed once per row
        macs = per_member[0] + members * sum(per_member[1:])
    else:
        macs = members * sum(per_member)
    rows = 0.9 * n_train if n_train >= EARLY_STOPPING_MIN_SAMPLES else n_train  # less the validation part
    batch = min(int(settings.get("batch_size", 200)), max(int(rows), 1))
    epochs = int(settings.get("max_iter", 200))
    steps = int(np.ceil(rows / batch)) * epochs
    return 3.0 * macs * rows * epochs, steps


def estimate_seconds(
    settings: dict, n_train: int, n_features: int, n_binned: int, n_outputs: int, n_cv_fits: int = 0
) -> float:
    """Seconds that the MLP's fit takes at most on this project's CPU (:data:`MACS_PER_SECOND`,
    :data:`SECONDS_PER_STEP`), with ``n_cv_fits`` fits on 2/3 of the rows before it (the weight
    decay's 3-fold choice): printed before training, so that a user knows what a run will cost."""
    macs, steps = fit_work(settings, n_train, n_features, n_binned, n_outputs)
    one = macs / MACS_PER_SECOND + steps * SECONDS_PER_STEP
    return one * (1 + n_cv_fits * 2 / 3)


# deepzoo fit --tune: the shapes of hidden layers tried (the default's own shape is added when missing);
# a string per shape, so that Optuna's storage, dashboard and importances read them as they are written
HIDDEN_SHAPES = ("64", "128", "256", "64-32", "128-64", "256-128", "512-256", "256-128-64")


def search_space(trial, n_train: int, task: str, fixed=()) -> dict:
    """The MLP's settings for one Optuna ``trial`` (``deepzoo fit --tune``), around
    :func:`mlp_settings`: depth and width, dropout, weight decay, learning rate, the numeric encoding
    (bins, and which columns get them), batch size, ensemble size and kind, training length (epochs
    and patience), activation and optimizer. Each parameter is named as the MLP names it, so that
    ``--set NAME=VALUE`` fixes it (named in ``fixed``, it is left out of the search) and
    :func:`default_trial` can replay the defaults as the first trial."""
    defaults = default_trial(n_train, task)
    bs = defaults["batch_size"]
    lr = defaults["learning_rate"]
    epochs = defaults["max_iter"]
    suggest = {
        "hidden_layer_sizes": lambda name: trial.suggest_categorical(
            name, _with(HIDDEN_SHAPES, defaults[name])
        ),
        "dropout": lambda name: trial.suggest_float(name, 0.0, 0.5),
        "alpha": lambda name: trial.suggest_float(name, 1e-6, 1e-1, log=True),
        # a decade either side of the default, which already grows with the batch
        "learning_rate": lambda name: trial.suggest_float(name, lr / 10, lr * 10, log=True),
        "n_bins": lambda name: trial.suggest_categorical(name, _with((0, 8, 16, 32, 64), defaults[name])),
        # bins for every numeric input, or only for those with 3+ distinct values (0/1 columns: no bins)
        "bin_columns": lambda name: trial.suggest_categorical(
            name, _with(("varying", "all"), defaults[name])
        ),
        "batch_size": lambda name: trial.suggest_categorical(
            name, _with(tuple(max(16, bs * k // 4) for k in (1, 2, 4, 8)), bs)
        ),
        "n_members": lambda name: trial.suggest_categorical(name, _with((1, 4, 8, 16), defaults[name])),
        "ensemble": lambda name: trial.suggest_categorical(
            name, _with(("independent", "shared"), defaults[name])
        ),
        # the training length: half to four times the default's epochs (early stopping still ends a
        # trial at its best epoch), and the patience of that early stopping
        "max_iter": lambda name: trial.suggest_categorical(
            name, _with(tuple(max(5, epochs * k // 2) for k in (1, 2, 4, 8)), epochs)
        ),
        "n_iter_no_change": lambda name: trial.suggest_categorical(name, _with((5, 10, 20), defaults[name])),
        "activation": lambda name: trial.suggest_categorical(name, _with(("relu", "gelu"), defaults[name])),
        "solver": lambda name: trial.suggest_categorical(name, _with(("adam", "adamw"), defaults[name])),
    }
    return {name: pick(name) for name, pick in suggest.items() if name not in fixed}


def default_trial(n_train: int, task: str) -> dict:
    """:func:`mlp_settings` (and the MLP's own defaults it leaves out) in :func:`search_space`'s terms:
    the first trial of every study, so that tuning starts from what ``deepzoo fit`` does untuned."""
    defaults = {**MLPClassifier().get_params(), **mlp_settings(n_train, task)}
    return {
        "hidden_layer_sizes": "-".join(str(int(s)) for s in np.atleast_1d(defaults["hidden_layer_sizes"])),
        "dropout": float(defaults["dropout"]),
        "alpha": float(defaults["alpha"]),
        "learning_rate": float(defaults["learning_rate"]),
        "n_bins": int(defaults["n_bins"]),
        "bin_columns": str(defaults["bin_columns"]),
        "batch_size": int(defaults["batch_size"]),
        "n_members": int(defaults["n_members"]),
        "ensemble": str(defaults["ensemble"]),
        "max_iter": int(defaults["max_iter"]),
        "n_iter_no_change": int(defaults["n_iter_no_change"]),
        "activation": str(defaults["activation"]),
        "solver": str(defaults["solver"]),
    }


def settings_of(params: dict) -> dict:
    """Optuna's parameters as MLP settings: the hidden shape "128-64" becomes (128, 64)."""
    settings = dict(params)
    if isinstance(settings.get("hidden_layer_sizes"), str):
        settings["hidden_layer_sizes"] = tuple(int(s) for s in settings["hidden_layer_sizes"].split("-"))
    return settings


def _with(choices: tuple, default) -> list:
    return sorted(set(choices) | {default}, key=lambda c: (len(str(c).split("-")), c))


def weight_decay_choices(n_train: int) -> list[dict]:
    """The settings among which :func:`choose_alpha` picks on ``n_train`` training rows."""
    return list(SMALL_CHOICES) if n_train < _SMALL_ROWS else [{"alpha": a} for a in ALPHAS]


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
        # a class of 1-2 rows cannot be in every fold's training part (its log-loss would be NaN): the
        # choice is made on the other classes' rows
        counts = pd.Series(y_train).value_counts()
        common = np.isin(y_train, counts.index[counts >= 3])
        if not common.all():
            X_train, y_train = X_train[common], y_train[common]
    else:
        scoring, folds = "neg_root_mean_squared_error", KFold(3, shuffle=True, random_state=seed)
    probe = clone(model).set_params(mlp__checkpoint=None, mlp__resume=False, mlp__verbose=False)
    choices = weight_decay_choices(len(X_train))
    grid = [{f"mlp__{name}": [value] for name, value in choice.items()} for choice in choices]
    search = GridSearchCV(probe, grid, cv=folds, scoring=scoring, refit=False)
    search.fit(X_train, y_train)
    best = choices[int(search.best_index_)]
    model.set_params(**{f"mlp__{name}": value for name, value in best.items()})
    alpha = float(best["alpha"])
    table = pd.DataFrame(
        {
            "alpha": [c["alpha"] for c in choices],
            "linear_path": [bool(c.get("linear_path", False)) for c in choices],
            f"cv_{scoring}": search.cv_results_["mean_test_score"],
            "std": search.cv_results_["std_test_score"],
        }
    )
    report.add_table(
        "alpha_choice",
        table.round(5),
        f"The MLP's weight decay, chosen by 3-fold cross-validation on the {len(X_train):,} training rows "
        f"(small tables only): alpha={alpha:g}"
        + (", with a linear path" if best.get("linear_path") else "")
        + ".",
    )
    report.add_metrics(chosen_alpha=alpha, chosen_linear_path=bool(best.get("linear_path", False)))
    return alpha


def split(X: pd.DataFrame, y: pd.Series, task: str, config: FitConfig):
    """Train and test parts and a note (None when there is nothing to say): classes split stratified,
    a class of fewer than 3 rows kept whole in the training part (:func:`deepzoo.data.splits.holdout`);
    numbers split plainly."""
    from sklearn.model_selection import train_test_split

    if task != "classify":
        return (*train_test_split(X, y, test_size=config.test_size, random_state=config.seed), None)
    train, test, _, note = holdout(y.to_numpy(), config.test_size, config.seed)
    return X.iloc[train], X.iloc[test], y.iloc[train], y.iloc[test], note


# HistGradientBoosting grows one tree per class and round: with many classes its rounds are cut so that
# rows x classes x rounds stays under this budget. Measured on a shared 2-core CPU, one thread: 2,400
# rows x 57 classes x 100 rounds (13.7 million) took 12.8 s, the MLP's default fit 26 s; a 57-class
# table of 13,000 rows ran over 10 minutes uncapped. Capping further costs accuracy (17 rounds: 0.375
# against 0.498 for 100), so the budget only binds where the time would.
HGB_ROW_TREES = 20_000_000
# LogisticRegression's lbfgs iterations when the encoded training part has more cells than LOGISTIC_CELLS
# (it converges in far fewer on wide data, and 2,000 on a wide table can outlast the deep model)
LOGISTIC_CELLS = 5_000_000
LOGISTIC_WIDE_MAX_ITER = 200


def baseline_caps(task: str, n_rows: int = 0, n_features: int = 0, n_classes: int = 2) -> tuple[dict, str]:
    """The baselines' budgets sized to the data, so that none outlasts the deep model's fit, and the
    sentence the report prints about them: ``({"hgb_max_iter": .., "logistic_max_iter": ..}, note)``."""
    hgb_max_iter = 100
    if task == "classify" and n_classes > 2 and n_rows:
        hgb_max_iter = int(min(100, max(10, HGB_ROW_TREES // (n_rows * n_classes))))
    wide = n_rows * n_features > LOGISTIC_CELLS
    logistic_max_iter = LOGISTIC_WIDE_MAX_ITER if wide else 2000
    notes = []
    if hgb_max_iter < 100:
        notes.append(
            f"HistGradientBoosting at most {hgb_max_iter} rounds (one tree per class and round: "
            f"{n_rows:,} rows x {n_classes} classes)"
        )
    if task == "classify" and wide:
        notes.append(
            f"LogisticRegression at most {logistic_max_iter} iterations ({n_rows:,} rows x {n_features:,} "
            "encoded features)"
        )
    note = "Baselines sized to the data: " + "; ".join(notes) + "." if notes else ""
    return {"hgb_max_iter": hgb_max_iter, "logistic_max_iter": logistic_max_iter}, note


def baselines(
    task: str, steps: list, seed: int, *, n_rows: int = 0, n_features: int = 0, n_classes: int = 2
) -> dict:
    """(display name, key, role) -> an unfitted Pipeline of ``steps`` (the deep model's own
    preprocessing, cloned) and a classical or trivial model: everyone sees the same features. The
    sizes cap the budgets of the slow ones (:func:`baseline_caps`)."""
    from sklearn.dummy import DummyClassifier, DummyRegressor
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression, RidgeCV

    caps, _ = baseline_caps(task, n_rows, n_features, n_classes)
    if task == "classify":
        models = {
            ("LogisticRegression", "logistic_regression", "baseline"): LogisticRegression(
                max_iter=caps["logistic_max_iter"]
            ),
            ("HistGradientBoosting", "hist_gradient_boosting", "baseline"): HistGradientBoostingClassifier(
                max_iter=caps["hgb_max_iter"], random_state=seed
            ),
            ("majority class", "majority", "trivial"): DummyClassifier(strategy="prior"),
        }
    else:
        models = {
            ("Ridge", "ridge", "baseline"): RidgeCV(alphas=np.logspace(-3, 3, 13)),
            ("HistGradientBoosting", "hist_gradient_boosting", "baseline"): HistGradientBoostingRegressor(
                max_iter=caps["hgb_max_iter"], random_state=seed
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


def train_test(source, config: FitConfig, report=None):
    """``(frame, test_frame, X_train, y_train, X_test, y_test)``: the rows with a target (those without
    one counted in ``report``), the data's own test part (or None), and the rows the model learns from
    and is scored on (:func:`split`; classes too small to test stay in training, said in ``report``)."""
    frame, test_frame, schema = source.frame, source.test_frame, source.schema
    task, target = schema.task, schema.target
    frame = usable_rows(frame, target, report)
    X, y = frame[schema.features], frame[target]
    if test_frame is not None:
        test_frame = test_frame[test_frame[target].notna()]
        X_train, y_train, X_test, y_test = X, y, test_frame[schema.features], test_frame[target]
        if task == "classify":
            y_test = _align_labels(y_test, y_train)
        note = None
    else:
        X_train, X_test, y_train, y_test, note = split(X, y, task, config)
    if note:
        _say(report, "Classes too small to test", note, config.verbose)
    if config.group and task == "classify":  # checked before training: a typo must not cost a fit
        missing = [c for c in config.group if c not in frame.columns]
        if missing:
            raise ValueError(
                f"--group {missing[0]!r} is not a column of the data; columns: {', '.join(frame.columns)}."
            )
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
    choose = len(X_train) < _CHOOSE_ALPHA_ROWS and "alpha" not in overrides and config.time_limit is None
    say_estimate(report, config, model, X_train, y_train, choose)
    with stopwatch() as seconds, time_limit(config.time_limit):
        if choose:
            choose_alpha(report, model, X_train, y_train, task, config.seed)
        model.fit(X_train, y_train)
    mlp.set_params(checkpoint=None, resume=False)
    return model, seconds()


def say_estimate(report, config: FitConfig, model: Pipeline, X_train, y_train, choose: bool) -> float:
    """Print (and write to the report and config.json) how long the MLP's fit will take at most
    (:func:`estimate_seconds`), before it starts; returns the seconds."""
    sample = (
        X_train.iloc[:ESTIMATE_SAMPLE_ROWS] if hasattr(X_train, "iloc") else X_train[:ESTIMATE_SAMPLE_ROWS]
    )
    encoded = clone(model[0]).fit_transform(sample)
    mlp = model[-1]
    settings = mlp.get_params()
    n_binned = 0
    if settings["n_bins"]:
        n_binned = len(varying_columns(encoded)) if settings["bin_columns"] == "varying" else encoded.shape[1]
    n_classes = len(pd.unique(np.asarray(y_train))) if isinstance(mlp, MLPClassifier) else 1
    n_outputs = max(n_classes, 2) if isinstance(mlp, MLPClassifier) else 1
    n_cv = 3 * len(weight_decay_choices(len(X_train))) if choose else 0
    estimate = estimate_seconds(settings, len(X_train), encoded.shape[1], n_binned, n_outputs, n_cv)
    macs, steps = fit_work(settings, len(X_train), encoded.shape[1], n_binned, n_outputs)
    cv = f", after {n_cv} fits on 2/3 of the rows to choose the weight decay" if n_cv else ""
    _say(
        report,
        "Time estimate",
        f"The MLP's fit: at most about {estimate:,.0f} s on an idle 2-core CPU, about "
        f"{estimate / settings['max_iter'] / (1 + n_cv * 2 / 3):,.2g} s an epoch ({macs / 1e9:,.1f} billion "
        f"multiply-adds in {steps:,} steps of {settings['batch_size']} rows if all {settings['max_iter']} "
        f"epochs run{cv}; early stopping usually ends it well before).",
        config.verbose,
    )
    if report is not None:
        report.config.setdefault("decided", {})["estimated_fit_seconds"] = round(estimate, 1)
    return estimate


def run(source, config: FitConfig, report, tuned: dict | None = None, parts: tuple | None = None) -> Outcome:
    """Fit the table task on ``source.frame`` (scored on ``source.test_frame`` when the data bring one).

    With ``tuned`` (settings found by :mod:`deepzoo.tasks.tune` on the training rows alone), the MLP
    with those settings is the deep model, "MLP (deepzoo, tuned)", and the untuned default stands
    beside it on the leaderboard as "MLP (deepzoo, default)"; the tuned one is saved. ``parts``: what
    :func:`train_test` gave the caller for this source and config (tuning splits before it runs)."""
    schema = source.schema
    task = schema.task
    frame, test_frame, X_train, y_train, X_test, y_test = parts or train_test(source, config, report)
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
    encoder = model[0]
    n_features = int(encoder.n_features_out_)
    sizes = dict(n_rows=len(X_train), n_features=n_features, n_classes=0 if classes is None else len(classes))
    others = baselines(task, [("encode", encoder)], config.seed, **sizes)
    board, outputs = compare_named(
        task, name, "mlp", model, fit_seconds, others, X_train, y_train_values, X_test, y_test, classes
    )
    if default is not None:
        scores, outputs["MLP (deepzoo, default)"] = _scores(task, default, X_test, y_test, classes)
        board.add("MLP (deepzoo, default)", scores, default_seconds, key="mlp_default")
    report.add_metrics(**board.metrics(), n_train=len(X_train), n_test=len(X_test), epochs=mlp.n_iter_)
    _, capped = baseline_caps(task, **sizes)
    board.add_to_report(
        report, leaderboard_caption(len(X_train), len(X_test), len(schema.features), n_features, capped)
    )
    report.keep(model, verdict=board.verdict())  # saved before anything is drawn
    add_pictures(report, task, mlp, y_test, outputs, classes, name=name)
    with report.section("permutation importance"):
        add_importance(report, model, X_test, y_test, task, config.seed)
    if config.group and task == "classify" and len(classes) == 2:
        rows = frame.loc[X_test.index] if test_frame is None else test_frame
        groups = {column: rows[column].astype(str).to_numpy() for column in config.group}
        with report.section("fairness by group"):
            add_fairness(report, model.predict_proba(X_test)[:, 1], y_test, classes, groups, config.seed)
    return Outcome(
        task,
        model,
        report.metrics,
        board.frame(),
        report.out_dir,
        schema,
        board.verdict(),
        split=(X_train, X_test, y_train, y_test),
    )


def leaderboard_caption(n_train: int, n_test: int, n_columns: int, n_features: int, capped: str = "") -> str:
    """The line under the leaderboard that says why the comparison is fair (and how baselines were capped)."""
    return (
        f"Every model on the same {n_test:,} test rows, trained on the same {n_train:,} rows of the same "
        f"{n_columns} parsed columns, encoded by the same TableEncoder into {n_features:,} features: no "
        "model sees a column, a category or a row the others do not (the MLP then bins each number "
        "itself)." + (f" {capped}" if capped else "")
    )


def check_target_rows(frame: pd.DataFrame, target: str) -> None:
    """Refuse a target missing in more than half the rows (a wrong --target, or a column that is mostly
    empty): checked when the table is detected, before anything is written or trained."""
    missing = int(frame[target].isna().sum())
    if missing * 2 > len(frame):
        raise ValueError(
            f"The target {target!r} is missing in {missing:,} of {len(frame):,} rows (more than half): "
            "is it the right column? Pick another with --target, or fill the labels in."
        )


def usable_rows(frame: pd.DataFrame, target: str, report=None) -> pd.DataFrame:
    """The rows with a target (:func:`check_target_rows`); the rows without one are dropped and counted
    in the report (the schema's notes print the count)."""
    check_target_rows(frame, target)
    missing = int(frame[target].isna().sum())
    if missing:
        _say(
            report,
            "Rows without a target",
            f"{missing:,} of {len(frame):,} rows have no {target!r} and were left out.",
        )
    return frame[frame[target].notna()]


def _say(report, heading: str, text: str, verbose: bool = False) -> None:
    """A decision about the rows: printed (when verbose), in the report, in config.json."""
    if report is not None:
        report.add_text(heading, text)
        report.config.setdefault("decided", {}).setdefault("notes", []).append(text)
    if verbose and distributed.is_main_process():
        from rich.console import Console

        Console().print(f"note: {text}")


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
    raise ValueError(
        f"The data's own test part holds labels its training part does not have: {unseen}. Drop those "
        "test rows, or let deepzoo split the rows itself (give one file)."
    )


def add_pictures(report, task: str, mlp, y_test, outputs: dict, classes, name="MLP (deepzoo)") -> None:
    """Learning curves; ROC curves of every model and the confusion matrix (classes), or predicted
    against actual values (regression). Each is drawn in ``report.section``: one that fails becomes a
    note, the others are still drawn."""
    report.add_history(mlp.history_)
    with report.section("learning curves"):
        report.add_figure(
            "learning_curves",
            plots.plot_loss(mlp),
            "Loss per epoch; with early stopping the dot marks the epoch whose weights were kept.",
        )
    if task == "classify" and len(classes) == 2:
        with report.section("ROC curve"):
            ax = None
            for label, proba in outputs.items():
                if "majority" in label:
                    continue
                ax = plots.plot_roc(np.asarray(y_test) == classes[1], proba[:, 1], ax=ax, label=label)
            report.add_figure("roc_curve", ax, "ROC curves of every model on the test rows.")
    if task == "classify":
        proba = outputs[name]
        y_true, y_pred = np.asarray(y_test), classes[proba.argmax(1)]
        absent = len(set(classes) - set(y_true))
        with report.section("confusion matrix"):
            report.add_figure(
                "confusion_matrix",
                plots.plot_confusion_matrix(y_true, y_pred, labels=list(classes)),
                "The MLP's test predictions."
                + (f" {absent} of the {len(classes)} classes have no test row." if absent else ""),
            )
    else:
        with report.section("predicted against actual"):
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
    check_target_rows(probe.frame, schema.target)
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
