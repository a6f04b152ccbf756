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

__all__ = ["SeriesScaler", "load_goog", "make_windows", "read_prices", "test_windows"]

_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d-%b-%Y", "%b %d, %Y")


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


def _parse_dates(column: pd.Series) -> pd.Series:
    """Try each known format and keep the first that reads every row; else pandas' own guess."""
    text = column.astype(str).str.strip()
    for fmt in _DATE_FORMATS:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        if parsed.notna().all():
            return parsed
    parsed = pd.to_datetime(text, errors="coerce")
    if parsed.isna().any():
        bad = text[parsed.isna()].iloc[0]
        raise ValueError(
            f"Cannot read the date {bad!r} (row {int(parsed.isna().to_numpy().argmax())}); expected a "
            "format such as 2012-01-03 or 1/3/2012. Fix or drop that row."
        )
    return parsed


def _parse_numbers(column: pd.Series, name: str) -> pd.Series:
    """'7,380,500' -> 7380500.0; any other text is an error that names the row and the value."""
    if column.dtype.kind in "biuf":
        return column.astype(np.float64)
    text = column.astype(str).str.strip().str.replace(",", "", regex=False).str.replace(" ", "", regex=False)
    numbers_ = pd.to_numeric(text, errors="coerce")
    bad = numbers_.isna() & column.notna() & (text != "") & (text.str.lower() != "nan")
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise ValueError(
            f"The column {name!r} holds the non-numeric value {column.iloc[row]!r} at row {row}. "
            "Prices and volumes must be numbers (thousands separators are accepted)."
        )
    return numbers_.astype(np.float64)


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
    # a strided view: window i is rows i .. i + n_timesteps - 1, no copy until astype
    windows = np.lib.stride_tricks.sliding_window_view(values, n_timesteps, axis=0)  # (n, F, T)
    X = windows[:n_windows].transpose(0, 2, 1).astype(np.float32)
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
