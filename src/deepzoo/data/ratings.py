"""Readers of rating files: MovieLens in its three layouts, or any CSV given its three column names.

Every reader returns a DataFrame with the columns ``user``, ``item``, ``rating`` (and ``timestamp``
when the file has one), one row per rating, ids as they are in the file (they need not be dense).

=========================  ===================================================  ======================
file                       layout                                               reader
=========================  ===================================================  ======================
u.data, u1.base, u1.test   ``user \\t item \\t rating \\t timestamp``, no header   :func:`read_ratings`
ratings.dat (1M, 10M)      ``user::item::rating::timestamp``, no header          :func:`read_ratings`
ratings.csv (latest)       header ``userId,movieId,rating,timestamp``, half stars :func:`read_ratings`
any CSV                    a header; name the columns with ``columns=``         :func:`read_ratings`
u.item, movies.dat, .csv   the titles of the movies                             :func:`read_titles`
=========================  ===================================================  ======================

:func:`make_ratings` draws a synthetic ratings set of any shape and scale (half stars, liked / not
liked) from a known low-rank taste model, for tests and benchmarks.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["MOVIELENS_FOLDS", "load_movielens_100k", "make_ratings", "read_ratings", "read_titles"]

COLUMNS = ["user", "item", "rating", "timestamp"]
MOVIELENS_FOLDS = ("u1", "u2", "u3", "u4", "u5")
"""MovieLens 100K's five splits whose test parts are disjoint (a five-fold cross-validation)."""
_MOVIELENS_CSV = ("userId", "movieId", "rating")


def _first_line(path: Path) -> str:
    with open(path, encoding="latin-1") as handle:
        for line in handle:
            if line.strip():
                return line.rstrip("\r\n")
    raise ValueError(f"{path} is empty: expected one rating per line (user, item, rating).")


def _check_file(path) -> Path:
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(
            f"Ratings file not found: {path}. Give the path of u.data / u1.base, ratings.dat or a CSV."
        )
    return path


def _numeric_ratings(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Ratings as floats; a value that is not a number is named with its line."""
    values = pd.to_numeric(frame["rating"], errors="coerce")
    bad = values.isna() & frame["rating"].notna()
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise ValueError(
            f"{path}: the rating column holds text that is not a number: {frame['rating'].iloc[row]!r} "
            f"(row {row + 1} of the data). Is the column order user, item, rating?"
        )
    return frame.assign(rating=values.astype(float))


def read_ratings(
    path: str | os.PathLike, *, columns: tuple | None = None, sep: str | None = None
) -> pd.DataFrame:
    """Read a ratings file into a DataFrame with the columns user, item, rating (and timestamp).

    Parameters
    ----------
    path : str or path-like
        ``u.data``/``u1.base``/``u1.test`` (tab separated), ``ratings.dat`` (``::``), MovieLens'
        ``ratings.csv`` (header userId,movieId,rating,timestamp) or any CSV with a header.
    columns : tuple of 3 str, optional
        For any other CSV: the names of its user, item and rating columns, e.g.
        ``("customer", "product", "stars")``. The format is then not guessed.
    sep : str, optional
        The separator of a CSV read with ``columns`` (default ``,``).

    Returns
    -------
    DataFrame
        Columns ``user``, ``item``, ``rating`` (float) and ``timestamp`` where the file has it.

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    ValueError
        When the file is empty, its layout is not one of those above (the message says to pass
        ``columns``), a named column is missing (the columns present are listed) or a rating is not
        a number.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "u.data"
    >>> _ = f.write_text("1\\t10\\t4\\t881250949\\n2\\t10\\t3\\t891717742\\n")
    >>> read_ratings(f)[["user", "item", "rating"]].values.tolist()
    [[1.0, 10.0, 4.0], [2.0, 10.0, 3.0]]
    """
    path = _check_file(path)
    line = _first_line(path)
    if columns is not None:
        if isinstance(columns, str) or len(columns) != 3:
            raise ValueError(
                f"columns must name the user, item and rating columns, e.g. ('userId', 'movieId', "
                f"'rating'); got {columns!r}."
            )
        return _named_csv(path, tuple(columns), sep or ",")
    if "::" in line:  # ratings.dat of MovieLens 1M / 10M
        frame = pd.read_csv(path, sep="::", engine="python", header=None, encoding="latin-1")
    elif "\t" in line:  # u.data and the u1-u5, ua/ub splits of MovieLens 100K
        frame = pd.read_csv(path, sep="\t", header=None)
    elif all(name in line.split(",") for name in _MOVIELENS_CSV):  # MovieLens' ratings.csv
        return _named_csv(path, _MOVIELENS_CSV, ",")
    else:
        try:
            float(line.split(",")[0])
            numeric = True
        except ValueError:
            numeric = False
        if not numeric:
            raise ValueError(
                f"{path} is not a MovieLens ratings file (its first line is {line[:80]!r}). For another "
                "CSV pass columns=(user_column, item_column, rating_column)."
            )
        frame = pd.read_csv(path, header=None)  # headerless user,item,rating[,timestamp]
    if frame.shape[1] < 3:
        raise ValueError(
            f"{path} has {frame.shape[1]} column(s); expected user, item, rating (and a timestamp)."
        )
    frame = frame.iloc[:, :4]
    frame.columns = COLUMNS[: frame.shape[1]]
    return _numeric_ratings(frame, path)


def _named_csv(path: Path, columns: tuple, sep: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, sep=sep)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} cannot be parsed as a CSV ({exc}).") from exc
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        hints = []
        for name in missing:
            close = difflib.get_close_matches(name, [str(c) for c in frame.columns], n=1)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ValueError(
            f"{path} has no column {', '.join(hints)}; its columns are {list(frame.columns)}. "
            "Pass columns=(user_column, item_column, rating_column)."
        )
    out = frame[list(columns)].copy()
    out.columns = COLUMNS[:3]
    if "timestamp" in frame.columns:
        out["timestamp"] = frame["timestamp"].to_numpy()
    return _numeric_ratings(out, path)


def read_titles(path: str | os.PathLike) -> pd.Series:
    """Movie titles by item id from ``u.item`` (100K), ``movies.dat`` (1M) or ``movies.csv``.

    Returns
    -------
    Series
        Index: the item ids; values: the titles, e.g. ``titles[1] == 'Toy Story (1995)'``.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"Titles file not found: {path}. Give u.item, movies.dat or movies.csv.")
    line = _first_line(path)
    if "::" in line:
        frame = pd.read_csv(path, sep="::", engine="python", header=None, encoding="latin-1", usecols=[0, 1])
    elif "|" in line:
        frame = pd.read_csv(path, sep="|", header=None, encoding="latin-1", usecols=[0, 1])
    elif line.startswith("movieId"):
        frame = pd.read_csv(path, usecols=["movieId", "title"])
    else:
        raise ValueError(
            f"{path} is not a MovieLens titles file (first line {line[:80]!r}); expected u.item, "
            "movies.dat or movies.csv."
        )
    frame.columns = ["item", "title"]
    return frame.set_index("item")["title"]


def load_movielens_100k(split: str = "u1", path=None) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """The train and test ratings of one MovieLens 100K split, and the titles.

    Parameters
    ----------
    split : {'u1', 'u2', 'u3', 'u4', 'u5', 'ua', 'ub'}, default='u1'
        The course's split is 'u1' (80,000 / 20,000 ratings).
    path : str or path-like, optional
        The ml-100k folder; by default the registry looks in $DEEPZOO_DATA_DIR and the user cache.

    Returns
    -------
    train, test : DataFrame
        From ``<split>.base`` and ``<split>.test``.
    titles : Series
        From ``u.item``.
    """
    from .registry import dataset_file

    splits = ("u1", "u2", "u3", "u4", "u5", "ua", "ub")
    if split not in splits:
        close = difflib.get_close_matches(str(split), splits, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"split must be one of {splits}; got {split!r}.{hint}")
    train = read_ratings(dataset_file("movielens_100k", f"{split}.base", path))
    test = read_ratings(dataset_file("movielens_100k", f"{split}.test", path))
    titles = read_titles(dataset_file("movielens_100k", "u.item", path))
    return train, test, titles


def make_ratings(
    n_users: int = 100,
    n_items: int = 80,
    n_ratings: int = 2000,
    *,
    rank: int = 3,
    taste: float = 0.6,
    bias: float = 0.5,
    noise: float = 0.6,
    scale: tuple = (1, 5),
    step: float = 1.0,
    popularity: float = 1.0,
    liked_share: float | None = None,
    random_state=None,
) -> pd.DataFrame:
    """A synthetic ratings set drawn from a known taste model: biases + low rank + noise, then rounded.

    Each user's number of ratings follows a log-normal (at least 2 each); items are drawn in
    proportion to a Zipf popularity (many items rated once or twice, as in real catalogues). A rating
    is ``bias * (b_user + b_item) + taste * <p_user, q_item> + noise * e`` (all draws standard normal,
    the dot product scaled to unit variance), mapped linearly to ``scale`` so that 0 falls on its
    middle and 2 standard deviations of the largest signal reach its ends, rounded to ``step`` and
    clipped. With ``liked_share`` the rating is instead 1 for that share of highest scores, else 0.

    Parameters
    ----------
    n_users, n_items, n_ratings : int
        The shape; ``n_ratings`` is at most ``n_users * n_items`` (fewer come back only then).
    rank : int, default=3
        Dimensions of the taste vectors ``p_user`` and ``q_item``.
    taste, bias, noise : float
        Standard deviations of the interaction, of each bias and of the noise (before scaling).
    scale : (low, high), default=(1, 5)
    step : float, default=1.0
        0.5 gives half stars.
    popularity : float, default=1.0
        Zipf exponent of the item popularity (0: every item equally likely).
    liked_share : float in (0, 1), optional
        Binary ratings (liked 1 / not liked 0) with this share of 1s.
    random_state : int or None

    Returns
    -------
    DataFrame
        Columns ``user`` (1..n_users), ``item`` (1..n_items), ``rating``, one row per (user, item).

    Examples
    --------
    >>> ratings = make_ratings(50, 40, 600, scale=(0.5, 5), step=0.5, random_state=0)
    >>> len(ratings), float(ratings["rating"].min()), set(ratings["rating"] * 2 % 1) == {0.0}
    (600, 0.5, True)
    """
    rng = np.random.default_rng(random_state)
    n_ratings = int(min(n_ratings, n_users * n_items))
    per_user = rng.lognormal(0.0, 1.0, n_users)
    counts = np.minimum(np.maximum(2, np.floor(per_user / per_user.sum() * n_ratings)), n_items).astype(int)
    while counts.sum() != n_ratings:  # adjust to the exact total, one rating at a time where there is room
        more = counts.sum() < n_ratings
        room = counts < n_items if more else counts > min(2, n_items)
        counts[rng.choice(np.flatnonzero(room))] += 1 if more else -1
    weights = 1.0 / np.arange(1, n_items + 1) ** popularity
    weights = rng.permutation(weights / weights.sum())
    users, items = [], []
    for user, count in enumerate(counts):
        users.append(np.full(count, user))
        items.append(rng.choice(n_items, size=count, replace=False, p=weights))
    users, items = np.concatenate(users), np.concatenate(items)
    p, q = rng.normal(size=(n_users, rank)), rng.normal(size=(n_items, rank))
    score = (
        bias * (rng.normal(size=n_users)[users] + rng.normal(size=n_items)[items])
        + taste * (p[users] * q[items]).sum(axis=1) / np.sqrt(rank)
        + noise * rng.normal(size=len(users))
    )
    if liked_share is not None:
        rating = (score >= np.quantile(score, 1 - liked_share)).astype(float)
    else:
        low, high = float(scale[0]), float(scale[1])
        spread = 2 * np.sqrt(2 * bias**2 + taste**2 + noise**2)
        rating = (low + high) / 2 + score / spread * (high - low) / 2
        rating = np.clip(np.round((rating - low) / step) * step + low, low, high)
    return pd.DataFrame({"user": users + 1, "item": items + 1, "rating": rating})
