"""Forecasting a user's dated table: :class:`SeriesForecaster`, an LSTMForecaster that reads raw rows.

It takes the table as it comes (a date column in any common format and order, gaps for weekends and
holidays, numbers written with thousands separators), and answers in the target's units: for each row,
the target's value at the next date. Everything it needs to do so from raw rows is fitted state saved
as JSON beside the network (the date format, the calendar, the scales of each input; no pickle):

    rows -> sorted by date (:func:`~deepzoo.data.sequences.dated_rows`) -> changes of the target and of
    the other numeric columns, scaled on the training rows (:func:`~deepzoo.data.sequences.series_channels`)
    -> windows of ``n_timesteps`` rows -> LSTM -> the next change -> the next value.

The network predicts the *change* from the last value (a log-ratio for a positive series), so that
"no change" (persistence: tomorrow = today) is its zero. The last value is the target's own, or that
of a feature on the target's scale whose last value forecast the next target better on the training
rows (the *anchor*: yesterday's Close for today's Open, which holds the overnight news); the network
then learns the change from there, and "no change" is that column's last value. Before it is
trusted, it is checked on the last ``fallback_fraction`` of the training windows, which it does not
train on: when its forecasts there are not better than persistence's (the anchor's last value) by two
standard errors (a Diebold-Mariano test on squared errors), ``uses_network_`` is False and the model
forecasts persistence, and says so. Daily prices are close to a random walk; a network that finds
nothing there should not add noise to the obvious forecast.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd

from ...data.schema import date_format as _date_format
from ...data.sequences import (
    _when,
    dated_rows,
    fit_series_encoding,
    format_dates,
    naive_forecasts,
    next_date,
    seasonal_period,
    series_changes,
    series_channels,
    series_frequency,
    series_levels,
    windows_ending_at,
)
from ...engine.base import Interval, Options
from ...engine.persistence import register
from .recurrent import LSTMForecaster

__all__ = ["SeriesForecaster", "choose_anchor", "min_training_rows", "window_length"]

MIN_WINDOWS = 10
"""Training windows the network needs at the least."""
_NO_SEASON_TIMESTEPS = 20
_FALLBACK_MIN_WINDOWS = 8  # fewer held-back windows than this: no test, the network is used


def window_length(period: int | None, n_train: int) -> int:
    """Rows each window reads: two seasons when the series has one (24 for monthly data), else 20, and
    never more than a third of the training rows (so that there are at least twice as many windows).

    Examples
    --------
    >>> window_length(12, 115), window_length(None, 1000), window_length(12, 40)
    (24, 20, 13)
    """
    wanted = 2 * period if period else _NO_SEASON_TIMESTEPS
    return int(max(2, min(wanted, (n_train - 1) // 3)))


def min_training_rows(n_timesteps="auto", period: int | None = None) -> int:
    """The fewest training rows a forecaster can learn from: ``MIN_WINDOWS`` windows, each with the
    ``n_timesteps`` rows before its value (and the row before those: the first change needs one).

    Examples
    --------
    >>> min_training_rows(), min_training_rows(24)
    (15, 35)
    """
    if n_timesteps != "auto":
        return int(n_timesteps) + 1 + MIN_WINDOWS
    n = 3
    while window_length(period, n) + 1 + MIN_WINDOWS > n:
        n += 1
    return n


def _anchor(encoding: dict) -> str:
    """The column the predicted change starts from (models saved before anchors: the target)."""
    return encoding.get("anchor", encoding["target"])


def _anchored_changes(values: pd.DataFrame, encoding: dict) -> np.ndarray:
    """The scaled change from each row's anchor value to the next row's target (n_rows - 1,); with
    the target as its own anchor, :func:`~deepzoo.data.sequences.series_changes`."""
    anchor = _anchor(encoding)
    if anchor == encoding["target"]:
        return series_changes(values, encoding)
    y, a = (values[c].to_numpy(np.float64) for c in (encoding["target"], anchor))
    z, w = (np.log(y), np.log(a)) if encoding["log"] else (y, a)
    return (z[1:] - w[:-1]) / encoding["scale"]


def choose_anchor(values: pd.DataFrame, encoding: dict) -> str:
    """The column whose last value forecasts the next target with the smallest mean squared error on
    the training ``values``: the target itself (persistence), or a feature on the target's scale (one
    that :func:`~deepzoo.data.sequences.fit_series_encoding` gave a gap channel: yesterday's Close for
    today's Open). A feature must beat the target's own persistence by 10% to be chosen, so that a
    near tie keeps the plain reading."""
    target = encoding["target"]
    candidates = [c["column"] for c in encoding["channels"] if c["kind"] == "gap"]
    if not candidates or len(values) < 3:
        return target
    errors = {}
    for column in [target, *candidates]:
        change = _anchored_changes(values, {**encoding, "anchor": column})
        change = change[np.isfinite(change)]
        errors[column] = float(np.mean(change**2)) if len(change) else np.inf
    best = min(candidates, key=errors.get)
    return best if errors[best] < 0.9 * errors[target] else target


_CONSTRAINTS = {
    k: v
    for k, v in LSTMForecaster._parameter_constraints.items()
    if k not in ("persistence_skip", "target_index", "warm_start")
}


@register
class SeriesForecaster(LSTMForecaster):
    """Forecast the next value of a dated table's target from windows of its past rows.

    Parameters
    ----------
    date : str
        The column of dates (any common format: ``1949-01``, ``2012-01-03``, ``1/3/2012 09:30:00``...).
    target : str
        The numeric column to forecast.
    features : tuple of str, default=()
        Other numeric columns the network reads (their past, never their future).
    n_timesteps : int or 'auto', default='auto'
        Rows each window reads; 'auto' follows :func:`window_length` (two seasons, else 20).
    fallback : {'persistence'} or None, default='persistence'
        Hold back the last ``fallback_fraction`` of the training windows and forecast persistence when
        the network does not beat it there (see the module's docstring); None always uses the network.
    fallback_fraction : float in (0, 0.5], default=0.15
    hidden_layer_sizes : tuple of int, default=(32,)
    cell, dropout, bidirectional, alpha, solver, learning_rate, batch_size, max_iter, tol,
    n_iter_no_change, early_stopping, validation_fraction, clip_grad_norm, verbose, device, random_state
        As in :class:`~deepzoo.LSTMForecaster` (here ``alpha=1e-4``, ``learning_rate=3e-3``,
        ``max_iter=150``, ``n_iter_no_change=15``).
    checkpoint : str or path, default=None
        Write the training state after every epoch; with ``resume=True`` continue from it.
    resume : bool, default=False

    Attributes
    ----------
    date_format_ : str or None
        The format the dates were read with (None: pandas' guess).
    frequency_ : dict
        ``name`` (monthly, business-daily, ...), ``season`` and ``step`` of the dates.
    period_ : int or None
        The season found in the training changes (None: none).
    n_timesteps_ : int
    encoding_ : dict
        How rows become inputs (see :func:`deepzoo.data.sequences.fit_series_encoding`), and under
        ``"anchor"`` the column whose last value the predicted change starts from (the target, or a
        feature on its scale that forecast it better on the training rows: see :func:`choose_anchor`).
    uses_network_ : bool
        False when the fallback test chose persistence.
    skill_ : float
        The test's statistic: how many standard errors the network's squared errors were below
        persistence's on the held-back windows (NaN when there were too few of them).
    n_features_in_ : int
        Inputs per time step (the encoded channels).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from deepzoo.models.sequence.forecasting import SeriesForecaster
    >>> t = np.arange(96)
    >>> frame = pd.DataFrame({"month": pd.date_range("2000-01", periods=96, freq="MS").strftime("%Y-%m"),
    ...                       "sales": 100 + t + 10 * np.sin(2 * np.pi * t / 12)})
    >>> model = SeriesForecaster("month", "sales", max_iter=5, random_state=0).fit(frame)
    >>> model.period_, model.n_timesteps_, model.predict(frame).shape
    (12, 24, (96,))
    """

    _parameter_constraints = {
        **_CONSTRAINTS,
        "date": [str],
        "target": [str],
        "features": [tuple, list],
        "n_timesteps": [Options("auto"), Interval(numbers.Integral, 2, None, closed="left")],
        "fallback": [Options("persistence"), None],
        "fallback_fraction": [Interval(numbers.Real, 0, 0.5, closed="right")],
        "checkpoint": [str, "pathlike", None],
        "resume": [bool],
    }
    _fitted_attributes = LSTMForecaster._fitted_attributes | {
        "date_format_",
        "frequency_",
        "period_",
        "n_timesteps_",
        "encoding_",
        "uses_network_",
        "skill_",
    }
    # LSTMForecaster's settings that a table-reading forecaster fixes: it predicts the change itself
    persistence_skip = False
    target_index = 0
    warm_start = False

    def __init__(
        self,
        date=None,
        target=None,
        features=(),
        *,
        n_timesteps="auto",
        fallback="persistence",
        fallback_fraction=0.15,
        hidden_layer_sizes=(32,),
        cell="lstm",
        dropout=0.0,
        bidirectional=False,
        alpha=1e-4,
        solver="adam",
        learning_rate=3e-3,
        batch_size=32,
        max_iter=150,
        tol=1e-6,
        n_iter_no_change=15,
        early_stopping=False,
        validation_fraction=0.1,
        clip_grad_norm=None,
        checkpoint=None,
        resume=False,
        verbose=False,
        device="auto",
        random_state=None,
    ):
        self.date = date
        self.target = target
        self.features = features
        self.n_timesteps = n_timesteps
        self.fallback = fallback
        self.fallback_fraction = fallback_fraction
        self.hidden_layer_sizes = hidden_layer_sizes
        self.cell = cell
        self.dropout = dropout
        self.bidirectional = bidirectional
        self.alpha = alpha
        self.solver = solver
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.clip_grad_norm = clip_grad_norm
        self.checkpoint = checkpoint
        self.resume = resume
        self.verbose = verbose
        self.device = device
        self.random_state = random_state

    # -- rows -> sorted values ----------------------------------------------------------------------
    def _columns(self) -> list[str]:
        return [self.target, *self.features]

    def _values(self, X, date_format) -> tuple[pd.DataFrame, np.ndarray]:
        """The table's columns in date order (features' gaps carried forward), and each row's position."""
        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                f"SeriesForecaster reads a table: a pandas DataFrame with the columns {self.date!r} and "
                f"{self.target!r}; got {type(X).__name__}. For windows of numbers use LSTMForecaster."
            )
        X = X.rename(columns=str)
        needed = [self.date, *self._columns()]
        missing = [c for c in needed if c not in X.columns]
        if missing:
            raise ValueError(
                f"The table lacks the column(s) {missing} that the forecaster reads; it has "
                f"{', '.join(map(str, X.columns))}."
            )
        values, order = dated_rows(X, self.date, self._columns(), date_format=date_format)
        if len(self.features):
            values[list(self.features)] = values[list(self.features)].ffill().bfill()
        return values, order

    # -- fit ------------------------------------------------------------------------------------------
    def fit(self, X, y=None) -> SeriesForecaster:
        """Fit on the table ``X`` (its rows in any order); ``y`` is ignored (the target is a column)."""
        self._check_params()
        if self.date is None or self.target is None:
            raise ValueError(
                "SeriesForecaster needs date= and target=, the names of two columns of the table."
            )
        date_format = _date_format(X[self.date]) if isinstance(X, pd.DataFrame) and self.date in X else None
        values, _ = self._values(X, date_format)
        missing = values[self.target].isna()
        if missing.any():
            warnings.warn(
                f"{int(missing.sum())} row(s) without a {self.target!r} value left out of training (the "
                f"first on {_when(values.index[missing.to_numpy()][0])}).",
                UserWarning,
                stacklevel=2,
            )
            values = values[~missing]
        n_rows = len(values)
        n_timesteps = None if self.n_timesteps == "auto" else int(self.n_timesteps)
        frequency = series_frequency(values.index)
        encoding = fit_series_encoding(values, self.target, self.features)
        changes = series_changes(values, encoding)
        period = seasonal_period(changes, frequency["season"])
        # the anchor is chosen on the rows before the fallback's held-back part, which judges it too
        n_choose = n_rows - int(round(self.fallback_fraction * n_rows)) if self.fallback else n_rows
        encoding["anchor"] = choose_anchor(values.iloc[:n_choose], encoding)
        if n_timesteps is None:
            n_timesteps = window_length(period, n_rows)
        needed = min_training_rows(self.n_timesteps, period)
        if n_rows < needed:
            raise ValueError(
                f"The series has {n_rows} training rows; forecasting needs at least {needed} ({MIN_WINDOWS} "
                f"windows to learn from, each reading the {n_timesteps} rows before its value). Give a "
                "longer series" + (" or a smaller n_timesteps." if self.n_timesteps != "auto" else ".")
            )
        self.date_format_ = date_format
        self.frequency_ = frequency
        self.period_ = period
        self.n_timesteps_ = n_timesteps
        self.encoding_ = encoding
        windows = windows_ending_at(series_channels(values, encoding), n_timesteps)[:-1]  # (n, T, C)
        # the change from each window's last anchor value to the next target
        targets = _anchored_changes(values, encoding)[n_timesteps:].astype(np.float32)
        n_check = int(round(self.fallback_fraction * len(windows))) if self.fallback else 0
        if n_check < _FALLBACK_MIN_WINDOWS or len(windows) - n_check < MIN_WINDOWS:
            n_check = 0
        n_fit = len(windows) - n_check
        super().fit(windows[:n_fit], targets[:n_fit])
        self.uses_network_, self.skill_ = True, float("nan")
        if n_check:
            predicted = LSTMForecaster.predict(self, windows[n_fit:]).astype(np.float64)
            actual = targets[n_fit:].astype(np.float64)
            gain = actual**2 - (actual - predicted) ** 2  # the anchor's squared error minus the network's
            spread = gain.std(ddof=1)
            self.skill_ = float(gain.mean() / (spread / np.sqrt(len(gain)))) if spread > 0 else 0.0
            self.uses_network_ = bool(self.skill_ > 2.0)
        return self

    # -- predict --------------------------------------------------------------------------------------
    def _forecast_rows(self, X):
        """(values, order, ends, forecasts): forecasts of the value after each row ``ends`` (sorted)."""
        self._check_fitted()
        values, order = self._values(X, self.date_format_)
        missing = values[self.target].isna().to_numpy()
        if missing.any():
            warnings.warn(
                f"{int(missing.sum())} row(s) without a {self.target!r} value get no forecast, and the "
                "windows read past them.",
                UserWarning,
                stacklevel=3,
            )
        kept = values[~missing]
        T = self.n_timesteps_
        if len(kept) < T + 1:
            raise ValueError(
                f"Forecasting needs at least {T + 1} rows with a {self.target!r} value (a window of {T} "
                f"rows, and the one before it); the table has {len(kept)}."
            )
        windows = windows_ending_at(series_channels(kept, self.encoding_), T)
        change = LSTMForecaster.predict(self, windows) if self.uses_network_ else np.zeros(len(windows))
        last = kept[self.anchor_].to_numpy()[T:]
        forecasts = series_levels(change, last, self.encoding_)
        ends = np.flatnonzero(~missing)[T:]  # sorted positions of each window's last row
        return values, order, ends, forecasts

    @property
    def anchor_(self) -> str:
        """The column whose last value the predicted change starts from: the target, or the column
        :func:`choose_anchor` picked; the fallback forecasts its last value (persistence of it)."""
        return _anchor(self.encoding_)

    def predict(self, X) -> np.ndarray:
        """The target's value at the next date after each row of ``X`` (NaN for the first
        ``n_timesteps_`` rows, which have no full window before them), in ``X``'s row order."""
        values, order, ends, forecasts = self._forecast_rows(X)
        out = np.full(len(values), np.nan)
        out[order[ends]] = forecasts
        return out

    def forecast_dates(self, X) -> pd.Series:
        """The date each of :meth:`predict`'s values is for: the next row's date (the table's own
        calendar, gaps included), and one step of ``frequency_`` after the last row."""
        self._check_fitted()
        values, order = self._values(X, self.date_format_)
        dates = values.index
        following = list(dates[1:]) + ([next_date(dates[-1], self.frequency_["step"])] if len(dates) else [])
        out = pd.Series(pd.NaT, index=range(len(values)), dtype="datetime64[ns]")
        out.iloc[order] = pd.DatetimeIndex(following).astype("datetime64[ns]")
        return out

    def forecast(self, X, n_steps: int) -> pd.DataFrame:
        """The next ``n_steps`` values after the last row of ``X``, each fed back as the newest row:
        a DataFrame of ``date`` and ``prediction``. Needs a model without ``features`` (their future
        values are not known)."""
        return self._roll(self._history(X, n_steps), n_steps)

    def forecast_with_baselines(self, X, n_steps: int) -> pd.DataFrame:
        """:meth:`forecast`'s steps with their dates written as the data writes them, beside the naive
        forecasts of the same history (``persistence`` and, with a season, ``seasonal_persistence``):
        what ``deepzoo predict --horizon`` writes and ``deepzoo serve`` answers."""
        rows = self._history(X, n_steps)
        ahead = self._roll(rows, n_steps)
        out = pd.DataFrame({self.date: format_dates(ahead["date"], self.date_format_)})
        out["prediction"] = ahead["prediction"].to_numpy(float)
        for name, forecasts in naive_forecasts(rows[self.target], n_steps, self.period_).items():
            out[name] = forecasts
        return out

    def _history(self, X, n_steps) -> pd.DataFrame:
        """The target's known values of ``X`` in date order, checked for a forecast of ``n_steps``."""
        self._check_fitted()
        if isinstance(n_steps, bool) or not isinstance(n_steps, numbers.Integral) or n_steps < 1:
            raise ValueError(f"n_steps must be a positive int; got {n_steps!r}.")
        if len(self.features):
            raise ValueError(
                "forecast rolls forward on its own predictions, but this model also reads "
                f"{list(self.features)}, whose future values are unknown. Use predict (one step per row)."
            )
        values, _ = self._values(X, self.date_format_)
        return values[[self.target]].dropna()

    def _roll(self, rows: pd.DataFrame, n_steps: int) -> pd.DataFrame:
        """Each step's forecast fed back as the newest row, ``n_steps`` times."""
        dates, predictions = [], []
        for _ in range(n_steps):
            _, _, _, forecasts = self._forecast_rows(rows.rename_axis(self.date).reset_index())
            when = next_date(rows.index[-1], self.frequency_["step"])
            dates.append(when)
            predictions.append(float(forecasts[-1]))
            rows = pd.concat([rows, pd.DataFrame({self.target: [forecasts[-1]]}, index=[when])])
        return pd.DataFrame({"date": dates, "prediction": predictions})

    def windows(self, X) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The network's inputs for a table, for baselines on the same windows: ``(windows, changes,
        last, ends)``, where ``windows[i]`` ends at sorted row ``ends[i]`` whose anchor value (the
        target's, unless ``encoding_["anchor"]`` names another column) is ``last[i]``, and
        ``changes[i]`` is the scaled change from there to the next row's target (NaN after the last
        row)."""
        self._check_fitted()
        values, _ = self._values(X, self.date_format_)
        values = values[values[self.target].notna()]
        T = self.n_timesteps_
        windows = windows_ending_at(series_channels(values, self.encoding_), T)
        changes = np.r_[_anchored_changes(values, self.encoding_)[T:], np.nan]
        last = values[self.anchor_].to_numpy()[T:]
        return windows, changes, last, np.arange(T, len(values))
