"""Ratings: user, item and rating columns -> a recommender beside the bias model and the trivial answer.

read (detect found the columns) -> ratings as numbers, rows with a missing value dropped (counted) ->
split (seeded; every test user and item also has ratings in training) -> the deep model:
AutoEncoderRecommender (I-AutoRec) for graded ratings, RBMRecommender for two-valued ratings (liked /
not liked, clicks) -> on the same split the bias model (global mean + user bias + item bias,
regularised) and the trivial answer (the global mean; the majority answer) -> leaderboard ->
learning curves, predicted vs actual, error by user activity, one user's top list -> model/.

Graded ratings are scored by RMSE (primary), MAE and R²; two-valued ratings by ROC-AUC (primary),
accuracy, F1 and PR-AUC of "liked" (the higher value). The case studies ``movies_autoencoder`` and
``movies_rbm`` take the same road from the fit on (:func:`fit_and_report`) on the course's u1 split,
with Surprise's SVD beside (:func:`surprise_svd`) and the top list titled (:func:`with_titles`).
"""

from __future__ import annotations

import dataclasses
import re
import time
import warnings

import numpy as np
import pandas as pd

from .. import plots
from ..engine import distributed
from ..models.recommend import (
    AutoEncoderRecommender,
    BiasRecommender,
    ColdStartWarning,
    RBMRecommender,
    numeric_ratings,
)
from .base import (
    TUNING_VALIDATION_FRACTION,
    FitConfig,
    Leaderboard,
    Outcome,
    Source,
    TableProbe,
    TaskKind,
    classification_scores,
    primary_metric,
    regression_scores,
    stopwatch,
)

__all__ = [
    "add_pictures",
    "compare",
    "default_trial",
    "favourites",
    "fit_and_report",
    "is_binary",
    "predict_ratings",
    "ranking_scores",
    "ratings_table",
    "run",
    "search_space",
    "settings_of",
    "split",
    "surprise_svd",
    "tuning_problem",
    "with_titles",
]

DEEP_NAMES = {"AutoEncoderRecommender": "AutoRec (deepzoo)", "RBMRecommender": "RBM (deepzoo)"}


def ratings_table(frame: pd.DataFrame, columns: dict) -> tuple[pd.DataFrame, int]:
    """The user, item and rating columns (under their own names, in that order) with the ratings as
    numbers, and how many rows were dropped for a missing value.

    Raises
    ------
    ValueError
        A rating that is not a number (the column and the value are named); no rating left.
    """
    names = [columns["user"], columns["item"], columns["rating"]]
    table = frame[names].copy()
    table[names[2]] = numeric_ratings(table[names[2]].to_numpy(), names[2])
    complete = table.notna().all(axis=1)
    table = table[complete].reset_index(drop=True)
    if table.empty:
        raise ValueError(f"No complete (user, item, rating) row: every row misses one of {', '.join(names)}.")
    return table, int((~complete).sum())


def is_binary(ratings) -> bool:
    """Two distinct values (liked / not liked, clicks): the RBM's task, scored by ROC-AUC."""
    return pd.Series(np.asarray(ratings)).nunique() == 2


def split(ratings: pd.DataFrame, test_size: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train and test ratings, every test user and item also seen in training.

    A seeded ``test_size`` share of the rows is drawn; then every drawn row whose user or item has
    no rating left in training goes back to training. That one pass suffices: moving a row into
    training only adds users and items there, so no remaining test row loses its user or item.
    The test share is therefore at most ``test_size`` (a little less when many users or items have
    a single rating).
    """
    user, item = ratings.columns[0], ratings.columns[1]
    test = np.random.default_rng(seed).random(len(ratings)) < test_size
    train = ratings[~test]
    seen = ratings[user].isin(train[user]).to_numpy() & ratings[item].isin(train[item]).to_numpy()
    test &= seen
    if not test.any():
        raise ValueError(
            f"No rating can be held out for testing: with {len(ratings)} ratings, every user or item "
            "has too few of them. Give more ratings (a few per user and per item)."
        )
    return ratings[~test].reset_index(drop=True), ratings[test].reset_index(drop=True)


def default_model(binary: bool, config: FitConfig):
    """The deep model with deepzoo fit's defaults (the estimator's own) and ``config.settings`` on top."""
    common = dict(random_state=config.seed, device=config.device, verbose=config.verbose)
    model = RBMRecommender(**common) if binary else AutoEncoderRecommender(**common)
    try:
        model.set_params(**config.settings)
    except ValueError as exc:
        raise ValueError(f"--set: {exc}") from None
    return model


def search_space(trial, binary: bool, defaults: dict, fixed=()) -> dict:
    """The recommender's settings for one Optuna ``trial`` (``deepzoo fit --tune``), around
    :func:`default_trial`. Graded ratings: which AutoRec (``kind``: item-based, I-AutoRec, or
    user-based, U-AutoRec), its size (hidden units), weight decay, input dropout, learning rate.
    Two-valued ratings: the RBM's size (hidden units), Gibbs steps and learning rate. Named as the
    estimators name them, so that ``--set NAME=VALUE`` fixes one (named in ``fixed``, left out)."""
    lr = defaults["learning_rate"]
    if binary:
        suggest = {
            "n_components": lambda name: trial.suggest_categorical(name, [25, 50, 100, 200]),
            "n_gibbs_steps": lambda name: trial.suggest_categorical(name, [1, 3]),
        }
    else:
        suggest = {
            "kind": lambda name: trial.suggest_categorical(name, ["item", "user"]),
            "hidden_layer_sizes": lambda name: trial.suggest_categorical(name, ["100", "250", "500", "1000"]),
            "alpha": lambda name: trial.suggest_float(name, 1e-5, 1e-1, log=True),
            "input_dropout": lambda name: trial.suggest_float(name, 0.0, 0.7),
        }
    suggest["learning_rate"] = lambda name: trial.suggest_float(name, lr / 10, lr * 10, log=True)
    return {name: pick(name) for name, pick in suggest.items() if name not in fixed}


def default_trial(binary: bool) -> dict:
    """:func:`default_model`'s settings in :func:`search_space`'s terms: the first trial of every study."""
    defaults = default_model(binary, FitConfig()).get_params()
    names = ("n_components", "n_gibbs_steps") if binary else ("kind", "alpha", "input_dropout")
    trial = {name: defaults[name] for name in names}
    if not binary:
        trial["hidden_layer_sizes"] = "-".join(str(int(s)) for s in defaults["hidden_layer_sizes"])
    trial["learning_rate"] = float(defaults["learning_rate"])
    return trial


def settings_of(params: dict) -> dict:
    """Optuna's parameters as the recommender's settings: the size "500" becomes (500,)."""
    settings = dict(params)
    if isinstance(settings.get("hidden_layer_sizes"), str):
        settings["hidden_layer_sizes"] = tuple(int(s) for s in settings["hidden_layer_sizes"].split("-"))
    return settings


def _quietly(model, users, items) -> tuple[np.ndarray, int]:
    """``model.predict`` without its ColdStartWarning, and how many pairs the bias model answered."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ColdStartWarning)
        pred = model.predict(users, items)
    cold = ~np.isin(users, model.users_) | ~np.isin(items, model.items_)
    return pred, int(cold.sum())


def _scores(binary: bool, truth: np.ndarray, pred: np.ndarray, liked_from: float | None) -> dict:
    if binary:
        p = np.clip(pred, 0, 1)
        return classification_scores((truth >= liked_from).astype(int), np.c_[1 - p, p], [0, 1])
    return regression_scores(truth, pred)


def compare(model, fit_seconds: float, train: pd.DataFrame, test: pd.DataFrame, *, name: str | None = None):
    """The fitted deep ``model`` beside the bias model and the trivial answer on the same split.

    Graded ratings: RMSE, MAE, R² of the predicted ratings; the trivial answer is the global mean.
    An RBM: ROC-AUC, accuracy, F1, PR-AUC of P(liked) against liked (rating >= its
    ``like_threshold_``); the bias model is fitted on the same liked / not-liked targets and the
    trivial answer is the majority.

    Returns
    -------
    board : Leaderboard
    predictions : dict of {model name: predictions for the test rows}
    cold : int
        Test pairs the deep model answered with its bias fallback (0 on :func:`split`'s split).
    """
    binary = isinstance(model, RBMRecommender)
    user, item, rating = train.columns[:3]
    users, items, truth = test[user].to_numpy(), test[item].to_numpy(), test[rating].to_numpy(float)
    liked_from = model.like_threshold_ if binary else None
    board = Leaderboard("roc_auc" if binary else primary_metric("recommend"))
    name = name or DEEP_NAMES.get(type(model).__name__, type(model).__name__)
    pred, cold = _quietly(model, users, items)
    board.add(name, _scores(binary, truth, pred, liked_from), fit_seconds, key="deep", role="deep")
    predictions = {name: pred}
    train_targets = train[rating].to_numpy(float)
    if binary:
        train_targets = (train_targets >= liked_from).astype(float)
    with stopwatch() as took:
        bias = BiasRecommender().fit(train[[user, item]], train_targets)
    bias_pred, _ = _quietly(bias, users, items)
    bias_name = "bias model (mean + user + item)"
    board.add(bias_name, _scores(binary, truth, bias_pred, liked_from), took(), key="bias")
    predictions[bias_name] = bias_pred
    mean = float(np.mean(train_targets))
    if binary:  # the majority answer: P(liked) 1 or 0 for every pair
        trivial_name, key, constant = "majority answer", "majority", float(mean >= 0.5)
    else:
        trivial_name, key, constant = "global mean", "mean", mean
    trivial = np.full(len(test), constant)
    board.add(trivial_name, _scores(binary, truth, trivial, liked_from), 0.0, key=key, role="trivial")
    predictions[trivial_name] = trivial
    return board, predictions, cold


def activity_table(train: pd.DataFrame, test: pd.DataFrame, predictions: dict, binary: bool,
                   liked_from: float | None = None) -> pd.DataFrame:  # fmt: skip
    """Each model's error on the test ratings of users grouped by their number of training ratings."""
    user, rating = train.columns[0], train.columns[2]
    counts = test[user].map(train[user].value_counts()).fillna(0).to_numpy()
    edges = [0, 10, 30, 100, 300, np.inf]
    labels = ["1-10", "11-30", "31-100", "101-300", "300+"]
    groups = pd.cut(counts, edges, labels=labels)
    truth = test[rating].to_numpy(float)
    rows = []
    for label in labels:
        mask = np.asarray(groups == label)
        if not mask.any():
            continue
        row = {"training ratings of the user": label, "test ratings": int(mask.sum())}
        for model, pred in predictions.items():
            if binary:
                row[model] = float(np.mean((pred[mask] >= 0.5) == (truth[mask] >= liked_from)))
            else:
                row[model] = float(np.sqrt(np.mean((pred[mask] - truth[mask]) ** 2)))
        rows.append(row)
    return pd.DataFrame(rows)


def top_list(model, train: pd.DataFrame, user=None, n: int = 10) -> tuple[object, pd.DataFrame]:
    """(the user, their ``n`` best-scored unseen items); by default the first user id."""
    user = train.iloc[:, 0].min() if user is None else user
    table = model.recommend(user, n)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return user, table


def add_pictures(report, model, train: pd.DataFrame, test: pd.DataFrame, predictions: dict, *,
                 user=None, top: pd.DataFrame | None = None, label: str = "item") -> None:  # fmt: skip
    """Learning curves, predicted vs actual (or ROC curves), error by user activity and one user's top
    list. ``top`` (with a ``label`` column, e.g. titles) replaces the plain list of item ids."""
    binary = isinstance(model, RBMRecommender)
    deep = next(iter(predictions))
    truth = test.iloc[:, 2].to_numpy(float)
    report.add_history(model.history_)
    if binary:
        caption = "Free-energy gap per epoch (contrastive divergence's objective)."
    else:
        caption = (
            "Mean squared error per training rating and per held-out rating (early stopping); the dot "
            "marks the epoch whose weights were kept."
        )
    report.add_figure("learning_curves", plots.plot_loss(model), caption)
    if binary:
        liked = truth >= model.like_threshold_
        ax = None
        for name, pred in predictions.items():
            if len(np.unique(pred)) > 1:  # a constant answer has no curve
                ax = plots.plot_roc(liked, pred, ax=ax, label=name)
        report.add_figure("roc_curve", ax, "ROC curves of P(liked) on the test ratings.")
    else:
        report.add_figure(
            "predicted_vs_actual",
            plots.plot_predicted_vs_actual(truth, predictions[deep]),
            f"{deep}: predicted against actual test ratings.",
        )
    liked_from = model.like_threshold_ if binary else None
    table = activity_table(train, test, predictions, binary, liked_from)
    metric = "accuracy" if binary else "RMSE"
    report.add_table(
        "error_by_user_activity",
        table.round(4),
        f"Test {metric} of each model for users grouped by how many training ratings they have.",
    )
    models = [m for m in predictions if m in table.columns]
    ax = plots.plot_model_comparison(
        {row["training ratings of the user"]: {m: row[m] for m in models} for _, row in table.iterrows()},
        models,
    )
    ax.set_title(f"Test {metric} by user activity")
    ax.set_xlabel("training ratings of the user")
    ax.set_ylabel(metric)
    report.add_figure(
        "error_by_user_activity",
        ax,
        f"Test {metric} by the user's number of training ratings: where the deep model gains on the "
        "bias model.",
    )
    if top is None:
        user, top = top_list(model, train, user)
    score = "p_liked" if binary else "predicted_rating"
    top = top.rename(columns={"score": score})
    report.add_table("recommendations", top.round(4), f"User {user}'s top {len(top)}, unseen items only.")
    report.add_figure(
        "recommendations",
        plots.plot_recommendations(top, label=label, score=score, title=f"Top {len(top)} for user {user}"),
        f"{'P(liked)' if binary else 'Predicted rating'} of the items user {user} has not rated, best first.",
    )


def fit_and_report(
    report,
    model,
    train: pd.DataFrame,
    test: pd.DataFrame,
    config: FitConfig,
    *,
    name: str | None = None,
    others: dict | None = None,
    rows_dropped: int = 0,
    split_rule: str | None = None,
    caption: str | None = None,
    user=None,
    n_top: int = 10,
    titles: pd.Series | None = None,
) -> Outcome:
    """The ratings road from the split on, for ``deepzoo fit`` and the movie case studies: fit ``model``
    (checkpointed in the run folder, within ``config.time_limit``) -> :func:`compare` beside the bias
    model and the trivial answer, and ``others`` -> metrics, leaderboard, the data in a paragraph ->
    :func:`add_pictures` with ``user``'s top ``n_top`` (titled when ``titles`` maps items to titles).

    ``others`` maps a display name to ``(key, test predictions, fit seconds)`` of a model fitted
    elsewhere on the same split (Surprise's SVD; P(liked) when the ratings are two-valued).
    ``split_rule`` says how the split was made (default: the seeded draw of :func:`split`).
    """
    from ..engine.training import time_limit

    checkpointed = "checkpoint" in model.get_params()
    if checkpointed and distributed.is_main_process():
        model.set_params(
            checkpoint=str(report.out_dir / "checkpoints" / "autorec.ckpt"), resume=config.resume
        )
    with stopwatch() as seconds, time_limit(config.time_limit):
        model.fit(train)
    if checkpointed:
        model.set_params(checkpoint=None, resume=False)
    binary = isinstance(model, RBMRecommender)
    board, predictions, cold = compare(model, seconds(), train, test, name=name)
    liked_from = model.like_threshold_ if binary else None
    truth = test.iloc[:, 2].to_numpy(float)
    for shown, (key, pred, fit_seconds) in (others or {}).items():
        board.add(
            shown, _scores(binary, truth, np.asarray(pred, dtype=float), liked_from), fit_seconds, key=key
        )
        predictions[shown] = np.asarray(pred, dtype=float)
    both = pd.concat([train.iloc[:, :2], test.iloc[:, :2]])
    metrics = board.metrics()
    metrics.update(
        n_ratings=len(train) + len(test),
        n_train=len(train),
        n_test=len(test),
        n_users=int(both.iloc[:, 0].nunique()),
        n_items=int(both.iloc[:, 1].nunique()),
        rows_dropped=rows_dropped,
        rating_scale=list(model.rating_scale_),
        epochs=model.n_iter_,
        cold_start_pairs=cold,
    )
    if not binary:
        metrics["rmse_vs_bias"] = metrics["rmse"] / metrics["baseline_bias_rmse"]
    report.add_metrics(**metrics)
    board.add_to_report(
        report,
        caption
        or f"Every model on the same {len(test):,} test ratings (every test user and item also has "
        f"training ratings); {board.primary} is the main metric.",
    )
    split_rule = split_rule or f"seed {config.seed}"
    report.add_text(
        "The data",
        f"{metrics['n_ratings']:,} ratings of {metrics['n_items']:,} items by {metrics['n_users']:,} users, "
        f"scale {model.rating_scale_[0]:g} to {model.rating_scale_[1]:g}"
        + (" (two values: liked / not liked, the RBM's task)" if binary else "")
        + f"; {rows_dropped:,} rows with a missing value dropped. Split: {len(train):,} training and "
        f"{len(test):,} test ratings ({split_rule})"
        + (
            f"; {cold:,} test pairs of a user or item unseen in training get the bias model's answer."
            if cold
            else "."
        ),
    )
    user, top = top_list(model, train, user, n_top)
    if titles is not None:
        top = with_titles(top, titles)
    label = "item" if titles is None else "title"
    report.keep(model, verdict=board.verdict())  # saved (by deepzoo fit) before anything is drawn
    with report.section("pictures"):
        add_pictures(report, model, train, test, predictions, user=user, top=top, label=label)
    return Outcome("recommend", model, report.metrics, board.frame(), report.out_dir, None, board.verdict())


def run(source, config: FitConfig, report) -> Outcome:
    """Fit the ratings task on ``source.frame`` with the columns ``source.columns`` found."""
    ratings, dropped = ratings_table(source.frame, source.columns)
    binary = is_binary(ratings.iloc[:, 2])
    train, test = split(ratings, config.test_size, config.seed)
    model = default_model(binary, config)
    return fit_and_report(report, model, train, test, config, rows_dropped=dropped)


@dataclasses.dataclass
class TuningProblem:
    """``deepzoo fit --tune`` on ratings (:class:`deepzoo.tasks.tune.Problem`): the training ratings
    split again by :func:`split` (every validation user and item also in the fitting part); each trial
    fits on one part and is scored (RMSE, or ROC-AUC of liked) on the other."""

    config: FitConfig
    fit_part: pd.DataFrame
    val_part: pd.DataFrame
    binary: bool
    metric: str
    direction: str
    model_name: str = "the recommender"

    @property
    def tuned_row(self) -> str:
        return DEEP_NAMES[type(self.estimator()).__name__]

    @property
    def n_fit(self) -> int:
        return len(self.fit_part)

    @property
    def n_val(self) -> int:
        return len(self.val_part)

    @property
    def n_train(self) -> int:
        return self.n_fit + self.n_val

    def estimator(self):
        return RBMRecommender() if self.binary else AutoEncoderRecommender()

    def default_trial(self) -> dict:
        return default_trial(self.binary)

    def settings(self, trial) -> dict:
        params = search_space(trial, self.binary, self.default_trial(), fixed=tuple(self.config.settings))
        return {**settings_of(params), **self.config.settings}

    def score(self, settings: dict, on_epoch) -> tuple[float, int]:
        from ..engine.training import epoch_callback

        model = default_model(self.binary, dataclasses.replace(self.config, settings=settings, verbose=False))
        with epoch_callback(on_epoch), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a trial that runs out of max_iter is scored as it is
            model.fit(self.fit_part)
        user, item, rating = self.val_part.columns[:3]
        pred, _ = _quietly(model, self.val_part[user].to_numpy(), self.val_part[item].to_numpy())
        liked_from = model.like_threshold_ if self.binary else None
        scores = _scores(self.binary, self.val_part[rating].to_numpy(float), pred, liked_from)
        return float(scores[self.metric]), int(model.n_iter_)

    def final(self, source, report, changed: dict) -> Outcome:
        settings = {**settings_of(changed), **self.config.settings}
        return run(source, dataclasses.replace(self.config, settings=settings), report)


def tuning_problem(source, config: FitConfig, report) -> TuningProblem:
    """The ratings of ``source`` for ``--tune``: the test ratings dropped, a validation part carved out."""
    ratings, _ = ratings_table(source.frame, source.columns)
    binary = is_binary(ratings.iloc[:, 2])
    train, _ = split(ratings, config.test_size, config.seed)
    fit_part, val_part = split(train, TUNING_VALIDATION_FRACTION, config.seed)
    metric, direction = ("roc_auc", "maximize") if binary else ("rmse", "minimize")
    return TuningProblem(config, fit_part, val_part, binary, metric, direction)


# -- beside the road: Surprise, ranking scores, titles (the movie case studies, benchmarks) ---------------
def surprise_svd(train: pd.DataFrame, test: pd.DataFrame, seed: int, algorithm: str = "SVD"):
    """Surprise's SVD (or ``SVDpp``, ``BaselineOnly``) fitted on ``train``'s user, item and rating
    columns: (predicted ratings of ``test``, fit seconds), or None when scikit-surprise is not
    installed (it is in the ``bench`` extra only)."""
    try:
        import surprise
    except ImportError:
        return None
    user, item, rating = train.columns[:3]
    low, high = float(train[rating].min()), float(train[rating].max())
    reader = surprise.Reader(rating_scale=(low, high))
    trainset = surprise.Dataset.load_from_df(train[[user, item, rating]], reader).build_full_trainset()
    algo = getattr(surprise, algorithm)(**({"random_state": seed} if algorithm != "BaselineOnly" else {}))
    started = time.perf_counter()
    algo.fit(trainset)
    pred = np.array([algo.predict(u, i).est for u, i in zip(test[user], test[item])])
    return pred, time.perf_counter() - started


def ranking_scores(model, test: pd.DataFrame) -> dict:
    """``model.evaluate(test)`` (its errors, precision@10 and NDCG@10) without the ColdStartWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ColdStartWarning)
        return model.evaluate(test)


def with_titles(top: pd.DataFrame, titles: pd.Series) -> pd.DataFrame:
    """A :func:`top_list` with a ``title`` column beside the item ids (``titles``: item -> title)."""
    top = top.copy()
    top.insert(top.columns.get_loc("item") + 1, "title", top["item"].map(titles).fillna("(unknown title)"))
    return top


def favourites(train: pd.DataFrame, user, titles: pd.Series | None = None, n: int = 10) -> pd.DataFrame:
    """What ``user`` rated highest in ``train`` (context for their recommendations), with titles."""
    user_column, item, rating = train.columns[:3]
    mine = train[train[user_column] == user].sort_values([rating, item], ascending=[False, True]).head(n)
    table = pd.DataFrame({"item": mine[item].to_numpy(), "rating": mine[rating].to_numpy()})
    if titles is not None:
        table.insert(1, "title", table["item"].map(titles).to_numpy())
    return table


def predict_ratings(model, frame: pd.DataFrame) -> pd.DataFrame:
    """``deepzoo predict`` for a recommender: ``prediction`` for each (user, item) row; for an RBM it
    is P(liked) (for 0/1 ratings, the expected rating) and ``liked`` says whether it is >= 0.5.

    The user and item columns are those of training (by name), else ``user``/``item``, else the
    first two columns. Unseen users or items get the bias model's answer (a warning counts them).
    """
    names = list(getattr(model, "feature_names_in_", ["user", "item"]))
    missing = [c for c in names if c not in frame.columns]
    if missing and frame.shape[1] >= 2 and not hasattr(model, "feature_names_in_"):
        names, missing = list(frame.columns[:2]), []
    if missing:
        raise ValueError(
            f"The data lack the column(s) {missing} the model was trained with (user and item columns "
            f"{names}); the data have {list(map(str, frame.columns))}."
        )
    extra = [c for c in frame.columns if c not in names]
    if extra:
        warnings.warn(
            f"Ignoring the column(s) {extra[:5]}{' ...' if len(extra) > 5 else ''}: a recommender reads "
            f"only the user and item columns {names}.",
            UserWarning,
            stacklevel=2,
        )
    pred = model.predict(frame[names[0]].to_numpy(), frame[names[1]].to_numpy())
    out = pd.DataFrame({"prediction": pred}, index=frame.index)
    if isinstance(model, RBMRecommender):
        out["liked"] = pred >= 0.5
    return out


# -- detection: a table of user, item and rating columns ------------------------------------------------
# user, item and rating column names, compared in lower case without '_', '-' or spaces ("User-ID",
# "movieId", "Book-Rating")
_USER = re.compile(r"^(users?|customer|client|reader|rater|member|visitor|viewer|player)(id)?$|^uid$")
_ITEM = re.compile(
    r"^(items?|movie|film|product|book|song|track|article|game|anime|recipe|business|restaurant|joke)(id)?$"
    r"|^(iid|isbn|asin)$"
)
_RATING = re.compile(
    r"^(.*rating|ratings|score|stars|rank|preference|liked|like|likes|click|clicked|clicks)$"
)

# the one other column a ratings file may have: when the rating was given
_TIME = re.compile(r"time|date|^ts$", re.I)


def _name_key(name) -> str:
    return re.sub(r"[\s_\-.]", "", str(name)).lower()


def ratings_columns(frame: pd.DataFrame, target, by_position: bool = False) -> dict | None:
    """{user, item, rating} column names when the table is a ratings file, else None.

    By name (user/userId/customer..., item/movieId/isbn..., rating/stars/score/liked..., or
    ``target``) when the rating is numbers on a scale and no other column but a time stamp is there
    (``customer_id, product_id, age, amount`` is a table); else, for a headerless file of 3-4 numeric
    columns, by position when the first two repeat (ids) and the third has at most 11 values (a
    scale); with ``by_position`` (``--task
    recommend``) the first three columns (or two and the target) whatever they hold.
    """
    columns = [str(c) for c in frame.columns]
    keys = {c: _name_key(c) for c in columns}
    user = next((c for c in columns if _USER.match(keys[c])), None)
    item = next((c for c in columns if _ITEM.match(keys[c]) and c != user), None)
    rating = str(target) if target is not None else None
    rating = rating or next((c for c in columns if _RATING.match(keys[c]) and c not in (user, item)), None)
    if user and item and rating and rating in columns and rating not in (user, item):
        if by_position:
            return {"user": user, "item": item, "rating": rating}
        if _not_ratings(frame, user, item, rating) is None:
            return {"user": user, "item": item, "rating": rating}
        return None  # named like a user and an item, but a table: detect_table notes why
    if frame.attrs.get("header") is False and 3 <= len(columns) <= 4 and target is None:
        u, i, r = (frame[c] for c in columns[:3])
        numeric = all(pd.api.types.is_numeric_dtype(c) for c in (u, i, r))
        if (
            numeric
            and u.nunique() < 0.5 * len(frame)
            and i.nunique() < 0.5 * len(frame)
            and r.nunique() <= 11
        ):
            return {"user": columns[0], "item": columns[1], "rating": columns[2]}
    if by_position and len(columns) >= 3:
        if rating is not None and rating in columns:
            others = [c for c in columns if c != rating]
            user = user if user and user != rating else others[0]
            item = item if item and item not in (rating, user) else next(c for c in others if c != user)
            return {"user": user, "item": item, "rating": rating}
        return {"user": columns[0], "item": columns[1], "rating": columns[2]}
    return None


def _not_ratings(frame: pd.DataFrame, user: str, item: str, rating: str) -> str | None:
    """Why user and item columns with ``rating`` are not a ratings file (None when they are): the
    rating must be numbers on a scale (at most 11 values, or named like a rating) and the other columns
    at most a time stamp, not features of a table."""
    values = frame[rating].dropna()
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().mean() < 0.8:  # a few words among ratings: the task names the first one
        return f"{rating!r} holds text ({values.iloc[0] if len(values) else ''!r}), not ratings"
    values = numbers.dropna()
    if values.nunique() > 11 and not _RATING.match(_name_key(rating)):
        return f"{rating!r} has {values.nunique():,} values, not a rating scale"
    others = [c for c in map(str, frame.columns) if c not in (user, item, rating) and not _TIME.search(c)]
    if others:
        return f"other feature columns ({', '.join(others[:5])}) make it a table"
    return None


def _note_not_ratings(probe: TableProbe) -> None:
    """Columns named like a user and an item that are not a ratings file: say why, beside the schema."""
    columns = [str(c) for c in probe.frame.columns]
    keys = {c: _name_key(c) for c in columns}
    user = next((c for c in columns if _USER.match(keys[c])), None)
    item = next((c for c in columns if _ITEM.match(keys[c]) and c != user), None)
    rating = probe.target or next(
        (c for c in columns if _RATING.match(keys[c]) and c not in (user, item)), None
    )
    if user and item and rating and rating not in (user, item):
        why = _not_ratings(probe.frame, user, item, rating)
        probe.schema.notes.append(
            f"not a recommender: columns named like a user ({user!r}) and an item ({item!r}), but {why}; "
            "taken as a table (--task recommend to recommend)"
        )


def detect_table(probe: TableProbe) -> Source | None:
    """A ratings file (see :func:`ratings_columns`); with --task recommend, the first three columns."""
    columns = ratings_columns(probe.frame, probe.target, by_position=probe.task == "recommend")
    if columns is None and probe.task == "auto":
        _note_not_ratings(probe)
    if columns is None:
        if probe.task == "recommend":
            raise ValueError(
                "--task recommend needs user, item and rating columns (named user/item/rating, or the "
                f"first three columns); {probe.where} has {', '.join(map(str, probe.frame.columns))}."
            )
        return None
    rule = ", ".join(f"{role} {name!r}" for role, name in columns.items())
    return Source(
        "recommend", f"user, item and rating columns ({rule}): ratings", frame=probe.frame,
        columns={**columns, "target": columns["rating"]},
    )  # fmt: skip


KIND = TaskKind(
    name="ratings",
    tasks=("recommend",),
    rule="a table of user, item and rating columns and nothing else but a time stamp (by name, the rating "
    "on a scale; or 3-4 headerless integer columns whose first two repeat and whose third has few values)",
    run=run,
    predict=predict_ratings,
    saves=(AutoEncoderRecommender, RBMRecommender, BiasRecommender),
    serves="pairs",
    detect_table=detect_table,
    tune=tuning_problem,
)
