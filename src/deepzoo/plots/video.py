"""Video: clips as strips of frames, forecasts beside the truth, and the error of each predicted frame."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from ._common import _PALETTE, _axes, _style

_GAP = 2  # pixels between frames and between rows


def _frames(frames) -> np.ndarray:
    """(T, C, H, W) or (T, H, W) uint8 or [0, 1] floats -> (T, H, W) or (T, H, W, 3) floats in [0, 1]."""
    frames = np.asarray(frames)
    frames = frames / 255.0 if frames.dtype == np.uint8 else frames.astype(float)
    if frames.ndim == 4:
        frames = frames.transpose(0, 2, 3, 1)
        frames = frames[..., 0] if frames.shape[-1] == 1 else frames[..., :3]
    if frames.ndim not in (3, 4):
        raise ValueError(f"expected frames (n_frames, [channels,] height, width); got shape {frames.shape}.")
    return np.clip(frames, 0, 1)


def plot_frame_rows(rows, ax: Axes | None = None, *, title: str = "Clips", offsets=None) -> Axes:
    """Draw labelled rows of frames as one mosaic, a row per clip (or per part of a clip).

    Parameters
    ----------
    rows : list of (label, frames)
        ``frames`` of shape (n_frames, channels, height, width) or (n_frames, height, width), uint8 or
        floats in [0, 1]; every frame of every row has one size.
    ax : matplotlib Axes, default=None
    title : str, default='Clips'
    offsets : list of int, default=None
        The column each row starts in (e.g. predicted frames placed after the observed ones).

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo.plots import plot_frame_rows
    >>> ax = plot_frame_rows([("a", np.zeros((3, 1, 8, 8))), ("b", np.ones((2, 8, 8)))])
    >>> [t.get_text() for t in ax.texts]
    ['a', 'b']
    """
    rows = [(str(label), _frames(frames)) for label, frames in rows]
    if not rows:
        raise ValueError("plot_frame_rows needs at least one row of frames.")
    offsets = [0] * len(rows) if offsets is None else list(offsets)
    size = rows[0][1].shape[1:3]
    if any(frames.shape[1:3] != size for _, frames in rows):
        raise ValueError("plot_frame_rows draws frames of one size; resize them first.")
    colour = any(frames.ndim == 4 for _, frames in rows)
    n_cols = max(offset + len(frames) for offset, (_, frames) in zip(offsets, rows))
    h, w = size
    canvas = np.ones(((h + _GAP) * len(rows) - _GAP, (w + _GAP) * n_cols - _GAP, 3)) * 0.85  # light gaps
    for r, ((_, frames), offset) in enumerate(zip(rows, offsets)):
        for c, frame in enumerate(frames, start=offset):
            frame = frame if frame.ndim == 3 else np.repeat(frame[..., None], 3, axis=2)
            canvas[r * (h + _GAP) : r * (h + _GAP) + h, c * (w + _GAP) : c * (w + _GAP) + w] = frame
    ax = _axes(ax, figsize=(min(0.75 * n_cols + 1.2, 14), 0.75 * len(rows) + 0.6))
    ax.imshow(canvas if colour else canvas[..., 0], cmap=None if colour else "gray", vmin=0, vmax=1,
              interpolation="nearest")  # fmt: skip
    for r, (label, _) in enumerate(rows):
        ax.text(-_GAP * 2, r * (h + _GAP) + h / 2, label, ha="right", va="center", fontsize=8)
    ax.set_axis_off()
    ax.set_title(title, fontsize=12, fontweight="bold", loc="left")
    return ax


def plot_forecast_frames(observed, future, predicted, ax: Axes | None = None, *, n_clips: int = 3) -> Axes:
    """For each of the first ``n_clips`` clips: its observed frames, then below them the true next
    frames and the predicted ones, placed after the observed frames in time.

    Parameters
    ----------
    observed : array of shape (n_clips, n_input_frames, C, H, W)
    future, predicted : arrays of shape (n_clips, n_output_frames, C, H, W)
    ax : matplotlib Axes, default=None
    n_clips : int, default=3

    Returns
    -------
    ax : matplotlib Axes
    """
    observed, future, predicted = (np.asarray(a) for a in (observed, future, predicted))
    if not len(observed) == len(future) == len(predicted) or future.shape[1:] != predicted.shape[1:]:
        raise ValueError(
            f"plot_forecast_frames got observed {observed.shape}, future {future.shape} and predicted "
            f"{predicted.shape}; pass the same clips, future and predicted frames of one shape."
        )
    rows, offsets = [], []
    t_in = observed.shape[1]
    for k in range(min(n_clips, len(observed))):
        rows += [
            (f"clip {k + 1}: observed", observed[k]),
            ("true next", future[k]),
            ("predicted", predicted[k]),
        ]
        offsets += [0, t_in, t_in]
    return plot_frame_rows(rows, ax, title="Observed, true and predicted frames", offsets=offsets)


def plot_frame_errors(
    errors: dict, ax: Axes | None = None, *, ylabel: str = "squared error per frame"
) -> Axes:
    """The error of each predicted frame (1 = the first after the observed ones), one line per forecast.

    Parameters
    ----------
    errors : dict of name -> array of shape (n_frames,)
        E. g. ``{"ConvLSTM": frame_errors(y, model.predict(X)), "copy the last frame": ...}``; the first
        entry is drawn boldest.
    ax : matplotlib Axes, default=None
    ylabel : str

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> from deepzoo.plots import plot_frame_errors
    >>> ax = plot_frame_errors({"model": [40, 80, 120], "black": [170, 170, 170]})
    >>> [line.get_label() for line in ax.lines]
    ['model', 'black']
    """
    if not errors:
        raise ValueError("plot_frame_errors needs at least one named curve of errors.")
    ax = _axes(ax)
    for k, (name, values) in enumerate(errors.items()):
        values = np.asarray(values, dtype=float).ravel()
        ax.plot(np.arange(1, len(values) + 1), values, marker="o", markersize=3, label=str(name),
                color=_PALETTE[k % len(_PALETTE)], linewidth=2.2 if k == 0 else 1.2,
                linestyle="-" if k == 0 else "--")  # fmt: skip
    _style(ax, "Error of each predicted frame", "frames after the last observed one", ylabel)
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False, fontsize=9)
    return ax
