"""Case study ``fraud``: which credit-card applicants may have cheated? (Deep Learning A-Z, SOM section).

load (Credit_Card_Applications.csv, 690 applications) -> the clusters task's road
(:func:`deepzoo.tasks.run.fit_into`, what ``deepzoo fit`` runs on a table without a target) on A1..A14
with the course's [0, 1] scaling and 10x10 map (sigma 1, learning rate 0.5, online updates): the map
fitted on 80% of the applications, its quantization error on the rest beside k-means with as many
centres and the mean application, U-matrix, hit map, component planes, the autoencoder's anomaly scores
-> model/ -> the course's extras on every application placed on that map: the outlier cells of the
U-matrix and the customers on them -> the hybrid step: the SOM's fraud flags become the label of an
MLPClassifier that ranks every customer by fraud probability -> write.

An application that no others resemble lands on a unit far from its neighbours: a light cell of the
U-matrix. The customers on those cells are the likely frauds; approved ones among them matter most.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .. import plots
from ..engine import distributed
from ..engine.persistence import save
from ..models.mlp import MLPClassifier
from ..models.som import SelfOrganizingMap
from ..report import RunReport
from ..tasks.base import FitConfig, stopwatch
from ..tasks.run import fit_into

ID, TARGET = "CustomerID", "Class"
ATTRIBUTES = tuple(f"A{i}" for i in range(1, 15))


@dataclass
class Config:
    """Settings of the fraud case study; every field can be overridden from the command line."""

    data: str | None = None
    """Folder shared/datasets/credit_card_applications, or the CSV itself; None asks the registry."""
    seed: int = 0
    """Seed of the split, the map's initial weights, its sample order and the networks."""
    device: str = "auto"
    """'auto' (CUDA when present), 'cpu' or 'cuda'."""
    quick: bool = False
    """Tiny budgets (few map updates and epochs) for tests and smoke runs."""
    verbose: bool = False
    """Show progress bars while training."""
    grid_shape: tuple = (10, 10)
    """Rows and columns of the map (the course's 10x10)."""
    sigma: float = 1.0
    """Initial neighbourhood radius (the course's 1.0)."""
    learning_rate: float = 0.5
    """Initial learning rate of the online updates (the course's 0.5)."""
    algorithm: str = "online"
    """'online' (MiniSom's sequential rule, as the course) or 'batch'."""
    max_iter: int = 5000
    """Online updates (the course trains 100, under a sixth of one pass; 5,000 let the map settle)."""
    outlier_threshold: float = 0.9
    """Units whose U-matrix value (scaled to [0, 1]) reaches this are the outlier cells."""
    hidden_layer_sizes: tuple = (8,)
    """Hidden layers of the ranking network (the course uses one of 2 units)."""
    mlp_max_iter: int = 50
    """Epochs of the ranking network."""


def _budget(config: Config) -> Config:
    """The quick setting: tiny budgets that still exercise every step."""
    if not config.quick:
        return config
    return dataclasses.replace(
        config, max_iter=min(config.max_iter, 300), mlp_max_iter=min(config.mlp_max_iter, 3)
    )


def load_data(path=None) -> pd.DataFrame:
    """The applications with CustomerID, A1..A14 and Class (1 = approved), checked."""
    from ..data.registry import dataset_file
    from ..data.tabular import check_numeric, read_csv

    csv = (
        Path(path)
        if path is not None and Path(path).is_file()
        else dataset_file("credit_card_applications", path=path)
    )
    frame = read_csv(csv)
    missing = [c for c in (ID, *ATTRIBUTES, TARGET) if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{csv} lacks the columns {missing}; the fraud case study needs {ID}, A1..A14 and {TARGET}. "
            f"Found: {', '.join(map(str, frame.columns))}."
        )
    frame = frame[[ID, *ATTRIBUTES, TARGET]]
    check_numeric(frame)
    if frame.isna().any().any():
        rows = frame.index[frame.isna().any(axis=1)].tolist()
        raise ValueError(
            f"{csv} has empty cells in {len(rows)} row(s) (first: row {rows[0] + 2} of the file)."
        )
    return frame


def outlier_cells(som: SelfOrganizingMap, hits: np.ndarray, threshold: float) -> np.ndarray:
    """(row, column) of the units at or above ``threshold`` on the U-matrix that hold customers; at least
    the highest such unit, so the ranking network always has some flagged customers to learn from."""
    umatrix = np.where(hits > 0, som.distance_map(), -np.inf)
    cells = np.argwhere(umatrix >= threshold)
    if len(cells) == 0:
        cells = np.argwhere(umatrix == umatrix.max())
    return cells


def run(config: Config, out_dir) -> dict:
    """Run the fraud case study into ``out_dir``; return its metrics."""
    config = _budget(config)
    out_dir = Path(out_dir)
    report = RunReport(
        out_dir,
        "Who may have cheated? A self-organizing map on credit-card applications",
        dataclasses.asdict(config),
    )
    # load
    frame = load_data(config.data)
    applications = frame[list(ATTRIBUTES)]
    approved = frame[TARGET].to_numpy().astype(int)

    # fit the map: deepzoo fit's clusters road with the course's map
    fit_config = FitConfig(
        task="cluster",
        out=str(out_dir),
        seed=config.seed,
        device=config.device,
        verbose=config.verbose,
        settings={
            "scale": "minmax",  # the course's [0, 1]: standardised, A14's long tail disorders the 10x10 map
            "grid_shape": tuple(config.grid_shape),
            "init": "random",  # the course's random start (the road's PCA plane flags fewer customers)
            "sigma": config.sigma,
            "learning_rate": config.learning_rate,
            "algorithm": config.algorithm,
            "max_iter": config.max_iter,
        },
    )
    outcome = fit_into(
        report,
        applications,
        fit_config,
        description="Deep Learning A-Z's SOM case study on Credit_Card_Applications.csv (690 applications, "
        "UCI Statlog Australian, attributes anonymised): a 10x10 map of A1..A14 whose U-matrix shows the "
        "applications no others resemble: the customers on units far from all neighbours are the likely "
        "frauds. Then the hybrid model: those flags become the label of an MLP that ranks every customer "
        "by fraud probability. Every attribute is scaled to [0, 1] as in the course. (The course also fed "
        "the CustomerID column to the map; an id carries no information, so it is left out.)",
    )
    som = outcome.model[-1]
    X = outcome.model[:-1].transform(applications)  # every application, placed on the map

    # evaluate: outlier cells and the customers on them
    hits = som.activation_response(X)
    cells = outlier_cells(som, hits, config.outlier_threshold)
    winners = som.winners(X)
    flagged = (winners[:, None, :] == cells[None]).all(-1).any(1)
    umatrix_score = som.outlier_scores(X, method="umatrix")
    frauds = frame.loc[flagged, [ID, TARGET]].assign(
        row=winners[flagged, 0], column=winners[flagged, 1], umatrix=umatrix_score[flagged],
        distance_to_unit=som.outlier_scores(X[flagged]),
    )  # fmt: skip

    # the hybrid: the flags are the label of a supervised network that scores every customer
    customers = frame[[*ATTRIBUTES, TARGET]].to_numpy(dtype=float)
    mlp = MLPClassifier(
        tuple(config.hidden_layer_sizes),
        learning_rate=0.01,
        batch_size=32,
        max_iter=config.mlp_max_iter,
        class_weight="balanced",
        random_state=config.seed,
        device=config.device,
        verbose=config.verbose,
    )
    hybrid = make_pipeline(StandardScaler(), mlp)
    with stopwatch() as mlp_seconds:
        hybrid.fit(customers, flagged.astype(int))
    probability = hybrid.predict_proba(customers)[:, 1]
    ranking = frame[[ID, TARGET]].assign(
        fraud_probability=probability, som_flag=flagged, umatrix=umatrix_score,
        row=winners[:, 0], column=winners[:, 1],
    ).sort_values("fraud_probability", ascending=False, kind="stable")  # fmt: skip
    frauds = frauds.assign(fraud_probability=probability[flagged]).sort_values(
        "fraud_probability", ascending=False
    )
    metrics = report.add_metrics(
        n_flagged=int(flagged.sum()),
        n_flagged_approved=int((flagged & (approved == 1)).sum()),
        n_outlier_cells=len(cells),
        # how well the network reproduces the map's flags on the same customers (in-sample, by design)
        mlp_flag_roc_auc=float(roc_auc_score(flagged, probability)) if 0 < flagged.sum() < len(X) else None,
        mlp_seconds=mlp_seconds(),
    )

    # plot: the course's map of every application, then the likely frauds and the ranking
    report.add_figure(
        "self_organizing_map",
        plots.plot_umatrix(som, X, approved, labels={0: "rejected", 1: "approved"}, highlight=cells),
        f"The U-matrix: light units are far from their neighbours. Circles mark units holding rejected "
        f"applications, squares approved ones; red outlines are the {len(cells)} outlier cell(s) "
        f"(U-matrix >= {config.outlier_threshold}) whose {int(flagged.sum())} customers are the likely "
        "frauds.",
    )
    report.add_table(
        "likely_frauds",
        frauds.round(4).reset_index(drop=True),
        "Customers on the outlier cells, most suspicious first (fraud probability from the network). "
        "Class 1 = approved: those are the ones to check first.",
    )
    report.add_figure(
        "fraud_probability",
        plots.plot_score_distribution(
            probability, groups=np.where(flagged, "flagged by the SOM", "not flagged")
        ),
        "The hybrid model's fraud probability for every customer, by the SOM's flag.",
    )
    report.add_table(
        "fraud_ranking",
        ranking.round(4).reset_index(drop=True),
        "Every customer ranked by the hybrid model's fraud probability (tables/fraud_ranking.csv).",
    )
    # write (model/ is the map, saved by the road: deepzoo predict gives cluster and anomaly_score)
    if distributed.is_main_process():
        save(hybrid, out_dir / "hybrid")
    report.write()
    return metrics
