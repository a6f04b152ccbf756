"""Case study ``autoencoder_digits``: a stacked autoencoder compresses 8x8 digits to 2 numbers (offline).

load (1,797 digits scaled to [0, 1]) -> fit (a 64-32-2-32-64 denoising autoencoder through fit_loop)
-> evaluate (reconstruction error on held-out digits, PCA with 2 components beside it) -> plot
(reconstructions, the 2-D codes coloured by digit) -> write.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from .. import plots
from ..engine import distributed
from ..engine.persistence import save
from ..models.autoencoder import StackedAutoEncoder
from ..report import RunReport


@dataclass
class Config:
    """Settings of the autoencoder-on-digits case study; every field can be set from the command line."""

    seed: int = 0
    """Seed of the split, the weights, the batches and the noise."""
    device: str = "auto"
    """'auto' (CUDA when present), 'cpu' or 'cuda'."""
    quick: bool = False
    """Tiny budgets (3 epochs) for tests and smoke runs."""
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
    return dataclasses.replace(config, max_iter=min(config.max_iter, 3))


def run(config: Config, out_dir) -> dict:
    """Run the case study into ``out_dir``; return its metrics."""
    config = _budget(config)
    out_dir = Path(out_dir)
    report = RunReport(
        out_dir,
        "An autoencoder squeezes digits into two numbers",
        dataclasses.asdict(config),
        description="scikit-learn's 1,797 8x8 digits through a stacked denoising autoencoder with a "
        "2-unit code: how well it rebuilds them, and where each digit lands on the plane of codes.",
    )
    digits = load_digits()
    X = (digits.data / 16).astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split(
        X, digits.target, test_size=0.25, random_state=config.seed, stratify=digits.target
    )
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
    started = time.perf_counter()
    ae.fit(X_train)
    fit_seconds = time.perf_counter() - started
    recon = ae.reconstruct(X_test)
    code_size = ae.transform(X_test[:1]).shape[1]
    pca = PCA(code_size, random_state=config.seed).fit(X_train)
    pca_recon = pca.inverse_transform(pca.transform(X_test))
    metrics = {
        "test_mse": float(np.mean((recon - X_test) ** 2)),
        "pca_mse": float(np.mean((pca_recon - X_test) ** 2)),
        "mean_digit_mse": float(np.mean((X_train.mean(0) - X_test) ** 2)),
        "fit_seconds": fit_seconds,
        "epochs": ae.n_iter_,
    }
    report.add_metrics(**metrics)
    report.add_history(ae)
    report.add_figure("learning_curves", plots.plot_loss(ae), "Reconstruction error per epoch.")
    report.add_figure(
        "reconstructions",
        plots.plot_reconstructions(X_test, recon, (8, 8), n=12),
        f"Held-out digits rebuilt from {code_size} numbers each.",
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
