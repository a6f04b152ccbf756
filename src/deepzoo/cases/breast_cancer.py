"""Case study ``breast_cancer``: the MLP on scikit-learn's bundled breast-cancer set (offline, for the tour).

load (569 tumours, 30 features) -> fit (scale + MLP) -> evaluate (test split, 5-fold CV, logistic
regression beside it) -> plot -> write.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .. import plots
from ..engine import distributed
from ..engine.persistence import save
from ..models.mlp import MLPClassifier
from ..report import RunReport


@dataclass
class Config:
    """Settings of the breast-cancer case study."""

    seed: int = 0
    """Seed of the split, the folds and the network."""
    device: str = "auto"
    """'auto' (CUDA when present), 'cpu' or 'cuda'."""
    quick: bool = False
    """Tiny budgets for tests and smoke runs."""
    hidden_layer_sizes: tuple = (32, 16)
    """Width of each hidden layer."""
    learning_rate: float = 0.001
    """Adam's learning rate."""
    alpha: float = 0.01
    """L2 penalty on the weights."""
    dropout: float = 0.2
    """Dropout after each hidden layer."""
    batch_size: int = 32
    """Samples per gradient step."""
    max_iter: int = 100
    """Epochs at most (training stops earlier once the loss stops improving)."""
    cv_folds: int = 5
    """Folds of the cross-validation."""
    verbose: bool = False
    """Show progress bars while training."""


def run(config: Config, out_dir) -> dict:
    """Run the case study into ``out_dir``; return its metrics."""
    if config.quick:
        config = dataclasses.replace(
            config, max_iter=min(config.max_iter, 5), cv_folds=min(config.cv_folds, 3)
        )
    out_dir = Path(out_dir)
    report = RunReport(
        out_dir,
        "Is this tumour malignant? An MLP on breast-cancer measurements",
        dataclasses.asdict(config),
        description="scikit-learn's bundled Wisconsin breast-cancer data (569 tumours, 30 "
        "measurements): scaling + a multilayer perceptron, beside logistic regression.",
    )
    data = load_breast_cancer(as_frame=True)
    X, y = data.data, data.target.to_numpy()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=config.seed, stratify=y
    )
    mlp = MLPClassifier(
        tuple(config.hidden_layer_sizes),
        learning_rate=config.learning_rate,
        alpha=config.alpha,
        dropout=config.dropout,
        batch_size=config.batch_size,
        max_iter=config.max_iter,
        random_state=config.seed,
        device=config.device,
        verbose=config.verbose,
    )
    model = make_pipeline(StandardScaler(), mlp)
    started = time.perf_counter()
    model.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - started
    proba = model.predict_proba(X_test)[:, 1]
    cv = cross_val_score(
        model,
        X_train,
        y_train,
        scoring="accuracy",
        cv=StratifiedKFold(config.cv_folds, shuffle=True, random_state=config.seed),
    )
    logreg = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X_train, y_train)
    proba_lr = logreg.predict_proba(X_test)[:, 1]
    metrics = {
        "accuracy": accuracy_score(y_test, proba >= 0.5),
        "roc_auc": roc_auc_score(y_test, proba),
        "cv_accuracy_mean": float(cv.mean()),
        "cv_accuracy_std": float(cv.std()),
        "fit_seconds": fit_seconds,
        "epochs": mlp.n_iter_,
        "logreg_accuracy": accuracy_score(y_test, proba_lr >= 0.5),
    }
    report.add_metrics(**metrics)
    report.add_history(mlp.history_)
    report.add_figure("learning_curves", plots.plot_loss(mlp), "Loss and accuracy per epoch.")
    ax = plots.plot_roc(y_test, proba, label="MLP (deepzoo)")
    plots.plot_roc(y_test, proba_lr, ax=ax, label="LogisticRegression")
    report.add_figure("roc_curve", ax, "ROC curves on the held-out quarter.")
    report.add_figure(
        "confusion_matrix",
        plots.plot_confusion_matrix(y_test, (proba >= 0.5).astype(int), labels=list(data.target_names)),
        "Held-out tumours.",
    )
    report.add_figure("cv_scores", plots.plot_cv_scores(cv), f"{config.cv_folds}-fold CV accuracy.")
    report.add_table(
        "scores",
        pd.DataFrame(
            [
                {"model": "MLP (deepzoo)", "accuracy": metrics["accuracy"], "roc_auc": metrics["roc_auc"]},
                {
                    "model": "LogisticRegression",
                    "accuracy": metrics["logreg_accuracy"],
                    "roc_auc": roc_auc_score(y_test, proba_lr),
                },
            ]
        ).round(4),
        "Same split.",
    )
    if distributed.is_main_process():
        save(model, out_dir / "model")
    report.write()
    return metrics
