"""Case study ``movies_autoencoder``: how many stars will this user give? A stacked autoencoder on MovieLens.

load (the course's u1.base / u1.test split of MovieLens 100K, and the titles) -> one call into the
ratings task (:func:`deepzoo.tasks.ratings.fit_and_report`, the road of ``deepzoo fit`` from the split
on, with the case's AutoEncoderRecommender over the task's: item-based as in I-AutoRec, learning the
differences from the bias model, early stopping on held-out ratings; the course's user-based model on
request): the bias model, the global mean and Surprise's SVD on the same split, leaderboard, learning
curves, predicted vs actual, error by user activity, one user's top 10 with titles -> the course's
extras: precision@10 / NDCG@10, the five folds u1-u5 for mean ± sd -> write.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.ratings import MOVIELENS_FOLDS, load_movielens_100k
from ..engine import distributed
from ..engine.persistence import save
from ..models.recommend import AutoEncoderRecommender
from ..report import RunReport
from ..tasks import ratings
from ..tasks.base import FitConfig


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


_NETWORK = (
    "kind",
    "hidden_layer_sizes",
    "activation",
    "alpha",
    "residual",
    "early_stopping",
    "learning_rate",
    "batch_size",
    "max_iter",
)


def network_settings(config: Config) -> dict:
    """The case's autoencoder over the ratings task's AutoEncoderRecommender."""
    settings = {name: getattr(config, name) for name in _NETWORK}
    return settings | {"hidden_layer_sizes": tuple(config.hidden_layer_sizes)}


def road_config(config: Config, out_dir=None) -> FitConfig:
    """What the ratings task is asked to do: the case's seed, device and network settings."""
    return FitConfig(
        task="recommend",
        out=str(out_dir or "."),
        seed=config.seed,
        device=config.device,
        verbose=config.verbose,
        settings=network_settings(config),
    )


def make_model(config: Config) -> AutoEncoderRecommender:
    """The ratings task's AutoEncoderRecommender with the case's settings (unfitted)."""
    return ratings.default_model(False, road_config(config))


def _budget(config: Config) -> Config:
    """The quick setting: 2 epochs, the u1 fold only, no Surprise."""
    if not config.quick:
        return config
    return dataclasses.replace(config, max_iter=min(config.max_iter, 2), all_folds=False, compare_svd=False)


def run(config: Config, out_dir) -> dict:
    """Run the case study into ``out_dir``; return its metrics."""
    config = _budget(config)
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
    # load: the course's u1 split
    train, test, titles = load_movielens_100k("u1", config.data)
    fit_config = road_config(config, out_dir)
    report.config["fit"] = fit_config.to_dict()
    svd = ratings.surprise_svd(train, test, config.seed) if config.compare_svd else None
    # the ratings task: fit -> beside the bias model, the global mean and SVD -> leaderboard, pictures
    outcome = ratings.fit_and_report(
        report,
        make_model(config),
        train,
        test,
        fit_config,
        name="AutoEncoder (deepzoo)",
        others={} if svd is None else {"Surprise SVD": ("svd", *svd)},
        split_rule="the course's u1.base and u1.test",
        caption="Every model on u1.test (the course's split).",
        user=config.user,
        n_top=config.n_recommendations,
        titles=titles,
    )
    model, metrics = outcome.model, outcome.metrics
    # the course's extras: ranking scores, the five folds
    scores = ratings.ranking_scores(model, test)
    rows = [{"fold": "u1", "model": "AutoEncoder (deepzoo)", "rmse": scores["rmse"], "mae": scores["mae"]}]
    if "baseline_svd_rmse" in metrics:
        rows.append(
            {
                "fold": "u1",
                "model": "Surprise SVD",
                "rmse": metrics["baseline_svd_rmse"],
                "mae": metrics["baseline_svd_mae"],
            }
        )
    extras = {"precision_at_10": scores["precision_at_10"], "ndcg_at_10": scores["ndcg_at_10"]}
    if config.all_folds:
        rmses = [scores["rmse"]]
        for fold in MOVIELENS_FOLDS[1:]:
            fold_train, fold_test, _ = load_movielens_100k(fold, config.data)
            fold_model = make_model(config).fit(fold_train)
            fold_scores = ratings.ranking_scores(fold_model, fold_test)
            rmses.append(fold_scores["rmse"])
            rows.append(
                {
                    "fold": fold,
                    "model": "AutoEncoder (deepzoo)",
                    "rmse": fold_scores["rmse"],
                    "mae": fold_scores["mae"],
                }
            )
        extras["cv_rmse_mean"] = float(np.mean(rmses))
        extras["cv_rmse_std"] = float(np.std(rmses, ddof=1))
    metrics = report.add_metrics(**extras)
    report.add_table(
        "favourites",
        ratings.favourites(train, config.user, titles),
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
        f"{metrics['baseline_bias_rmse']:.4f}). {svd_text} {metrics['cold_start_pairs']} test ratings are "
        "of movies absent from u1.base: they get the bias model's answer.",
    )
    if distributed.is_main_process():
        save(model, out_dir / "model")
    report.write()
    return metrics
