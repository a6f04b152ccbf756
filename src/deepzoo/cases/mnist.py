"""Case study ``mnist``: LeNet-5 reads 70,000 handwritten digits (the book reports 99.19% test accuracy).

load (the four IDX files: 60,000 training and 10,000 test images, 28x28, their own split) -> one call
into the image task (:func:`deepzoo.tasks.images.fit_images`, the road of ``deepzoo fit`` on MNIST's
files, whose choice for them is this LeNet-5 style network: batch norm, dropout, light
shifts/rotations, a cosine learning rate; the case's fields override it) -> the 10,000 test digits
beside logistic regression on the pixels and the majority class, the same leaderboard and pictures
(learning curves, confusion matrix, mistakes, filters, saliency) -> write.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from ..data import registry
from ..data.image_data import load_idx
from ..report import RunReport
from ..tasks import images
from ..tasks.base import FitConfig


@dataclass
class Config:
    """Settings of the MNIST case study; every field can be overridden from the command line."""

    data: str | None = None
    """Folder with the four MNIST IDX .gz files; None asks the registry ($DEEPZOO_DATA_DIR/mnist, ...)."""
    seed: int = 0
    """Seed of the network and the batch order."""
    device: str = "auto"
    """'auto' (CUDA when present), 'cpu' or 'cuda'."""
    quick: bool = False
    """Tiny budgets (2,000 training images, one epoch) for tests and smoke runs."""
    verbose: bool = False
    """Show a progress bar while training."""
    resume: bool = False
    """Continue an interrupted fit from the checkpoint in the run folder (same settings and seed)."""
    architecture: str = "lenet5"
    """lenet5 (the book's network), small_vgg, resnet18, mobilenet_v2 or efficientnet_lite0."""
    width: float = 2.0
    """Multiplier of LeNet-5's channels (6 and 16) and dense units (120 and 84)."""
    dropout: float = 0.1
    """Dropout after the dense layers."""
    learning_rate: float = 3e-3
    """Adam's starting learning rate; it follows a half cosine to 0 over max_iter epochs."""
    batch_size: int = 128
    """Images per gradient step."""
    max_iter: int = 5
    """Epochs."""
    augment: dict = dataclasses.field(default_factory=lambda: {"shift": 0.08, "rotation": 8.0, "scale": 0.08})
    """Random shifts (share of the side), rotations (degrees) and zoom of each training batch; {} for none."""
    n_train: int | None = None
    """Use only the first n_train training images (None: all 60,000)."""
    threads: int | None = None
    """CPU threads for torch (None: torch's default, every core; 122 s of training on an idle 2-core
    CPU); 1 is faster on a CPU that other jobs keep busy."""


def _budget(config: Config) -> Config:
    """The quick setting: tiny budgets that still exercise every step."""
    if not config.quick:
        return config
    return dataclasses.replace(config, max_iter=1, n_train=min(config.n_train or 2000, 2000))


def load_data(path=None):
    """(X_train, y_train, X_test, y_test): uint8 digits (n, 28, 28) and int labels in the IDX files' own
    split; the video cases (moving_mnist, motion) draw their clips from these digits."""
    data = load_idx(registry.resolve("mnist", path))
    return data.X_train[:, 0], data.y_train, data.X_test[:, 0], data.y_test


_NETWORK = ("architecture", "width", "dropout", "learning_rate", "batch_size", "max_iter")


def network_settings(config: Config) -> dict:
    """The case's network over the image task's choice for MNIST (the same LeNet-5 by default)."""
    return {name: getattr(config, name) for name in _NETWORK} | {"augment": dict(config.augment) or None}


def run(config: Config, out_dir) -> dict:
    """Run the MNIST case study into ``out_dir``; return its metrics."""
    config = _budget(config)
    out_dir = Path(out_dir)
    report = RunReport(
        out_dir,
        "Reading handwritten digits: LeNet-5 on MNIST",
        dataclasses.asdict(config),
        description="The MNIST database (60,000 training and 10,000 test digits, 28x28), read by a "
        "LeNet-5 style network with batch normalisation, light augmentation and a cosine learning rate. "
        "The book's LeNet-5 reaches 99.19%.",
    )
    # load: the IDX files' own train / t10k split
    data = load_idx(registry.resolve("mnist", config.data))
    data = data.head(config.n_train, 1000 if config.quick else None)
    # the image task: fit -> beside the baselines -> leaderboard and pictures
    fit_config = FitConfig(
        task="images",
        out=str(out_dir),
        seed=config.seed,
        device=config.device,
        resume=config.resume,
        verbose=config.verbose,
        settings=network_settings(config),
    )
    report.config["fit"] = fit_config.to_dict()
    outcome = images.fit_images(report, data, fit_config, threads=config.threads)
    images.save_model(outcome.model, out_dir)
    report.write()
    return outcome.metrics
