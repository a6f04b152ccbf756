"""The video case studies run end to end from the command line with --quick and write their report folder."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import deepzoo
from deepzoo import cli
from deepzoo.cases import CASES

runner = CliRunner()
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
FORECAST_KEYS = {
    "mse_per_frame", "ssim", "baseline_last_frame_mse_per_frame", "baseline_black_mse_per_frame",
    "baseline_mean_frame_mse_per_frame", "fit_seconds",
}  # fmt: skip


def run_quick(name, out):
    result = runner.invoke(cli.app, ["run", name, "--quick", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert (out / "report.html").is_file() and (out / "config.json").is_file()
    return json.loads((out / "metrics.json").read_text())


def test_video_cases_are_registered_with_a_documented_config():
    assert CASES["moving_digits"].offline and CASES["moving_digits"].tour
    assert CASES["moving_mnist"].dataset == "mnist" and CASES["motion"].dataset == "mnist"
    for name in ("moving_mnist", "motion", "moving_digits"):
        config = CASES[name].load().Config()
        assert config.quick is False and hasattr(config, "seed") and hasattr(config, "device")


def _check_forecast_run(out, metrics):
    assert set(metrics) == FORECAST_KEYS  # the keys runs are compared by, and no others
    assert metrics["fit_seconds"] > 0 and -1 <= metrics["ssim"] <= 1
    assert metrics["baseline_black_mse_per_frame"] > 0
    assert {p.stem for p in (out / "figures").glob("*.png")} == {
        "forecast",
        "frame_errors",
        "learning_curves",
    }
    assert (out / "forecast.gif").stat().st_size > 0
    assert isinstance(deepzoo.load(out / "model"), deepzoo.VideoForecaster)


@pytest.mark.slow  # ~20 s on the shared 2-core CPU
def test_moving_digits_quick_writes_report(tmp_path):
    _check_forecast_run(tmp_path / "md", run_quick("moving_digits", tmp_path / "md"))


@pytest.mark.slow
def test_moving_mnist_quick_writes_report(shared_data_dir, tmp_path):
    metrics = run_quick("moving_mnist", tmp_path / "mm")
    _check_forecast_run(tmp_path / "mm", metrics)
    # two MNIST digits in a 64x64 frame: their ink is ~170 per frame (the paper-style generator)
    assert 100 < metrics["baseline_black_mse_per_frame"] < 250


@pytest.mark.slow
def test_motion_quick_writes_report(shared_data_dir, tmp_path):
    metrics = run_quick("motion", tmp_path / "motion")
    assert set(metrics) == {"accuracy", "baseline_single_frame_accuracy", "fit_seconds"}
    assert 0 <= metrics["accuracy"] <= 1 and 0 <= metrics["baseline_single_frame_accuracy"] <= 1
    figures = {p.stem for p in (tmp_path / "motion" / "figures").glob("*.png")}
    assert figures == {"learning_curves", "confusion_matrix", "test_clips"}
    assert isinstance(deepzoo.load(tmp_path / "motion" / "model"), deepzoo.VideoClassifier)
