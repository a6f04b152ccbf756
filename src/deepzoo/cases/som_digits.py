"""Case study ``som_digits``: a self-organizing map sorts handwritten digits without their labels (offline).

load (scikit-learn's 1,797 8x8 digits, pixels scaled to [0, 1]) -> fit the map on three quarters ->
evaluate (quantization and topographic error; each unit labelled by the majority digit it wins, then the
held-out quarter classified by its unit) -> plot (labels per unit, U-matrix, hit map, unit weights as
images) -> write.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from .. import plots
from ..engine import distributed
from ..engine.persistence import save
from ..models.som import SelfOrganizingMap
from ..report import RunReport


@dataclass
class Config:
    """Settings of the digits SOM case study; every field can be overridden from the command line."""

    seed: int = 0
    """Seed of the split and of the map's initial weights."""
    device: str = "auto"
    """'auto' (CUDA when present), 'cpu' or 'cuda'."""
    quick: bool = False
    """Tiny budgets (a few passes) for tests and smoke runs."""
    verbose: bool = False
    """Show a progress bar while training."""
    grid_shape: tuple = (12, 12)
    """Rows and columns of the map."""
    topology: str = "hexagonal"
    """'hexagonal' or 'rectangular'."""
    sigma: float = 4.0
    """Initial neighbourhood radius, in units."""
    sigma_decay: str = "linear"
    """How sigma shrinks: 'linear' (to 1), 'asymptotic' (to a third) or 'inverse'."""
    algorithm: str = "batch"
    """'batch' (vectorised, fast) or 'online' (MiniSom's sequential rule)."""
    init: str = "pca"
    """'pca' (a plane of the two main directions) or 'random' (random digits)."""
    max_iter: int = 40
    """Passes over the digits (batch) or single updates (online)."""


def _budget(config: Config) -> Config:
    """The quick setting: tiny budgets that still exercise every step."""
    if not config.quick:
        return config
    return dataclasses.replace(config, max_iter=min(config.max_iter, 5))


def unit_labels(som: SelfOrganizingMap, X, y) -> np.ndarray:
    """The majority label of the samples each unit wins; -1 for units that win none."""
    counts = np.zeros((int(np.prod(som.grid_shape)), int(y.max()) + 1))
    np.add.at(counts, (som.predict(X), y), 1)
    return np.where(counts.sum(1) > 0, counts.argmax(1), -1)


def plot_prototypes(som: SelfOrganizingMap, image_shape=(8, 8)) -> Figure:
    """Every unit's weights drawn as an image, in its place on the map."""
    n_rows, n_columns = som.grid_shape
    weights = som.get_weights().reshape(n_rows, n_columns, *image_shape)
    tiles = np.ones((n_rows * (image_shape[0] + 1), n_columns * (image_shape[1] + 1)))
    for r in range(n_rows):
        for c in range(n_columns):
            h, w = image_shape[0] + 1, image_shape[1] + 1
            tiles[r * h : r * h + image_shape[0], c * w : c * w + image_shape[1]] = 1 - weights[r, c]
    figure = Figure(figsize=(6, 6), layout="constrained")
    ax = figure.add_subplot()
    ax.imshow(tiles, cmap="gray", vmin=0, vmax=1)
    ax.set_axis_off()
    ax.set_title("Unit weights as images", fontsize=12, fontweight="bold", loc="left")
    return figure


def run(config: Config, out_dir) -> dict:
    """Run the case study into ``out_dir``; return its metrics."""
    config = _budget(config)
    out_dir = Path(out_dir)
    report = RunReport(
        out_dir,
        "A self-organizing map sorts handwritten digits",
        dataclasses.asdict(config),
        description="scikit-learn's bundled 8x8 digits (1,797 images): a map learns, without labels, a "
        "grid of prototypes in which neighbouring units look alike. Labelling each unit by the digit it "
        "wins most often turns the map into a classifier of the held-out digits.",
    )
    # load
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=config.seed, stratify=y
    )

    # fit (the corner pixels are blank in every image: the map learns them as constants, no warning needed)
    som = SelfOrganizingMap(
        tuple(config.grid_shape),
        topology=config.topology,
        sigma=config.sigma,
        sigma_decay=config.sigma_decay,
        algorithm=config.algorithm,
        init=config.init,
        max_iter=config.max_iter,
        random_state=config.seed,
        device=config.device,
        verbose=config.verbose,
    )
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*zero variance", category=UserWarning)
        som.fit(X_train)
    fit_seconds = time.perf_counter() - started

    # evaluate
    labels = unit_labels(som, X_train, y_train)
    predicted = labels[som.predict(X_test)]
    metrics = {
        "accuracy": float(np.mean(predicted == y_test)),
        "quantization_error": som.quantization_error(X_test),
        "topographic_error": som.topographic_error(X_test),
        "train_quantization_error": som.quantization_error_,
        "units_used": int((som.activation_response(X_train) > 0).sum()),
        "fit_seconds": fit_seconds,
    }

    # plot and write
    report.add_metrics(**metrics)
    report.add_history(som.history_)
    report.add_figure(
        "digit_map",
        plots.plot_label_map(som, X_train, y_train),
        "The digit each unit wins most often (faint where its digits disagree): like digits gather.",
    )
    report.add_figure("prototypes", plot_prototypes(som).axes[0], "What each unit has learned to look like.")
    report.add_figure(
        "umatrix", plots.plot_umatrix(som), "U-matrix: light units are borders between groups of digits."
    )
    report.add_figure("hit_map", plots.plot_hit_map(som, X_train), "Training digits won by each unit.")
    if distributed.is_main_process():
        save(som, out_dir / "model")
    report.write()
    return metrics
