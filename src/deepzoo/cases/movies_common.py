"""What the two MovieLens case studies share: the folds, Surprise's SVD beside us, a user's top list."""

from __future__ import annotations

import dataclasses
import time
import warnings

import numpy as np
import pandas as pd

from ..data.ratings import load_movielens_100k
from ..recommend import ColdStartWarning

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


def quietly(recommender, test: pd.DataFrame):
    """``recommender.evaluate(test)`` without printing its ColdStartWarning: (scores, number of test
    pairs whose user or movie is absent from training)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ColdStartWarning)
        scores = recommender.evaluate(test)
    cold = ~test["user"].isin(recommender.users_) | ~test["item"].isin(recommender.items_)
    return scores, int(cold.sum())


def top_list(recommender, user, titles: pd.Series, train: pd.DataFrame, n: int) -> pd.DataFrame:
    """The user's ``n`` recommendations with titles, and the number of movies the user rated."""
    table = recommender.recommend(user, n)
    table.insert(1, "title", table["item"].map(titles).fillna("(unknown title)"))
    table.insert(0, "rank", np.arange(1, len(table) + 1))
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
