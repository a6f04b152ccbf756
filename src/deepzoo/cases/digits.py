"""Case study ``digits``: a small ConvNet reads scikit-learn's bundled 8x8 handwritten digits (offline).

load (1,797 digits, pixels 0-16 scaled to [0, 1], a stratified 75/25 split) -> fit a ConvNetClassifier ->
evaluate (test accuracy, beside logistic regression on the pixels) -> plot (learning curves, confusion
matrix, mistakes, filters, saliency) -> write, along :mod:`deepzoo.tasks.images`'s road.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from sklearn.datasets import load_digits

from ..data.image_data import from_arrays
from ..models.vision.convnet import ConvNetClassifier
from ..report import RunReport
from ..tasks import images


@dataclass
class Config:
    """Settings of the digits ConvNet case study; every field can be overridden from the command line."""

    seed: int = 0
    """Seed of the split and of the network."""
    device: str = "auto"
    """'auto' (CUDA when present), 'cpu' or 'cuda'."""
    quick: bool = False
    """Tiny budgets (two epochs) for tests and smoke runs."""
    verbose: bool = False
    """Show a progress bar while training."""
    resume: bool = False
    """Continue an interrupted fit from the checkpoint in the run folder (same settings and seed)."""
    architecture: str = "small_vgg"
    """lenet5, small_vgg, resnet18, mobilenet_v2 or efficientnet_lite0."""
    width: float = 1.0
    """Multiplier of every layer's channels."""
    learning_rate: float = 3e-3
    """Adam's learning rate (follows a half cosine to 0)."""
    batch_size: int = 64
    """Images per gradient step."""
    max_iter: int = 20
    """Epochs."""
    test_size: float = 0.25
    """Share of the digits held out for the test figures."""


def _budget(config: Config) -> Config:
    """The quick setting: tiny budgets that still exercise every step."""
    return dataclasses.replace(config, max_iter=min(config.max_iter, 2)) if config.quick else config


def run(config: Config, out_dir) -> dict:
    """Run the digits ConvNet case study into ``out_dir``; return its metrics."""
    config = _budget(config)
    out_dir = Path(out_dir)
    report = RunReport(
        out_dir,
        "Reading handwritten digits with a ConvNet (8x8)",
        dataclasses.asdict(config),
        description="scikit-learn's 1,797 bundled 8x8 digits, read by a small convolutional network; "
        "the same pictures as the MNIST case, in seconds and offline.",
    )
    # load
    digits = load_digits()
    X = (digits.images / 16.0).astype("float32")  # (n, 8, 8) in [0, 1]
    data = from_arrays(X, digits.target, test_size=config.test_size, seed=config.seed)
    # the model
    clf = ConvNetClassifier(
        config.architecture,
        width=config.width,
        learning_rate=config.learning_rate,
        lr_schedule="cosine",
        batch_size=config.batch_size,
        max_iter=config.max_iter,
        augment={"shift": 0.1},
        device=config.device,
        verbose=config.verbose,
        random_state=config.seed,
    )
    # fit -> evaluate beside the baselines -> plot -> write
    metrics, _ = images.fit_and_report(report, clf, data, resume=config.resume, seed=config.seed)
    images.save_model(clf, out_dir)
    report.write()
    return metrics
