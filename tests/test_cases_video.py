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
# the leaderboard (tasks/boards.py) scores every naive forecast on SSIM too
BOARD_KEYS = {"baseline_last_frame_ssim", "baseline_black_ssim", "baseline_mean_frame_ssim"}


def run_case(name, out, **settings):
    """Run a case study with ``settings`` (--set): --quick trains one epoch, after which no network beats
    the naive answers, so these runs take small budgets of their own that do."""
    sets = [arg for key, value in settings.items() for arg in ("--set", f"{key}={value}")]
    result = runner.invoke(cli.app, ["run", name, *sets, "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert (out / "report.html").is_file() and (out / "config.json").is_file()
    return json.loads((out / "metrics.json").read_text())


def test_video_cases_are_registered_with_a_documented_config():
    assert CASES["moving_digits"].offline and CASES["moving_digits"].tour
    assert CASES["moving_mnist"].dataset == "mnist" and CASES["motion"].dataset == "mnist"
    for name in ("moving_mnist", "motion", "moving_digits"):
        config = CASES[name].load().Config()
        assert config.quick is False and hasattr(config, "seed") and hasattr(config, "device")


def test_quick_budgets_are_tiny():
    # the runs below take budgets of their own (one epoch learns nothing they could check); --quick's
    # budgets are checked here: one epoch on a few clips
    moving_mnist = CASES["moving_mnist"].load()  # moving_digits runs through it with its own Config
    for name, budget in (
        ("moving_mnist", moving_mnist._budget),
        ("moving_digits", moving_mnist._budget),
        ("motion", CASES["motion"].load()._budget),
    ):
        config = CASES[name].load().Config
        quick = budget(config(quick=True))
        assert quick.max_iter == 1 and quick.n_train <= 400 and quick.n_test <= 100, name
        assert budget(config()) == config()  # without --quick: untouched


# short clips (4 frames observed, 4 to predict) on a budget of seconds
SHORT = {"n_input_frames": 4, "n_output_frames": 4, "hidden_layer_sizes": 8}


def _check_forecast_run(out, metrics):
    assert set(metrics) == FORECAST_KEYS | BOARD_KEYS  # the keys runs are compared by, and the board's
    # the network must draw the next frames closer than the best naive forecast (the last frame, black
    # or the mean observed frame). Seeds 0-3 of moving_digits: 0.71 to 0.75 of its error; seeds 0-2 of
    # moving_mnist: 0.73 to 0.76. After one epoch (--quick) it was 1.1 to 2.7 times it.
    naive = min(metrics[f"baseline_{key}_mse_per_frame"] for key in ("last_frame", "black", "mean_frame"))
    assert metrics["mse_per_frame"] < 0.85 * naive
    assert {p.stem for p in (out / "figures").glob("*.png")} == {
        "forecast",
        "frame_errors",
        "learning_curves",
        "leaderboard",
    }
    assert (out / "forecast.gif").stat().st_size > 0
    assert isinstance(deepzoo.load(out / "model"), deepzoo.VideoForecaster)


@pytest.mark.slow  # ~15 s on the shared 2-core CPU
def test_moving_digits_forecasts_better_than_naive_and_writes_report(tmp_path):
    metrics = run_case(
        "moving_digits", tmp_path / "md", **SHORT, frame_size=16, n_train=256, n_test=64, max_iter=3
    )
    _check_forecast_run(tmp_path / "md", metrics)


@pytest.mark.slow  # ~30 s on the shared 2-core CPU, longer when it is busy
def test_moving_mnist_forecasts_better_than_naive_and_writes_report(shared_data_dir, tmp_path):
    metrics = run_case(
        "moving_mnist", tmp_path / "mm", **SHORT, frame_size=48, n_train=128, n_test=96, max_iter=5
    )
    _check_forecast_run(tmp_path / "mm", metrics)
    # two MNIST digits per frame: their ink is ~170 per frame (the paper-style generator)
    assert 100 < metrics["baseline_black_mse_per_frame"] < 250


@pytest.mark.slow  # ~20 s on the shared 2-core CPU
def test_motion_reads_the_direction_one_frame_cannot_tell(shared_data_dir, tmp_path):
    # 6 frames of 20x20, 3 pixels a frame, 10 epochs on 1,000 clips
    metrics = run_case(
        "motion", tmp_path / "motion", n_frames=6, frame_size=20, speed=3, n_train=1000, n_test=200,
        max_iter=10,
    )  # fmt: skip
    assert set(metrics) == {
        "accuracy", "baseline_single_frame_accuracy", "baseline_majority_accuracy", "fit_seconds"
    }  # fmt: skip
    # one frame cannot tell the direction: the CNN alone stays near chance (1/8; seeds 0-4: 0.10 to
    # 0.14 on 200 clips, a standard error of 0.023). The CNN + LSTM reads it from the order of the
    # frames: seeds 0-4 were 0.245 to 0.845 above the CNN alone (after one epoch, --quick: 0.02 to 0.08)
    assert metrics["accuracy"] > metrics["baseline_single_frame_accuracy"] + 0.15
    figures = {p.stem for p in (tmp_path / "motion" / "figures").glob("*.png")}
    assert figures == {"learning_curves", "confusion_matrix", "test_clips", "leaderboard"}
    assert isinstance(deepzoo.load(tmp_path / "motion" / "model"), deepzoo.VideoClassifier)
