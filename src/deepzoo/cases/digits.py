"""Case study ``digits``: a small ConvNet reads scikit-learn's bundled 8x8 handwritten digits (offline).

load (1,797 digits, pixels 0-16 scaled to [0, 1], a stratified 75/25 split) -> one call into the image
task (:func:`deepzoo.tasks.images.fit_images`, the road of ``deepzoo fit`` on these arrays, with the
case's small VGG over the task's choice) -> test accuracy beside logistic regression on the pixels and
the majority class, the same leaderboard and pictures (learning curves, confusion matrix, mistakes,
filters, saliency) -> write.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from sklearn.datasets import load_digits

from ..data.image_data import from_arrays
from ..report import RunReport
from ..tasks import images
from ..tasks.base import FitConfig


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


_NETWORK = ("architecture", "width", "learning_rate", "batch_size", "max_iter")


def network_settings(config: Config) -> dict:
    """The case's network over the image task's choice (LeNet-5 for images this small): no dropout,
    shifts of a tenth of the side as the only augmentation."""
    return {name: getattr(config, name) for name in _NETWORK} | {"dropout": 0.0, "augment": {"shift": 0.1}}


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
    # the image task: fit -> beside the baselines -> leaderboard and pictures
    fit_config = FitConfig(
        task="images",
        out=str(out_dir),
        seed=config.seed,
        device=config.device,
        resume=config.resume,
        verbose=config.verbose,
        test_size=config.test_size,
        settings=network_settings(config),
    )
    report.config["fit"] = fit_config.to_dict()
    outcome = images.fit_images(report, data, fit_config)
    images.save_model(outcome.model, out_dir)
    report.write()
    return outcome.metrics
