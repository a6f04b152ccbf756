"""Time series for recurrent networks: read real price files, scale on the training part, cut windows.

A forecaster reads ``n_timesteps`` past rows of one or several features and predicts what comes next.
This module turns a series into those windows:

* :func:`read_prices` reads a daily price CSV with the quirks of real files (quoted thousands separators
  such as ``"7,380,500"``, ``1/3/2012`` or ``2012-01-03`` dates, unsorted or duplicated dates, missing
  days) and reports what it fixed in ``frame.attrs["issues"]``;
* :func:`load_goog` reads matplotlib's bundled daily Google prices (``goog.npz``), the offline default;
* :class:`SeriesScaler` scales each feature to [0, 1] from the training part only and maps
  predictions back to prices;
* :func:`make_windows` cuts ``(n_windows, n_timesteps, n_features)`` inputs and the values that follow;
* :func:`test_windows` gives the windows of a test period, whose first inputs reach back into the
  training part (the course's "concatenate train and test, take the last 60 + len(test) rows").
"""

from __future__ import annotations

import numbers
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .schema import parse_dates
from .tabular import MISSING_TOKENS, parse_numbers

__all__ = ["SeriesScaler", "load_goog", "make_windows", "read_prices", "test_windows"]


def _check_n_timesteps(n_timesteps) -> int:
    if isinstance(n_timesteps, bool) or not isinstance(n_timesteps, numbers.Integral) or n_timesteps <= 0:
        raise ValueError(
            f"n_timesteps must be a positive int (the number of past rows each window reads); got "
            f"{n_timesteps!r}. The course uses n_timesteps=60."
        )
    return int(n_timesteps)


def _as_2d_float(values, name: str = "series") -> np.ndarray:
    """A (n_rows, n_features) float64 array; NaN, inf or text get a message that names the row."""
    if isinstance(values, pd.DataFrame | pd.Series):
        values = values.to_numpy()
    array = np.asarray(values)
    if array.dtype.kind not in "biuf":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"The {name} must hold numbers; got values of dtype {array.dtype} that are not numeric "
                f"({exc}). Parse prices with read_prices, which removes thousands separators."
            ) from exc
    array = array.astype(np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(
            f"The {name} must be 1-D (one feature) or 2-D (n_rows, n_features); got shape {array.shape}."
        )
    bad = ~np.isfinite(array)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(
            f"The {name} contains {int(bad.sum())} NaN or infinite value(s), the first at row {row}, "
            f"column {col}. Fill or drop them first, e.g. frame.ffill() for missing prices."
        )
    return array


def _parse_dates(column: pd.Series, fmt: str | None = None) -> pd.Series:
    """:func:`deepzoo.data.schema.parse_dates` (any common format, ``M/D/YYYY HH:MM:SS`` and ``YYYY-MM``
    included), with an error that names the first cell that is not a date."""
    parsed = parse_dates(column, fmt)
    if parsed.isna().any():
        row = int(parsed.isna().to_numpy().argmax())
        value = column.iloc[row]
        what = "is empty" if pd.isna(value) or not str(value).strip() else f"holds {str(value).strip()!r}"
        raise ValueError(
            f"Cannot read the date column {column.name!r}: row {row} {what}, which is not a date "
            f"(expected a format such as 2012-01-03, 1/3/2012 or 1949-01). Fix or drop that row."
        )
    return parsed


def _parse_numbers(column: pd.Series, name: str) -> pd.Series:
    """:func:`deepzoo.data.tabular.parse_numbers` ('7,380,500' -> 7380500.0); any other text is an
    error that names the row and the value. Empty and missing-value cells stay NaN."""
    numbers_ = parse_numbers(column)
    if column.dtype.kind in "biuf":
        return numbers_
    text = column.astype("string").str.strip()
    bad = numbers_.isna() & text.notna() & ~text.str.lower().isin(MISSING_TOKENS)
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise ValueError(
            f"The column {name!r} holds the non-numeric value {column.iloc[row]!r} at row {row}. "
            "Its values must be numbers (thousands separators are accepted); fix or drop that row."
        )
    return numbers_


def read_prices(path, *, date_column: str = "Date", columns=None, on_missing: str = "raise") -> pd.DataFrame:
    """Read a daily price CSV into a frame indexed by date, sorted, with float columns.

    Parameters
    ----------
    path : str or Path
        The CSV file, with a header row.
    date_column : str, default='Date'
        The column of dates (``M/D/YYYY``, ``YYYY-MM-DD`` and other common formats are recognised).
    columns : list of str, optional
        The value columns to keep; default all but the date.
    on_missing : {'raise', 'ffill', 'drop'}, default='raise'
        What to do with empty price cells: raise an error that names the row, carry the last price
        forward, or drop the row.

    Returns
    -------
    pandas.DataFrame
        Indexed by date, ascending, one row per date. ``frame.attrs["issues"]`` lists what was fixed:
        unsorted dates, duplicated dates (the last row is kept), gaps longer than 4 days.

    Examples
    --------
    >>> import io
    >>> csv = io.StringIO('Date,Open,Volume\\n1/4/2012,331.27,"5,749,400"\\n1/3/2012,325.25,"7,380,500"')
    >>> frame = read_prices(csv)
    >>> frame["Volume"].tolist(), frame.attrs["issues"]
    ([7380500.0, 5749400.0], ['dates were not in ascending order; sorted them'])
    """
    try:
        frame = pd.read_csv(path, dtype=str, skipinitialspace=True, encoding="utf-8", keep_default_na=False)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text ({exc}); re-save it as UTF-8.") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame[(frame != "").any(axis=1)]
    if date_column not in frame.columns:
        raise ValueError(
            f"{path} has no date column {date_column!r}; its columns are {list(frame.columns)}. "
            "Pass date_column=... to name it."
        )
    if frame.empty:
        raise ValueError(f"{path} holds no data rows.")
    wanted = [c for c in frame.columns if c != date_column] if columns is None else list(columns)
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise ValueError(f"{path} lacks the column(s) {missing}; its columns are {list(frame.columns)}.")
    issues: list[str] = []
    dates = _parse_dates(frame[date_column])
    values = pd.DataFrame({c: _parse_numbers(frame[c], c) for c in wanted})
    values.index = pd.DatetimeIndex(dates, name="Date")
    if values.isna().any().any():
        if on_missing == "ffill":
            issues.append(f"{int(values.isna().sum().sum())} empty value(s) filled with the previous one")
            values = values.ffill().bfill()
        elif on_missing == "drop":
            issues.append(f"{int(values.isna().any(axis=1).sum())} row(s) with empty values dropped")
            values = values.dropna()
        else:
            row = values.isna().any(axis=1).to_numpy().argmax()
            raise ValueError(
                f"{path} has empty or NaN prices, the first on {values.index[row].date()} (row {row}). "
                "Pass on_missing='ffill' to carry the last price forward or on_missing='drop'."
            )
    if not values.index.is_monotonic_increasing:
        issues.append("dates were not in ascending order; sorted them")
        values = values.sort_index(kind="stable")
    duplicated = values.index.duplicated(keep="last")
    if duplicated.any():
        shown = ", ".join(str(d.date()) for d in values.index[duplicated][:3])
        issues.append(f"{int(duplicated.sum())} duplicated date(s) ({shown}); kept the last row of each")
        values = values[~duplicated]
    gaps = np.diff(values.index.values).astype("timedelta64[D]").astype(int) if len(values) > 1 else []
    long_gaps = int(np.sum(np.asarray(gaps) > 4))
    if long_gaps:
        issues.append(f"{long_gaps} gap(s) longer than 4 days between rows (missing trading days)")
    for issue in issues:
        where = Path(path).name if isinstance(path, str | Path) else "prices"
        warnings.warn(f"{where}: {issue}", stacklevel=2)
    values.attrs["issues"] = issues
    return values


def load_goog() -> pd.DataFrame:
    """matplotlib's bundled daily Google prices (Aug 2004 - Oct 2008, 1,047 days), offline.

    Returns
    -------
    pandas.DataFrame
        Columns Open, High, Low, Close, Volume, Adj Close, indexed by date.

    Examples
    --------
    >>> frame = load_goog()
    >>> len(frame), list(frame.columns)[:4]
    (1047, ['Open', 'High', 'Low', 'Close'])
    """
    from matplotlib import cbook

    data = cbook.get_sample_data("goog.npz")
    prices = data["price_data"] if hasattr(data, "files") else np.load(data)["price_data"]
    frame = pd.DataFrame(
        {
            "Open": prices["open"],
            "High": prices["high"],
            "Low": prices["low"],
            "Close": prices["close"],
            "Volume": prices["volume"].astype(np.float64),
            "Adj Close": prices["adj_close"],
        },
        index=pd.DatetimeIndex(prices["date"], name="Date"),
    )
    frame.attrs["issues"] = []
    return frame


class SeriesScaler:
    """Scale each feature to [0, 1] with the minimum and maximum of the training part only.

    Parameters
    ----------
    feature_range : tuple of float, default=(0.0, 1.0)

    Examples
    --------
    >>> scaler = SeriesScaler().fit([[10.0], [20.0]])
    >>> scaler.transform([[15.0]]).ravel(), scaler.inverse_transform([0.5])
    (array([0.5]), array([15.]))
    """

    def __init__(self, feature_range=(0.0, 1.0)):
        self.feature_range = feature_range

    def fit(self, values) -> SeriesScaler:
        values = _as_2d_float(values)
        self.min_ = values.min(axis=0)
        span = values.max(axis=0) - self.min_
        self.scale_ = np.where(span > 0, span, 1.0)
        return self

    def transform(self, values) -> np.ndarray:
        values = _as_2d_float(values)
        if values.shape[1] != len(self.min_):
            raise ValueError(
                f"SeriesScaler was fitted on {len(self.min_)} feature(s); got {values.shape[1]}."
            )
        low, high = self.feature_range
        return low + (values - self.min_) / self.scale_ * (high - low)

    def inverse_transform(self, scaled, feature: int = 0) -> np.ndarray:
        """Back to the original units. A 1-D array or a (n, horizon) array is taken as ``feature``;
        a (n, n_features) array as all features."""
        scaled = np.asarray(scaled, dtype=np.float64)
        low, high = self.feature_range
        if scaled.ndim == 2 and scaled.shape[1] == len(self.min_) and len(self.min_) > 1:
            return self.min_ + (scaled - low) / (high - low) * self.scale_
        return self.min_[feature] + (scaled - low) / (high - low) * self.scale_[feature]


def _all_windows(values: np.ndarray, n_timesteps: int) -> np.ndarray:
    """Every window of ``n_timesteps`` consecutive rows, (n_rows - n_timesteps + 1, n_timesteps,
    n_features): window i is rows i .. i + n_timesteps - 1, a strided view (no copy)."""
    return np.lib.stride_tricks.sliding_window_view(values, n_timesteps, axis=0).transpose(0, 2, 1)


def make_windows(values, n_timesteps: int, *, horizon: int = 1, target=0) -> tuple[np.ndarray, np.ndarray]:
    """Cut a series into inputs of ``n_timesteps`` rows and the ``horizon`` target values after each.

    Parameters
    ----------
    values : array-like of shape (n_rows,) or (n_rows, n_features)
    n_timesteps : int
        Rows each window reads (the course uses 60).
    horizon : int, default=1
        Future values per window: 1 for one-step forecasts, more for direct multi-step ones.
    target : int or list of int, default=0
        Column(s) to predict.

    Returns
    -------
    X : ndarray of shape (n_windows, n_timesteps, n_features), float32
    y : ndarray of shape (n_windows,) when ``horizon == 1`` and one target, else (n_windows, horizon *
        n_targets), float32

    Examples
    --------
    >>> X, y = make_windows(np.arange(6.0), 3)
    >>> X.shape, y.tolist()
    ((3, 3, 1), [3.0, 4.0, 5.0])
    """
    n_timesteps = _check_n_timesteps(n_timesteps)
    if isinstance(horizon, bool) or not isinstance(horizon, numbers.Integral) or horizon <= 0:
        raise ValueError(f"horizon must be a positive int; got {horizon!r}.")
    values = _as_2d_float(values)
    targets = [target] if isinstance(target, numbers.Integral) else list(target)
    if any(t < 0 or t >= values.shape[1] for t in targets):
        raise ValueError(f"target={target!r} is not a column of a series with {values.shape[1]} feature(s).")
    n_windows = len(values) - n_timesteps - horizon + 1
    if n_windows < 1:
        raise ValueError(
            f"The series has {len(values)} rows, too short for windows of n_timesteps={n_timesteps} "
            f"followed by horizon={horizon} value(s): it needs at least {n_timesteps + horizon}. "
            "Use a longer series or a smaller n_timesteps."
        )
    X = _all_windows(values, n_timesteps)[:n_windows].astype(np.float32)
    idx = np.arange(n_windows)[:, None] + n_timesteps + np.arange(horizon)[None, :]  # (n, horizon)
    y = values[idx][:, :, targets].reshape(n_windows, -1).astype(np.float32)
    return X, (y[:, 0] if y.shape[1] == 1 else y)


def test_windows(train, test, n_timesteps: int, *, target=0) -> tuple[np.ndarray, np.ndarray]:
    """The one-step windows whose targets are the rows of ``test``; early windows read ``train``'s tail.

    Parameters
    ----------
    train, test : array-like of shape (n_rows, n_features) or (n_rows,), already scaled.
    n_timesteps : int
    target : int, default=0

    Returns
    -------
    X : ndarray of shape (len(test), n_timesteps, n_features)
    y : ndarray of shape (len(test),)

    Examples
    --------
    >>> X, y = test_windows(np.arange(5.0), [5.0, 6.0], 3)
    >>> X[:, :, 0].tolist(), y.tolist()
    ([[2.0, 3.0, 4.0], [3.0, 4.0, 5.0]], [5.0, 6.0])
    """
    n_timesteps = _check_n_timesteps(n_timesteps)
    train, test = _as_2d_float(train, "training series"), _as_2d_float(test, "test series")
    if len(train) < n_timesteps:
        raise ValueError(
            f"The training series has {len(train)} rows; the first test window needs the last "
            f"n_timesteps={n_timesteps} of them. Use a smaller n_timesteps."
        )
    joined = np.concatenate([train[-n_timesteps:], test])
    return make_windows(joined, n_timesteps, target=target)


# pytest would collect test_windows as a test from a module that imports it
test_windows.__test__ = False


# -- a user's dated table: rows in date order, its calendar, and the changes a forecaster reads ------
# A forecaster of a user's series (models.sequence.forecasting.SeriesForecaster, deepzoo fit's forecast task)
# reads the table through these functions: dated_rows (parse, sort, refuse duplicates) ->
# series_frequency and seasonal_period (the calendar) -> fit_series_encoding on the training rows ->
# series_channels (inputs per row) and series_changes (what to predict) -> series_levels (answers in the
# target's units). The encoding is plain data (a dict of numbers and names), saved as JSON.

_CLIP = 5.0  # inputs beyond 5 typical moves (a stock split, a data error) are cut there


def _when(stamp: pd.Timestamp) -> str:
    return str(stamp.date()) if stamp == stamp.normalize() else str(stamp)


def dated_rows(frame: pd.DataFrame, date: str, columns, *, date_format: str | None = None):
    """The ``columns`` of ``frame`` as floats indexed by the parsed ``date``, in date order, and the
    position in ``frame`` of each sorted row.

    Rows may come in any order (descending is common) and with gaps (weekends, holidays); empty cells
    stay NaN for the caller to handle.

    Returns
    -------
    values : pandas.DataFrame
        Float columns, a sorted DatetimeIndex named ``date``.
    order : ndarray of int
        ``values.iloc[i]`` is row ``order[i]`` of ``frame``.

    Raises
    ------
    ValueError
        A cell of ``date`` that is not a date, a value that is not a number (each named with its row),
        or a date that appears twice (the first such date named, with both rows).

    Examples
    --------
    >>> frame = pd.DataFrame({"Month": ["1949-02", "1949-01"], "n": ["118", "1,120"]})
    >>> values, order = dated_rows(frame, "Month", ["n"])
    >>> values["n"].tolist(), order.tolist()
    ([1120.0, 118.0], [1, 0])
    """
    dates = pd.DatetimeIndex(_parse_dates(frame[date].reset_index(drop=True), date_format), name=date)
    values = pd.DataFrame(
        {c: _parse_numbers(frame[c].reset_index(drop=True), c).to_numpy(np.float64) for c in columns},
        index=dates,
    )
    order = np.argsort(dates.to_numpy(), kind="stable")
    values = values.iloc[order]
    duplicated = values.index.duplicated()
    if duplicated.any():
        first = values.index[duplicated][0]
        rows = np.sort(order[values.index == first])[:2]
        raise ValueError(
            f"The date {_when(first)} appears more than once in the column {date!r} (rows {rows[0]} and "
            f"{rows[1]}; {int(duplicated.sum())} repeated date(s) in all): a series has one row per date. "
            "Aggregate the rows of each date (their sum or mean) or drop the repeats."
        )
    return values, order


# name, spacing between rows in days (low, high), the season it suggests, the step to the next date
_FREQUENCIES = (
    ("yearly", 360.0, 370.0, None, {"months": 12}),
    ("quarterly", 88.0, 93.0, 4, {"months": 3}),
    ("monthly", 27.0, 32.0, 12, {"months": 1}),
    ("weekly", 6.5, 7.5, 52, {"days": 7}),
    ("daily", 0.99, 1.01, 7, {"days": 1}),
    ("hourly", 0.99 / 24, 1.01 / 24, 24, {"seconds": 3600}),
)


def series_frequency(dates) -> dict:
    """How often the series is observed, from the median spacing of its dates: ``name`` (yearly,
    quarterly, monthly, weekly, business-daily, daily, hourly, or 'every N seconds'), the ``season``
    that spacing suggests (12 months, 5 business days, 24 hours, ...; None for yearly) and the ``step``
    to the next date. Daily data without a single Saturday or Sunday are business days.

    Examples
    --------
    >>> days = pd.to_datetime(["2012-01-03", "2012-01-04", "2012-01-05", "2012-01-06", "2012-01-09"])
    >>> series_frequency(days)
    {'name': 'business-daily', 'season': 5, 'step': {'business_days': 1}}
    """
    dates = pd.DatetimeIndex(dates)
    if len(dates) < 2:
        return {"name": "unknown", "season": None, "step": {"days": 1}}
    spacing = float(np.median(np.diff(dates.to_numpy()) / np.timedelta64(1, "s"))) / 86400  # days
    for name, low, high, season, step in _FREQUENCIES:
        if low <= spacing <= high:
            if name == "daily" and not (dates.day_of_week >= 5).any():
                return {"name": "business-daily", "season": 5, "step": {"business_days": 1}}
            return {"name": name, "season": season, "step": dict(step)}
    seconds = round(spacing * 86400)
    return {"name": f"every {seconds} seconds", "season": None, "step": {"seconds": seconds}}


def next_date(last: pd.Timestamp, step: dict) -> pd.Timestamp:
    """The date one ``step`` (from :func:`series_frequency`) after ``last``."""
    ((unit, n),) = step.items()
    if unit == "months":
        return last + pd.DateOffset(months=n)
    if unit == "business_days":
        return last + pd.offsets.BDay(n)
    return last + pd.Timedelta(**{unit: n})


def format_dates(dates, date_format: str | None) -> list[str]:
    """Dates as the file wrote them (its format, when one was found), else ISO (a time only when there
    is one)."""
    stamps = pd.DatetimeIndex(pd.to_datetime(pd.Series(dates)))
    if date_format:
        return list(stamps.strftime(date_format))
    has_time = bool(((stamps - stamps.normalize()) != pd.Timedelta(0)).any())
    return list(stamps.strftime("%Y-%m-%d %H:%M:%S" if has_time else "%Y-%m-%d"))


def naive_forecasts(values, horizon: int, period: int | None) -> dict:
    """The baselines of ``horizon`` steps after ``values`` (a series, oldest first) that need no
    fitting: ``persistence`` (the last value) and, with a ``period`` the series covers,
    ``seasonal_persistence`` (step h repeats the value one season before it among the known ones:
    ``values[n - period + (h - 1) % period]``)."""
    y = np.asarray(values, dtype=float)
    out = {"persistence": np.full(horizon, y[-1])}
    if period and len(y) >= period:
        out["seasonal_persistence"] = y[len(y) - period + np.arange(horizon) % period]
    return out


def seasonal_period(changes, season: int | None, *, min_correlation: float = 0.2) -> int | None:
    """``season`` when the series' changes at that lag are correlated (at least ``min_correlation``,
    and more than chance: 2 / sqrt(n)) over at least three seasons, else None.

    Examples
    --------
    >>> changes = np.diff(np.sin(np.arange(120) * 2 * np.pi / 12))
    >>> seasonal_period(changes, 12), seasonal_period(np.random.default_rng(0).normal(size=119), 12)
    (12, None)
    """
    changes = np.asarray(changes, dtype=float)
    if not season or len(changes) < 3 * season:
        return None
    a, b = changes[season:], changes[:-season]
    if a.std() == 0 or b.std() == 0:
        return None
    correlation = float(np.corrcoef(a, b)[0, 1])
    return season if correlation >= max(min_correlation, 2 / np.sqrt(len(a))) else None


def _robust_scale(values: np.ndarray) -> float:
    """The spread of ``values``: IQR / 1.349 (the standard deviation of a normal sample, unmoved by a
    few outliers), else the standard deviation, else 1."""
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return 1.0
    q1, q3 = np.percentile(values, [25, 75])
    scale = (q3 - q1) / 1.349
    if not scale > 0:
        scale = float(values.std())
    return float(scale) if scale > 0 else 1.0


def _trend_r2(z: np.ndarray) -> float:
    """R² of a straight line through the series: near 1 for a trend, near 0 for a series that hovers."""
    t = np.arange(len(z), dtype=float)
    if len(z) < 3 or z.std() == 0:
        return 0.0
    return float(np.corrcoef(t, z)[0, 1] ** 2)


def fit_series_encoding(values: pd.DataFrame, target: str, features=()) -> dict:
    """How :func:`series_channels` turns the training rows into inputs: scales and centres learned
    from ``values`` (the training part only, in date order, no missing target).

    The target is read as changes from one row to the next: log-ratios when every training value is
    positive (prices, counts of passengers: a multiplicative trend and seasonality become additive),
    differences otherwise. When a straight line explains under half of its variance (no trend), its
    level is an input too, so that a pull back to the mean can be learned. Each feature enters as its
    own change and, when it is on the target's scale (its median ratio to the target within 1/3..3,
    e.g. High, Low and Close beside Open), as its gap to the target (log(Close / Open)). Changes are
    scaled by a robust spread of the training changes; gaps and levels are centred on their medians.
    """
    y = values[target].to_numpy(np.float64)
    log = bool(np.all(y > 0))
    z = np.log(y) if log else y
    r2 = _trend_r2(z)
    channels = [
        {"column": target, "kind": "change", "log": log, "center": 0.0, "scale": _robust_scale(np.diff(z))}
    ]
    if r2 < 0.5:
        channels.append(
            {
                "column": target,
                "kind": "level",
                "log": log,
                "center": float(np.median(z)),
                "scale": _robust_scale(z),
            }
        )
    for column in features:
        v = values[column].to_numpy(np.float64)
        present = v[np.isfinite(v)]
        v_log = bool(len(present) and np.all(present > 0))
        w = np.log(v) if v_log else v
        channels.append(
            {
                "column": column,
                "kind": "change",
                "log": v_log,
                "center": 0.0,
                "scale": _robust_scale(np.diff(w)),
            }
        )
        if log and v_log and 1 / 3 <= float(np.nanmedian(v / y)) <= 3:
            gap = w - z
            channels.append(
                {
                    "column": column,
                    "kind": "gap",
                    "log": True,
                    "center": float(np.nanmedian(gap)),
                    "scale": _robust_scale(np.diff(gap)),
                }
            )
    return {"target": target, "log": log, "scale": channels[0]["scale"], "trend_r2": r2, "channels": channels}


def _transformed(values: pd.DataFrame, column: str, log: bool) -> np.ndarray:
    v = values[column].to_numpy(np.float64)
    if not log:
        return v
    bad = np.isfinite(v) & (v <= 0)
    if bad.any():
        row = int(bad.argmax())
        raise ValueError(
            f"The column {column!r} was positive in training (read as ratios) but holds {v[row]:g} on "
            f"{_when(values.index[row])}; give positive values, or refit the model on data that has them."
        )
    return np.log(v)


def series_channels(values: pd.DataFrame, encoding: dict) -> np.ndarray:
    """The inputs of each row (n_rows, n_channels), float32, as :func:`fit_series_encoding` decided;
    the first row's changes are 0 (nothing before it)."""
    z = _transformed(values, encoding["target"], encoding["log"])
    out = []
    for channel in encoding["channels"]:
        w = _transformed(values, channel["column"], channel["log"])
        if channel["kind"] == "change":
            w = np.r_[0.0, np.diff(w)]
        elif channel["kind"] == "gap":
            w = w - z
        out.append((w - channel["center"]) / channel["scale"])
    return np.clip(np.nan_to_num(np.column_stack(out), nan=0.0), -_CLIP, _CLIP).astype(np.float32)


def series_changes(values: pd.DataFrame, encoding: dict) -> np.ndarray:
    """The scaled change of the target from each row to the next (n_rows - 1,): what the network
    learns to predict (0 is "no change", the persistence forecast)."""
    z = _transformed(values, encoding["target"], encoding["log"])
    return np.diff(z) / encoding["scale"]


def series_levels(changes, last, encoding: dict) -> np.ndarray:
    """Scaled changes back to the target's units, from the ``last`` value of each window."""
    changes = np.asarray(changes, dtype=np.float64) * encoding["scale"]
    last = np.asarray(last, dtype=np.float64)
    return last * np.exp(changes) if encoding["log"] else last + changes


def windows_ending_at(channels: np.ndarray, n_timesteps: int) -> np.ndarray:
    """Every window of ``n_timesteps`` rows that starts at row 1 or later (row 0 has no change), as
    (n_rows - n_timesteps, n_timesteps, n_channels); window ``i`` ends at row ``i + n_timesteps``."""
    return np.ascontiguousarray(_all_windows(channels[1:], _check_n_timesteps(n_timesteps)), dtype=np.float32)
