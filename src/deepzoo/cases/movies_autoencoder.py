"""Case study ``movies_autoencoder``: how many stars will this user give? A stacked autoencoder on MovieLens.

load (the course's u1.base / u1.test split of MovieLens 100K, and the titles) -> fit
(AutoEncoderRecommender with ``deepzoo fit``'s defaults: item-based as in I-AutoRec, learning the
differences from the bias model, early stopping on held-out ratings; the course's user-based model on
request) -> the road of :mod:`deepzoo.tasks.ratings` (the bias model and the global mean on the same
split, leaderboard, learning curves, predicted vs actual, error by user activity) -> the course's extras:
precision@10 / NDCG@10, the five folds u1-u5 for mean ± sd, Surprise's SVD in the same run, one
user's top 10 with titles -> write.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..engine import distributed
from ..engine.persistence import save
from ..models.recommend import AutoEncoderRecommender
from ..report import RunReport
from ..tasks import ratings
from ..tasks.base import regression_scores, stopwatch
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
    alpha: float = 1e-3
    """L2 penalty on the weights, per observed rating."""
    residual: bool = True
    """Learn the differences from the bias model (False: the ratings themselves, as AutoRec does)."""
    learning_rate: float = 0.001
    """Adam's learning rate."""
    batch_size: int = 64
    """Rows (movies or users) per gradient step."""
    max_iter: int = 200
    """Most epochs; early stopping on 10% of u1.base's ratings (never u1.test) usually ends far sooner."""
    early_stopping: bool = True
    """Stop when the held-out ratings' error stops improving, keeping the best epoch's weights."""
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
        residual=config.residual,
        early_stopping=config.early_stopping,
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
    with stopwatch() as seconds:
        model.fit(train)
    board, predictions, n_cold = ratings.compare(model, seconds(), train, test, name="AutoEncoder (deepzoo)")
    scores = movies_common.quietly(model, test)
    rows = [{"fold": "u1", "model": "AutoEncoder (deepzoo)", "rmse": scores["rmse"], "mae": scores["mae"]}]
    if config.compare_svd:
        svd = movies_common.surprise_svd(train, test, config.seed)
        if svd is not None:
            pred, svd_seconds = svd
            svd_scores = regression_scores(test["rating"].to_numpy(float), pred)
            board.add("Surprise SVD", svd_scores, svd_seconds, key="svd")
            predictions["Surprise SVD"] = pred
            rows.append(
                {"fold": "u1", "model": "Surprise SVD", "rmse": svd_scores["rmse"], "mae": svd_scores["mae"]}
            )
    metrics = board.metrics()
    metrics.update(
        precision_at_10=scores["precision_at_10"],
        ndcg_at_10=scores["ndcg_at_10"],
        cold_start_pairs=n_cold,
        epochs=model.n_iter_,
    )
    if config.all_folds:
        rmses = [scores["rmse"]]
        for fold in movies_common.FOLDS[1:]:
            tr, te, _ = movies_common.load_fold(fold, config.data)
            fold_scores = movies_common.quietly(_model(config).fit(tr), te)
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
    board.add_to_report(report, "Every model on u1.test (the course's split).")
    top = movies_common.top_list(model, config.user, titles, train, config.n_recommendations)
    ratings.add_pictures(report, model, train, test, predictions, user=config.user, top=top, label="title")
    report.add_table(
        "favourites",
        movies_common.favourites(config.user, titles, train),
        f"What user {config.user} rated highest in u1.base, for context.",
    )
    report.add_table(
        "scores", pd.DataFrame(rows).round(4), "RMSE and MAE of the predicted stars per test fold."
    )
    svd_text = (
        f"Surprise's SVD on the same split, in the same run: RMSE {metrics['baseline_svd_rmse']:.4f}."
        if "baseline_svd_rmse" in metrics
        else "Surprise's SVD did not run (scikit-surprise is not installed, or compare_svd is off)."
    )
    report.add_text(
        "Reading the numbers",
        f"RMSE on u1.test: {metrics['rmse']:.4f} (the course's autoencoder: 0.95; the bias model: "
        f"{metrics['baseline_bias_rmse']:.4f}). {svd_text} {n_cold} test ratings are of movies absent "
        "from u1.base: they get the bias model's answer.",
    )
    if distributed.is_main_process():
        save(model, out_dir / "model")
    report.write()
    return metrics
