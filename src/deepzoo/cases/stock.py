"""Case study ``stock``: forecast tomorrow's Google opening price (Deep Learning A-Z, "Building a RNN").

load (the course's Google_Stock_Price_{Train,Test}.csv with ``--data``; offline, matplotlib's bundled
goog.npz with its last 20 days held out) -> scale on the training part -> windows of 60 days -> fit an
LSTM (and, in the same run, the course's recipe) -> predict each test day from the 60 real days
before it -> compare with the naive forecasts -> plot -> write.

Two naive forecasts are always shown: persistence ("tomorrow's open = today's open") and the previous
close ("tomorrow's open = today's close"). Beating persistence on daily prices is hard; the LSTM here
reads Open, High, Low and Close and learns the change from the last close (``persistence_skip``).
The training file's Close is not split-adjusted before 27 March 2014; it is halved there (and said so).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import plots
from ..data.registry import dataset_file
from ..data.sequences import SeriesScaler, load_goog, make_windows, read_prices, test_windows
from ..persistence import save
from ..recurrent import LSTMForecaster
from ..report import RunReport


@dataclass
class Config:
    """Settings of the stock case study; every field can be overridden from the command line."""

    data: str | None = None
    """Folder with Google_Stock_Price_{Train,Test}.csv (the course's data); None: bundled goog.npz."""
    seed: int = 0
    """Seed of the networks."""
    device: str = "auto"
    """'auto' (CUDA when present), 'cpu' or 'cuda'."""
    quick: bool = False
    """Tiny budgets for tests and smoke runs."""
    test_days: int = 20
    """Days held out at the end of goog.npz (the course's file has its own 20 test days)."""
    n_timesteps: int = 60
    """Past days each prediction reads (the course uses 60)."""
    features: tuple = ("Open", "High", "Low", "Close")
    """Columns the LSTM reads; the first is the one predicted."""
    skip_from: str | None = "Close"
    """Learn the change from this column's last value (None: predict the level directly)."""
    hidden_layer_sizes: tuple = (64,)
    """Units of each stacked LSTM layer."""
    cell: str = "lstm"
    """lstm, gru or rnn."""
    dropout: float = 0.0
    """Dropout after each recurrent layer."""
    learning_rate: float = 2e-3
    """Adam's learning rate."""
    batch_size: int = 64
    """Windows per gradient step."""
    max_iter: int = 60
    """Epochs at most (training stops after 10 epochs without improvement)."""
    course_recipe: bool = True
    """Also train the course's recipe in the same run: Open only, 4 x LSTM(50), dropout 0.2, batch 32."""
    course_epochs: int = 100
    """Epochs of the course's recipe (the course uses 100)."""
    verbose: bool = False
    """Show progress bars while training."""


def _budget(config: Config) -> Config:
    if not config.quick:
        return config
    return dataclasses.replace(
        config, max_iter=min(config.max_iter, 2), course_epochs=min(config.course_epochs, 1), n_timesteps=20
    )


def load_prices(config: Config) -> tuple[pd.DataFrame, pd.DataFrame, str, list[str]]:
    """(train, test, source, notes): the course's two files, or goog.npz with its last days held out."""
    notes: list[str] = []
    if config.data is None:
        frame = load_goog()
        return (
            frame.iloc[: -config.test_days],
            frame.iloc[-config.test_days :],
            "goog.npz (matplotlib)",
            notes,
        )
    train_file = dataset_file("google_stock", "Google_Stock_Price_Train.csv", config.data)
    train = read_prices(train_file)
    test = read_prices(train_file.parent / "Google_Stock_Price_Test.csv")
    for frame in (train, test):
        notes += frame.attrs.get("issues", [])
    if "Close" in train and "Open" in train:
        unadjusted = (train["Close"] / train["Open"]) > 1.5  # before the April 2014 2:1 split
        if unadjusted.any():
            train.loc[unadjusted, "Close"] /= 2.0
            notes.append(
                f"Close was not split-adjusted on {int(unadjusted.sum())} training days (to "
                f"{train.index[unadjusted][-1].date()}); halved there, as Open/High/Low are."
            )
    return train, test, "Google_Stock_Price_Train/Test.csv (Deep Learning A-Z)", notes


def _scores(actual, predicted, previous) -> dict:
    """RMSE, MAE and the share of days whose predicted move (vs the day before) has the real sign."""
    error = np.asarray(predicted) - actual
    moved = np.sign(actual - previous)
    return {
        "rmse": float(np.sqrt(np.mean(error**2))),
        "mae": float(np.mean(np.abs(error))),
        "direction_accuracy": float(np.mean(np.sign(np.asarray(predicted) - previous) == moved)),
    }


def _fit_predict(model, train, test, features, n_timesteps, target=0):
    """Scale on train, fit on its windows, predict each test day from the real days before it."""
    scaler = SeriesScaler().fit(train[list(features)].to_numpy())
    s_train = scaler.transform(train[list(features)].to_numpy())
    s_test = scaler.transform(test[list(features)].to_numpy())
    X, y = make_windows(s_train, n_timesteps, target=target)
    X_test, _ = test_windows(s_train, s_test, n_timesteps, target=target)
    started = time.perf_counter()
    model.fit(X, y)
    seconds = time.perf_counter() - started
    return scaler.inverse_transform(model.predict(X_test), feature=target), seconds


def run(config: Config, out_dir) -> dict:
    """Run the stock case study into ``out_dir``; return its metrics."""
    config = _budget(config)
    out_dir = Path(out_dir)
    report = RunReport(
        out_dir,
        "Tomorrow's Google opening price with an LSTM",
        dataclasses.asdict(config),
        description="Deep Learning A-Z's RNN case study: read the 60 previous trading days, predict the "
        "next day's opening price, for each of the 20 test days. The naive forecasts are always shown "
        "beside the networks.",
    )
    # load
    train, test, source, notes = load_prices(config)
    features = list(config.features)
    missing = [c for c in features if c not in train.columns]
    if missing:
        raise ValueError(
            f"features {missing} are not columns of the prices; choose among {list(train.columns)}."
        )
    actual = test[features[0]].to_numpy()
    previous = np.r_[train[features[0]].iloc[-1], actual[:-1]]
    persistence = previous
    # fit
    skip = config.skip_from is not None
    model = LSTMForecaster(
        tuple(config.hidden_layer_sizes),
        cell=config.cell,
        dropout=config.dropout,
        persistence_skip=skip,
        target_index=features.index(config.skip_from) if skip else 0,
        learning_rate=config.learning_rate,
        batch_size=config.batch_size,
        max_iter=config.max_iter,
        tol=0.0,
        device=config.device,
        random_state=config.seed,
        verbose=config.verbose,
    )
    predicted, fit_seconds = _fit_predict(model, train, test, features, config.n_timesteps)
    # evaluate
    scores = _scores(actual, predicted, previous)
    persistence_scores = _scores(actual, persistence, previous)
    metrics = {
        **scores,
        "persistence_rmse": persistence_scores["rmse"],
        "persistence_mae": persistence_scores["mae"],
        "fit_seconds": fit_seconds,
        "epochs": model.n_iter_,
        "n_train_days": len(train),
        "n_test_days": len(test),
    }
    rows = {"LSTM (deepzoo)": {**scores, "fit_seconds": fit_seconds}, "persistence": persistence_scores}
    curves = {f"LSTM {features}": predicted}
    if "Close" in train.columns and features[0] == "Open":
        close_scores = _scores(
            actual, np.r_[train["Close"].iloc[-1], test["Close"].to_numpy()[:-1]], previous
        )
        metrics["previous_close_rmse"] = close_scores["rmse"]
        rows["previous close"] = close_scores
    if config.course_recipe:
        course = LSTMForecaster(
            (50, 50, 50, 50),
            dropout=0.2,
            batch_size=32,
            max_iter=config.course_epochs,
            tol=0.0,
            n_iter_no_change=config.course_epochs,
            device=config.device,
            random_state=config.seed,
            verbose=config.verbose,
        )
        course_pred, course_seconds = _fit_predict(course, train, test, [features[0]], config.n_timesteps)
        course_scores = _scores(actual, course_pred, previous)
        metrics.update(course_rmse=course_scores["rmse"], course_fit_seconds=course_seconds)
        rows["course recipe (4 x LSTM(50))"] = {**course_scores, "fit_seconds": course_seconds}
        curves["course recipe"] = course_pred
    metrics["beats_persistence"] = bool(metrics["rmse"] < metrics["persistence_rmse"])
    # plot and write
    report.add_metrics(**metrics)
    report.add_history(model.history_)
    report.add_figure(
        "forecast",
        plots.plot_forecast(
            actual,
            curves,
            index=test.index.to_numpy(),
            persistence=persistence,
            title=f"{features[0]} price, {len(test)} test days",
        ),
        f"Source: {source}. Each prediction reads the {config.n_timesteps} real days before it.",
    )
    report.add_figure("learning_curves", plots.plot_loss(model), "Training loss (scaled prices, MSE).")
    table = pd.DataFrame(rows).T.round(4).reset_index(names="forecast")
    report.add_table("comparison", table, "Same test days. Direction: predicted move vs the day before.")
    verdict = (
        f"The LSTM's RMSE {metrics['rmse']:.2f} is "
        + ("below" if metrics["beats_persistence"] else "NOT below")
        + f" persistence's {metrics['persistence_rmse']:.2f}."
    )
    if "previous_close_rmse" in metrics:
        verdict += (
            f" The previous close alone gives {metrics['previous_close_rmse']:.2f}: most of the gain over "
            "persistence is the overnight information in yesterday's close."
        )
    if "course_rmse" in metrics:
        verdict += f" The course's recipe gives {metrics['course_rmse']:.2f}."
    report.add_text("Verdict", verdict + (" Data notes: " + "; ".join(notes) if notes else ""))
    save(model, out_dir / "model")
    report.write()
    return metrics
