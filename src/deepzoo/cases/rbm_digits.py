"""Case study ``rbm_digits``: an RBM learns binarised 8x8 digits (scikit-learn's bundled set; offline).

load (1,797 digits, binarised at half intensity; a stratified quarter held out) -> fit (BernoulliRBM by
CD-k through fit_loop, without the labels) -> how useful are its features? The table task's classify
road (:mod:`deepzoo.tasks.table`) on the same split: the RBM's hidden probabilities read by a logistic
regression, beside logistic regression and gradient boosting on the pixels and the majority class ->
leaderboard, confusion matrix -> the course's extras: pseudo-likelihood on held-out digits with
scikit-learn's BernoulliRBM beside it, filters, Gibbs samples, reconstructions -> write.

Why the table task and not the clusters task: the clusters task's deep model is a map of the rows; the
question here is what an RBM's hidden units learn, and "a linear model reads its features better than the
pixels" is the measure the course (and scikit-learn's RBM example) gives it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM as SklearnRBM
from sklearn.pipeline import Pipeline

from .. import plots
from ..engine import distributed
from ..engine.persistence import save
from ..models.rbm import BernoulliRBM
from ..report import RunReport
from ..tasks import table
from ..tasks.base import baseline_threads, stopwatch

DEEP_NAME = "RBM features + LogisticRegression (deepzoo)"


@dataclass
class Config:
    """Settings of the RBM-on-digits case study; every field can be overridden from the command line."""

    seed: int = 0
    """Seed of the split, the weights, the batches and the Gibbs chains."""
    device: str = "auto"
    """'auto' (CUDA when present), 'cpu' or 'cuda'."""
    quick: bool = False
    """Tiny budgets (2 epochs, 10 boosting rounds, no scikit-learn comparison) for tests and smoke runs."""
    verbose: bool = False
    """Show progress bars while training."""
    n_components: int = 100
    """Hidden units."""
    method: str = "cd"
    """'cd' (contrastive divergence) or 'pcd' (persistent CD)."""
    n_gibbs_steps: int = 1
    """Gibbs steps per update (the k of CD-k)."""
    learning_rate: float = 0.01
    """Adam's learning rate."""
    batch_size: int = 32
    """Digits per gradient step."""
    max_iter: int = 40
    """Epochs."""
    sample_steps: int = 1000
    """Gibbs steps from random noise for each drawn sample."""
    compare_sklearn: bool = True
    """Fit scikit-learn's BernoulliRBM (its own defaults, same epochs) on the same digits."""


def _budget(config: Config) -> Config:
    if not config.quick:
        return config
    return dataclasses.replace(
        config, max_iter=min(config.max_iter, 2), sample_steps=50, compare_sklearn=False
    )


def run(config: Config, out_dir) -> dict:
    """Run the case study into ``out_dir``; return its metrics."""
    config = _budget(config)
    out_dir = Path(out_dir)
    report = RunReport(
        out_dir,
        "An RBM learns handwritten digits",
        dataclasses.asdict(config),
        description="scikit-learn's 1,797 8x8 digits, binarised, modelled by a restricted Boltzmann machine "
        "trained by contrastive divergence without the labels: how useful its features are (a logistic "
        "regression reads them, beside deepzoo fit's baselines on the pixels of the same held-out quarter), "
        "what its hidden units detect and what it dreams by Gibbs sampling.",
    )
    # load
    digits = load_digits()
    X = (digits.data / 16 > 0.5).astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split(
        X, digits.target, test_size=0.25, random_state=config.seed, stratify=digits.target
    )
    # fit: the RBM sees no labels; a logistic regression reads its hidden probabilities
    rbm = BernoulliRBM(
        config.n_components,
        method=config.method,
        n_gibbs_steps=config.n_gibbs_steps,
        learning_rate=config.learning_rate,
        batch_size=config.batch_size,
        max_iter=config.max_iter,
        device=config.device,
        random_state=config.seed,
        verbose=config.verbose,
    )
    model = Pipeline([("rbm", rbm), ("read", LogisticRegression(max_iter=2000))])
    with stopwatch() as rbm_seconds:
        rbm.fit(X_train)
    with stopwatch() as read_seconds, baseline_threads(X_train.size):
        model[-1].fit(rbm.transform(X_train), y_train)
    # evaluate: the table task's baselines on the pixels of the same split
    others = table.baselines("classify", [], config.seed)
    if config.quick:
        others[("HistGradientBoosting", "hist_gradient_boosting", "baseline")].set_params(model__max_iter=10)
    classes = model[-1].classes_
    board, outputs = table.compare_named(
        "classify",
        DEEP_NAME,
        "rbm",
        model,
        rbm_seconds() + read_seconds(),
        others,
        X_train,
        y_train,
        X_test,
        y_test,
        classes,
    )
    metrics = {
        **board.metrics(),
        "feature_accuracy": board.metrics()["accuracy"],
        "pseudo_likelihood": rbm.score(X_test),
        "train_pseudo_likelihood": rbm.score(X_train),
        "rbm_fit_seconds": rbm_seconds(),
        "seconds_per_epoch": rbm_seconds() / rbm.n_iter_,
        "epochs": rbm.n_iter_,
    }
    if config.compare_sklearn:
        theirs = SklearnRBM(
            n_components=config.n_components, n_iter=config.max_iter, random_state=config.seed
        )
        with stopwatch() as took:
            theirs.fit(X_train)
        metrics["sklearn_fit_seconds"] = took()
        metrics["sklearn_pseudo_likelihood"] = float(theirs.score_samples(X_test).mean())
    # plot: the leaderboard and the deep model's mistakes first, then the course's pictures
    report.add_metrics(**metrics)
    board.add_to_report(
        report,
        "Held-out digits: the RBM's hidden probabilities read by a logistic regression, beside models of "
        "the pixels themselves (deepzoo fit's baselines for this table) on the same split.",
    )
    report.add_figure(
        "confusion_matrix",
        plots.plot_confusion_matrix(y_test, classes[outputs[DEEP_NAME].argmax(1)], labels=list(classes)),
        "Held-out digits read from the RBM's features.",
    )
    report.add_history(rbm)
    report.add_figure(
        "free_energy_gap",
        plots.plot_loss(rbm),
        "Mean free-energy gap F(data) - F(model samples) per epoch: the quantity CD minimises.",
    )
    report.add_figure(
        "filters",
        plots.plot_rbm_filters(rbm, (8, 8), n=64),
        "Weights of 64 hidden units (red: the unit likes ink there; blue: blank).",
    )
    report.add_figure(
        "gibbs_samples",
        plots.plot_image_grid(
            rbm.sample(30, n_steps=config.sample_steps), (8, 8), n_cols=10, title="Gibbs samples"
        ),
        f"Thirty digits the RBM draws after {config.sample_steps} Gibbs steps from random noise.",
    )
    report.add_figure(
        "reconstructions",
        plots.plot_reconstructions(X_test, rbm.inverse_transform(rbm.transform(X_test)), (8, 8)),
        "Held-out digits and their mean-field reconstructions v -> h -> v.",
    )
    report.add_text(
        "Reading the numbers",
        f"Pseudo-likelihood on held-out digits: {metrics['pseudo_likelihood']:.2f} (higher is better; "
        "scikit-learn's definition, one random unit flipped per digit)"
        + (
            f"; scikit-learn's BernoulliRBM with its defaults and the same epochs: "
            f"{metrics['sklearn_pseudo_likelihood']:.2f}."
            if config.compare_sklearn
            else "."
        )
        + f"\nA logistic regression on the {config.n_components} hidden probabilities reaches "
        f"{metrics['feature_accuracy']:.3f} accuracy, on the raw pixels "
        f"{metrics['baseline_logistic_regression_accuracy']:.3f}.",
    )
    if distributed.is_main_process():
        save(rbm, out_dir / "model")
    report.write()
    return metrics
