"""Which task a user's data is: each kind's rule, asked in the order of :data:`deepzoo.tasks.kinds.KINDS`,
printed before any training.

A folder is offered to the kinds that read folders (segmentation: ``images/`` + ``masks/``; images:
class sub-folders of images or MNIST's IDX files; text: class sub-folders of ``.txt`` files), then, when
none claims it, its one table file is read. A table is offered to the kinds that read tables (ratings:
user, item and rating columns; series: dates in time order and a numeric target; text: one long-text
column and a label; clusters: no target; table: any target). Arrays from Python are a table (2-D) or
images (3-D or 4-D); an ``.npz`` file holds images. The rules themselves live beside the code that runs
each kind (``detect_folder`` and ``detect_table`` in its module).

``--task`` overrides the rules; what the data then cannot be is a clear error, from the kind asked for.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.schema import check_column
from .base import FitConfig, FolderProbe, Source, TableProbe
from .kinds import KINDS, check_task, kind_of_task

__all__ = ["Source", "detect"]


def detect(data, config: FitConfig, target_values=None) -> Source:
    """The task for ``data`` (a path, a DataFrame, or arrays) under ``config``'s overrides."""
    task = check_task(config.task)
    if isinstance(data, pd.DataFrame):
        frame = data.copy()
        frame.columns = [str(c) for c in frame.columns]
        if target_values is not None:
            frame = _with_target(frame, target_values, config)
        frame.attrs.setdefault("source", "the DataFrame")
        return _detect_table(frame, None, config, task)
    if isinstance(data, (np.ndarray, list, tuple)) and not isinstance(data, str):
        return _detect_arrays(data, target_values, config, task)
    path = Path(data).expanduser()
    if not path.exists():
        raise FileNotFoundError(
            f"No file or folder at {path}; give the path of a table (CSV, TSV, Parquet) or a folder."
        )
    if path.is_dir():
        return _detect_folder(path, config, task)
    if path.suffix.lower() == ".npz":
        return Source("images" if task == "auto" else task, "an .npz file of arrays: images", path=path)
    from ..data.tabular import read_table

    frame = read_table(path, sheet=config.sheet, sha256=True)  # the hash: the run's fingerprint
    test_frame = _sibling_test(path, frame)
    return _detect_table(frame, test_frame, config, task)


def _with_target(frame: pd.DataFrame, target_values, config: FitConfig) -> pd.DataFrame:
    values = np.asarray(target_values)
    if len(values) != len(frame):
        raise ValueError(
            f"target has {len(values)} values but the data have {len(frame)} rows; give one a row."
        )
    name = config.target if isinstance(config.target, str) else "target"
    config.target = name
    return frame.assign(**{name: values})


def _detect_arrays(data, target_values, config: FitConfig, task: str) -> Source:
    X = np.asarray(data)
    if X.ndim == 2 and task not in ("images",):
        frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
        if target_values is not None:
            frame = _with_target(frame, target_values, config)
        frame.attrs["source"] = "the array"
        return _detect_table(frame, None, config, task)
    if X.ndim in (3, 4):
        if target_values is None:
            raise ValueError(
                f"Image arrays of shape {X.shape} need their labels: deepzoo.fit(images, target=labels)."
            )
        return Source(
            "images" if task == "auto" else task,
            f"an array of shape {X.shape}: images",
            arrays=(X, np.asarray(target_values)),
        )
    raise ValueError(
        "deepzoo.fit takes a table (2-D: rows x columns) or images (3-D or 4-D); got an array of shape "
        f"{X.shape}."
    )


def _detect_folder(path: Path, config: FitConfig, task: str) -> Source:
    folder = FolderProbe(path)
    for kind in KINDS:
        rule = kind.detect_folder(folder) if kind.detect_folder is not None else None
        if rule is not None:
            return Source(kind.tasks[0] if task == "auto" else task, rule, path=path)
    if not folder.suffixes:
        raise ValueError(f"The folder {path} holds no files deepzoo can read (images, .txt texts, a table).")
    tables = [
        p
        for p in folder.entries
        if p.is_file() and p.suffix.lower() in (".csv", ".tsv", ".txt", ".data", ".parquet")
    ]
    if len(tables) == 1:
        return detect(tables[0], config)
    raise ValueError(
        f"The folder {path} holds neither images nor .txt texts in class sub-folders; give one table file or "
        "an image folder."
    )


def _sibling_test(path: Path, frame: pd.DataFrame) -> pd.DataFrame | None:
    """A test file that comes with the data (UCI's adult.data + adult.test; train.csv + test.csv with the
    same columns), else None."""
    from ..data.tabular import read_table

    candidates = []
    if path.suffix.lower() == ".data":
        candidates.append(path.with_suffix(".test"))
    lowered = path.name.lower()
    for word in ("train", "training"):
        if word in lowered:
            # the test file spelled as the training one: Google_Stock_Price_Train.csv -> ..._Test.csv
            def spelled(match, word=word):
                found = match.group(0)
                return "TEST" if found.isupper() else "Test" if found[0].isupper() else "test"

            candidates.append(path.with_name(re.sub(word, spelled, path.name, flags=re.I)))
    for candidate in candidates:
        if candidate.is_file() and candidate != path:
            test = read_table(candidate)
            if list(test.columns) == list(frame.columns):
                return test
    return None


def _detect_table(frame: pd.DataFrame, test_frame, config: FitConfig, task: str) -> Source:
    target = config.target
    if target is not None:
        target = check_column(frame, target)
    probe = TableProbe(frame, test_frame, config, task, target)
    if task != "auto" and kind_of_task(task).detect_table is None:
        raise ValueError(f"--task {task} needs a folder of images; {probe.where} is a table.")
    for kind in KINDS:
        if kind.detect_table is not None and (task == "auto" or task in kind.tasks):
            source = kind.detect_table(probe)
            if source is not None:
                return source
    raise AssertionError("the table kind claims every table with a target")  # internal invariant
