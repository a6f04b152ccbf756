"""Case studies of the recurrent family smoke-run with --quick through the CLI and write their files."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from deepzoo import cli

runner = CliRunner()
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _run(name, out, *extra):
    result = runner.invoke(cli.app, ["run", name, "--quick", "--out", str(out), "--quiet", *map(str, extra)])
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert (out / "config.json").is_file() and (out / "report.html").is_file()
    return metrics


@pytest.mark.slow
def test_stock_offline_goog(tmp_path):
    metrics = _run("stock", tmp_path)
    for key in ("rmse", "mae", "persistence_rmse", "direction_accuracy"):
        assert key in metrics
    assert (tmp_path / "figures" / "forecast.png").is_file()
    assert metrics["n_test_days"] == 20


@pytest.mark.slow
def test_stock_course_files(shared_data_dir, tmp_path):
    metrics = _run("stock", tmp_path, "--data", shared_data_dir / "google_stock")
    assert metrics["n_train_days"] == 1258 and metrics["n_test_days"] == 20
    assert "course_rmse" in metrics and metrics["persistence_rmse"] > 0
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["data"].endswith("google_stock")


@pytest.mark.slow
def test_sms_spam_quick(shared_data_dir, tmp_path):
    metrics = _run("sms_spam", tmp_path)
    assert {"f1", "roc_auc", "precision", "recall", "baseline_tfidf_logistic_regression_f1"} <= set(metrics)
    assert (tmp_path / "tables" / "mistakes.csv").is_file()
    assert list((tmp_path / "figures").glob("saliency_*.png"))
    assert (tmp_path / "model" / "deepzoo.json").is_file()


@pytest.mark.slow
def test_imdb_quick(shared_data_dir, tmp_path):
    metrics = _run("imdb", tmp_path, "--set", "word2vec=true")
    assert {"roc_auc", "baseline_tfidf_logistic_regression_roc_auc", "pretrained_tokens"} <= set(metrics)
    assert metrics["n_train"] == 400 and metrics["n_test"] == 200
    assert metrics["pretrained_tokens"] > 0
    assert (tmp_path / "figures" / "word_vectors.png").is_file()
    assert (tmp_path / "tables" / "leaderboard.csv").is_file()


@pytest.mark.slow
def test_resumes_quick_splits_by_distinct_text(shared_data_dir, tmp_path):
    metrics = _run("resumes", tmp_path)
    assert {"accuracy", "precision_at_10", "tfidf_precision_at_10"} <= set(metrics)
    assert metrics["n_rows"] == 962 and metrics["n_distinct"] == 166
    assert metrics["n_train"] + metrics["n_test"] == 166
    assert (tmp_path / "tables" / "job_descriptions.csv").is_file()


def test_precision_at_k_against_hand_count():
    import numpy as np

    from deepzoo.cases.resumes import precision_at_k

    pool = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    labels = np.array(["a", "a", "b"])
    queries = np.array([[1.0, 0.05], [0.1, 1.0]])
    # query 1: nearest two are both 'a' (2/2); query 2 ('b'): nearest 'b' then an 'a' (1/2)
    assert precision_at_k(queries, pool, np.array(["a", "b"]), labels, 2) == 0.75


@pytest.mark.slow
def test_text_generation_quick(shared_data_dir, tmp_path):
    metrics = _run("text_generation", tmp_path)
    assert metrics["perplexity"] > 1 and metrics["unigram_perplexity"] > 1
    table = (tmp_path / "tables" / "continuations.csv").read_text()
    assert "i will call you" in table
