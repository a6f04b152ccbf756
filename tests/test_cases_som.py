"""The SOM case studies run end to end from the command line with --quick and write their report folder."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits
from typer.testing import CliRunner

import deepzoo
from deepzoo import cli
from deepzoo.cases import CASES, fraud

runner = CliRunner()


def invoke(*args):
    return runner.invoke(cli.app, [str(a) for a in args])


def test_cases_are_registered_with_a_documented_config():
    assert CASES["fraud"].dataset == "credit_card_applications" and CASES["som_digits"].offline
    for name in ("fraud", "som_digits"):
        config = CASES[name].load().Config()
        assert config.quick is False and hasattr(config, "seed") and hasattr(config, "device")


@pytest.mark.slow  # about 3 s: deepzoo fit's clusters road (map, k-means, anomaly autoencoder)
def test_som_digits_quick_writes_report(tmp_path):
    out = tmp_path / "digits"
    result = invoke("run", "som_digits", "--quick", "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    for name in ("config.json", "metrics.json", "history.csv", "report.html", "model/deepzoo.json"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"accuracy", "quantization_error", "topographic_error"} <= set(metrics)
    # five passes: the units read held-out digits far better than the majority class (seeds 0-2: 0.86-0.88
    # against 0.08-0.09), and the prototypes sit nearer the digits than the mean digit (0.65-0.67 of its
    # quantization error)
    assert metrics["accuracy"] > metrics["baseline_majority_accuracy"] + 0.5
    assert metrics["quantization_error"] < 0.8 * metrics["baseline_mean_quantization_error"]
    assert {p.stem for p in (out / "figures").glob("*.png")} >= {
        "leaderboard",
        "digit_map",
        "umatrix",
        "hit_map",
        "prototypes",
    }
    reading = pd.read_csv(out / "tables" / "digit_reading.csv")
    assert sorted(reading["kind"]) == ["baseline", "deep", "trivial"]
    model = deepzoo.load(out / "model")  # the pixels in, the best unit out
    assert isinstance(model[-1], deepzoo.SelfOrganizingMap) and model[0].scale == "none"
    pixels = pd.DataFrame(load_digits().data[:5] / 16, columns=[f"pixel_{i}" for i in range(64)])
    assert model.predict(pixels).shape == (5,)


@pytest.mark.slow  # about 6 s: the map, the anomaly autoencoder, the network and 690-row tables
def test_fraud_quick_writes_report(shared_data_dir, tmp_path):
    out = tmp_path / "fraud"
    result = invoke("run", "fraud", "--quick", "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"quantization_error", "topographic_error", "n_flagged"} <= set(metrics)
    assert 0 < metrics["n_flagged"] < 690
    # the map's units (300 updates) sit much nearer the held-out applications than their mean does
    # (seeds 0-2: 0.38-0.42 of its quantization error)
    assert metrics["quantization_error"] < 0.6 * metrics["baseline_mean_quantization_error"]
    ranking = pd.read_csv(out / "tables" / "fraud_ranking.csv")
    assert len(ranking) == 690 and ranking["CustomerID"].is_unique
    assert np.all(np.diff(ranking["fraud_probability"]) <= 0)  # most likely first
    frauds = pd.read_csv(out / "tables" / "likely_frauds.csv")
    assert len(frauds) == metrics["n_flagged"] and set(frauds["CustomerID"]) <= set(ranking["CustomerID"])
    html = (out / "report.html").read_text()
    assert html.index("figure-self_organizing_map") < html.index("table-likely_frauds")  # the map first
    assert "table-leaderboard" in html and "table-most_anomalous" in html  # deepzoo fit's road
    applications = pd.read_csv(shared_data_dir / "credit_card_applications" / "Credit_Card_Applications.csv")
    som = deepzoo.load(out / "model")  # encoder + map: raw applications in, units out
    assert som.predict(applications[list(fraud.ATTRIBUTES)]).shape == (690,)
    hybrid = deepzoo.load(out / "hybrid")  # the ranking network: attributes and Class in
    customers = applications[[*fraud.ATTRIBUTES, fraud.TARGET]].to_numpy(dtype=float)
    np.testing.assert_allclose(
        np.sort(hybrid.predict_proba(customers)[:, 1])[::-1], ranking["fraud_probability"], atol=1e-4
    )


def test_fraud_missing_columns_is_one_line(tmp_path):
    csv = tmp_path / "Credit_Card_Applications.csv"
    csv.write_text("CustomerID,A1,A2\n1,0,1\n2,1,0\n")
    result = invoke("run", "fraud", "--quick", "--data", csv, "--out", tmp_path / "o")
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "lacks the columns" in result.output and "A14" in result.output


def test_outlier_cells_always_flag_someone():
    class Map:
        def distance_map(self):
            return np.array([[0.2, 1.0], [0.5, 0.3]])

    hits = np.array([[4, 0], [3, 1]])  # the highest unit holds nobody
    np.testing.assert_array_equal(fraud.outlier_cells(Map(), hits, 0.9), [[1, 0]])
    np.testing.assert_array_equal(fraud.outlier_cells(Map(), hits, 0.25), [[1, 0], [1, 1]])
