"""deepzoo.data.stream: Parquet row groups, the hash split, the bounded shuffle window, the memory plan."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deepzoo.data.stream import (
    TEST,
    TRAIN,
    VALIDATION,
    RowGroups,
    memory_plan,
    parse_bytes,
    row_parts,
    shuffled_chunks,
)


@pytest.fixture
def parquet(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"a": rng.normal(size=1000), "b": rng.choice(["x", "y"], 1000), "i": np.arange(1000)}
    )
    path = tmp_path / "t.parquet"
    frame.to_parquet(path, row_group_size=64)
    return path


def test_row_groups_read_one_group_with_global_index(parquet):
    groups = RowGroups(parquet)
    assert groups.n_rows == 1000 and groups.n_groups == 16  # 15 x 64 + 40
    assert groups.offsets[3] == 192 and groups.rows[-1] == 40
    frame = groups.read(3)
    assert list(frame.index[:2]) == [192, 193]
    assert (frame["i"].to_numpy() == frame.index.to_numpy()).all()  # the index is the global row number


def test_row_parts_deterministic_whatever_the_order_and_near_the_asked_shares():
    index = np.arange(200_000)
    parts = row_parts(index, 0.2, 0.05, seed=0)
    shuffled = np.random.default_rng(1).permutation(index)
    assert (row_parts(shuffled, 0.2, 0.05, seed=0) == parts[shuffled]).all()
    # shares of 200,000 hashed rows: binomial standard deviation ~0.001, so 0.005 is 5 sigma
    assert abs((parts == TEST).mean() - 0.2) < 0.005
    assert abs((parts == VALIDATION).mean() - 0.05) < 0.005
    assert abs((parts == TRAIN).mean() - 0.75) < 0.005
    assert (row_parts(index, 0.2, 0.05, seed=1) != parts).any()  # another seed, another split


def _loader(sizes, held: list):
    """load(group) of groups whose rows are numbered globally; records how many groups are alive."""
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])

    def load(g):
        held.append(g)
        rows = np.arange(offsets[g], offsets[g] + sizes[g])
        return rows, rows * 2

    return load


def test_shuffled_chunks_hold_at_most_max_groups_and_give_every_row_once():
    sizes = [50, 70, 30, 90, 10, 60, 40]
    stats: dict = {}
    held: list = []
    chunks = list(
        shuffled_chunks(
            [3, 0, 6, 1, 5, 2, 4],
            _loader(sizes, held),
            chunk_rows=32,
            max_groups=2,
            rng=np.random.default_rng(0),
            stats=stats,
        )
    )
    assert stats["max_groups_held"] == 2
    rows = np.concatenate([c[0] for c in chunks])
    assert sorted(rows.tolist()) == list(range(sum(sizes)))  # every row once
    assert all(len(c[0]) == 32 for c in chunks[:-1]) and 0 < len(chunks[-1][0]) <= 32
    assert all((c[1] == c[0] * 2).all() for c in chunks)  # X and y stay aligned
    assert held == [3, 0, 6, 1, 5, 2, 4]  # the groups are read in the given order
    assert not (rows[:50] == np.sort(rows[:50])).all()  # shuffled within the window


def test_shuffled_chunks_exact_count_for_torchrun():
    sizes = [50, 70, 30, 90]
    chunks = list(
        shuffled_chunks(
            range(4),
            _loader(sizes, []),
            chunk_rows=40,
            max_groups=1,
            rng=np.random.default_rng(0),
            n_chunks=5,
        )
    )
    assert [len(c[0]) for c in chunks] == [40] * 5


def test_shuffled_chunks_refuse_empty_window():
    with pytest.raises(ValueError, match="at least 1"):
        list(shuffled_chunks([0], _loader([5], []), chunk_rows=4, max_groups=0, rng=np.random.default_rng()))


def test_memory_plan_streams_past_the_budget(parquet):
    groups = RowGroups(parquet)
    small = memory_plan(groups, budget=1_000)
    assert small.stream and "does not fit the budget" in small.reason and small.max_groups == 1
    large = memory_plan(groups, budget=2**30)
    assert not large.stream and "read whole" in large.reason
    assert large.max_groups == groups.n_groups  # the window never exceeds the file
    forced = memory_plan(groups, budget=2**30, stream=True)
    assert forced.stream and "as asked" in forced.reason


def test_parse_bytes():
    assert parse_bytes(2) == 2 * 2**30
    assert parse_bytes("512MiB") == 512 * 2**20
    assert parse_bytes("1.5g") == int(1.5 * 2**30)
    with pytest.raises(ValueError, match="memory_budget must be a size"):
        parse_bytes("lots")
