"""What the two MovieLens case studies share: the folds, Surprise's SVD beside us, a user's top list with
titles. The road itself (the bias model and the trivial answer beside the deep model, the pictures) is
:mod:`deepzoo.tasks.ratings`, as for ``deepzoo fit``."""

from __future__ import annotations

import dataclasses
import time
import warnings

import numpy as np
import pandas as pd

from ..data.ratings import load_movielens_100k
from ..models.recommend import ColdStartWarning
from ..tasks import ratings

FOLDS = ("u1", "u2", "u3", "u4", "u5")


def quick_budget(config):
    """The quick setting shared by both movie cases: 2 epochs, the u1 fold only, no Surprise."""
    if not config.quick:
        return config
    return dataclasses.replace(config, max_iter=min(config.max_iter, 2), all_folds=False, compare_svd=False)


def load_fold(fold: str, data) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Train and test ratings of one MovieLens 100K fold, and the titles."""
    return load_movielens_100k(fold, data)


def surprise_svd(train: pd.DataFrame, test: pd.DataFrame, seed: int, algorithm: str = "SVD"):
    """Surprise's SVD (or SVDpp) fitted on ``train``: (predicted ratings of ``test``, seconds), or None
    when scikit-surprise is not installed."""
    try:
        import surprise
    except ImportError:
        return None
    reader = surprise.Reader(rating_scale=(1, 5))
    trainset = surprise.Dataset.load_from_df(train[["user", "item", "rating"]], reader).build_full_trainset()
    algo = getattr(surprise, algorithm)(random_state=seed)
    started = time.perf_counter()
    algo.fit(trainset)
    pred = np.array([algo.predict(u, i).est for u, i in zip(test["user"], test["item"])])
    return pred, time.perf_counter() - started


def quietly(recommender, test: pd.DataFrame) -> dict:
    """``recommender.evaluate(test)`` (with its ranking metrics) without printing its ColdStartWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ColdStartWarning)
        return recommender.evaluate(test)


def top_list(recommender, user, titles: pd.Series, train: pd.DataFrame, n: int) -> pd.DataFrame:
    """The user's ``n`` recommendations (unseen movies) with their titles, best first."""
    _, table = ratings.top_list(recommender, train, user, n)
    table.insert(2, "title", table["item"].map(titles).fillna("(unknown title)"))
    return table


def favourites(user, titles: pd.Series, train: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """What the user rated highest in training (context for the recommendations)."""
    mine = train[train["user"] == user].sort_values(["rating", "item"], ascending=[False, True]).head(n)
    return pd.DataFrame(
        {
            "item": mine["item"].to_numpy(),
            "title": mine["item"].map(titles).to_numpy(),
            "rating": mine["rating"],
        }
    ).reset_index(drop=True)
