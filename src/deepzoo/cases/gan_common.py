"""What the GAN case studies (``apples``, ``digits_gan``) share: scoring during training, pictures, metrics,
and the leaderboard of the GAN beside a classical generative model and trivial image makers.

Pure matplotlib, no pyplot: every function returns an Axes or a Figure for :meth:`RunReport.add_figure`.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..models.gan.estimator import GAN
from ..models.gan.metrics import FrechetEvaluator
from ..report import RunReport
from ..tasks.base import Leaderboard, baseline_threads, stopwatch
from ..tasks.boards import add_board

N_SHOWN = 16  # images per row in the grids across epochs


class SnapshotEvaluator:
    """``GAN.fit``'s evaluator: the FD on our classifier's features, keeping the first images of each call."""

    def __init__(self, evaluator: FrechetEvaluator):
        self.evaluator = evaluator
        self.snapshots: list[np.ndarray] = []  # epoch 0 (untrained), 1, 2, ...

    def __call__(self, images: np.ndarray) -> float:
        self.snapshots.append(np.array(images[:N_SHOWN]))
        return self.evaluator(images)


def _gray(image: np.ndarray) -> np.ndarray:
    """(H, W) or (C, H, W) in [0, 1] -> something imshow draws: (H, W) or (H, W, C)."""
    if image.ndim == 3:
        return image[0] if image.shape[0] == 1 else np.moveaxis(image, 0, -1)
    return image


def image_grid(images: np.ndarray, n_cols: int) -> np.ndarray:
    """Tile images (n, H, W) or (n, C, H, W) into one picture, one pixel of white between them."""
    tiles = [_gray(im) for im in images]
    h, w = tiles[0].shape[:2]
    n_rows = -(-len(tiles) // n_cols)
    canvas = np.zeros((n_rows * (h + 1) - 1, n_cols * (w + 1) - 1, *tiles[0].shape[2:]))
    for i, tile in enumerate(tiles):
        r, c = divmod(i, n_cols)
        canvas[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = tile
    return canvas


def plot_images(images: np.ndarray, n_cols: int, title: str, ax: Axes | None = None) -> Axes:
    """A grid of images, ink dark on white (the drawings' 1 = stroke shown black)."""
    if ax is None:
        n_rows = -(-len(images) // n_cols)
        ax = Figure(
            figsize=(min(0.45 * n_cols, 9), min(0.45 * n_rows, 9) + 0.4), layout="constrained"
        ).add_subplot()
    ax.imshow(image_grid(images, n_cols), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_title(title, fontsize=11, fontweight="bold", loc="left")
    ax.set_axis_off()
    return ax


def plot_epochs(snapshots: list[np.ndarray], first_epoch: int = 0, max_rows: int = 9) -> Axes:
    """The same latent vectors drawn after chosen epochs: one row per epoch, epoch 0 = untrained."""
    rows = np.unique(np.linspace(0, len(snapshots) - 1, min(max_rows, len(snapshots))).round().astype(int))
    n_cols = len(snapshots[0])
    ax = Figure(figsize=(8, 0.5 * len(rows) + 0.6), layout="constrained").add_subplot()
    ax.imshow(
        image_grid(np.concatenate([snapshots[r] for r in rows]), n_cols),
        cmap="gray_r",
        vmin=0,
        vmax=1,
        interpolation="nearest",
    )
    side = snapshots[0].shape[-2] + 1  # one image and its white line
    ax.set_yticks(
        [side * i + side / 2 - 1 for i in range(len(rows))], [f"epoch {first_epoch + r}" for r in rows]
    )
    ax.set_xticks([])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(
        "Samples from fixed latent vectors across training", fontsize=11, fontweight="bold", loc="left"
    )
    return ax


def plot_interpolation(gan: GAN, n_pairs: int = 4, steps: int = 10, seed: int = 0) -> Axes:
    """Rows of images along straight lines between random latent vectors."""
    rng = np.random.default_rng(seed)
    rows = [gan.interpolate(*rng.standard_normal((2, gan.latent_dim)), steps=steps) for _ in range(n_pairs)]
    return plot_images(np.concatenate(rows), steps, "Latent interpolation: z0 -> z1, left to right")


def plot_gan_losses(history: dict) -> Figure:
    """Left: both losses; right: the discriminator's mean probability of 'real' for real and fake images."""
    fig = Figure(figsize=(9, 3.4), layout="constrained")
    left, right = fig.subplots(1, 2)
    epochs = np.arange(1, len(history["d_loss"]) + 1)
    left.plot(epochs, history["d_loss"], lw=2, color="#4c72b0", label="discriminator")
    left.plot(epochs, history["g_loss"], lw=2, color="#dd8452", label="generator")
    left.set(title="Losses (binary cross-entropy)", xlabel="epoch", ylabel="loss")
    right.plot(epochs, history["d_real"], lw=2, color="#55a868", label="D(real image)")
    right.plot(epochs, history["d_fake"], lw=2, color="#c44e52", label="D(generated image)")
    right.axhline(0.5, color="#9ca3af", lw=1, ls="--")
    right.set(title="Discriminator's probability of 'real'", xlabel="epoch", ylim=(0, 1))
    for ax in (left, right):
        ax.grid(True, color="#d0d4da", linewidth=0.7, alpha=0.7)
        ax.legend(frameon=False, fontsize=9)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    return fig


def plot_fd(history: dict, fd_untrained: float, fd_std: float, ax: Axes | None = None) -> Axes:
    """FD per epoch (epoch 0 = untrained generator) on a log axis, with the 5x-below-untrained line."""
    if ax is None:
        ax = Figure(figsize=(5.4, 3.8), layout="constrained").add_subplot()
    fd = np.array([fd_untrained, *history["fd"]])
    epochs = np.arange(len(fd))
    ax.plot(epochs, fd, "o-", lw=2, ms=4, color="#4c72b0", label="FD on our classifier's features")
    ax.errorbar(
        epochs[-1], fd[-1], yerr=2 * fd_std, color="#4c72b0", capsize=4, label="±2 std over latent draws"
    )
    ax.axhline(fd_untrained / 5, color="#c44e52", lw=1, ls="--", label="untrained / 5")
    ax.set_yscale("log")
    ax.set(title="Fréchet distance during training", xlabel="epoch", ylabel="FD (log scale)")
    ax.grid(True, which="both", color="#d0d4da", linewidth=0.6, alpha=0.7)
    ax.legend(frameon=False, fontsize=9)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


def quality_metrics(gan: GAN, evaluator: FrechetEvaluator, n_samples: int, seed: int) -> dict:
    """fd, fd_untrained, diversity, and how to read them: the FD's spread over latent draws, its rises."""
    draws = [evaluator(gan.sample(n_samples, random_state=seed + k)) for k in range(5)]
    fd = [gan.fd_untrained_, *gan.history_["fd"]]
    best_so_far = np.minimum.accumulate(fd)
    return {
        "fd": float(gan.history_["fd"][-1]),
        "fd_untrained": float(gan.fd_untrained_),
        "diversity": float(evaluator.diversity(gan.sample(n_samples, random_state=seed))),
        "fd_ratio": float(gan.fd_untrained_ / max(gan.history_["fd"][-1], 1e-12)),
        "fd_best": float(np.min(fd)),
        "fd_std": float(np.std(draws, ddof=1)),
        "fd_max_rise": float(np.max(np.array(fd[1:]) - best_so_far[:-1], initial=0.0)),
        "collapse": bool(gan.collapse_),
    }


def describe(metrics: dict, gan: GAN) -> str:
    """The report's plain-words reading of the numbers."""
    text = (
        f"FD on our classifier's features fell from {metrics['fd_untrained']:.1f} (untrained generator) to "
        f"{metrics['fd']:.2f} after {gan.n_iter_} epochs, {metrics['fd_ratio']:.1f}x lower (target: at least "
        "5x). Over five fresh latent draws the final FD varies with a standard deviation of "
        f"{metrics['fd_std']:.2f}; "
        f"the largest rise of any epoch above the best earlier FD is {metrics['fd_max_rise']:.2f}. "
        f"Diversity {metrics['diversity']:.3f}: generated images differ from each other, in feature space, "
        f"{metrics['diversity']:.0%} as much as real images do.\n\n"
        "This is not Inception FID: the features are the penultimate layer of a small CNN trained here on "
        "labelled images of the same domain, so the values compare only between runs with the same "
        "classifier."
    )
    if gan.collapse_:
        text += f"\n\nCollapse detector: FIRED. {gan.collapse_reason_}"
    else:
        text += (
            "\n\nCollapse detector: quiet (no non-finite loss, the discriminator never won outright, sample "
            "diversity never collapsed)."
        )
    return text


def add_gan_figures(report: RunReport, gan: GAN, snapshots: list, real: np.ndarray, metrics: dict, seed: int):
    """The figures both cases show: samples across epochs, real vs generated, interpolation, losses, FD."""
    if snapshots:  # a resumed fit scored only the epochs it ran: label the rows from there
        report.add_figure(
            "samples_across_epochs",
            plot_epochs(snapshots, first_epoch=gan.n_iter_ + 1 - len(snapshots)),
            "Each column keeps its latent vector: a column shows one image taking shape as training goes on.",
        )
    fig = Figure(figsize=(9, 4.6), layout="constrained")
    left, right = fig.subplots(1, 2)
    plot_images(real[:64], 8, "Real (training images)", ax=left)
    plot_images(gan.sample(64, random_state=seed), 8, "Generated (after training)", ax=right)
    report.add_figure("real_vs_generated", fig, "64 random training images beside 64 generated ones.")
    report.add_figure(
        "latent_interpolation",
        plot_interpolation(gan, seed=seed),
        "Walking in a straight line through the latent space changes the image smoothly.",
    )
    report.add_figure("losses", plot_gan_losses(gan.history_), "Per-epoch means over the batches.")
    report.add_figure(
        "fd_curve",
        plot_fd(gan.history_, metrics["fd_untrained"], metrics["fd_std"]),
        "FD on our classifier's features (not Inception FID) of the samples from fixed latent vectors; "
        "epoch 0 is the untrained generator.",
    )


# -- the leaderboard ----------------------------------------------------------------------------------
MIXTURE_COMPONENTS = 10
"""Gaussians of the classical baseline (as many as there are digits)."""
MIXTURE_DIMENSIONS = 40
"""Principal components of the pixels the mixture is fitted in (at most)."""


def mixture_samples(images: np.ndarray, n_samples: int, seed: int) -> np.ndarray:
    """The classical generative baseline: ``n_samples`` images drawn from a Gaussian mixture fitted to
    the training images' first principal components, mapped back to pixels and clipped to [0, 1]."""
    from sklearn.decomposition import PCA
    from sklearn.mixture import GaussianMixture

    flat = _as_unit(images).reshape(len(images), -1)
    with baseline_threads(flat.size):
        pca = PCA(min(MIXTURE_DIMENSIONS, *flat.shape), random_state=seed).fit(flat)
        mixture = GaussianMixture(
            MIXTURE_COMPONENTS, covariance_type="full", reg_covar=1e-4, random_state=seed
        ).fit(pca.transform(flat))
        drawn, _ = mixture.sample(n_samples)
    pixels = np.clip(pca.inverse_transform(drawn), 0.0, 1.0)
    return pixels.reshape(n_samples, *images.shape[1:]).astype(np.float32)


def _as_unit(images: np.ndarray) -> np.ndarray:
    """uint8 0-255 or float 0-1 images as float 0-1."""
    images = np.asarray(images)
    return images / 255.0 if images.dtype.kind in "iu" else images.astype(np.float64)


def generator_board(
    gan: GAN, evaluator: FrechetEvaluator, images: np.ndarray, metrics: dict, fit_seconds: float, seed: int
) -> Leaderboard:
    """The GAN beside a Gaussian mixture on the pixels' principal components (classical), the training
    mean image repeated and the untrained generator (trivial), each scored by the same FD on
    ``n_eval_samples`` images; ``images`` are the GAN's training images, ``metrics`` those of
    :func:`quality_metrics`."""
    n_samples = gan.n_eval_samples
    board = Leaderboard(
        "fd",
        advice="A Gaussian mixture is a fine generator of images this simple; the GAN needs more epochs or "
        "capacity to be worth its cost here.",
    )
    board.add(
        "DCGAN (deepzoo)",
        {"fd": metrics["fd"], "diversity": metrics["diversity"]},
        fit_seconds,
        key="gan",
        role="deep",
    )
    with stopwatch() as took:
        drawn = mixture_samples(images, n_samples, seed)
    board.add(
        f"Gaussian mixture ({MIXTURE_COMPONENTS}) on principal components",
        {"fd": evaluator(drawn), "diversity": evaluator.diversity(drawn)},
        took(),
        key="gaussian_mixture",
    )
    mean = np.repeat(_as_unit(images).mean(0, keepdims=True), n_samples, axis=0)
    board.add(
        "the training mean image",
        {"fd": evaluator(mean), "diversity": evaluator.diversity(mean)},
        0.0,
        key="mean_image",
        role="trivial",
    )
    board.add(
        "the untrained generator", {"fd": metrics["fd_untrained"]}, 0.0, key="untrained", role="trivial"
    )
    return board


def add_generator_board(
    report: RunReport,
    gan: GAN,
    evaluator: FrechetEvaluator,
    images: np.ndarray,
    metrics: dict,
    fit_seconds: float,
    seed: int,
) -> dict:
    """:func:`generator_board` into the report and its figures into the metrics, with ``fd_real``: the FD
    of as many real training images as each model draws, the floor a model reaches only by copying them."""
    n_samples = gan.n_eval_samples
    pick = np.random.default_rng(seed).choice(len(images), min(n_samples, len(images)), replace=False)
    metrics = {**metrics, "fd_real": evaluator(images[pick])}
    return add_board(
        report,
        generator_board(gan, evaluator, images, metrics, fit_seconds, seed),
        metrics,
        f"FD on our classifier's features of {n_samples} images from each model (lower is better); "
        f"diversity about 1 = as varied as real images. For scale, {len(pick)} real training images score "
        f"{metrics['fd_real']:.2f}: the floor a model goes below only by copying its training images.",
    )
