"""Case study ``churn``: will a bank customer leave? (Deep Learning A-Z, "Building an ANN").

load (Churn_Modelling.csv) -> one call into the table task (:func:`deepzoo.tasks.run.fit_into`, the
road of ``deepzoo fit`` on this file, with the course's network over the task's MLP): the schema, a
stratified 80/20 split, the MLP beside logistic regression, gradient boosting and the majority class,
leaderboard, learning curves, ROC, confusion matrix, permutation importance, the saved model -> the
course's extras on the same split: 10-fold cross-validation and a small grid search on the training
part, fairness by Gender and Geography, the network's importance beside a logistic regression's
weights, why one customer -> the answer for new customers -> write.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import precision_score, recall_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score

from .. import plots
from ..audit import (
    integrated_gradients,
    permutation_importance_table,
    standardized_coefficients,
)
from ..data import churn as churn_data
from ..engine import distributed
from ..engine.persistence import update_card
from ..report import RunReport
from ..tasks import table
from ..tasks.base import FitConfig
from ..tasks.run import fit_into

# The course's example customer ("should we say goodbye to this customer?")
COURSE_CUSTOMER = {
    "CreditScore": 600,
    "Geography": "France",
    "Gender": "Male",
    "Age": 40,
    "Tenure": 3,
    "Balance": 60000.0,
    "NumOfProducts": 2,
    "HasCrCard": 1,
    "IsActiveMember": 1,
    "EstimatedSalary": 50000.0,
}


@dataclass
class Config:
    """Settings of the churn case study; every field can be overridden from the command line."""

    data: str | None = None
    """Folder laid out as shared/datasets/churn, or Churn_Modelling.csv itself; None asks the registry."""
    seed: int = 0
    """Seed of the stratified 80/20 split, the folds and the network."""
    device: str = "auto"
    """'auto' (CUDA when present), 'cpu' or 'cuda'."""
    quick: bool = False
    """Tiny budgets (a few epochs, 3 folds, no grid search) for tests and smoke runs."""
    test_size: float = 0.2
    """Share of customers held out for the test figures."""
    hidden_layer_sizes: tuple = (64, 32)
    """Width of each hidden layer."""
    activation: str = "relu"
    """Hidden activation: relu, tanh, sigmoid or gelu."""
    dropout: float = 0.2
    """Dropout after each hidden layer."""
    batch_norm: bool = True
    """Batch normalisation after each hidden Linear layer."""
    alpha: float = 1e-4
    """L2 penalty on the weights."""
    learning_rate: float = 0.002
    """Adam's learning rate."""
    batch_size: int = 512
    """Customers per gradient step."""
    max_iter: int = 300
    """Epochs at most."""
    early_stopping: bool = True
    """Hold out 10% of the training part and keep the weights of the best epoch."""
    n_iter_no_change: int = 30
    """Epochs without validation improvement before stopping."""
    engineered_features: bool = False
    """Read NumOfProducts as a category (one-hot: churn is U-shaped in it) instead of a number. False:
    the table task's reading of every column, which is the course's encoding (one-hot Geography, 0/1
    Gender, standardised numbers); on the task's split the one-hot gave no gain (benchmarks/RESULTS.md)."""
    cv_folds: int = 10
    """Folds of the cross-validation on the training part (the course uses 10)."""
    grid_search: bool = True
    """Run the small "parameter tuning" grid search."""
    resume: bool = False
    """Continue an interrupted fit from the checkpoint in the run folder."""
    customer: dict = field(default_factory=lambda: dict(COURSE_CUSTOMER))
    """One new customer to answer "will this customer leave?" for (fields of the CSV)."""
    customers_csv: str | None = None
    """A CSV of new customers (same columns as the data, without Exited) to score."""
    verbose: bool = False
    """Show progress bars while training."""


def _budget(config: Config) -> Config:
    """The quick setting: tiny budgets that still exercise every step."""
    if not config.quick:
        return config
    return dataclasses.replace(
        config,
        max_iter=min(config.max_iter, 5),
        cv_folds=min(config.cv_folds, 3),
        grid_search=False,
        n_iter_no_change=3,
    )


_NETWORK = (
    "hidden_layer_sizes",
    "activation",
    "dropout",
    "batch_norm",
    "alpha",
    "learning_rate",
    "batch_size",
    "max_iter",
    "early_stopping",
    "n_iter_no_change",
)


def network_settings(config: Config) -> dict:
    """The course's network over the table task's MLP: one network (the task's default is a deep
    ensemble of 8) reading the encoded columns as they are (the task's default passes each number
    through a piecewise-linear encoding of 16 bins, which cost the course's network 0.005-0.01 of
    test ROC-AUC on churn)."""
    settings = {name: getattr(config, name) for name in _NETWORK}
    settings["hidden_layer_sizes"] = tuple(config.hidden_layer_sizes)
    return settings | {"n_members": 1, "n_bins": 0}


def road_config(config: Config, out_dir=None) -> FitConfig:
    """What the table task is asked to do: the course's target and columns, split and network."""
    return FitConfig(
        data=None if config.data is None else str(config.data),
        target=churn_data.TARGET,
        task="classify",
        out=str(out_dir or "."),
        seed=config.seed,
        device=config.device,
        drop=churn_data.DROP,
        categorical=("NumOfProducts",) if config.engineered_features else (),
        settings=network_settings(config),
        test_size=config.test_size,
        resume=config.resume,
        verbose=config.verbose,
    )


def new_customers(config: Config) -> pd.DataFrame:
    """The customers to answer for: the CSV when given, else the one customer of the config. Numeric
    fields must hold numbers or nothing (the model would read a word as a missing value, silently)."""
    if config.customers_csv:
        from ..data.tabular import read_csv

        frame = read_csv(config.customers_csv)
    else:
        frame = pd.DataFrame([{**COURSE_CUSTOMER, **config.customer}])
    missing = [c for c in churn_data.FEATURES if c not in frame.columns]
    if missing:
        raise ValueError(
            f"The new customers lack the columns {missing}; give every one of "
            f"{', '.join(churn_data.FEATURES)}."
        )
    for column in churn_data.NUMERIC:
        numbers = pd.to_numeric(frame[column], errors="coerce")
        bad = frame[column][numbers.isna() & frame[column].notna()]
        if len(bad):
            raise ValueError(
                f"The new customers' {column} must be a number; got {bad.iloc[0]!r}"
                + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else "")
                + "."
            )
        frame[column] = numbers
    return frame[list(churn_data.FEATURES)]


def _explanations(config: Config, model, X_train, y_train, X_test, y_test, customers):
    """The network's permutation importance beside a logistic regression's standardised weights;
    integrated gradients of the first new customer from the average training customer."""
    importance = permutation_importance_table(
        model,
        X_test,
        y_test,
        scoring="roc_auc",
        n_repeats=2 if config.quick else 10,
        random_state=config.seed,
    )
    encode = model[:-1]
    names = [str(n) for n in encode.get_feature_names_out()]
    encoded = encode.transform(X_train)
    coefficients = standardized_coefficients(encoded, y_train, feature_names=names)
    average = encoded.mean(axis=0, keepdims=True)
    attributions = integrated_gradients(model, customers.iloc[:1], baseline=average, target=1)[0]
    return {
        "importance": importance,
        "coefficients": coefficients,
        "attributions": (attributions, names),
    }


def _report_responsible_use(report: RunReport, fairness, explained, proba_test, X_test) -> None:
    """The fairness and explanation section of the report (the rates and gap tables come from
    tasks.table.add_fairness)."""
    for column in ("Gender", "Geography"):
        report.add_figure(
            f"ecdf_by_{column.lower()}",
            plots.plot_score_ecdf(proba_test, X_test[column].to_numpy()),
            f"Leave probability ECDF by {column} (test): identical groups would give one curve; the KS "
            "p-values are in the fairness table.",
        )
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.6), layout="constrained")
    left, right = fig.subplots(1, 2)
    plots.plot_importance(explained["importance"], ax=left)
    plots.plot_coefficients(explained["coefficients"], ax=right)
    report.add_figure(
        "importance_vs_coefficients",
        fig,
        "The black box and the glass box: the network's permutation importance (drop of test ROC-AUC "
        "when a raw column is shuffled) beside a logistic regression's standardised weights on the "
        "encoded columns.",
    )
    values, names = explained["attributions"]
    report.add_figure(
        "customer_attributions",
        plots.plot_attributions(values, names, title="Why this customer? Integrated gradients"),
        "Attribution of each encoded feature to the new customer's 'leaves' logit (baseline: the "
        "average customer, zero after scaling); the bars add up to the logit's difference.",
    )


def _card(config: Config, metrics: dict | None = None, fairness=None) -> dict:
    """What the saved model's MODEL_CARD.md says beyond what the model tells itself: given to the road,
    which saves the model with it (without ``metrics``: the road's test figures), then rewritten with
    the case's extras (cross-validation, precision and recall, fairness) once they are computed."""
    from ..data.registry import DATASETS

    dataset = DATASETS["churn"]
    split = f"stratified split, seed {config.seed}"
    if metrics is not None:
        split = f"Trained on {metrics['n_train']} customers, tested on {metrics['n_test']} ({split})"
    card = {
        "title": "Bank churn MLP (deepzoo churn case study)",
        "predicts": "The probability that a bank customer leaves (Exited = 1), from the 10 columns of "
        "Churn_Modelling.csv; predict gives 1 when it is at least 0.5.",
        "target": "Exited",
        "data": f"{dataset.description} Source: {dataset.source}. Licence: {dataset.licence}. "
        f"{split[:1].upper()}{split[1:]}.",
        "intended_use": "Teaching and demonstration: ranking customers for a retention offer, with a "
        "person deciding.",
        "limitations": "Trained on one bank's customers in three countries; scores differ by Geography and "
        "Gender (see Fairness), partly because churn rates differ. Not for decisions about individuals "
        "without human review; not calibrated for other banks or periods.",
    }
    if metrics is not None:
        keys = ("accuracy", "roc_auc", "precision", "recall", "f1", "cv_accuracy_mean", "cv_accuracy_std")
        card["metrics"] = {f"test_{k}" if not k.startswith("cv") else k: metrics[k] for k in keys}
        card["fairness"] = fairness
    return card


def run(config: Config, out_dir) -> dict:
    """Run the churn case study into ``out_dir``; return its metrics."""
    config = _budget(config)
    out_dir = Path(out_dir)
    report = RunReport(
        out_dir, "Will this customer leave? Bank churn with an MLP", dataclasses.asdict(config)
    )
    # load: the course's file and its question
    frame = churn_data.read_frame(config.data)
    customers = new_customers(config)
    # the table task: the MLP beside the baselines on one split -> leaderboard, pictures, saved model
    fit_config = road_config(config, out_dir)
    report.config["fit"] = fit_config.to_dict()
    # saved once, by the road, with the case's card (rewritten below with the extras' figures)
    outcome = fit_into(
        report,
        frame,
        fit_config,
        description="Deep Learning A-Z's ANN case study on Churn_Modelling.csv (10,000 customers, 20% "
        "leave): the course's network (two hidden layers, batch normalisation, dropout) on deepzoo "
        "fit's road.",
        card=_card(config),
    )
    model, metrics = outcome.model, outcome.metrics
    # the task's own split, for the course's extras
    X_train, X_test, y_train, y_test = outcome.split
    y_train, y_test = y_train.to_numpy(), y_test.to_numpy()
    proba_test = model.predict_proba(X_test)[:, 1]
    pred_test = (proba_test >= 0.5).astype(int)
    extras = {
        "precision": precision_score(y_test, pred_test, zero_division=0),
        "recall": recall_score(y_test, pred_test),
        "churn_rate": float(np.mean(np.concatenate([y_train, y_test]))),
    }
    # evaluate: cross-validation and the course's "parameter tuning" on the training part
    folds = StratifiedKFold(config.cv_folds, shuffle=True, random_state=config.seed)
    cv_model = clone(model).set_params(mlp__checkpoint=None, mlp__resume=False, mlp__verbose=False)
    cv = cross_val_score(cv_model, X_train, y_train, cv=folds, scoring="accuracy")
    extras.update(cv_accuracy_mean=float(cv.mean()), cv_accuracy_std=float(cv.std()))
    grid_table = None
    if config.grid_search:
        grid = GridSearchCV(
            cv_model,
            {
                "mlp__hidden_layer_sizes": [(32,), (64, 32)],
                "mlp__learning_rate": [0.002, 0.005],
                "mlp__dropout": [0.1, 0.2],
            },
            cv=StratifiedKFold(3, shuffle=True, random_state=config.seed),
            scoring="accuracy",
        ).fit(X_train, y_train)
        extras.update(
            grid_best_accuracy=float(grid.best_score_),
            grid_best_params={k.removeprefix("mlp__"): v for k, v in grid.best_params_.items()},
        )
        grid_table = pd.DataFrame(grid.cv_results_)[
            ["params", "mean_test_score", "std_test_score", "rank_test_score"]
        ].sort_values("rank_test_score")
        grid_table["params"] = grid_table["params"].map(
            lambda p: ", ".join(f"{k.removeprefix('mlp__')}={v}" for k, v in p.items())
        )
    answers = customers.copy()
    answers["leave_probability"] = model.predict_proba(customers)[:, 1]
    answers["will_leave"] = answers["leave_probability"] >= 0.5
    extras["new_customer_leave_probability"] = float(answers["leave_probability"].iloc[0])

    # plot and write: fairness, explanations, the tuning and the answers
    explained = _explanations(config, model, X_train, y_train, X_test, y_test, customers)
    fairness = table.add_fairness(
        report,
        proba_test,
        y_test,
        [0, 1],
        {c: X_test[c].to_numpy() for c in ("Gender", "Geography")},
        config.seed,
        n_bootstrap=50 if config.quick else 1000,
    )
    for row in fairness.summary.itertuples():
        extras[f"{row.attribute.lower()}_dp_difference"] = row.demographic_parity_difference
        extras[f"{row.attribute.lower()}_eo_difference"] = row.equalized_odds_difference
    metrics = report.add_metrics(**extras)
    report.add_figure(
        "cv_scores",
        plots.plot_cv_scores(cv),
        f"{config.cv_folds}-fold cross-validation "
        "accuracy on the training part (the course reports 86.11% ± 0.86).",
    )
    report.add_figure(
        "scores_by_gender",
        plots.plot_score_distribution(proba_test, groups=X_test["Gender"].to_numpy()),
        "Predicted leave probability by Gender (test).",
    )
    report.add_figure(
        "scores_by_geography",
        plots.plot_score_distribution(proba_test, groups=X_test["Geography"].to_numpy()),
        "Predicted leave probability by Geography (test).",
    )
    _report_responsible_use(report, fairness, explained, proba_test, X_test)
    if grid_table is not None:
        report.add_table(
            "grid_search", grid_table.round(4), "Parameter tuning, 3-fold CV on the training part."
        )
    report.add_table("new_customers", answers.round(4), "Will this customer leave?")
    if distributed.is_main_process():  # the road saved the weights; the card gains the extras
        update_card(model, out_dir / "model", card=_card(config, metrics, fairness))
    report.write()
    return metrics
