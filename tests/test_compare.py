"""deepzoo compare: two tiny runs of deepzoo fit side by side on one page; runs of different tasks or
different data refused in one line."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from helpers import one_line_error
from sklearn.datasets import load_iris
from typer.testing import CliRunner

import deepzoo
from deepzoo import cli
from deepzoo.tasks.compare import compare_runs, fingerprint, metrics_table, read_run

runner = CliRunner()
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two classify runs of one iris file that differ in max_iter only."""
    folder = tmp_path_factory.mktemp("compare")
    data = folder / "iris.csv"
    load_iris(as_frame=True).frame.to_csv(data, index=False)
    a = deepzoo.fit(str(data), target="target", out=folder / "short", settings={"max_iter": 3})
    b = deepzoo.fit(str(data), target="target", out=folder / "long", settings={"max_iter": 30})
    return folder, data, a, b


def cell_rows(page: str, first_cell: str) -> list[str]:
    """The HTML of every table row whose first cell is ``first_cell``."""
    return [row for row in re.findall(r"<tr>(.*?)</tr>", page) if row.startswith(f"<td>{first_cell}</td>")]


@pytest.mark.slow  # shares two fits of deepzoo fit (~15 s on a busy 2-core machine)
def test_two_runs_side_by_side(runs):
    folder, _, a, b = runs
    result = runner.invoke(
        cli.app, ["compare", str(a.out_dir), str(b.out_dir), "--out", str(folder / "cmp" / "c.html")]
    )
    assert result.exit_code == 0, result.output
    page = (folder / "cmp" / "c.html").read_text()
    # both runs, linked to their reports relative to the page
    assert 'href="../short/report.html"' in page and 'href="../long/report.html"' in page
    # the changed setting is highlighted with each run's value; an unchanged one is not
    (changed,) = cell_rows(page, "fit.settings.max_iter")
    assert len(re.findall(r'class="[^"]*differs"', changed)) == 2 and ">3<" in changed and ">30<" in changed
    (kept,) = cell_rows(page, "fit.seed")
    assert "differs" not in kept
    # every metric in one table, the better run of each marked: compare with the runs' own figures
    for name, higher in (("accuracy", True), ("log_loss", False)):
        values = [a.metrics[name], b.metrics[name]]
        best = np.argmax(values) if higher else np.argmin(values)
        if values[0] != values[1]:
            row = cell_rows(page, ["short", "long"][best])[0]  # the metrics table comes first
            assert 'class="num best"' in row
    # learning curves as an inline picture; both leaderboards; the same data and split
    assert "data:image/png;base64," in page and "<img" in page
    assert "Leaderboard of short" in page and "Leaderboard of long" in page
    assert page.count(">yes<") == 2  # both split like the first run
    assert "src=" not in page.replace('src="data:', "")  # self-contained: nothing fetched


@pytest.mark.slow  # shares two fits of deepzoo fit (~15 s on a busy 2-core machine)
def test_best_marks_follow_each_metrics_direction(runs):
    _, _, a, b = runs
    columns, rows, marks = metrics_table([read_run(a.out_dir), read_run(b.out_dir)])
    for name in ("accuracy", "log_loss", "fit_seconds"):
        j = columns.index(name)
        values = [rows[0][j], rows[1][j]]
        lower = name != "accuracy"
        best = int(np.argmin(values) if lower else np.argmax(values))
        assert marks.get((best, j)) == "best"
        if values[0] != values[1]:
            assert (1 - best, j) not in marks


@pytest.mark.slow  # shares two fits of deepzoo fit (~15 s on a busy 2-core machine)
def test_different_tasks_are_refused(runs, tmp_path):
    folder, data, a, _ = runs
    other = deepzoo.fit(str(data), task="cluster", out=tmp_path / "clusters", settings={"max_iter": 3})
    result = runner.invoke(
        cli.app, ["compare", str(a.out_dir), str(other.out_dir), "--out", str(tmp_path / "x")]
    )
    line = one_line_error(result)
    assert "different tasks" in line and "short (classify)" in line and "clusters (cluster)" in line
    assert not (tmp_path / "x").exists()


@pytest.mark.slow  # shares two fits of deepzoo fit (~15 s on a busy 2-core machine)
def test_different_data_are_refused(runs, tmp_path):
    folder, data, a, _ = runs
    frame = pd.read_csv(data)
    frame.loc[0, "sepal length (cm)"] += 1.0  # one cell changed
    changed = tmp_path / "iris.csv"
    frame.to_csv(changed, index=False)
    assert fingerprint(changed)["sha256"] != fingerprint(data)["sha256"]
    other = deepzoo.fit(str(changed), target="target", out=tmp_path / "changed", settings={"max_iter": 3})
    result = runner.invoke(cli.app, ["compare", str(a.out_dir), str(other.out_dir)])
    assert "read different data" in one_line_error(result)


def test_fingerprints_of_frames_arrays_and_folders(tmp_path):
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    assert fingerprint(frame) == fingerprint(frame.copy())
    assert fingerprint(frame) != fingerprint(frame.assign(a=[1.0, 2.5]))
    assert fingerprint(np.arange(4)) != fingerprint(np.arange(4).reshape(2, 2))
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "1.png").write_bytes(b"123")
    before = fingerprint(tmp_path)
    (tmp_path / "cat" / "2.png").write_bytes(b"4")
    assert fingerprint(tmp_path) != before and fingerprint(tmp_path / "missing") is None


@pytest.mark.slow  # shares two fits of deepzoo fit (~15 s on a busy 2-core machine)
def test_bad_folders_and_a_single_run(runs, tmp_path):
    _, _, a, _ = runs
    assert "at least two" in one_line_error(runner.invoke(cli.app, ["compare", str(a.out_dir)]))
    line = one_line_error(runner.invoke(cli.app, ["compare", str(a.out_dir), str(tmp_path / "nope")]))
    assert "is not a run folder" in line
    broken = tmp_path / "broken"
    shutil.copytree(a.out_dir, broken)
    (broken / "config.json").write_text("{not json")
    assert "not valid JSON" in one_line_error(
        runner.invoke(cli.app, ["compare", str(a.out_dir), str(broken)])
    )


@pytest.mark.slow  # shares two fits of deepzoo fit (~15 s on a busy 2-core machine)
def test_fit_records_the_fingerprint(runs):
    _, data, a, _ = runs
    config = json.loads((a.out_dir / "config.json").read_text())
    assert config["data_fingerprint"] == fingerprint(data)


@pytest.mark.slow  # shares two fits of deepzoo fit (~15 s on a busy 2-core machine)
def test_two_folders_of_one_name_stay_apart(runs, tmp_path):
    _, _, a, _ = runs
    twin = tmp_path / "x" / a.out_dir.name
    shutil.copytree(a.out_dir, twin)
    page = compare_runs([a.out_dir, twin], tmp_path / "c.html").read_text()
    assert "short (1)" in page and "short (2)" in page


def test_a_file_read_by_the_reader_is_fingerprinted_without_a_second_read(tmp_path, monkeypatch):
    from deepzoo.data.tabular import read_table
    from deepzoo.engine.model_card import file_sha256
    from deepzoo.tasks import compare
    from deepzoo.tasks.base import FitConfig
    from deepzoo.tasks.detect import detect

    data = tmp_path / "iris.csv"
    load_iris(as_frame=True).frame.to_csv(data, index=False)
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n3,4\n")
    expected = fingerprint(data)
    source = detect(str(data), FitConfig(target="target", verbose=False))  # as deepzoo fit reads it
    monkeypatch.setattr(compare, "file_sha256", lambda path: pytest.fail("the file was read again"))
    assert fingerprint(str(data), source.frame) == expected
    # a frame read from another file does not lend its hash
    monkeypatch.setattr(compare, "file_sha256", file_sha256)
    assert fingerprint(str(data), read_table(other)) == expected
