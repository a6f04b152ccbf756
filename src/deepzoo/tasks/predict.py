"""``deepzoo predict``: a saved model scores new data, chunk by chunk, into a CSV.

The CSV has one row per input row, in input order: a ``prediction`` column and, for classifiers, one
``proba_<class>`` column per class; per image a ``path`` column first; for ratings ``prediction`` is the
rating of each (user, item) row; for clusters the columns are ``cluster`` and ``anomaly_score``.
A table file is read and scored ``chunksize`` rows at a time, so a file larger than memory streams
through; the CSV is written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import functools
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..data import image_data
from . import images, segmentation, series
from .ratings import predict_ratings

__all__ = ["model_kind", "predict_frame", "predict_to_csv"]


def _final(model):
    return model.steps[-1][1] if hasattr(model, "steps") else model


def model_kind(model) -> str:
    """What a saved model reads: 'ratings', 'clusters', 'images', 'segment', 'text', 'series', or 'rows'
    (a table)."""
    name = type(_final(model)).__name__
    if name in ("AutoEncoderRecommender", "RBMRecommender", "BiasRecommender"):
        return "ratings"
    if name == "SelfOrganizingMap":
        return "clusters"
    if name == "ConvNetClassifier":
        return "images"
    if name == "ConvNetSegmenter":
        return "segment"
    if name == "SequenceClassifier":
        return "text"
    if name in ("LSTMForecaster", "SeriesForecaster"):
        return "series"
    return "rows"


def _rows(model, frame: pd.DataFrame) -> pd.DataFrame:
    """prediction (+ proba_<class>) for the rows of a table."""
    final = _final(model)
    out = pd.DataFrame(index=frame.index)
    if hasattr(final, "classes_") and hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(frame), dtype=float)
        classes = np.asarray(final.classes_)
        out["prediction"] = classes[proba.argmax(axis=1)]
        for j, label in enumerate(classes):
            out[f"proba_{label}"] = proba[:, j]
    else:
        out["prediction"] = np.asarray(model.predict(frame))
    return out


def _clusters(model, frame: pd.DataFrame) -> pd.DataFrame:
    from .clusters import predict_clusters

    return predict_clusters(model, frame)


def _texts(model, frame) -> pd.DataFrame:
    from .text import predict_texts

    return predict_texts(model, frame)


# kind -> function(model, frame) -> DataFrame of prediction columns, one row per input row. The tasks
# that save other kinds of model add theirs here.
PREDICTORS = {"rows": _rows, "clusters": _clusters}
PREDICTORS["series"] = series.predict_series
PREDICTORS["ratings"] = predict_ratings
PREDICTORS["text"] = _texts
PREDICTORS["images"] = images.predict_images  # a chunk is a list of image files
PREDICTORS["segment"] = segmentation.predict_masks  # the same; deepzoo predict also writes the masks


def _chunks(kind: str, data: Path, chunksize: int):
    """The data in chunks of rows: a table, for a text model a .txt file of one text per line, for an
    image model lists of image files."""
    from ..data.tabular import iter_table

    if kind in ("images", "segment"):
        return image_data.iter_image_files(data, chunksize)
    if kind == "text" and data.suffix.lower() == ".txt":
        from .text import iter_lines

        return iter_lines(data, chunksize)
    if kind == "series":  # read whole: each forecast's window reaches back into the rows before it
        from ..data.tabular import read_table

        return [read_table(data)]
    return iter_table(data, chunksize)


def predict_frame(model, data) -> pd.DataFrame:
    """Predictions of ``model`` (a fitted or loaded model) for ``data``: a table file, a DataFrame, or
    what the model's kind takes."""
    kind = model_kind(model)
    if kind == "text" and isinstance(data, (str, os.PathLike)) and Path(data).suffix.lower() == ".txt":
        from ..data.text import read_lines

        data = read_lines(data)
    elif isinstance(data, (str, os.PathLike)):
        from ..data.tabular import read_table

        data = image_data.image_files(data) if kind in ("images", "segment") else read_table(data)
    if kind not in PREDICTORS:
        raise ValueError(f"deepzoo predict does not score {kind} models yet.")
    return PREDICTORS[kind](model, data)


def predict_to_csv(
    model_dir, data, out, *, chunksize: int = 100_000, device: str = "cpu"
) -> tuple[Path, int]:
    """Score ``data`` with the model saved in ``model_dir`` and write ``out`` (CSV); returns (path, rows).

    ``data`` is a table, or for an image model a folder of images, one image, or a text file listing
    image paths one a line (see :func:`deepzoo.data.image_data.image_files`), read ``chunksize`` at a time.

    Raises
    ------
    FileNotFoundError, ValueError
        A missing model or data file; a table without the columns the model was trained on (named).
    """
    from ..engine.persistence import load

    model = load(model_dir, device=device)
    kind = model_kind(model)
    if kind not in PREDICTORS:
        raise ValueError(f"deepzoo predict does not score {kind} models yet.")
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
            predictor = PREDICTORS[kind]
            if kind == "segment":  # the masks as PNGs in a folder beside the CSV, named in `prediction`
                predictor = functools.partial(predictor, mask_dir=out.parent / f"{out.stem}_masks")
            for chunk in _chunks(kind, data, chunksize):
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
