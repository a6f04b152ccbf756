"""deepzoo.report: the run folder's files exist, parse, are written atomically, and only by rank 0."""

from __future__ import annotations

import base64
import csv
import dataclasses
import json
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from deepzoo import plots, report  # noqa: E402
from deepzoo.report import RunReport, write_index  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclasses.dataclass
class Config:
    seed: int = 0
    data: Path = Path("/data/churn.csv")
    hidden_layer_sizes: tuple = (32, 16)
    learning_rate: float = 0.01


def full_report(out_dir) -> RunReport:
    rep = RunReport(out_dir, "Churn <MLP> & friends", Config(), description="A test run.")
    rep.add_metrics(accuracy=np.float64(0.8612), roc_auc=np.float32(0.85), epochs=np.int64(12))
    rep.add_metrics(cv_accuracy_mean=0.86, cv_accuracy_std=0.01, params={"alpha": 1e-4})
    rep.add_history({"loss": [0.7, 0.5, 0.4], "val_loss": [0.8, 0.6], "score": np.array([0.6, 0.7, 0.8])})
    rep.add_figure("learning_curves", plots.plot_loss({"loss": [0.7, 0.5, 0.4]}), "Loss per epoch.")
    rep.add_table(
        "model_comparison",
        pd.DataFrame({"model": ["MLP", "LogisticRegression"], "accuracy": [0.86, 0.81]}),
        "Same split.",
    )
    rep.add_table("rows", [{"a": 1, "b": "x"}, {"a": 2, "b": "<y>"}])
    rep.add_text("Notes", "First <b>paragraph</b>.\n\nSecond one.")
    return rep


def test_config_json_is_written_at_once_and_json_safe(tmp_path):
    RunReport(tmp_path / "run", "t", Config(learning_rate=np.float32(0.01)))
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config == {
        "seed": 0,
        "data": "/data/churn.csv",
        "hidden_layer_sizes": [32, 16],
        "learning_rate": 0.01,
    }


def test_write_makes_every_file(tmp_path):
    out = full_report(tmp_path / "run").write()
    assert out == tmp_path / "run"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["accuracy"] == 0.8612 and metrics["epochs"] == 12
    # a float32 0.85 written as a JSON number: its value within float32's rounding (6e-8 at 0.85)
    assert isinstance(metrics["roc_auc"], float) and metrics["roc_auc"] == pytest.approx(0.85, abs=1e-7)
    assert metrics["params"] == {"alpha": 1e-4}
    with open(out / "history.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["epoch", "loss", "val_loss", "score"]
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert rows[2]["val_loss"] == "" and float(rows[2]["score"]) == 0.8  # ragged lists padded
    png = (out / "figures" / "learning_curves.png").read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 1000
    assert pd.read_csv(out / "tables" / "model_comparison.csv")["model"].tolist() == [
        "MLP",
        "LogisticRegression",
    ]
    assert (out / "tables" / "rows.csv").is_file()


def test_report_html_is_one_self_contained_page(tmp_path):
    html = (full_report(tmp_path / "run").write() / "report.html").read_text()
    assert "Churn &lt;MLP&gt; &amp; friends" in html  # the title, escaped
    match = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert match and base64.b64decode(match.group(1)).startswith(PNG_MAGIC)
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", html), "no external resources"
    assert "http://" not in html and "https://" not in html
    assert "<b>" not in html and "First &lt;b&gt;paragraph&lt;/b&gt;." in html
    assert "&lt;y&gt;" in html and "LogisticRegression" in html
    # order: cards, then sections in the order added, then the footer with the config
    positions = [html.index(s) for s in ('class="metrics"', "Learning curves", "Model comparison", "Notes")]
    assert positions == sorted(positions)
    assert "<details><summary>Configuration</summary>" in html and "/data/churn.csv" in html
    assert "deepzoo 0." in html


def test_metric_cards_show_headline_metrics(tmp_path):
    html = (full_report(tmp_path / "run").write() / "report.html").read_text()
    cards = html.split('<div class="metrics">', 1)[1].split('<div class="grid">', 1)[0]
    assert "0.861" in cards and "Accuracy" in cards and "ROC AUC" in cards
    assert "CV accuracy (± 0.010)" in cards


def test_writes_are_atomic_and_leave_no_temporary_files(tmp_path, monkeypatch):
    out = full_report(tmp_path / "run").write()
    full_report(out).write()  # again, over the first one
    leftovers = [p for p in out.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]
    assert leftovers == []

    # a failure while writing keeps the old file whole and removes the temporary one
    before = (out / "metrics.json").read_text()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    rep = full_report(out)
    rep.add_metrics(accuracy=0.1)
    monkeypatch.setattr(report.os, "replace", broken_replace)
    with pytest.raises(OSError, match="Cannot write the run folder .*No space left on device"):
        rep.write()
    assert (out / "metrics.json").read_text() == before
    assert [p for p in out.rglob("*") if p.suffix == ".tmp"] == []


def test_unwritable_run_folder_raises_a_clear_oserror(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    target = blocker / "run"
    with pytest.raises(OSError, match=rf"^Cannot write the run folder {re.escape(str(target))}: "):
        RunReport(target, "t")
    with pytest.raises(OSError, match="Cannot write the run folder"):
        write_index(blocker / "tour", [])


def test_only_the_main_process_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(report.distributed, "is_main_process", lambda: False)
    rep = full_report(tmp_path / "run")
    assert (
        rep.add_figure("other", plots.plot_cv_scores([0.8, 0.9]))
        == tmp_path / "run" / "figures" / "other.png"
    )
    assert rep.add_metrics(f1=0.5)["f1"] == 0.5
    assert rep.write() == tmp_path / "run"
    assert write_index(tmp_path, []) == tmp_path / "index.html"
    assert list(tmp_path.iterdir()) == []


def test_names_are_checked(tmp_path):
    rep = RunReport(tmp_path, "t")
    ax = plots.plot_cv_scores([0.8, 0.9])
    rep.add_figure("cv", ax)
    with pytest.raises(ValueError, match="already has a figure named 'cv'"):
        rep.add_figure("cv", ax)
    with pytest.raises(ValueError, match="file name"):
        rep.add_figure("../escape", ax)
    with pytest.raises(TypeError, match="Figure or Axes"):
        rep.add_figure("nothing", object())
    rep.add_table("cv", {"fold": [1, 2], "accuracy": [0.8, 0.9]})  # tables have their own names


def test_add_figure_accepts_a_figure_and_history_an_estimator(tmp_path):
    ax = plots.plot_roc([0, 1, 0, 1], [0.2, 0.9, 0.4, 0.6])
    rep = RunReport(tmp_path, "t")
    assert rep.add_figure("roc", ax.figure).read_bytes().startswith(PNG_MAGIC)

    class Fitted:
        history_ = {"loss": [1.0, 0.5]}

    rep.add_history(Fitted())
    rep.write()
    assert (tmp_path / "history.csv").read_text().splitlines() == ["epoch,loss", "1,1.0", "2,0.5"]


def test_write_index_links_every_report(tmp_path):
    entries = [
        {
            "name": "breast_cancer",
            "title": "Is this tumour malignant?",
            "family": "mlp",
            "report": "breast_cancer/report.html",
            "metrics": {"accuracy": 0.9720, "roc_auc": 0.99, "fit_seconds": 2.0},
            "seconds": 3.5,
        },
        {"name": "churn <2>", "metrics": {"accuracy": 0.86}, "seconds": 10},
    ]
    path = write_index(tmp_path, entries)
    assert path == tmp_path / "index.html"
    html = path.read_text()
    assert 'href="breast_cancer/report.html"' in html and 'href="churn%20%3C2%3E/report.html"' in html
    assert "Is this tumour malignant?" in html and "0.972" in html and "3.5 s" in html
    assert "deepzoo tour" in html and "https://" not in html and "http://" not in html


def test_a_failing_section_becomes_a_note_and_the_run_goes_on(tmp_path):
    rep = RunReport(tmp_path, "A run")
    with pytest.warns(report.SectionFailedWarning, match="The report's confusion matrix failed"):
        with rep.section("confusion matrix"):
            raise ValueError("labels do not match\nsecond line")
    with rep.section("learning curves"):
        rep.add_figure("learning_curves", plots.plot_loss({"loss": [0.7, 0.4]}))
    assert rep.failed == [{"section": "confusion matrix", "error": "ValueError: labels do not match"}]
    rep.write()
    page = (tmp_path / "report.html").read_text()
    assert "confusion matrix: not drawn" in page and "ValueError: labels do not match" in page
    assert (tmp_path / "figures" / "learning_curves.png").is_file()
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["failed_sections"] == ["confusion matrix: ValueError: labels do not match"]


def test_a_section_lets_an_interrupt_through(tmp_path):
    rep = RunReport(tmp_path, "A run")
    with pytest.raises(KeyboardInterrupt), rep.section("slow picture"):
        raise KeyboardInterrupt
    assert rep.failed == []


def test_keep_hands_the_model_to_the_saver_at_once(tmp_path):
    rep = RunReport(tmp_path, "A run")
    rep.keep("model without a saver")  # nothing to do: a case study saves on its own
    calls = []
    rep.saver = lambda model, facts: calls.append((model, facts))
    rep.keep("fitted", verdict="MLP wins")
    assert calls == [("fitted", {"verdict": "MLP wins"})] and rep.kept == "fitted"
