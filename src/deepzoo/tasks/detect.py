"""Which task a user's data is: the rule, checked in order, printed before any training.

==========  ======================================================================================
task        rule
==========  ======================================================================================
segment     a folder with ``images/`` and ``masks/`` (optionally under ``train/`` and ``test/``)
images      a folder of image sub-folders (one per class, optionally under ``train/`` and ``test/``),
            MNIST's IDX files, or an ``.npz`` of images and labels; image arrays from Python
text        a folder of ``.txt`` sub-folders (one per class); a table whose only feature is long text
recommend   a table of user, item and rating columns (by name, or 3-4 headerless integer columns
            whose first two repeat and whose third has few values; with ``--task recommend``
            the first three columns)
forecast    a table with a date column in time order and a numeric target
classify    a table with a target of classes (see :mod:`deepzoo.data.schema`)
regress     a table with a numeric target
cluster     a table without a target
==========  ======================================================================================

``--task`` overrides the rule; what the data then cannot be is a clear error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.schema import Schema, check_column, find_target, infer_schema, parse_dates
from ..data.tabular import parse_numbers
from .base import TASKS, FitConfig

__all__ = ["Source", "detect"]

_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}
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
_SERIES_TARGETS = ("close", "adj close", "value", "price", "sales", "passengers", "count", "y", "target")


@dataclass
class Source:
    """The data as the chosen task receives it."""

    task: str
    rule: str
    frame: pd.DataFrame | None = None
    test_frame: pd.DataFrame | None = None
    schema: Schema | None = None
    path: Path | None = None
    arrays: tuple | None = None
    columns: dict = field(default_factory=dict)  # e.g. {"user": "0", "item": "1", "rating": "2"}

    @property
    def target(self) -> str | None:
        return self.schema.target if self.schema is not None else self.columns.get("target")


def _check_task(task: str) -> str:
    if task not in TASKS:
        import difflib

        close = difflib.get_close_matches(str(task), TASKS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"Unknown --task {task!r}; choose one of {', '.join(TASKS)}.{hint}")
    return task


def detect(data, config: FitConfig, target_values=None) -> Source:
    """The task for ``data`` (a path, a DataFrame, or arrays) under ``config``'s overrides."""
    task = _check_task(config.task)
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

    frame = read_table(path)
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
    entries = [p for p in path.iterdir() if not p.name.startswith(".")]
    names = {p.name.lower() for p in entries if p.is_dir()}
    if {"images", "masks"} <= names:
        return Source(
            "segment" if task == "auto" else task, "a folder with images/ and masks/: segmentation", path=path
        )
    if {"train", "test"} <= names and all(
        {"images", "masks"} <= {p.name.lower() for p in (path / part).iterdir() if p.is_dir()}
        for part in (p.name for p in entries if p.name.lower() in ("train", "test"))
    ):
        return Source(
            "segment" if task == "auto" else task,
            "train/ and test/ folders, each with images/ and masks/: segmentation",
            path=path,
        )
    if any(p.name.endswith(("-idx3-ubyte", "-idx3-ubyte.gz")) for p in entries):
        return Source("images" if task == "auto" else task, "MNIST's IDX files: images", path=path)
    suffixes = _suffixes(path)
    if not suffixes:
        raise ValueError(f"The folder {path} holds no files deepzoo can read (images, .txt texts, a table).")
    images = sum(n for s, n in suffixes.items() if s in _IMAGE_SUFFIXES)
    texts = suffixes.get(".txt", 0)
    if images >= texts and images:
        return Source(
            "images" if task == "auto" else task,
            f"a folder of {images:,} images in class sub-folders",
            path=path,
        )
    if texts:
        return Source(
            "text" if task == "auto" else task,
            f"a folder of {texts:,} .txt files in class sub-folders",
            path=path,
        )
    tables = [
        p
        for p in entries
        if p.is_file() and p.suffix.lower() in (".csv", ".tsv", ".txt", ".data", ".parquet")
    ]
    if len(tables) == 1:
        return detect(tables[0], config)
    raise ValueError(
        f"The folder {path} holds neither images nor .txt texts in class sub-folders; give one table file or "
        "an image folder."
    )


def _suffixes(path: Path, limit: int = 5000) -> dict[str, int]:
    """How many files of each suffix the first ``limit`` files under ``path`` have."""
    counts: dict[str, int] = {}
    for n, file in enumerate(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")):
        if n >= limit:
            break
        counts[file.suffix.lower()] = counts.get(file.suffix.lower(), 0) + 1
    return counts


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


def _name_key(name) -> str:
    return re.sub(r"[\s_\-.]", "", str(name)).lower()


def _ratings_columns(frame: pd.DataFrame, target, by_position: bool = False) -> dict | None:
    """{user, item, rating} column names when the table is a ratings file, else None.

    By name (user/userId/customer..., item/movieId/isbn..., rating/stars/score/liked..., or
    ``target``); else, for a headerless file of 3-4 numeric columns, by position when the first two
    repeat (ids) and the third has at most 11 values (a scale); with ``by_position`` (``--task
    recommend``) the first three columns (or two and the target) whatever they hold.
    """
    columns = [str(c) for c in frame.columns]
    keys = {c: _name_key(c) for c in columns}
    user = next((c for c in columns if _USER.match(keys[c])), None)
    item = next((c for c in columns if _ITEM.match(keys[c]) and c != user), None)
    rating = str(target) if target is not None else None
    rating = rating or next((c for c in columns if _RATING.match(keys[c]) and c not in (user, item)), None)
    if user and item and rating and rating in columns and rating not in (user, item):
        return {"user": user, "item": item, "rating": rating}
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


def _series_columns(frame: pd.DataFrame, schema: Schema, forced: bool = False) -> dict | None:
    """{date, target} when a date column is in time order (ascending or descending; a few unreadable
    or repeated dates are left for the forecast task to name) and the target is numeric, else None.
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
    columns = _series_columns(coerced, schema, forced=task == "forecast")
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


def _detect_table(frame: pd.DataFrame, test_frame, config: FitConfig, task: str) -> Source:
    target = config.target
    if target is not None:
        target = check_column(frame, target)
    if task in ("auto", "recommend"):
        columns = _ratings_columns(frame, target, by_position=task == "recommend")
        if columns is not None or task == "recommend":
            if columns is None:
                raise ValueError(
                    "--task recommend needs user, item and rating columns (named user/item/rating, or the "
                    f"first three columns); {frame.attrs.get('source', 'the table')} has "
                    f"{', '.join(map(str, frame.columns))}."
                )
            return Source(
                "recommend",
                "user, item and rating columns ("
                + ", ".join(f"{role} {name!r}" for role, name in columns.items())
                + "): ratings",
                frame=frame,
                columns={**columns, "target": columns["rating"]},
            )
    if task in ("images", "segment"):
        raise ValueError(f"--task {task} needs a folder of images; {frame.attrs.get('source')} is a table.")
    overrides = dict(
        drop=config.drop,
        categorical=config.categorical,
        numeric=config.numeric,
        text=config.text,
        date=config.date,
    )
    if task in ("auto", "forecast"):
        source = _series_with_words(frame, test_frame, target, overrides, task)
        if source is not None:
            return source
    table_task = task if task in ("classify", "regress") else "auto"
    if target is None and find_target(frame) is None and task in ("auto", "cluster", "forecast"):
        schema = infer_schema(frame, None, **overrides)
    else:
        schema = infer_schema(frame, target, task=table_task, **overrides)
    if task in ("auto", "forecast"):
        columns = _series_columns(frame, schema, forced=task == "forecast")
        if columns is not None or task == "forecast":
            if columns is None:
                where, dates = frame.attrs.get("source", "the table"), schema.names("date")
                if len(dates) != 1:
                    raise ValueError(
                        f"--task forecast needs one date column; {where} has "
                        f"{dates or 'none'}. Name it with --date COLUMN (and leave others out with --drop)."
                    )
                raise ValueError(
                    f"--task forecast needs the column to forecast: pass --target COLUMN (numeric columns of "
                    f"{where}: {', '.join(schema.names('numeric')) or 'none'})."
                )
            return Source(
                "forecast",
                f"dates in time order ({columns['date']}) and a numeric target "
                f"({columns['target']}): a series",
                frame=frame,
                test_frame=test_frame,
                schema=schema,
                columns=columns,
            )
    if task in ("auto", "text") and schema.target is not None:
        texts = schema.names("text")
        if task == "text" or (len(texts) == 1 and schema.features == texts and schema.task == "classify"):
            if len(texts) != 1:
                raise ValueError(f"--task text needs one text column; the schema has {texts or 'none'}.")
            return Source(
                "text",
                f"one long-text column ({texts[0]}) and a label: text classification",
                frame=frame,
                test_frame=test_frame,
                schema=schema,
                columns={"text": texts[0], "target": schema.target},
            )
    if schema.target is None or task == "cluster":
        if task not in ("auto", "cluster"):
            raise ValueError(f"--task {task} needs a target: pass --target COLUMN.")
        return Source(
            "cluster",
            "no target (no --target and no column named target/label/class): clustering and anomaly scores",
            frame=frame,
            schema=schema,
        )
    return Source(schema.task, schema.task_reason, frame=frame, test_frame=test_frame, schema=schema)
