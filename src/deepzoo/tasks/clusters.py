"""A table without a target: clusters and anomaly scores with a self-organizing map, beside k-means
and an autoencoder's reconstruction error.

read -> schema -> split (80/20, seeded) -> TableEncoder + SelfOrganizingMap (a grid of about
5 sqrt(n) units, its sides in the ratio of the data's two main spreads, Vesanto's rule) -> on the held-out
rows: the map's quantization error (mean distance of a row to its best unit) beside k-means with as many
centres and the single mean (trivial) -> U-matrix, hit map, component planes; the most anomalous rows
(farthest from their unit), and the autoencoder's reconstruction error beside that score (and beside PCA
with as many components and the mean row) -> model/ (the encoder and the map: ``deepzoo predict`` gives
``cluster`` and ``anomaly_score``).

The task's own ``--set`` option: ``scale=minmax`` maps numeric columns onto [0, 1] instead of
standardising them, ``scale=none`` keeps them in their own unit (columns measured in one unit, such as
pixel intensities, whose relative sizes the distances should see); other keys go to the map
(``--set grid_shape=10,10``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from .. import plots
from ..data.schema import suggest_target
from ..models.som import SelfOrganizingMap
from .base import (
    FitConfig,
    Leaderboard,
    Outcome,
    Source,
    TableProbe,
    TaskKind,
    baseline_threads,
    regression_scores,
    stopwatch,
)
from .table import encoder_for

__all__ = ["grid_shape", "reconstruction_leaderboard", "run", "split"]

# the task's own --set options (the first value is the default); other keys go to SelfOrganizingMap
OPTIONS = {"scale": ("standard", "minmax", "none")}


def grid_shape(X: np.ndarray, max_units: int = 400) -> tuple[int, int]:
    """About 5 sqrt(n) units (at most ``max_units``, at least 4), rows:columns as the square roots of the
    two largest variances of the data's principal components."""
    n_units = int(np.clip(5 * np.sqrt(len(X)), 4, max_units))
    centred = X - X.mean(0)
    spreads = np.linalg.svd(centred[: min(len(X), 5000)], compute_uv=False) if X.shape[1] > 1 else [1.0, 1.0]
    ratio = float(spreads[0] / spreads[1]) if len(spreads) > 1 and spreads[1] > 0 else 1.0
    rows = max(2, int(round(np.sqrt(n_units * ratio))))
    columns = max(2, int(round(n_units / rows)))
    return rows, columns


def _quantization_error(X: np.ndarray, centres: np.ndarray) -> float:
    """Mean Euclidean distance from each row to its nearest centre."""
    distances = (
        np.sqrt(((X[:, None, :] - centres[None, :, :]) ** 2).sum(-1)) if len(X) * len(centres) < 5e7 else None
    )
    if distances is None:  # large: in blocks
        best = np.concatenate(
            [
                np.sqrt(((X[i : i + 2048, None, :] - centres[None]) ** 2).sum(-1)).min(1)
                for i in range(0, len(X), 2048)
            ]
        )
        return float(best.mean())
    return float(distances.min(1).mean())


def split(rows: pd.DataFrame, config: FitConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The training and held-out rows (a seeded ``config.test_size`` share held out; the index kept, so
    a caller can find other columns of the same rows)."""
    from sklearn.model_selection import train_test_split

    return train_test_split(rows, test_size=config.test_size, random_state=config.seed)


def reconstruction_leaderboard(
    autoencoder, fit_seconds: float, X_train: np.ndarray, X_test: np.ndarray, *, name: str, seed: int = 0
) -> tuple[Leaderboard, dict]:
    """The fitted ``autoencoder``'s reconstruction of the held-out rows beside PCA with as many
    components as its code (the linear autoencoder, fitted here on ``X_train``) and the mean training row
    (trivial): rmse, mae and r2 over every cell. Returns (Leaderboard, {model name: reconstructed rows})."""
    from sklearn.decomposition import PCA

    board = Leaderboard(
        "rmse",
        advice="PCA is the best linear code of this size; an autoencoder earns its non-linearity on more "
        "rows, more epochs or a larger code.",
    )
    rebuilt = {name: autoencoder.reconstruct(X_test)}
    board.add(name, regression_scores(X_test.ravel(), rebuilt[name].ravel()), fit_seconds, role="deep")
    n_components = min(autoencoder.transform(X_test[:1]).shape[1], *X_train.shape)
    with stopwatch() as took, baseline_threads(X_train.size):
        pca = PCA(n_components, random_state=seed).fit(X_train)
        pca_name = f"PCA ({n_components} components)"
        rebuilt[pca_name] = pca.inverse_transform(pca.transform(X_test))
    board.add(pca_name, regression_scores(X_test.ravel(), rebuilt[pca_name].ravel()), took(), key="pca")
    rebuilt["the mean"] = np.broadcast_to(X_train.mean(0), X_test.shape)
    board.add(
        "the mean",
        regression_scores(X_test.ravel(), rebuilt["the mean"].ravel()),
        0.0,
        key="mean",
        role="trivial",
    )
    return board, rebuilt


def run(source, config: FitConfig, report) -> Outcome:
    """Fit the map on 80% of the rows and score every model on the rest."""
    from sklearn.cluster import KMeans

    from ..engine.training import time_limit
    from ..models.autoencoder import StackedAutoEncoder

    frame, schema = source.frame, source.schema
    if not schema.features:
        raise ValueError("No column is left to cluster: every column was dropped. Keep some with --numeric.")
    settings = dict(config.settings)
    scale = settings.pop("scale", OPTIONS["scale"][0])
    if scale not in OPTIONS["scale"]:
        raise ValueError(f"--set scale must be one of {', '.join(OPTIONS['scale'])}; got {scale!r}.")
    rows = frame[schema.features]
    if len(rows) < 10:
        raise ValueError(f"Clustering needs at least 10 rows; the table has {len(rows)}.")
    train, test = split(rows, config)
    encoder = encoder_for(schema).set_params(scale=scale).fit(train)
    X_train, X_test = encoder.transform(train), encoder.transform(test)
    shape = grid_shape(X_train)
    som = SelfOrganizingMap(
        shape,
        sigma=max(shape) / 2.0,
        init="pca",
        random_state=config.seed,
        device=config.device,
        verbose=config.verbose,
    )
    try:
        som.set_params(**settings)
    except ValueError as exc:
        raise ValueError(f"--set: {exc}") from None
    if tuple(som.grid_shape) != shape:  # --set grid_shape=...: k-means gets as many centres, sigma follows
        shape = tuple(som.grid_shape)
        if "sigma" not in settings:
            som.set_params(sigma=max(shape) / 2.0)
    model = Pipeline([("encode", encoder), ("som", som)])
    with stopwatch() as seconds, time_limit(config.time_limit):
        som.fit(X_train)
    board = Leaderboard(
        "quantization_error",
        advice="k-means places its centres freely; the map's units keep their grid neighbours close, "
        "which costs some distance and gives the map (U-matrix, component planes) in return.",
    )
    board.add(
        "SOM (deepzoo)",
        {"quantization_error": som.quantization_error(X_test)},
        seconds(),
        key="som",
        role="deep",
    )
    n_units = shape[0] * shape[1]
    with stopwatch() as took, baseline_threads(X_train.size):
        kmeans = KMeans(n_clusters=min(n_units, len(X_train)), n_init=1, random_state=config.seed).fit(
            X_train
        )
    board.add(
        "k-means (same number of centres)",
        {"quantization_error": _quantization_error(X_test, kmeans.cluster_centers_)},
        took(),
        key="kmeans",
    )
    board.add(
        "the mean",
        {"quantization_error": _quantization_error(X_test, X_train.mean(0, keepdims=True))},
        0.0,
        key="mean",
        role="trivial",
    )

    # anomaly scores: the map's distance to the best unit beside an autoencoder's reconstruction error
    width = X_train.shape[1]
    code = max(2, min(8, width // 2))
    autoencoder = StackedAutoEncoder(
        (max(code * 2, min(64, width)), code),
        early_stopping=len(X_train) >= 300,
        max_iter=200,
        random_state=config.seed,
        device=config.device,
    )
    with stopwatch() as ae_seconds, time_limit(config.time_limit):
        autoencoder.fit(X_train)
    som_score = som.outlier_scores(X_test)
    ae_score = -autoencoder.score_samples(X_test)
    agreement = float(pd.Series(som_score).corr(pd.Series(ae_score), method="spearman"))
    rebuilding, _ = reconstruction_leaderboard(
        autoencoder, ae_seconds(), X_train, X_test, name="autoencoder (deepzoo)", seed=config.seed
    )
    metrics = board.metrics()
    metrics.update(
        grid_rows=shape[0],
        grid_columns=shape[1],
        topographic_error=som.topographic_error(X_test),
        autoencoder_reconstruction_error=float(ae_score.mean()),
        # the same squared error per cell for the linear code of the same size and for the mean row
        baseline_pca_reconstruction_error=rebuilding.metrics()["baseline_pca_rmse"] ** 2,
        baseline_mean_reconstruction_error=rebuilding.metrics()["baseline_mean_rmse"] ** 2,
        autoencoder_fit_seconds=ae_seconds(),
        anomaly_rank_agreement=agreement,
        n_train=len(X_train),
        n_test=len(X_test),
    )
    report.add_metrics(**metrics)
    board.add_to_report(
        report,
        "Mean distance of a held-out row to its nearest prototype (lower is better): the map's units are "
        "tied to their grid neighbours, so k-means with as many free centres is expected to be a little "
        "closer; the map buys the picture below with that.",
    )
    report.add_table(
        "reconstruction",
        rebuilding.frame().round(4),
        "The autoencoder that scores anomalies, rebuilding the held-out rows (encoded features) beside PCA "
        f"with as many components and the mean row: {rebuilding.verdict()}",
    )
    report.keep(model, verdict=board.verdict())  # saved (by deepzoo fit) before anything is drawn
    with report.section("pictures"):
        _pictures(report, som, autoencoder, encoder, X_test, test, som_score, ae_score, agreement)
    return Outcome("cluster", model, report.metrics, board.frame(), report.out_dir, schema, board.verdict())


def _pictures(report, som, autoencoder, encoder, X_test, test, som_score, ae_score, agreement) -> None:
    from matplotlib.figure import Figure

    report.add_history(som.history_)
    report.add_figure(
        "umatrix",
        plots.plot_umatrix(som),
        "U-matrix: light cells are far from their neighbours "
        "(borders between clusters), dark regions are clusters.",
    )
    report.add_figure("hit_map", plots.plot_hit_map(som, X_test), "How many held-out rows each cell wins.")
    names = encoder.get_feature_names_out().tolist()
    if len(names) <= 30:
        report.add_figure(
            "component_planes",
            plots.plot_component_planes(som, names),
            "Each feature across the map: planes that look alike are correlated features.",
        )
    fig = Figure(figsize=(5.2, 4.2), layout="constrained")
    ax = fig.subplots()
    ax.scatter(som_score, ae_score, s=8, alpha=0.5)
    ax.set_xlabel("distance to the best unit (SOM)")
    ax.set_ylabel("reconstruction error (autoencoder)")
    ax.set_title(f"Two anomaly scores (Spearman {agreement:.2f})")
    report.add_figure(
        "anomaly_scores",
        ax,
        "Rows far from every unit of the map against rows the autoencoder "
        "rebuilds badly: anomalies both agree on are the ones to look at first.",
    )
    worst = np.argsort(-som_score)[:20]
    table = test.iloc[worst].copy()
    table.insert(0, "anomaly_score", som_score[worst])
    table.insert(1, "reconstruction_error", ae_score[worst])
    table.insert(2, "cluster", som.predict(X_test[worst]))
    report.add_table(
        "most_anomalous",
        table.round(4).reset_index(names="row"),
        "The 20 held-out rows farthest from their best unit, with their raw values.",
    )
    report.add_figure("learning_curves", plots.plot_loss(autoencoder), "The autoencoder's loss per epoch.")


def predict_clusters(model, frame: pd.DataFrame) -> pd.DataFrame:
    """``cluster`` (the best unit) and ``anomaly_score`` (distance to it) of each row."""
    encoded = model[:-1].transform(frame)
    som = model[-1]
    return pd.DataFrame(
        {"cluster": som.predict(encoded), "anomaly_score": som.outlier_scores(encoded)}, index=frame.index
    )


# -- detection: a table without a target --------------------------------------------------------------
def detect_table(probe: TableProbe) -> Source | None:
    schema = probe.schema
    if schema.target is not None and probe.task != "cluster":
        return None
    rule = (
        "no target (no --target and no column named like a label: target, label, class, Survived, Churn, "
        "Exited...): clustering and anomaly scores"
    )
    suggested = suggest_target(probe.frame) if schema.target is None else None
    if suggested is not None and probe.task != "cluster":
        rule += f" (did you mean --target {suggested}? its last column looks like a label)"
    return Source(
        "cluster",
        rule,
        frame=probe.frame,
        schema=schema,
    )


KIND = TaskKind(
    name="clusters",
    tasks=("cluster",),
    rule="a table without a target",
    run=run,
    predict=predict_clusters,
    saves=(SelfOrganizingMap,),
    serves="rows",
    detect_table=detect_table,
)
