"""Parquet tables larger than memory, read row group by row group through pyarrow.

``deepzoo fit big.parquet`` decides with :func:`memory_plan` whether the file fits its memory budget;
when it does not, the table task streams it (:mod:`deepzoo.tasks.stream`) with what this module gives:

* :class:`RowGroups`: the file's row groups, their sizes and global row offsets, read one at a time;
* :func:`row_parts`: the deterministic split of every row into train / validation / test by a hash of
  its global row index (no row is read to decide it, so any process knows any row group's split);
* :func:`shuffled_chunks`: one epoch's training rows as fixed-size chunks, the row groups in a shuffled
  order and the rows shuffled within a window of at most ``max_groups`` row groups: the memory held is
  bounded by the window, not by the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "TEST",
    "TRAIN",
    "VALIDATION",
    "MemoryPlan",
    "RowGroups",
    "available_memory",
    "memory_plan",
    "parse_bytes",
    "row_parts",
    "shuffled_chunks",
]

TRAIN, VALIDATION, TEST = 0, 1, 2
# a table read into pandas takes several times its Parquet uncompressed size (object strings, the
# encoded float copy, pandas' temporaries): measured on bench_scale's table, 1,000,000 rows of 30
# columns are 0.24 GiB uncompressed and ~1.1 GiB of peak memory once read and encoded
IN_MEMORY_FACTOR = 4.5
DEFAULT_BUDGET = 2 * 2**30
_UNITS = {"": 2**30, "b": 1, "k": 2**10, "kb": 2**10, "kib": 2**10, "m": 2**20, "mb": 2**20, "mib": 2**20}
_UNITS |= {"g": 2**30, "gb": 2**30, "gib": 2**30, "t": 2**40, "tb": 2**40, "tib": 2**40}


def parse_bytes(value) -> int:
    """``memory_budget`` as bytes: a number is GiB (``2``, ``0.5``), a string may name its unit
    (``"512MiB"``, ``"2GB"``, ``"3g"``; binary units either way)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number, unit = float(value), ""
    else:
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", str(value))
        if not match or match.group(2).lower() not in _UNITS:
            raise ValueError(
                f"memory_budget must be a size such as 2 (GiB), '512MiB' or '4GB'; got {value!r}."
            )
        number, unit = float(match.group(1)), match.group(2).lower()
    size = int(number * _UNITS[unit])
    if size <= 0:
        raise ValueError(f"memory_budget must be positive; got {value!r}.")
    return size


def available_memory() -> int | None:
    """Bytes available to a new allocation (MemAvailable of /proc/meminfo), None where unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


class RowGroups:
    """A Parquet file's row groups: ``n_rows``, ``rows`` (per group), ``offsets`` (the global index of
    each group's first row), ``uncompressed_bytes``; :meth:`read` gives one group as a DataFrame."""

    def __init__(self, path, columns=None):
        import pyarrow.parquet as pq

        self.path = Path(path)
        self.file = pq.ParquetFile(self.path)
        meta = self.file.metadata
        self.columns = list(columns) if columns is not None else list(self.file.schema_arrow.names)
        self.rows = np.array([meta.row_group(i).num_rows for i in range(meta.num_row_groups)], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.rows)[:-1]]).astype(np.int64)
        self.n_rows = int(self.rows.sum())
        self.n_groups = len(self.rows)
        self.uncompressed_bytes = int(sum(meta.row_group(i).total_byte_size for i in range(self.n_groups)))

    def read(self, group: int, columns=None) -> pd.DataFrame:
        """Row group ``group`` as a DataFrame indexed by the global row index."""
        table = self.file.read_row_group(int(group), columns=list(columns or self.columns))
        frame = table.to_pandas()
        start = int(self.offsets[group])
        frame.index = pd.RangeIndex(start, start + len(frame))
        return frame

    def group_bytes(self) -> float:
        """The largest row group's uncompressed size, in bytes."""
        meta = self.file.metadata
        return float(max(meta.row_group(i).total_byte_size for i in range(self.n_groups)))


@dataclass
class MemoryPlan:
    """Whether a Parquet file is streamed, and why (``reason``, printed and written to config.json)."""

    stream: bool
    reason: str
    budget: int
    max_groups: int
    """Row groups held at once while streaming (the window the rows are shuffled in)."""


def memory_plan(groups: RowGroups, budget: int | None = None, stream="auto") -> MemoryPlan:
    """Stream when the table read into memory (about :data:`IN_MEMORY_FACTOR` times its uncompressed
    size) would exceed ``budget`` (default: :data:`DEFAULT_BUDGET`, at most half the available memory),
    or when ``stream`` is True. The window of row groups held at once gets a quarter of the budget (the
    rest holds the encoded chunk, the sample the encoder and baselines learn from, the validation rows
    and the network)."""
    available = available_memory()
    if budget is None:
        budget = DEFAULT_BUDGET if available is None else min(DEFAULT_BUDGET, available // 2)
    needed = groups.uncompressed_bytes * IN_MEMORY_FACTOR
    per_group = max(groups.group_bytes() * IN_MEMORY_FACTOR, 1.0)
    max_groups = int(max(1, min(groups.n_groups, budget / 4 // per_group)))
    gib = 2**30
    size = (
        f"{groups.path.name} holds {groups.n_rows:,} rows in {groups.n_groups:,} row groups, "
        f"{groups.uncompressed_bytes / gib:.2f} GiB uncompressed (about {needed / gib:.1f} GiB once read); "
        f"memory budget {budget / gib:.2f} GiB"
        + (f" ({available / gib:.1f} GiB available)" if available is not None else "")
    )
    if stream is True or (stream == "auto" and needed > budget):
        why = "as asked (stream=True)" if stream is True else "because it does not fit the budget"
        return MemoryPlan(
            True,
            f"{size}: streamed row group by row group {why}, at most {max_groups} row groups held at once.",
            budget,
            max_groups,
        )
    why = "as asked (stream=False)" if stream is False else "because it fits the budget"
    return MemoryPlan(False, f"{size}: read whole {why}.", budget, max_groups)


def _mix(index: np.ndarray, seed: int) -> np.ndarray:
    """splitmix64 of ``index + seed``: a well-mixed 64-bit hash of each row index, as uint64."""
    with np.errstate(over="ignore"):
        z = (
            np.asarray(index, dtype=np.uint64) + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
        ) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def row_parts(index: np.ndarray, test_size: float, validation_size: float, seed: int = 0) -> np.ndarray:
    """TRAIN, VALIDATION or TEST for each global row index: a hash of the index in [0, 1) below
    ``test_size`` is a test row, the next ``validation_size`` validation, the rest training. The same
    row always lands in the same part (for a seed), whichever process reads it and in whatever order.

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo.data.stream import row_parts, TEST
    >>> parts = row_parts(np.arange(100_000), 0.2, 0.05)
    >>> round(float((parts == TEST).mean()), 2)
    0.2
    """
    u = (_mix(index, seed) >> np.uint64(11)).astype(np.float64) / float(2**53)
    parts = np.full(len(u), TRAIN, dtype=np.int8)
    parts[u < test_size + validation_size] = VALIDATION
    parts[u < test_size] = TEST
    return parts


def group_part_rows(groups: RowGroups, part: int, test_size: float, validation_size: float, seed: int = 0):
    """Rows of ``part`` in each row group, computed from the row indices alone (nothing is read)."""
    return np.array(
        [
            int(
                (
                    row_parts(np.arange(o, o + n, dtype=np.int64), test_size, validation_size, seed) == part
                ).sum()
            )
            for o, n in zip(groups.offsets, groups.rows)
        ],
        dtype=np.int64,
    )


def shuffled_chunks(
    order,
    load: Callable[[int], tuple],
    *,
    chunk_rows: int,
    max_groups: int,
    rng: np.random.Generator,
    n_chunks: int | None = None,
    stats: dict | None = None,
) -> Iterator[tuple]:
    """One epoch of training chunks: the row groups of ``order`` are loaded (``load(group)`` -> a tuple
    of arrays of equal length, e.g. (X, y)) a window of at most ``max_groups`` at a time, the window's
    rows (and the few left over from the window before) shuffled by ``rng`` and given in chunks of
    ``chunk_rows`` rows; the rows that do not fill a chunk wait for the next window, and the last ones
    of the epoch form a smaller chunk. ``n_chunks``: exactly this many full chunks, the rest dropped
    (processes under torchrun must take the same number of steps). ``stats['max_groups_held']`` records
    the most row groups held at once."""
    if chunk_rows < 1 or max_groups < 1:
        raise ValueError(f"chunk_rows and max_groups must be at least 1; got {chunk_rows}, {max_groups}.")
    order = list(order)
    stats = {} if stats is None else stats
    stats.setdefault("max_groups_held", 0)
    given = 0
    left: tuple | None = None
    for start in range(0, len(order), max_groups):
        window = [load(g) for g in order[start : start + max_groups]]
        stats["max_groups_held"] = max(stats["max_groups_held"], len(window))
        parts = ([left] if left is not None else []) + window
        arrays = tuple(np.concatenate([p[k] for p in parts]) for k in range(len(parts[0])))
        del window, parts
        perm = rng.permutation(len(arrays[0]))
        full = len(perm) // chunk_rows
        for k in range(full):
            if n_chunks is not None and given >= n_chunks:
                return
            rows = perm[k * chunk_rows : (k + 1) * chunk_rows]
            yield tuple(a[rows] for a in arrays)
            given += 1
        rest = perm[full * chunk_rows :]
        left = tuple(a[rest] for a in arrays) if len(rest) else None
        del arrays
    if left is not None and n_chunks is None:
        yield left
