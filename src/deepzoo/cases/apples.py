"""Case study ``apples``: a GAN learns to draw apples (Deep Learning Illustrated's GAN chapter).

load (3,000 Quick, Draw! apple doodles, 28x28) -> train the scoring classifier (a small CNN on MNIST
digits, whose features the Fréchet distance uses) -> fit the DCGAN, scoring every epoch -> evaluate
(FD, diversity) -> the leaderboard (beside a Gaussian mixture on the pixels' principal components, the
mean image and the untrained generator) -> plot (samples across epochs, interpolation, losses, FD) -> write.
"""

from __future__ import annotations

import dataclasses
import gzip
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..data.registry import DatasetNotFoundError, dataset_file
from ..engine import distributed
from ..engine.persistence import save
from ..engine.training import torch_threads
from ..models.gan.estimator import GAN
from ..models.gan.metrics import FrechetEvaluator, fit_feature_classifier
from ..report import RunReport
from . import gan_common


@dataclass
class Config:
    """Settings of the apples case study; every field can be overridden from the command line."""

    data: str | None = None
    """Folder laid out as shared/datasets/quickdraw_apple, or quickdraw_apple.npz; None asks the registry."""
    mnist_data: str | None = None
    """MNIST folder (the four IDX .gz files) for the scoring classifier; None asks the registry."""
    seed: int = 0
    """Seed of the networks, the batches and the latent draws."""
    device: str = "auto"
    """'auto' (CUDA when present), 'cpu' or 'cuda'."""
    quick: bool = False
    """Tiny budgets (300 apples, 2 epochs, a small classifier) for tests and smoke runs."""
    resume: bool = False
    """Continue an interrupted fit from the checkpoint in the run folder."""
    verbose: bool = False
    """Show progress bars while training."""
    latent_dim: int = 100
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
    max_iter: int = 12
    """Epochs over the 3,000 apples (the FD levels off after about 10; longer runs drift slightly up)."""
    n_eval_samples: int = 1000
    """Images generated after each epoch to compute the FD."""
    n_images: int | None = None
    """Use only the first n apples (None: all 3,000)."""
    classifier_images: int = 20000
    """MNIST training images for the scoring classifier."""
    classifier_epochs: int = 2
    """Epochs of the scoring classifier."""
    threads: int = 1
    """CPU threads for torch (0: torch's default). One avoids the thread contention that slows a small
    CPU shared with other processes several-fold; on an idle machine 2 threads are about 1.5x faster."""


def _budget(config: Config) -> Config:
    """The quick setting: tiny budgets that still exercise every step."""
    if not config.quick:
        return config
    return dataclasses.replace(
        config,
        max_iter=min(config.max_iter, 2),
        n_images=min(config.n_images or 300, 300),
        n_filters=min(config.n_filters, 16),
        n_eval_samples=min(config.n_eval_samples, 200),
        classifier_images=min(config.classifier_images, 2000),
        classifier_epochs=1,
    )


def load_apples(path=None) -> np.ndarray:
    """The apple doodles, uint8 (n, 28, 28), 255 = stroke."""
    file = dataset_file("quickdraw_apple", path=path)
    try:
        with np.load(file) as archive:
            images = archive["images"]
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(
            f"{file} is not the quickdraw_apple archive (an .npz with an 'images' array of shape "
            f"(n, 28, 28)): {exc}"
        ) from exc
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"{file} holds images of shape {images.shape}; expected (n, 28, 28).")
    return images


def read_idx(path) -> np.ndarray:
    """An IDX file (MNIST's format: magic, dimension sizes, then uint8 data), gzip-compressed or not."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as exc:
        raise ValueError(f"{path} cannot be read as an IDX file ({exc}).") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes (bad magic number).")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    if len(raw) - offset != int(np.prod(dims)):
        raise ValueError(
            f"{path} is truncated: its header announces {dims}, the data hold {len(raw) - offset} bytes."
        )
    return np.frombuffer(raw, np.uint8, offset=offset).reshape(dims)


def load_classifier_data(config: Config) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """(train images, labels, test images, labels, source) for the scoring classifier: MNIST, or
    scikit-learn's 8x8 digits enlarged to 28x28 when MNIST is not found (coarser features)."""
    try:
        files = [
            dataset_file("mnist", name, path=config.mnist_data)
            for name in (
                "train-images-idx3-ubyte.gz",
                "train-labels-idx1-ubyte.gz",
                "t10k-images-idx3-ubyte.gz",
                "t10k-labels-idx1-ubyte.gz",
            )
        ]
    except DatasetNotFoundError as exc:
        warnings.warn(f"{exc} Scoring with scikit-learn's digits enlarged to 28x28 instead.", stacklevel=2)
        from sklearn.datasets import load_digits

        digits = load_digits()
        images = torch.nn.functional.interpolate(
            torch.as_tensor(digits.images[:, None] / 16.0, dtype=torch.float32),
            size=(28, 28),
            mode="bilinear",
        )[:, 0].numpy()
        return images[:1400], digits.target[:1400], images[1400:], digits.target[1400:], "digits_8x8_enlarged"
    X, y, X_test, y_test = (read_idx(f) for f in files)
    n = config.classifier_images
    return X[:n], y[:n], X_test[:2000], y_test[:2000], "mnist"


def run(config: Config, out_dir) -> dict:
    """Run the apples case study into ``out_dir``; return its metrics."""
    config = _budget(config)
    with torch_threads(config.threads):
        return _run(config, Path(out_dir))


def _run(config: Config, out_dir: Path) -> dict:
    report = RunReport(
        out_dir,
        "Drawing apples: a GAN on 3,000 Quick, Draw! doodles",
        dataclasses.asdict(config),
        description="A DCGAN-style generative adversarial network learns to draw apples from Google's "
        "Quick, Draw! doodles (28x28). Its images are scored after every epoch by the Fréchet distance on "
        "the features of a small CNN trained here on MNIST digits (FD on our classifier's features, not "
        "Inception FID). Data: Quick, Draw! data set, Google (CC BY 4.0).",
    )
    # load
    apples = load_apples(config.data)
    if config.n_images:
        apples = apples[: config.n_images]
    X_clf, y_clf, X_clf_test, y_clf_test, source = load_classifier_data(config)

    # the scoring classifier, then the GAN, scored every epoch
    classifier = fit_feature_classifier(
        X_clf, y_clf, max_iter=config.classifier_epochs, random_state=config.seed, device=config.device
    )
    evaluator = FrechetEvaluator(classifier, apples)
    classifier_accuracy = float(np.mean(evaluator.predict(X_clf_test) == y_clf_test))
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
    gan.fit(apples, evaluator=snapshots)
    fit_seconds = time.perf_counter() - started

    # evaluate
    metrics = gan_common.quality_metrics(gan, evaluator, config.n_eval_samples, config.seed)
    metrics.update(
        fit_seconds=fit_seconds,
        epochs=gan.n_iter_,
        n_images=len(apples),
        classifier_accuracy=classifier_accuracy,
        fd_classifier=source,
    )

    # beside a Gaussian mixture, the mean image and the untrained generator; plot and write
    metrics = gan_common.add_generator_board(
        report, gan, evaluator, apples, metrics, fit_seconds, config.seed
    )
    report.add_history(gan.history_)
    report.add_text("What the numbers say", gan_common.describe(metrics, gan))
    real = (
        apples[np.random.default_rng(config.seed).choice(len(apples), min(64, len(apples)), replace=False)]
        / 255.0
    )
    gan_common.add_gan_figures(report, gan, snapshots.snapshots, real, metrics, config.seed)
    report.add_text(
        "The scoring classifier",
        f"A small CNN (two 3x3 convolutions, a 64-unit layer) trained for {config.classifier_epochs} "
        f"epoch(s) on {len(X_clf):,} {source} images; held-out accuracy {classifier_accuracy:.3f}. Its 64 "
        f"penultimate features of the {len(apples):,} real apples and of the generated ones give the FD.",
    )
    if distributed.is_main_process():
        save(gan, out_dir / "model")
    report.write()
    return metrics
