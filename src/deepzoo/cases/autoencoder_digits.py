"""Case study ``autoencoder_digits``: a stacked autoencoder compresses 8x8 digits to 2 numbers (offline).

load (1,797 digits scaled to [0, 1]; a stratified quarter held out) -> fit (a 64-32-2-32-64 denoising
autoencoder through fit_loop) -> the clusters task's reconstruction leaderboard
(:func:`deepzoo.tasks.clusters.reconstruction_leaderboard`, the one ``deepzoo fit`` draws for its anomaly
autoencoder): the held-out digits rebuilt by the autoencoder beside PCA with as many components and the
mean digit -> plot (learning curves, reconstructions, the digits it rebuilds worst: the anomaly scores, the
2-D codes coloured by digit) -> write.

Why not the whole clusters task: its deep model is a self-organizing map; the course asks what a 2-number
code keeps of a digit, which is that task's autoencoder step on its own, with the course's network.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from .. import plots
from ..engine import distributed
from ..engine.persistence import save
from ..models.autoencoder import StackedAutoEncoder
from ..report import RunReport
from ..tasks import clusters
from ..tasks.base import stopwatch

DEEP_NAME = "stacked autoencoder (deepzoo)"


@dataclass
class Config:
    """Settings of the autoencoder-on-digits case study; every field can be set from the command line."""

    seed: int = 0
    """Seed of the split, the weights, the batches and the noise."""
    device: str = "auto"
    """'auto' (CUDA when present), 'cpu' or 'cuda'."""
    quick: bool = False
    """Tiny budgets (10 epochs: enough to beat the mean digit) for tests and smoke runs."""
    verbose: bool = False
    """Show progress bars while training."""
    hidden_layer_sizes: tuple = (32, 2)
    """Encoder widths; the last is the code size (2 to draw the codes)."""
    activation: str = "tanh"
    """Hidden activation."""
    noise: float = 0.05
    """Standard deviation of the Gaussian noise added to the input while training (denoising)."""
    learning_rate: float = 0.005
    """Adam's learning rate."""
    batch_size: int = 64
    """Digits per gradient step."""
    max_iter: int = 150
    """Epochs at most (early stopping on a held-out tenth keeps the best)."""


def _budget(config: Config) -> Config:
    if not config.quick:
        return config
    return dataclasses.replace(config, max_iter=min(config.max_iter, 10))


def run(config: Config, out_dir) -> dict:
    """Run the case study into ``out_dir``; return its metrics."""
    config = _budget(config)
    out_dir = Path(out_dir)
    report = RunReport(
        out_dir,
        "An autoencoder squeezes digits into two numbers",
        dataclasses.asdict(config),
        description="scikit-learn's 1,797 8x8 digits through a stacked denoising autoencoder with a "
        "2-unit code: how well it rebuilds a held-out quarter beside PCA with as many components and the "
        "mean digit (the leaderboard deepzoo fit draws for its anomaly autoencoder), which digits it "
        "rebuilds worst, and where each digit lands on the plane of codes.",
    )
    # load
    digits = load_digits()
    X = (digits.data / 16).astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split(
        X, digits.target, test_size=0.25, random_state=config.seed, stratify=digits.target
    )
    # fit
    ae = StackedAutoEncoder(
        tuple(config.hidden_layer_sizes),
        activation=config.activation,
        output_activation="sigmoid",
        noise=config.noise,
        learning_rate=config.learning_rate,
        batch_size=config.batch_size,
        max_iter=config.max_iter,
        early_stopping=True,
        n_iter_no_change=15,
        device=config.device,
        random_state=config.seed,
        verbose=config.verbose,
    )
    with stopwatch() as seconds:
        ae.fit(X_train)
    # evaluate: the held-out digits rebuilt beside PCA with as many components and the mean digit
    board, rebuilt = clusters.reconstruction_leaderboard(
        ae, seconds(), X_train, X_test, name=DEEP_NAME, seed=config.seed
    )
    recon = rebuilt[DEEP_NAME]
    code_size = ae.transform(X_test[:1]).shape[1]
    scores = board.metrics()
    metrics = {
        **scores,
        "test_mse": scores["rmse"] ** 2,
        "pca_mse": scores["baseline_pca_rmse"] ** 2,
        "mean_digit_mse": scores["baseline_mean_rmse"] ** 2,
        "epochs": ae.n_iter_,
    }
    # plot and write
    report.add_metrics(**metrics)
    board.add_to_report(
        report,
        f"Held-out digits rebuilt from {code_size} numbers each (pixels in [0, 1]; r2 is the share of the "
        "pixels' variance rebuilt).",
    )
    report.add_history(ae)
    report.add_figure("learning_curves", plots.plot_loss(ae), "Reconstruction error per epoch.")
    report.add_figure(
        "reconstructions",
        plots.plot_reconstructions(X_test, recon, (8, 8), n=12),
        f"Held-out digits rebuilt from {code_size} numbers each.",
    )
    worst = np.argsort(-((recon - X_test) ** 2).mean(1))[:12]
    report.add_figure(
        "worst_reconstructions",
        plots.plot_reconstructions(X_test[worst], recon[worst], (8, 8), n=12),
        "The held-out digits it rebuilds worst: the anomaly scores deepzoo fit ranks rows by "
        f"(digits {', '.join(str(d) for d in y_test[worst])}).",
    )
    if code_size >= 2:
        report.add_figure(
            "codes",
            plots.plot_codes(ae.transform(X_test), y_test, title="Codes of held-out digits"),
            "Each held-out digit at its code; the autoencoder never saw the labels.",
        )
    report.add_text(
        "Reading the numbers",
        f"Mean squared error per pixel on held-out digits: {metrics['test_mse']:.4f}; PCA with "
        f"{code_size} components: {metrics['pca_mse']:.4f}; the mean digit: {metrics['mean_digit_mse']:.4f}.",
    )
    if distributed.is_main_process():
        save(ae, out_dir / "model")
    report.write()
    return metrics
