"""deepzoo.tasks.stream: deepzoo fit on a Parquet file streamed row group by row group."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import deepzoo
from deepzoo import cli
from deepzoo.data.stream import TEST, row_parts
from deepzoo.tasks.base import FitConfig
from deepzoo.tasks.stream import plan


def _table(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    cat = rng.choice(["a", "b", "c"], n)
    logit = 2 * X[:, 0] + 2 * np.sin(2 * X[:, 1]) + 1.5 * (cat == "a")
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(X, columns=["x0", "x1", "x2"]).assign(cat=cat, y=y)


@pytest.fixture
def parquet(tmp_path):
    path = tmp_path / "rows.parquet"
    _table().to_parquet(path, row_group_size=100)  # 15 tiny row groups
    return path


@pytest.mark.slow
def test_streamed_fit_learns_and_holds_out_by_row_hash(parquet, tmp_path):
    out = tmp_path / "run"
    result = deepzoo.fit(
        parquet,
        target="y",
        out=out,
        settings={"stream": True, "memory_budget": "16KiB", "max_iter": 8},
        verbose=False,
    )
    m = result.metrics
    assert m["streamed"] is True
    # the test rows are exactly those whose index hashes below test_size (nothing random, nothing read)
    assert m["n_test"] == int((row_parts(np.arange(1500), 0.2, 0.1 * 0.8) == TEST).sum())
    # a sane model: the logit is non-linear in x1, so the MLP must beat the majority class by far and
    # come near the logistic regression at least (on ~300 test rows AUC varies by ~0.02)
    assert m["roc_auc"] > 0.8
    assert m["roc_auc"] > m["baseline_logistic_regression_roc_auc"] - 0.03
    # memory bounded by the budget: a quarter of 16 KiB holds less than one group (~14 KB read): 1
    assert m["max_row_groups_held"] == 1
    assert not (out / "stream_cache").exists()  # the encoded rows on disk are removed at the end
    decided = json.loads((out / "config.json").read_text())["decided"]
    assert "streamed row group by row group" in decided["memory"]
    loaded = deepzoo.load(out / "model")
    assert loaded.predict_proba(_table(20, seed=1).drop(columns="y")).shape == (20, 2)


@pytest.mark.slow
def test_cli_streams_and_prints_the_decision(parquet, tmp_path):
    out = tmp_path / "run"
    args = ["fit", parquet, "--target", "y", "--out", out, "--set", "stream=true", "--set", "max_iter=2"]
    result = CliRunner().invoke(cli.app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    assert "streamed row group by row group as asked" in " ".join(result.output.split())
    assert json.loads((out / "metrics.json").read_text())["streamed"] is True
    assert (out / "model").is_dir() and (out / "report.html").exists()


def test_plan_decides_from_the_budget_and_strips_its_settings(parquet):
    config = FitConfig(settings={"memory_budget": "1KiB", "max_iter": 3}, verbose=False)
    stripped, decided = plan(parquet, config)
    assert decided.stream and "does not fit the budget" in decided.reason
    assert stripped.settings == {"max_iter": 3}  # the MLP never sees the streaming settings
    _, whole = plan(parquet, FitConfig(verbose=False))
    assert not whole.stream and "read whole because it fits the budget" in whole.reason


def test_plan_leaves_other_data_alone_and_refuses_stream_settings_there(tmp_path):
    csv = tmp_path / "t.csv"
    _table(50).to_csv(csv, index=False)
    config, decided = plan(csv, FitConfig(verbose=False))
    assert decided is None and config.settings == {}
    with pytest.raises(ValueError, match="streaming reads Parquet files only"):
        plan(csv, FitConfig(settings={"stream": True}))


def test_plan_refuses_bad_settings(parquet):
    with pytest.raises(ValueError, match="stream must be true, false or auto"):
        plan(parquet, FitConfig(settings={"stream": "maybe"}))
    with pytest.raises(ValueError, match="memory_budget must be a size"):
        plan(parquet, FitConfig(settings={"memory_budget": "lots"}))
    with pytest.raises(ValueError, match="--tune does not stream"):
        plan(parquet, FitConfig(settings={"stream": True}, tune=3))
