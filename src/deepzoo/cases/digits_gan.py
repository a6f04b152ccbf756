"""Case study ``digits_gan``: a GAN learns to draw 8x8 digits (scikit-learn's bundled set; offline).

load (1,797 digits, 8x8) -> train the scoring classifier (a small CNN on three quarters of the digits,
whose features the Fréchet distance uses) -> fit the DCGAN, scoring every epoch -> evaluate (FD,
diversity, which digits it draws) -> the leaderboard (beside a Gaussian mixture on the pixels' principal
components, the mean image and the untrained generator) -> plot -> write.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from ..engine import distributed
from ..engine.persistence import save
from ..engine.training import torch_threads
from ..models.gan.estimator import GAN
from ..models.gan.metrics import FrechetEvaluator, fit_feature_classifier
from ..report import RunReport
from . import gan_common


@dataclass
class Config:
    """Settings of the digits GAN case study; every field can be overridden from the command line."""

    seed: int = 0
    """Seed of the split, the networks, the batches and the latent draws."""
    device: str = "auto"
    """'auto' (CUDA when present), 'cpu' or 'cuda'."""
    quick: bool = False
    """Tiny budgets (512 digits, 2 epochs, a briefly trained classifier) for tests and smoke runs."""
    resume: bool = False
    """Continue an interrupted fit from the checkpoint in the run folder."""
    verbose: bool = False
    """Show progress bars while training."""
    latent_dim: int = 32
    """Size of the generator's latent vector."""
    n_filters: int = 32
    """Channels of the generator's last and the discriminator's first convolution."""
    optimizer: str = "adam"
    """'adam' (lr 0.0002, betas 0.5/0.999) or 'rmsprop' (the book's settings)."""
    learning_rate: float | None = None
    """One learning rate for both networks instead of the optimizer preset's."""
    label_smoothing: float = 0.1
    """Real images are labelled 1 - label_smoothing for the discriminator."""
    ema_decay: float = 0.99
    """Decay of the moving average of the generator's weights that draws the samples."""
    batch_size: int = 64
    """Images per gradient step."""
    max_iter: int = 40
    """Epochs over the 1,797 digits."""
    n_eval_samples: int = 1000
    """Images generated after each epoch to compute the FD."""
    n_images: int | None = None
    """Train the GAN on the first n digits only (None: all 1,797)."""
    classifier_epochs: int = 30
    """Epochs of the scoring classifier."""
    threads: int = 1
    """CPU threads for torch (0: torch's default); one is fastest for these small networks."""


def _budget(config: Config) -> Config:
    """The quick setting: tiny budgets that still exercise every step."""
    if not config.quick:
        return config
    return dataclasses.replace(
        config,
        max_iter=min(config.max_iter, 2),
        n_images=min(config.n_images or 512, 512),
        n_eval_samples=min(config.n_eval_samples, 200),
        classifier_epochs=min(config.classifier_epochs, 2),
    )


def plot_digit_classes(generated: np.ndarray, real: np.ndarray) -> Figure:
    """Share of each digit among generated images (as the classifier reads them) and among real ones."""
    fig = Figure(figsize=(5.4, 3.4), layout="constrained")
    ax = fig.add_subplot()
    digits = np.arange(10)
    ax.bar(digits - 0.2, np.bincount(real, minlength=10) / len(real), 0.4, color="#9ca3af", label="real")
    ax.bar(
        digits + 0.2,
        np.bincount(generated, minlength=10) / len(generated),
        0.4,
        color="#4c72b0",
        label="generated",
    )
    ax.set(
        title="Which digits does the GAN draw?", xlabel="digit (as our classifier reads it)", ylabel="share"
    )
    ax.set_xticks(digits)
    ax.legend(frameon=False, fontsize=9)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig


def run(config: Config, out_dir) -> dict:
    """Run the digits GAN case study into ``out_dir``; return its metrics."""
    config = _budget(config)
    with torch_threads(config.threads):
        return _run(config, Path(out_dir))


def _run(config: Config, out_dir: Path) -> dict:
    report = RunReport(
        out_dir,
        "Drawing digits: a GAN on scikit-learn's 8x8 digits",
        dataclasses.asdict(config),
        description="A DCGAN-style generative adversarial network learns to draw 8x8 handwritten digits "
        "(scikit-learn's bundled set, 1,797 images). Its images are scored after every epoch by the Fréchet "
        "distance on the features of a small CNN trained here on the same digits (FD on our classifier's "
        "features, not Inception FID).",
    )
    # load
    data = load_digits()
    X, y = data.images / 16.0, data.target
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=config.seed, stratify=y
    )

    # the scoring classifier, then the GAN, scored every epoch
    classifier = fit_feature_classifier(
        X_train,
        y_train,
        max_iter=config.classifier_epochs,
        batch_size=64,
        random_state=config.seed,
        device=config.device,
    )
    evaluator = FrechetEvaluator(classifier, X)
    classifier_accuracy = float(np.mean(evaluator.predict(X_test) == y_test))
    snapshots = gan_common.SnapshotEvaluator(evaluator)
    gan = GAN(
        config.latent_dim,
        n_filters=config.n_filters,
        optimizer=config.optimizer,
        learning_rate=config.learning_rate,
        label_smoothing=config.label_smoothing,
        ema_decay=config.ema_decay,
        batch_size=config.batch_size,
        max_iter=config.max_iter,
        n_eval_samples=config.n_eval_samples,
        checkpoint=str(out_dir / "checkpoints" / "gan.ckpt") if distributed.is_main_process() else None,
        resume=config.resume,
        verbose=config.verbose,
        device=config.device,
        random_state=config.seed,
    )
    started = time.perf_counter()
    gan.fit(X[: config.n_images], evaluator=snapshots)
    fit_seconds = time.perf_counter() - started

    # evaluate
    metrics = gan_common.quality_metrics(gan, evaluator, config.n_eval_samples, config.seed)
    generated_classes = evaluator.predict(gan.sample(config.n_eval_samples, random_state=config.seed))
    shares = np.bincount(generated_classes, minlength=10) / len(generated_classes)
    metrics.update(
        fit_seconds=fit_seconds,
        epochs=gan.n_iter_,
        classifier_accuracy=classifier_accuracy,
        digits_drawn=int(np.sum(shares >= 0.02)),
        fd_classifier="sklearn_digits",
    )

    # beside a Gaussian mixture, the mean image and the untrained generator; plot and write
    metrics = gan_common.add_generator_board(
        report, gan, evaluator, X[: config.n_images], metrics, fit_seconds, config.seed
    )
    report.add_history(gan.history_)
    report.add_text("What the numbers say", gan_common.describe(metrics, gan))
    real = X[np.random.default_rng(config.seed).choice(len(X), 64, replace=False)]
    gan_common.add_gan_figures(report, gan, snapshots.snapshots, real, metrics, config.seed)
    report.add_figure(
        "digit_classes",
        plot_digit_classes(generated_classes, y),
        f"{config.n_eval_samples} generated digits labelled by the scoring classifier (held-out accuracy "
        f"{classifier_accuracy:.3f}); {metrics['digits_drawn']} of 10 digits make up at least 2% of them.",
    )
    if distributed.is_main_process():
        save(gan, out_dir / "model")
    report.write()
    return metrics
