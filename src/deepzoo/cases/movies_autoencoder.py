"""Case study ``movies_autoencoder``: how many stars will this user give? A stacked autoencoder on MovieLens.

load (the course's u1.base / u1.test split of MovieLens 100K) -> fit (AutoEncoderRecommender: item-based
as in I-AutoRec by default, the course's user-based model on request; loss on observed ratings only)
-> evaluate (RMSE and MAE on u1.test, precision@10 / NDCG@10, the five folds u1-u5 for mean ± sd,
Surprise's SVD on the same split in the same run) -> recommend (one user's top 10 with titles) ->
plot -> write.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import distributed, plots
from ..persistence import save
from ..recommend import AutoEncoderRecommender
from ..report import RunReport
from . import movies_common


@dataclass
class Config:
    """Settings of the autoencoder movie case study; every field can be overridden from the command line."""

    data: str | None = None
    """The ml-100k folder (or a file in it); None asks the registry ($DEEPZOO_DATA_DIR, the cache)."""
    seed: int = 0
    """Seed of the weights and the batches."""
    device: str = "auto"
    """'auto' (CUDA when present), 'cpu' or 'cuda'."""
    quick: bool = False
    """Tiny budgets (2 epochs, u1 only, no Surprise) for tests and smoke runs."""
    verbose: bool = False
    """Show progress bars while training."""
    kind: str = "item"
    """'item' (I-AutoRec: one row per movie) or 'user' (the course: one row per user)."""
    hidden_layer_sizes: tuple = (500,)
    """Encoder widths, mirrored by the decoder (the course: (20, 10))."""
    activation: str = "sigmoid"
    """Hidden activation (the output is linear)."""
    alpha: float = 6e-5
    """L2 penalty on the weights."""
    learning_rate: float = 0.0003
    """Adam's learning rate."""
    batch_size: int = 64
    """Rows (movies or users) per gradient step."""
    max_iter: int = 50
    """Epochs (a fixed budget chosen with alpha on a 10% validation split of u1.base, never on u1.test:
    see benchmarks/tune_autorec.py)."""
    all_folds: bool = True
    """Also fit and score the folds u2-u5, for a mean ± sd over the five."""
    user: int = 1
    """The user whose recommendations are shown."""
    n_recommendations: int = 10
    """Length of that user's list."""
    compare_svd: bool = True
    """Fit Surprise's SVD on the same split when scikit-surprise is installed."""


def _model(config: Config) -> AutoEncoderRecommender:
    return AutoEncoderRecommender(
        config.kind,
        hidden_layer_sizes=tuple(config.hidden_layer_sizes),
        activation=config.activation,
        alpha=config.alpha,
        learning_rate=config.learning_rate,
        batch_size=config.batch_size,
        max_iter=config.max_iter,
        device=config.device,
        random_state=config.seed,
        verbose=config.verbose,
    )


def run(config: Config, out_dir) -> dict:
    """Run the case study into ``out_dir``; return its metrics."""
    config = movies_common.quick_budget(config)
    out_dir = Path(out_dir)
    report = RunReport(
        out_dir,
        "How many stars? A stacked autoencoder on MovieLens",
        dataclasses.asdict(config),
        description="MovieLens 100K (943 users, 1,682 movies), the course's u1 split. An autoencoder "
        f"({'item' if config.kind == 'item' else 'user'}-based) rebuilds each "
        f"{'movie' if config.kind == 'item' else 'user'}'s row of ratings from the observed ones; its "
        "reconstruction of the missing entries are the predictions.",
    )
    train, test, titles = movies_common.load_fold("u1", config.data)
    model = _model(config)
    started = time.perf_counter()
    model.fit(train)
    fit_seconds = time.perf_counter() - started
    scores, n_cold = movies_common.quietly(model, test)
    metrics = {
        "test_rmse": scores["rmse"],
        "test_mae": scores["mae"],
        "precision_at_10": scores["precision_at_10"],
        "ndcg_at_10": scores["ndcg_at_10"],
        "cold_start_pairs": n_cold,
        "fit_seconds": fit_seconds,
        "epochs": model.n_iter_,
    }
    rows = [{"fold": "u1", "model": "AutoEncoder (deepzoo)", "rmse": scores["rmse"], "mae": scores["mae"]}]
    if config.compare_svd:
        svd = movies_common.surprise_svd(train, test, config.seed)
        if svd is not None:
            pred, seconds = svd
            truth = test["rating"].to_numpy()
            metrics["svd_rmse"] = float(np.sqrt(np.mean((pred - truth) ** 2)))
            metrics["svd_mae"] = float(np.mean(np.abs(pred - truth)))
            metrics["svd_fit_seconds"] = seconds
            rows.append(
                {
                    "fold": "u1",
                    "model": "Surprise SVD",
                    "rmse": metrics["svd_rmse"],
                    "mae": metrics["svd_mae"],
                }
            )
    if config.all_folds:
        rmses = [scores["rmse"]]
        for fold in movies_common.FOLDS[1:]:
            tr, te, _ = movies_common.load_fold(fold, config.data)
            fold_scores, _ = movies_common.quietly(_model(config).fit(tr), te)
            rmses.append(fold_scores["rmse"])
            rows.append(
                {
                    "fold": fold,
                    "model": "AutoEncoder (deepzoo)",
                    "rmse": fold_scores["rmse"],
                    "mae": fold_scores["mae"],
                }
            )
        metrics["cv_rmse_mean"] = float(np.mean(rmses))
        metrics["cv_rmse_std"] = float(np.std(rmses, ddof=1))
    report.add_metrics(**metrics)
    report.add_history(model)
    report.add_figure("learning_curves", plots.plot_loss(model), "Masked squared error per observed rating.")
    top = movies_common.top_list(model, config.user, titles, train, config.n_recommendations)
    top = top.rename(columns={"score": "predicted_stars"})
    report.add_figure(
        "recommendations",
        plots.plot_recommendations(
            top, score="predicted_stars", title=f"Top {len(top)} for user {config.user}"
        ),
        "Predicted stars of the movies the user has not rated, best first.",
    )
    report.add_table(
        "recommendations", top.round(3), f"User {config.user}'s recommendations, unseen movies only."
    )
    report.add_table(
        "favourites",
        movies_common.favourites(config.user, titles, train),
        f"What user {config.user} rated highest in u1.base, for context.",
    )
    report.add_table(
        "scores", pd.DataFrame(rows).round(4), "RMSE and MAE of the predicted stars per test fold."
    )
    svd_text = (
        f"Surprise's SVD on the same split, in the same run: RMSE {metrics['svd_rmse']:.4f}."
        if "svd_rmse" in metrics
        else "Surprise's SVD did not run (scikit-surprise is not installed, or compare_svd is off)."
    )
    report.add_text(
        "Reading the numbers",
        f"RMSE on u1.test: {metrics['test_rmse']:.4f} (the course's autoencoder: 0.95; the issue's "
        f"target: 0.90). {svd_text} {n_cold} test ratings are of movies absent from u1.base: they get "
        "the user's mean rating.",
    )
    if distributed.is_main_process():
        save(model, out_dir / "model")
    report.write()
    return metrics
