"""A dated table: forecast the target's next value with an LSTM, beside persistence and its peers.

read (done by the caller) -> rows in date order (duplicated or unreadable dates and words in the
target are refused, each named) -> split in time order: the last ``test_size`` of the rows are held
out (or the data's own test file, when it continues the series) -> :class:`~deepzoo.SeriesForecaster`
on the training rows -> on the same held-out rows, each forecast from the rows before it:
persistence (the last value), seasonal persistence (the value one season back, when a season is
found), Ridge on the network's own windows, and the training mean -> leaderboard -> learning curves,
the forecasts beside persistence and the truth, the errors over time -> model/.

What is decided from the data (and printed in the report):

* the inputs: the target and every other numeric column, each as its change from row to row (a
  log-ratio when all its training values are positive, else a difference), and the gap of each
  column on the target's scale to the target (High, Low, Close beside Open); the target's level too
  when it has no trend. The network predicts the change of the target, not its level: a trending
  series leaves the range it was trained on, its changes do not;
* the season: 12 for monthly data, 4 quarterly, 5 business days, 7 days, 24 hours, 52 weeks, kept
  when the training changes are correlated at that lag;
* the window: two seasons (24 months), else 20 rows, at most a third of the training rows;
* the network: LSTM(16) under 300 training rows (150 epochs), LSTM(32) up to 2,000 and LSTM(64)
  beyond, with early stopping (the best epoch's weights on a random 10% of the windows);
* the anchor: the network predicts the change from the last value of the target, or of a column on
  the target's scale whose last value forecast the next target at least 10% better (mean squared
  error on the training rows): yesterday's Close for today's Open. On the Google opening prices of
  January 2017 this took the RMSE from 4.04 to 3.5 (benchmarks/RESULTS.md);
* the fallback: the network is checked on the last 15% of the training windows, which it does not
  train on; when it does not beat persistence there, the model forecasts persistence (and says so).

Every parameter of :class:`~deepzoo.SeriesForecaster` can be overridden with ``--set``.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from .. import plots
from ..data.schema import Schema, find_target, infer_schema, parse_dates
from ..data.sequences import dated_rows, series_levels
from ..data.tabular import parse_numbers
from ..engine import distributed
from ..models.sequence.forecasting import MIN_WINDOWS, SeriesForecaster, min_training_rows
from ..models.sequence.recurrent import LSTMForecaster
from .base import (
    TUNING_VALIDATION_FRACTION,
    FitConfig,
    Leaderboard,
    Outcome,
    Source,
    TableProbe,
    TaskKind,
    primary_metric,
    read_rows,
    regression_scores,
    stopwatch,
)

__all__ = [
    "default_trial",
    "evaluate",
    "fit_and_report",
    "forecast_ahead",
    "forecast_scores",
    "forecaster_settings",
    "predict_series",
    "run",
    "search_space",
    "settings_of",
    "split_series",
    "tuning_problem",
]

_DEEP = "LSTM (deepzoo)"


def forecaster_settings(n_train: int) -> dict:
    """The network's sizes for ``n_train`` training rows (see the module's docstring)."""
    return {
        "hidden_layer_sizes": (16,) if n_train < 300 else (32,) if n_train <= 2000 else (64,),
        "batch_size": 32 if n_train <= 2000 else 128,
        "early_stopping": n_train >= 300,
        "max_iter": 200 if n_train >= 300 else 150,
        "n_iter_no_change": 15,
    }


# deepzoo fit --tune: the windows (rows each forecast reads), cells and widths tried
WINDOWS = ("auto", 5, 10, 20, 40, 60)
WIDTHS = ("16", "32", "64", "128")


def search_space(trial, n_fit: int, defaults: dict, fixed=()) -> dict:
    """The forecaster's settings for one Optuna ``trial`` (``deepzoo fit --tune``), around
    :func:`default_trial`: the window length ('auto': the module's rule), the recurrent cell, its
    width and the learning rate. Windows that leave fewer than the forecaster's minimum of training
    rows out of ``n_fit`` are not tried. Named as SeriesForecaster names them (a width as "32"), so
    that ``--set NAME=VALUE`` fixes one (named in ``fixed``, it is left out of the search)."""
    windows = [w for w in WINDOWS if w == "auto" or n_fit >= min_training_rows(w)]
    widths = sorted(set(WIDTHS) | {defaults["hidden_layer_sizes"]}, key=int)
    lr = defaults["learning_rate"]
    suggest = {
        "n_timesteps": lambda name: trial.suggest_categorical(name, windows),
        "cell": lambda name: trial.suggest_categorical(name, ["gru", "lstm"]),
        "hidden_layer_sizes": lambda name: trial.suggest_categorical(name, widths),
        "learning_rate": lambda name: trial.suggest_float(name, lr / 10, lr * 10, log=True),
    }
    return {name: pick(name) for name, pick in suggest.items() if name not in fixed}


def default_trial(n_train: int) -> dict:
    """:func:`forecaster_settings` (and the forecaster's own defaults) in :func:`search_space`'s terms:
    the first trial of every study."""
    defaults = {**SeriesForecaster("date", "target").get_params(), **forecaster_settings(n_train)}
    return {
        "n_timesteps": defaults["n_timesteps"],
        "cell": defaults["cell"],
        "hidden_layer_sizes": "-".join(str(int(s)) for s in defaults["hidden_layer_sizes"]),
        "learning_rate": float(defaults["learning_rate"]),
    }


def settings_of(params: dict) -> dict:
    """Optuna's parameters as SeriesForecaster settings: the width "32" becomes (32,)."""
    settings = dict(params)
    if isinstance(settings.get("hidden_layer_sizes"), str):
        settings["hidden_layer_sizes"] = tuple(int(s) for s in settings["hidden_layer_sizes"].split("-"))
    return settings


def forecast_scores(actual, predicted, last) -> dict:
    """rmse, mae, and direction_accuracy: the share of steps whose forecast move from the last value
    has the sign of the real move (a forecast of "no change" counts as wrong unless nothing moved)."""
    actual, predicted, last = (np.asarray(v, dtype=float) for v in (actual, predicted, last))
    scores = regression_scores(actual, predicted)
    del scores["r2"]
    scores["direction_accuracy"] = float(np.mean(np.sign(predicted - last) == np.sign(actual - last)))
    return scores


def split_series(frame: pd.DataFrame, test_frame, columns: dict, test_size: float):
    """(rows, n_test, own_test, notes): the raw rows in date order, with the data's own test file
    appended when it continues the series (``own_test``), and how many of the last rows are held out."""
    date, target = columns["date"], columns["target"]
    notes = []
    if test_frame is not None:
        train_dates, _ = dated_rows(frame, date, [])
        test_dates, _ = dated_rows(test_frame, date, [])
        if len(test_dates) and test_dates.index[0] > train_dates.index[-1]:
            frame = pd.concat([frame, test_frame[frame.columns]], ignore_index=True)
            n_test = len(test_frame)
            notes.append(
                f"the data's own test file ({n_test} rows after the training rows) is the held-out tail"
            )
        else:
            notes.append("the test file that came with the data does not follow the series; it is not used")
            test_frame = None
    values, order = dated_rows(frame, date, [target])
    rows = frame.iloc[order].reset_index(drop=True)
    empty = values[target].isna().to_numpy()
    if empty.any():
        notes.append(f"{int(empty.sum())} row(s) without a {target!r} value left out")
        rows = rows[~empty].reset_index(drop=True)
    if test_frame is None:
        n_test = _held_out(len(rows), test_size)
    return rows, n_test, test_frame is not None, notes


def _held_out(n_rows: int, test_size: float) -> int:
    return max(1, int(round(test_size * n_rows)))


def _check_length(n_rows: int, n_test: int, n_timesteps, test_size: float | None) -> None:
    """A clear error when too few rows are left to train on; ``test_size`` None: a fixed test file."""
    needed = min_training_rows(n_timesteps)
    if n_rows - n_test >= needed:
        return
    total = needed + n_test
    if test_size is not None:
        total = next(n for n in range(needed, 10 * needed + 10) if n - _held_out(n, test_size) >= needed)
    raise ValueError(
        f"The series has {n_rows} rows; with {n_test} held out for the test, {n_rows - n_test} are left to "
        f"train on, but a forecaster needs at least {needed} ({MIN_WINDOWS} windows to learn from, each with "
        f"the rows before its value): give at least {total} rows in all"
        + ("." if n_timesteps == "auto" else ", or a smaller n_timesteps.")
    )


def make_forecaster(columns: dict, features, n_train: int, config: FitConfig) -> SeriesForecaster:
    """The forecaster with the sizes for the data and ``config.settings`` on top (a bad key: an error)."""
    model = SeriesForecaster(
        columns["date"],
        columns["target"],
        tuple(features),
        device=config.device,
        random_state=config.seed,
        verbose=config.verbose,
        **forecaster_settings(n_train),
    )
    try:
        model.set_params(**config.settings)
    except ValueError as exc:
        raise ValueError(f"--set: {exc}") from None
    return model


def fit_forecaster(model: SeriesForecaster, rows: pd.DataFrame, config: FitConfig, out_dir) -> float:
    """Fit ``model`` on the training ``rows`` within the time limit, checkpointing under ``out_dir``;
    returns the seconds it took."""
    from ..engine.training import time_limit

    if distributed.is_main_process() and out_dir is not None:
        model.set_params(checkpoint=str(out_dir / "checkpoints" / "lstm.ckpt"), resume=config.resume)
    with stopwatch() as seconds, time_limit(config.time_limit), warnings.catch_warnings():
        if not model.early_stopping:  # a fixed number of epochs on small data is the plan, not a failure
            warnings.filterwarnings("ignore", category=ConvergenceWarning)
        model.fit(rows)
    model.set_params(checkpoint=None, resume=False)
    return seconds()


def evaluate(model: SeriesForecaster, rows: pd.DataFrame, n_test: int, *, ridge: bool = True) -> dict:
    """Every forecast of the last ``n_test`` of ``rows`` (sorted by date), each from the rows before it:
    the fitted model, its network before the fallback, persistence, seasonal persistence (when
    ``model.period_``), Ridge on the model's windows (fitted here on the training windows) and the
    training mean. Returns {"actual", "last", "dates", "forecasts": {name: (values, key, role, seconds)}}."""
    from sklearn.linear_model import RidgeCV

    values, _ = dated_rows(rows, model.date, [model.target], date_format=model.date_format_)
    y = values[model.target].to_numpy(float)
    n_train = len(rows) - n_test
    windows, changes, last, ends = model.windows(rows)
    # the windows that end on the row before each test row, and the training windows before them
    test = (ends >= n_train - 1) & (ends < len(rows) - 1)
    train = ends < n_train - 1
    actual, previous = y[n_train:], y[n_train - 1 : -1]
    deep = model.predict(rows)[n_train - 1 : -1]
    network = series_levels(LSTMForecaster.predict(model, windows[test]), last[test], model.encoding_)
    # a model whose fallback test chose persistence forecasts persistence (the anchor's last value):
    # its row says so
    anchor = model.anchor_
    fallback = "persistence" if anchor == model.target else f"the last {anchor}"
    name = _DEEP if model.uses_network_ else f"{_DEEP}, fell back to {fallback}"
    forecasts = {
        name: (deep, "lstm", "deep", None),
        "persistence (last value)": (previous, "persistence", "baseline", 0.0),
    }
    if model.period_:
        P = model.period_
        forecasts[f"seasonal persistence ({P} steps back)"] = (
            y[n_train - P : len(y) - P],
            "seasonal_persistence",
            "baseline",
            0.0,
        )
    if ridge:
        with stopwatch() as took:
            linear = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(
                windows[train].reshape(train.sum(), -1), changes[train]
            )
        flat = windows[test].reshape(test.sum(), -1)
        forecasts["Ridge on the same windows"] = (
            series_levels(linear.predict(flat), last[test], model.encoding_),
            "ridge",
            "baseline",
            took(),
        )
    forecasts["training mean"] = (np.full(n_test, y[:n_train].mean()), "mean", "trivial", 0.0)
    return {
        "actual": actual,
        "last": previous,
        "dates": values.index[n_train:],
        "forecasts": forecasts,
        "network": network,
    }


def leaderboard(evaluation: dict, fit_seconds: float) -> Leaderboard:
    """The leaderboard of :func:`evaluate`'s forecasts (RMSE first, then MAE and direction accuracy)."""
    board = Leaderboard(primary_metric("forecast"))
    actual, last = evaluation["actual"], evaluation["last"]
    for name, (values, key, role, seconds) in evaluation["forecasts"].items():
        board.add(
            name,
            forecast_scores(actual, values, last),
            fit_seconds if seconds is None else seconds,
            key=key,
            role=role,
        )
    return board


def decisions(model: SeriesForecaster, features) -> pd.DataFrame:
    """What was chosen from the data, and why, as a table for the report."""
    encoding = model.encoding_
    anchor = model.anchor_
    change = "log-ratio" if encoding["log"] else "difference"
    inputs = ", ".join(f"{c['column']} ({c['kind']})" for c in encoding["channels"])
    rows = [
        ("frequency", model.frequency_["name"], "the median spacing of the dates"),
        (
            "season",
            model.period_ or "none",
            f"the training changes correlate at lag {model.frequency_['season']}"
            if model.period_
            else "no correlation at the lag the frequency suggests",
        ),
        (
            "window (n_timesteps)",
            model.n_timesteps_,
            "two seasons, else 20 rows; at most a third of the training rows",
        ),
        (
            "predicted",
            f"the next {change} of {model.target}",
            "all training values are positive"
            if encoding["log"]
            else "the target has zeros or negative values",
        ),
        (
            "anchor",
            f"the last {anchor}",
            "its last value forecast the next target best on the training rows (by 10% or more)"
            if anchor != model.target
            else "no column on the target's scale forecast it better than its own last value",
        ),
        (
            "trend",
            f"R² of a line = {encoding['trend_r2']:.2f}",
            "a trend: the level is not an input"
            if encoding["trend_r2"] >= 0.5
            else "no trend: the level is an input",
        ),
        ("inputs", inputs, f"the target and the other numeric columns ({', '.join(features) or 'none'})"),
        (
            "network",
            f"LSTM{tuple(model.hidden_layer_sizes)}, {model.n_iter_} epochs",
            "sizes follow the rows",
        ),
        (
            "fallback",
            "the network"
            if model.uses_network_
            else "persistence"
            if anchor == model.target
            else f"the last {anchor}",
            f"skill {model.skill_:.2f} standard errors on the held-back training windows (kept above 2)"
            if np.isfinite(model.skill_)
            else "too few windows to check the network: it is used",
        ),
    ]
    return pd.DataFrame(rows, columns=["decision", "value", "why"])


def add_pictures(report, model: SeriesForecaster, evaluation: dict, title: str = "") -> None:
    """Learning curves, the held-out forecasts beside persistence and the truth, and their errors."""
    report.add_history(model.history_)
    report.add_figure(
        "learning_curves",
        plots.plot_loss(model),
        "Loss per epoch on the scaled changes; with early stopping the dot marks the epoch kept.",
    )
    actual, dates, forecasts = evaluation["actual"], evaluation["dates"].to_numpy(), evaluation["forecasts"]
    shown = {
        name: values
        for name, (values, key, role, _) in forecasts.items()
        if role != "trivial" and key != "persistence"  # persistence: drawn dashed grey by plot_forecast
    }
    report.add_figure(
        "forecast",
        plots.plot_forecast(
            actual,
            shown,
            index=dates,
            persistence=evaluation["last"],
            title=title or f"{model.target}: {len(actual)} held-out steps",
            ylabel=str(model.target),
        ),
        "Each forecast reads only the rows before the step it forecasts.",
    )
    errors = {
        name: values
        for name, (values, key, _, _) in forecasts.items()
        if key in ("lstm", "persistence", "ridge")
    }
    report.add_figure(
        "residuals",
        plots.plot_residuals(actual, errors, index=dates),
        "Truth minus forecast on the held-out steps.",
    )


def fit_and_report(
    report,
    rows: pd.DataFrame,
    n_test: int,
    columns: dict,
    features,
    config: FitConfig,
    *,
    others: dict | None = None,
    notes=(),
    caption: str = "Every forecast of the same held-out steps, each from the rows before it.",
    title: str = "",
) -> Outcome:
    """The forecast road from the split on, for ``deepzoo fit`` and the ``stock`` case: the forecaster
    for the data (``config.settings`` on top) fitted on all but the last ``n_test`` of ``rows`` (in
    date order) -> :func:`evaluate` beside persistence, Ridge and the mean, and ``others`` ->
    leaderboard, metrics, the decisions, the fallback -> :func:`add_pictures` (``title``).

    ``others`` maps a display name to ``(forecasts of the held-out steps, key, fit seconds)`` of a
    forecast made elsewhere (a course's recipe); ``notes`` are said with the fallback.
    """
    n_train = len(rows) - n_test
    model = make_forecaster(columns, features, n_train, config)
    fit_seconds = fit_forecaster(model, rows.iloc[:n_train], config, report.out_dir)
    evaluation = evaluate(model, rows, n_test)
    for name, (values, key, seconds) in (others or {}).items():
        evaluation["forecasts"][name] = (np.asarray(values, dtype=float), key, "baseline", seconds)
    board = leaderboard(evaluation, fit_seconds)
    metrics = board.metrics()
    network = forecast_scores(evaluation["actual"], evaluation["network"], evaluation["last"])
    metrics.update(
        persistence_rmse=metrics["baseline_persistence_rmse"],
        rmse_ratio_to_persistence=metrics["rmse"] / metrics["baseline_persistence_rmse"],
        network_rmse=network["rmse"],
        uses_network=model.uses_network_,
        skill=model.skill_,
        n_train=n_train,
        n_test=n_test,
        n_timesteps=model.n_timesteps_,
        period=model.period_ or 0,
        epochs=model.n_iter_,
    )
    report.add_metrics(**metrics)
    board.add_to_report(report, caption)
    report.add_table("decisions", decisions(model, features), "What was chosen from the data.")
    anchor = model.anchor_
    zero = "persistence" if anchor == model.target else f"persistence of the last {anchor}"
    fallback = f"The network's own forecasts score RMSE {network['rmse']:.4g} on the held-out steps. " + (
        f"It did not beat {zero} on the held-back training windows, so the model forecasts {zero}."
        if not model.uses_network_
        else f"It beat {zero} on the held-back training windows and is used."
    )
    report.add_text("Fallback", fallback + (" Notes: " + "; ".join(notes) + "." if notes else ""))
    report.keep(model, verdict=board.verdict())  # saved (by deepzoo fit) before anything is drawn
    with report.section("pictures"):
        add_pictures(report, model, evaluation, title=title)
    return Outcome("forecast", model, report.metrics, board.frame(), report.out_dir, verdict=board.verdict())


def run(source, config: FitConfig, report) -> Outcome:
    """Fit the forecast task on ``source.frame`` (and its own later test file, when there is one)."""
    columns = dict(source.columns)
    schema = source.schema
    features = [c for c in schema.names("numeric") if c not in (columns["target"], columns["date"])]
    rows, n_test, own_test, notes = split_series(source.frame, source.test_frame, columns, config.test_size)
    n_timesteps = config.settings.get("n_timesteps", "auto")
    _check_length(len(rows), n_test, n_timesteps, None if own_test else config.test_size)
    outcome = fit_and_report(report, rows, n_test, columns, features, config, notes=notes)
    outcome.schema = schema
    return outcome


@dataclasses.dataclass
class TuningProblem:
    """``deepzoo fit --tune`` on a series (:class:`deepzoo.tasks.tune.Problem`): each trial fits on the
    training rows but their last fifth, and is scored (RMSE of its network's one-step forecasts, each
    from the rows before it) on that fifth, in time order as the test rows are."""

    config: FitConfig
    rows: pd.DataFrame  # the training rows alone, in date order
    n_val: int
    columns: dict
    features: tuple
    metric: str = "rmse"
    direction: str = "minimize"
    model_name: str = "the forecaster"
    tuned_row: str = _DEEP

    @property
    def n_train(self) -> int:
        return len(self.rows)

    @property
    def n_fit(self) -> int:
        return len(self.rows) - self.n_val

    def estimator(self):
        return SeriesForecaster(self.columns["date"], self.columns["target"])

    def default_trial(self) -> dict:
        return default_trial(self.n_train)

    def settings(self, trial) -> dict:
        params = search_space(trial, self.n_fit, self.default_trial(), fixed=tuple(self.config.settings))
        return {**settings_of(params), **self.config.settings}

    def score(self, settings: dict, on_epoch) -> tuple[float, int]:
        from ..engine.training import epoch_callback

        config = dataclasses.replace(self.config, settings=settings, verbose=False)
        model = make_forecaster(self.columns, self.features, self.n_fit, config)
        with epoch_callback(on_epoch), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a trial that runs out of max_iter is scored as it is
            model.fit(self.rows.iloc[: self.n_fit])
        evaluation = evaluate(model, self.rows, self.n_val, ridge=False)
        scores = forecast_scores(evaluation["actual"], evaluation["network"], evaluation["last"])
        return float(scores["rmse"]), int(model.n_iter_)

    def final(self, source, report, changed: dict) -> Outcome:
        settings = {**settings_of(changed), **self.config.settings}
        return run(source, dataclasses.replace(self.config, settings=settings), report)


def tuning_problem(source, config: FitConfig, report) -> TuningProblem:
    """The series of ``source`` for ``--tune``: the held-out tail dropped, the validation tail carved
    from the training rows."""
    columns = dict(source.columns)
    features = [c for c in source.schema.names("numeric") if c not in (columns["target"], columns["date"])]
    rows, n_test, own_test, _ = split_series(source.frame, source.test_frame, columns, config.test_size)
    _check_length(
        len(rows), n_test, config.settings.get("n_timesteps", "auto"), None if own_test else config.test_size
    )
    train = rows.iloc[: len(rows) - n_test].reset_index(drop=True)
    n_val = _held_out(len(train), TUNING_VALIDATION_FRACTION)
    _check_length(len(train), n_val, config.settings.get("n_timesteps", "auto"), TUNING_VALIDATION_FRACTION)
    return TuningProblem(config, train, n_val, columns, tuple(features))


# -- deepzoo predict ------------------------------------------------------------------------------
def predict_series(model, frame: pd.DataFrame, horizon: int | None = None) -> pd.DataFrame:
    """``deepzoo predict`` for a forecaster.

    Without ``horizon``: one row per input row, in input order: ``forecast_date`` (the next row's date;
    one step of the series' frequency after the last row) and ``prediction``, the target's value then,
    forecast from the ``n_timesteps_`` rows up to this one (empty for the first rows, which have no full
    window). The last row's is the forecast beyond the table.

    With ``horizon=H``: the next H steps after the table's last date (dates continued at the series'
    frequency, written as the file writes them), each forecast fed back as the newest row
    (:meth:`SeriesForecaster.forecast`), beside the baselines that need no fitting: ``persistence`` (the
    last value) and, when a season was found, ``seasonal_persistence`` (the value one season back).
    """
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    if not isinstance(final, SeriesForecaster):
        raise ValueError(
            f"deepzoo predict scores a table with forecasters saved by deepzoo fit (SeriesForecaster); a "
            f"{type(final).__name__} reads windows of numbers: call its predict in Python."
        )
    used = {final.date, final.target, *final.features}
    extra = [str(c) for c in frame.columns if str(c) not in used]
    if extra:
        warnings.warn(
            f"Ignoring the columns the model does not use: {', '.join(extra)}.", UserWarning, stacklevel=2
        )
    if horizon is not None:
        return forecast_ahead(final, frame, horizon)
    return pd.DataFrame(
        {
            final.date: frame[final.date].to_numpy(),
            "forecast_date": final.forecast_dates(frame).to_numpy(),
            "prediction": final.predict(frame),
        },
        index=frame.index,
    )


def forecast_ahead(model: SeriesForecaster, frame: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """The next ``horizon`` steps after ``frame``'s last date: the date (in the file's own format),
    ``prediction``, ``persistence`` and, with a season, ``seasonal_persistence`` (see
    :func:`predict_series`). ``deepzoo serve`` answers ``{"rows": ..., "horizon": H}`` with the same."""
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ValueError(f"--horizon must be a positive whole number of steps; got {horizon!r}.")
    if len(model.features):
        raise ValueError(
            f"A horizon rolls the forecaster forward on its own forecasts, but this model also reads "
            f"{', '.join(model.features)}, whose future values are unknown; without --horizon, deepzoo "
            "predict gives the next step after each row (refit with --drop to forecast further ahead)."
        )
    return model.forecast_with_baselines(frame, int(horizon))


# -- detection: dates in time order and a numeric target -----------------------------------------------
_SERIES_TARGETS = ("close", "adj close", "value", "price", "sales", "passengers", "count", "y", "target")


def series_columns(frame: pd.DataFrame, schema: Schema, forced: bool = False) -> dict | None:
    """{date, target} when a date column is in time order (ascending or descending; a few unreadable
    or repeated dates are left for the forecast task to name) and the target is numeric, not classes (a
    0/1 label, a few integer codes: a note says why it is no forecast), else None.
    ``forced`` (--task forecast): any date column and target; the task says what is wrong with them."""
    dates = schema.names("date")
    if len(dates) != 1:
        return None
    target = schema.target
    if target is None:
        numeric = schema.names("numeric")
        named = [c for c in numeric if c.lower().lstrip("#") in _SERIES_TARGETS]
        target = named[0] if named else (numeric[0] if len(numeric) == 1 else None)
    if target is None:
        return None
    if forced:
        return {"date": dates[0], "target": target}
    if target == schema.target and schema.task == "classify":
        # a 0/1 label (or class codes) in rows sorted by time is rows of events, not a measured series
        schema.notes.append(
            f"not a forecast: {target!r} holds classes ({schema.task_reason}), so the rows in time order "
            f"({dates[0]}) are taken as a table (--task forecast to forecast it)"
        )
        return None
    stamps = parse_dates(frame[dates[0]]).dropna()
    if len(stamps) < 0.95 * len(frame) or stamps.nunique() < 0.95 * len(stamps):
        return None  # many unreadable or repeated dates: rows of events, not a series
    order = stamps.diff().dropna()
    if not ((order >= pd.Timedelta(0)).all() or (order <= pd.Timedelta(0)).all()):
        return None  # dates in no order: rows of events, not a series
    values = frame[target]
    if not pd.api.types.is_numeric_dtype(values):
        # mostly numbers with a few words: a series whose bad values the task will name
        if parse_numbers(values.dropna().astype(str)).notna().mean() < 0.8:
            return None
    return {"date": dates[0], "target": target}


def _series_with_words(frame: pd.DataFrame, test_frame, target, overrides: dict, task: str) -> Source | None:
    """A series whose target (given, or named like one) is mostly numbers with a few words: the
    forecast task, which names the first word. Without this, the words would make the target look
    like classes, or the column like a mixed one, and the message would not say what to fix."""
    if target is None and find_target(frame) is None:
        named = [c for c in frame.columns if str(c).lower().lstrip("#") in _SERIES_TARGETS]
        target = named[0] if named else None
    if target is None or pd.api.types.is_numeric_dtype(frame[target]):
        return None
    numbers = parse_numbers(frame[target])
    if numbers.notna().mean() < 0.8 or numbers.isna().sum() == frame[target].isna().sum():
        return None
    coerced = frame.assign(**{target: numbers})
    schema = infer_schema(coerced, target, task="regress", **overrides)
    columns = series_columns(coerced, schema, forced=task == "forecast")
    if columns is None:
        return None
    return Source(
        "forecast",
        f"dates in time order ({columns['date']}) and a mostly numeric target ({target}): a series",
        frame=frame,
        test_frame=test_frame,
        schema=schema,
        columns=columns,
    )


def detect_table(probe: TableProbe) -> Source | None:
    """A series: one date column in time order and a numeric target (given or named like one)."""
    source = _series_with_words(probe.frame, probe.test_frame, probe.target, probe.overrides, probe.task)
    if source is not None:
        return source
    schema = probe.schema
    columns = series_columns(probe.frame, schema, forced=probe.task == "forecast")
    if columns is None:
        if probe.task != "forecast":
            return None
        dates = schema.names("date")
        if len(dates) != 1:
            raise ValueError(
                f"--task forecast needs one date column; {probe.where} has "
                f"{dates or 'none'}. Name it with --date COLUMN (and leave others out with --drop)."
            )
        raise ValueError(
            f"--task forecast needs the column to forecast: pass --target COLUMN (numeric columns of "
            f"{probe.where}: {', '.join(schema.names('numeric')) or 'none'})."
        )
    return Source(
        "forecast",
        f"dates in time order ({columns['date']}) and a numeric target ({columns['target']}): a series",
        frame=probe.frame,
        test_frame=probe.test_frame,
        schema=schema,
        columns=columns,
    )


def _whole_table(path, chunksize: int):
    """Read whole: each forecast's window reaches back into the rows before it."""
    return [read_rows(path)]


KIND = TaskKind(
    name="series",
    tasks=("forecast",),
    rule="a table with a date column in time order and a numeric target",
    run=run,
    predict=predict_series,
    saves=(SeriesForecaster, LSTMForecaster),
    serves="series",
    chunks=_whole_table,
    detect_table=detect_table,
    tune=tuning_problem,
)
