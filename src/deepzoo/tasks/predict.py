"""``deepzoo predict``: a saved model scores new data, chunk by chunk, into a CSV.

The CSV has one row per input row, in input order: a ``prediction`` column and, for classifiers, one
``proba_<class>`` column per class; per image a ``path`` column first; for ratings ``prediction`` is the
rating of each (user, item) row; for clusters the columns are ``cluster`` and ``anomaly_score``.
A table file is read and scored ``chunksize`` rows at a time, so a file larger than memory streams
through; the CSV is written under a temporary name and renamed when complete.

``horizon=H`` (``deepzoo predict MODEL DATA --horizon H``) asks a forecaster for the next H steps
after the table instead: one row per step, its date, ``prediction`` and the baselines beside it.
"""

from __future__ import annotations

import functools
import inspect
import os
import warnings
from pathlib import Path

import pandas as pd

from .kinds import kind_of_model

__all__ = ["model_kind", "predict_frame", "predict_to_csv"]


def model_kind(model) -> str:
    """The name of the task kind whose saved models end in ``model``'s class (see
    :data:`deepzoo.tasks.kinds.KINDS`): table, series, ratings, text, images, segmentation or clusters."""
    return kind_of_model(model).name


def predict_frame(model, data, *, horizon: int | None = None) -> pd.DataFrame:
    """Predictions of ``model`` (a fitted or loaded model) for ``data``: a file or folder as its kind
    reads it, a DataFrame, or what the model's kind takes (texts, image files); ``horizon``: the next
    steps of a forecaster (see :func:`deepzoo.tasks.series.predict_series`)."""
    kind = kind_of_model(model)
    if isinstance(data, (str, os.PathLike)):
        data = kind.read(data)
    return _predictor(kind, horizon)(model, data)


def _predictor(kind, horizon: int | None):
    """The kind's predict, with ``horizon`` when given; a kind whose predict takes none refuses it."""
    if horizon is None:
        return kind.predict
    if "horizon" not in inspect.signature(kind.predict).parameters:
        raise ValueError(
            f"--horizon is for forecasters (a model saved by deepzoo fit on a dated series); this model "
            f"is of the {kind.name} kind, which predicts one row per input row. Leave --horizon out."
        )
    return functools.partial(kind.predict, horizon=horizon)


def predict_to_csv(
    model_dir, data, out, *, chunksize: int = 100_000, device: str = "cpu", horizon: int | None = None
) -> tuple[Path, int]:
    """Score ``data`` with the model saved in ``model_dir`` and write ``out`` (CSV); returns (path, rows).

    ``data`` is a table, or for an image model a folder of images, one image, or a text file listing
    image paths one a line (see :func:`deepzoo.data.image_data.image_files`), read ``chunksize`` at a time.
    ``horizon``: a forecaster's next ``horizon`` steps after the table, one CSV row per step.

    Raises
    ------
    FileNotFoundError, ValueError
        A missing model or data file; a table without the columns the model was trained on (named).
    """
    from ..engine.persistence import load

    model = load(model_dir, device=device)
    kind = kind_of_model(model)
    predictor = _predictor(kind, horizon)
    data = Path(data)
    if not data.exists():
        raise FileNotFoundError(f"No data at {data}; give the table (or folder) to score.")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    n_rows = 0
    try:
        with (
            open(tmp, "w", newline="", encoding="utf-8") as handle,
            warnings.catch_warnings(record=True) as caught,
        ):
            warnings.simplefilter("always", UserWarning)
            if kind.writes_beside:  # e.g. the masks as PNGs in a folder beside the CSV
                predictor = functools.partial(
                    predictor, folder=out.parent / f"{out.stem}_{kind.writes_beside}"
                )
            for chunk in kind.chunks(data, chunksize):
                answer = predictor(model, chunk)
                answer.to_csv(handle, header=n_rows == 0, index=False)
                n_rows += len(answer)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    for message in dict.fromkeys(str(w.message) for w in caught):  # once each, not once a chunk
        warnings.warn(message, UserWarning, stacklevel=2)
    return out, n_rows
