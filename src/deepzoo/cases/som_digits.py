"""Case study ``som_digits``: a self-organizing map sorts handwritten digits without their labels (offline).

load (scikit-learn's 1,797 8x8 digits, pixels scaled to [0, 1]) -> the clusters task's road
(:func:`deepzoo.tasks.run.fit_into`, what ``deepzoo fit`` runs on a table without a target) with the
course's map and the pixels kept in their unit (``--set scale=none``: standardising each pixel would blow
up the rarely inked border ones): the map fitted on three quarters, its quantization error on the rest
beside k-means with as many centres and the mean digit, U-matrix, hit map, the autoencoder's anomaly
scores -> model/ -> the course's extra: each unit labelled by the majority digit it wins, the held-out
quarter read by its unit, beside k-means centres labelled the same way and the majority class -> plot
(labels per unit, unit weights as images) -> write.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits

from .. import plots
from ..models.som import SelfOrganizingMap
from ..report import RunReport
from ..tasks import clusters
from ..tasks.base import FitConfig, Leaderboard, baseline_threads, stopwatch
from ..tasks.run import fit_into

# the map's settings the Config holds (the course's); the road's rule sets the others
_MAP = ("grid_shape", "topology", "sigma", "sigma_decay", "algorithm", "init", "max_iter")


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


def read_digits(som, X_train, y_train, X_test, y_test, seed: int) -> Leaderboard:
    """The held-out digits read by the unit they land on (each unit labelled by the majority digit of the
    training digits it wins), beside k-means centres labelled the same way and the majority class."""
    board = Leaderboard("accuracy", advice="k-means centres move freely; the map's keep their neighbours.")
    predicted = unit_labels(som, X_train, y_train)[som.predict(X_test)]
    board.add(
        "SOM units (deepzoo)", {"accuracy": float(np.mean(predicted == y_test))}, 0.0, key="som", role="deep"
    )
    n_units = int(np.prod(som.grid_shape))
    with stopwatch() as took, baseline_threads(X_train.size):
        kmeans = KMeans(n_clusters=min(n_units, len(X_train)), n_init=1, random_state=seed).fit(X_train)
    counts = np.zeros((kmeans.n_clusters, int(y_train.max()) + 1))
    np.add.at(counts, (kmeans.labels_, y_train), 1)
    predicted = counts.argmax(1)[kmeans.predict(X_test)]
    board.add(
        "k-means centres (same number)",
        {"accuracy": float(np.mean(predicted == y_test))},
        took(),
        key="kmeans",
    )
    majority = np.bincount(y_train).argmax()
    board.add(
        "majority class",
        {"accuracy": float(np.mean(y_test == majority))},
        0.0,
        key="majority",
        role="trivial",
    )
    return board


def run(config: Config, out_dir) -> dict:
    """Run the case study into ``out_dir``; return its metrics."""
    config = _budget(config)
    out_dir = Path(out_dir)
    report = RunReport(out_dir, "A self-organizing map sorts handwritten digits", dataclasses.asdict(config))
    # load
    X, y = load_digits(return_X_y=True)
    frame = pd.DataFrame(X / 16.0, columns=[f"pixel_{i}" for i in range(X.shape[1])])

    # fit: deepzoo fit's clusters road with the course's map, every pixel a number in its own unit
    fit_config = FitConfig(
        task="cluster",
        out=str(out_dir),
        seed=config.seed,
        device=config.device,
        numeric=tuple(frame.columns),
        settings={
            "scale": "none",
            **{k: getattr(config, k) for k in _MAP},
            "grid_shape": tuple(config.grid_shape),
        },
        test_size=0.25,
        verbose=config.verbose,
    )
    with warnings.catch_warnings():  # the corner pixels are blank in every image: constants, no news
        warnings.filterwarnings("ignore", message=".*zero variance", category=UserWarning)
        outcome = fit_into(
            report,
            frame,
            fit_config,
            description="scikit-learn's bundled 8x8 digits (1,797 images): a map learns, without labels, a "
            "grid of prototypes in which neighbouring units look alike. Labelling each unit by the digit it "
            "wins most often turns the map into a classifier of the held-out digits.",
        )
    encode, som = outcome.model[0], outcome.model[-1]
    train, test = clusters.split(frame, fit_config)  # the road's own split
    X_train, X_test = encode.transform(train), encode.transform(test)
    y_train, y_test = y[train.index], y[test.index]

    # evaluate: the course's question, beside k-means and the majority class
    reading = read_digits(som, X_train, y_train, X_test, y_test, config.seed)
    metrics = report.add_metrics(
        **{k: v for k, v in reading.metrics().items() if k != "fit_seconds"},  # the map's is the road's
        train_quantization_error=som.quantization_error_,
        units_used=int((som.activation_response(X_train) > 0).sum()),
    )
    report.add_table(
        "digit_reading",
        reading.frame().drop(columns="fit_seconds").round(4),
        "Held-out digits read from the map: each unit labelled by the majority digit of the training "
        f"digits it wins. {reading.verdict()}",
    )

    # plot and write
    report.add_figure(
        "digit_map",
        plots.plot_label_map(som, X_train, y_train),
        "The digit each unit wins most often (faint where its digits disagree): like digits gather.",
    )
    report.add_figure("prototypes", plot_prototypes(som).axes[0], "What each unit has learned to look like.")
    report.write()
    return metrics
