"""The deepzoo command: each case study smoke-runs with --quick; bad input gets one line, exit != 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import one_line_error
from sklearn.datasets import load_breast_cancer
from torchrun import torchrun
from typer.testing import CliRunner

import deepzoo
from deepzoo import cli

runner = CliRunner()


def invoke(*args):
    return runner.invoke(cli.app, [str(a) for a in args])


def test_list_shows_every_case():
    result = invoke("list")
    assert result.exit_code == 0, result.output
    assert "churn" in result.output and "breast_cancer" in result.output


def test_unknown_case_suggests_nearest():
    line = one_line_error(invoke("run", "chrun"))
    assert "Unknown case study 'chrun'" in line and "churn" in line


def test_every_config_problem_reported_at_once(tmp_path):
    line = one_line_error(
        invoke(
            "run",
            "breast_cancer",
            "--set",
            "max_itr=5",
            "--set",
            "seed",
            "--customer",
            "Age=40",
            "--out",
            tmp_path,
        )
    )
    assert "did you mean 'max_iter'" in line
    assert "--set expects KEY=VALUE" in line
    assert "does not take --customer" in line


def test_bad_set_value_type(tmp_path):
    line = one_line_error(invoke("run", "breast_cancer", "--set", "max_iter=many", "--out", tmp_path))
    assert "max_iter" in line


@pytest.mark.slow  # about 4 s: deepzoo fit's road (four models, permutation importance) and 3-fold CV
def test_breast_cancer_quick_writes_report(tmp_path):
    out = tmp_path / "bc"
    result = invoke("run", "breast_cancer", "--quick", "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    for name in ("config.json", "metrics.json", "history.csv", "report.html", "model/deepzoo.json"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"accuracy", "roc_auc", "cv_accuracy_mean", "fit_seconds"} <= set(metrics)
    # five epochs already rank tumours far better than the majority class (ROC-AUC 0.97 against 0.5)
    assert metrics["roc_auc"] > metrics["baseline_majority_roc_auc"] + 0.3
    config = json.loads((out / "config.json").read_text())
    assert config["quick"] is True and config["decided"]["task"] == "classify"
    board = (out / "tables" / "leaderboard.csv").read_text()
    assert all(name in board for name in ("MLP (deepzoo)", "LogisticRegression", "majority class"))
    assert {"leaderboard", "roc_curve", "confusion_matrix", "cv_scores"} <= {
        p.stem for p in (out / "figures").glob("*.png")
    }
    assert deepzoo.load(out / "model").predict(load_breast_cancer(as_frame=True).data.iloc[:3]).shape == (3,)


def test_unwritable_run_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    line = one_line_error(invoke("run", "breast_cancer", "--quick", "--out", blocker / "run"))
    assert "Cannot write the run folder" in line


def test_interrupt_says_how_to_resume(tmp_path, monkeypatch):
    from deepzoo.cases import breast_cancer

    def interrupted(config, out_dir):
        raise KeyboardInterrupt

    monkeypatch.setattr(breast_cancer, "run", interrupted)
    result = invoke("run", "breast_cancer", "--out", tmp_path)
    assert result.exit_code == 130
    assert "--resume" in one_line_error(result)


def test_debug_shows_the_traceback(tmp_path):
    result = invoke(
        "run", "breast_cancer", "--set", "learning_rate=-1", "--quick", "--debug", "--out", tmp_path
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, ValueError)


def test_hyperparameter_error_is_one_line(tmp_path):
    line = one_line_error(
        invoke("run", "breast_cancer", "--quick", "--set", "learning_rate=-1", "--out", tmp_path)
    )
    assert "'learning_rate' parameter of MLPClassifier" in line


# -- churn on the real data ------------------------------------------------------------------------
def test_churn_quick_writes_report(shared_data_dir, tmp_path, monkeypatch):
    from deepzoo.engine import persistence

    saves = []
    real_save = persistence.save
    monkeypatch.setattr(persistence, "save", lambda *a, **k: saves.append(a[1]) or real_save(*a, **k))
    out = tmp_path / "churn"
    result = invoke(
        "run",
        "churn",
        "--quick",
        "--out",
        out,
        "--quiet",
        "--customer",
        "Age=60",
        "--customer",
        "Geography=Germany",
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"accuracy", "roc_auc", "cv_accuracy_mean", "cv_accuracy_std", "fit_seconds"} <= set(metrics)
    assert 0.0 <= metrics["new_customer_leave_probability"] <= 1.0
    html = (out / "report.html").read_text()
    assert "data:image/png;base64" in html and "HistGradientBoosting" in html
    assert (out / "model" / "deepzoo.json").is_file()
    # the weights are written once (by the road, before the pictures); the card then gains the extras
    assert len(saves) == 1
    card = (out / "model" / "MODEL_CARD.md").read_text()
    assert "cv_accuracy_mean" in card and "Gender" in card and "Bank churn MLP" in card


def test_churn_data_file_path_works(shared_data_dir, tmp_path):
    csv = shared_data_dir / "churn" / "Churn_Modelling.csv"
    result = invoke(
        "run", "churn", "--quick", "--data", csv, "--out", tmp_path, "--quiet", "--set", "cv_folds=2"
    )
    assert result.exit_code == 0, result.output


def test_churn_missing_csv(tmp_path):
    line = one_line_error(
        invoke("run", "churn", "--quick", "--data", tmp_path / "nope.csv", "--out", tmp_path)
    )
    assert "nope.csv" in line


def test_churn_unparseable_csv(tmp_path):
    bad = tmp_path / "Churn_Modelling.csv"
    bad.write_bytes(b"\x00\x01\x02garbage\xff\xfe" * 50)
    line = one_line_error(invoke("run", "churn", "--quick", "--data", bad, "--out", tmp_path / "o"))
    assert "Churn_Modelling.csv" in line


def test_churn_missing_target_lists_columns(tmp_path):
    csv = tmp_path / "Churn_Modelling.csv"
    csv.write_text("RowNumber,CustomerId,Surname,CreditScore,Age\n1,2,Smith,600,40\n")
    line = one_line_error(invoke("run", "churn", "--quick", "--data", csv, "--out", tmp_path / "o"))
    assert "Exited" in line and "CreditScore" in line


def test_churn_non_numeric_customer_field(shared_data_dir, tmp_path):
    line = one_line_error(invoke("run", "churn", "--quick", "--customer", "Age=old", "--out", tmp_path))
    assert "Age" in line or "old" in line


def test_python_dash_m_is_the_cli():
    result = subprocess.run(
        [sys.executable, "-m", "deepzoo", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and "tour" in result.stdout


@pytest.mark.slow
def test_tour_writes_index(tmp_path):
    result = invoke("tour", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    index = (tmp_path / "index.html").read_text()
    assert "breast_cancer/report.html" in index
    assert (tmp_path / "breast_cancer" / "report.html").is_file()


@pytest.mark.slow
def test_torchrun_two_processes_write_one_report(shared_data_dir, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = tmp_path / "ddp"
    result = torchrun(
        [
            "--standalone",
            "--nproc-per-node",
            "2",
            "-m",
            "deepzoo",
            "run",
            "churn",
            "--quick",
            "--quiet",
            "--out",
            str(out),
            "--set",
            "cv_folds=2",
        ],
        finished=(out / "report.html").is_file,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (out / "report.html").is_file()
    assert json.loads((out / "metrics.json").read_text())["accuracy"] > 0.7
    # one report: no stray temporary files from a second writer
    assert not [p for p in Path(out).rglob("*") if ".tmp" in p.name]


# -- GAN cases: digits_gan (offline) and apples (shared data) -------------------------------------------
GAN_FILES = ("config.json", "metrics.json", "history.csv", "report.html", "model/deepzoo.json")
GAN_FIGURES = {"samples_across_epochs", "real_vs_generated", "latent_interpolation", "losses", "fd_curve"}


def _check_gan_run(out):
    for name in GAN_FILES:
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"fd", "fd_untrained", "diversity", "fit_seconds"} <= set(metrics)
    assert metrics["fd"] >= 0 and metrics["fd_untrained"] > 0
    assert GAN_FIGURES <= {p.stem for p in (out / "figures").glob("*.png")}
    assert "d_loss" in (out / "history.csv").read_text().splitlines()[0]
    return metrics


@pytest.mark.slow
def test_digits_gan_quick_writes_report(tmp_path):
    out = tmp_path / "digits_gan"
    result = invoke("run", "digits_gan", "--quick", "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    metrics = _check_gan_run(out)
    assert metrics["epochs"] == 2
    assert (out / "figures" / "digit_classes.png").is_file()
    # resuming the finished run trains no further epoch and reports the same FD
    again = invoke("run", "digits_gan", "--quick", "--resume", "--out", out, "--quiet")
    assert again.exit_code == 0, again.output
    resumed = json.loads((out / "metrics.json").read_text())
    assert resumed["epochs"] == 2 and resumed["fd"] == pytest.approx(metrics["fd"])


@pytest.mark.slow
def test_apples_quick_writes_report(shared_data_dir, tmp_path):
    out = tmp_path / "apples"
    result = invoke("run", "apples", "--quick", "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    metrics = _check_gan_run(out)
    assert metrics["n_images"] == 300 and metrics["fd_classifier"] == "mnist"


def test_apples_bad_data_is_one_line(tmp_path):
    bad = tmp_path / "quickdraw_apple.npz"
    bad.write_bytes(b"not an npz")
    line = one_line_error(invoke("run", "apples", "--quick", "--data", bad, "--out", tmp_path / "o"))
    assert "quickdraw_apple" in line


# -- cartpole (DQN), offline -----------------------------------------------------------------------------
def test_cartpole_quick_writes_report(tmp_path):
    out = tmp_path / "cartpole"
    result = invoke("run", "cartpole", "--quick", "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    for name in (
        "config.json",
        "metrics.json",
        "history.csv",
        "report.html",
        "episode.gif",
        "model/deepzoo.json",
    ):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"mean_reward", "std_reward", "env_steps", "fit_seconds"} <= set(metrics)
    assert metrics["env_steps"] == 1500  # the quick budget, evaluation steps included
    figures = {p.stem for p in (out / "figures").glob("*.png")}
    assert {"episode_rewards", "evaluation_rewards", "episode_frames"} <= figures


@pytest.mark.slow
def test_cartpole_resume_of_a_finished_run_takes_no_further_step(tmp_path):
    first = invoke("run", "cartpole", "--quick", "--out", tmp_path, "--quiet")
    assert first.exit_code == 0, first.output
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    again = invoke("run", "cartpole", "--quick", "--resume", "--out", tmp_path, "--quiet")
    assert again.exit_code == 0, again.output
    resumed = json.loads((tmp_path / "metrics.json").read_text())
    assert (resumed["env_steps"], resumed["mean_reward"]) == (metrics["env_steps"], metrics["mean_reward"])


# -- audit (issue 7) -------------------------------------------------------------------------------------
def test_audit_prints_groups_and_writes_report(tmp_path):
    from tabular_model import saved_model

    folder, frame, _ = saved_model(tmp_path)
    out = tmp_path / "audit"
    result = invoke(
        "audit", folder, "--data", tmp_path / "customers.csv", "--group", "Gender", "--group", "Geography",
        "--bootstrap", "20", "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Germany" in result.output and "demographic parity difference" in result.output
    assert (out / "report.html").is_file() and (out / "figures" / "rates_Geography.png").is_file()
    assert (out / "figures" / "ecdf_Gender.png").is_file()


def test_audit_bad_input_is_one_line(tmp_path):
    from tabular_model import saved_model

    folder, frame, _ = saved_model(tmp_path)
    csv = tmp_path / "customers.csv"
    line = one_line_error(invoke("audit", folder, "--data", csv, "--group", "Sex"))
    assert "no column 'Sex' to group by" in line and "Gender" in line
    frame.assign(Gender="Male").to_csv(tmp_path / "one.csv", index=False)
    line = one_line_error(invoke("audit", folder, "--data", tmp_path / "one.csv", "--group", "Gender"))
    assert "has only one group ('Male')" in line
    frame.loc[[1, 2], "Gender"] = None
    frame.to_csv(tmp_path / "missing.csv", index=False)
    line = one_line_error(invoke("audit", folder, "--data", tmp_path / "missing.csv", "--group", "Gender"))
    assert "has 2 missing values" in line
    line = one_line_error(invoke("audit", tmp_path / "nowhere", "--data", csv, "--group", "Gender"))
    assert "No saved model at" in line
    line = one_line_error(invoke("audit", folder, "--data", csv))
    assert "name at least one group column" in line
