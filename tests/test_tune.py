"""deepzoo fit --tune (deepzoo.tasks.tune): the study, its resume, pruning, the test rows kept out of
every trial, and the one-line errors."""

from __future__ import annotations

import json
import time

import numpy as np
import optuna
import pandas as pd
import pytest
import torch
from helpers import free_port
from sklearn.datasets import make_classification
from typer.testing import CliRunner

import deepzoo
from deepzoo.cli import app
from deepzoo.data.encoder import TableEncoder
from deepzoo.engine.training import epoch_callback, fit_loop
from deepzoo.tasks import table, tune
from deepzoo.tasks.base import FitConfig

# tiny trials: a few epochs of one small network (the defaults' 8 members and 200 epochs take minutes)
# (a fixed alpha also skips the cross-validated choice of the default's weight decay on small tables)
QUICK = {"max_iter": 6, "n_members": 1, "hidden_layer_sizes": (16,), "alpha": 1e-3}


@pytest.fixture(scope="module")
def frame():
    X, y = make_classification(160, n_features=5, n_informative=3, random_state=0)
    data = pd.DataFrame(X, columns=[f"x{i}" for i in range(5)])
    data["label"] = np.where(y == 1, "yes", "no")
    return data


def _study(out):
    return optuna.load_study(study_name=tune.STUDY_NAME, storage=f"sqlite:///{out / 'optuna.db'}")


@pytest.mark.slow
def test_tune_cli_writes_study_report_and_tuned_row(frame, tmp_path):
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "run"
    sets = [arg for k, v in QUICK.items() for arg in ("--set", f"{k}={v}")]
    result = CliRunner().invoke(
        app, ["fit", str(path), "--target", "label", "--tune", "3", "--out", str(out), "--quiet", *sets]
    )
    assert result.exit_code == 0, result.output
    study = _study(out)
    assert len(study.trials) == 3
    # the defaults are trial 0 (parameters fixed by --set are not searched)
    defaults = table.default_trial(128, "classify")
    fixed = set(QUICK)
    assert study.trials[0].params == {k: v for k, v in defaults.items() if k not in fixed}
    assert set(study.trials[0].params).isdisjoint(fixed)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["tune_trials"] == 3 and metrics["tune_metric"] == "roc_auc"
    assert metrics["tune_best_value"] == pytest.approx(study.best_value)
    board = pd.read_csv(out / "tables" / "leaderboard.csv")
    assert {"MLP (deepzoo, tuned)", "MLP (deepzoo, default)"} <= set(board["model"])
    assert (out / "figures" / "tuning_trials.png").exists()
    assert "Tuning" in (out / "report.html").read_text()
    assert json.loads((out / "config.json").read_text())["fit"]["tune"] == 3


@pytest.mark.slow
def test_resume_continues_the_study(frame, tmp_path):
    out = tmp_path / "run"
    deepzoo.fit(frame, target="label", out=out, settings=QUICK, tune=2)
    first = [t.params for t in _study(out).trials]
    deepzoo.fit(frame, target="label", out=out, settings=QUICK, tune=4, resume=True)
    trials = _study(out).trials
    assert len(trials) == 4
    assert [t.params for t in trials[:2]] == first
    # without --resume the study starts over
    deepzoo.fit(frame, target="label", out=out, settings=QUICK, tune=1)
    assert len(_study(out).trials) == 1


@pytest.mark.slow
def test_trials_never_see_the_test_rows(frame, monkeypatch, tmp_path):
    """A spy on the encoder records the rows of every fit and transform while the trials run."""
    seen, during = [], [False]
    fit, transform = TableEncoder.fit, TableEncoder.transform

    def spy_fit(self, X, y=None):
        if during[0]:
            seen.append(X.index)
        return fit(self, X, y)

    def spy_transform(self, X):
        if during[0]:
            seen.append(X.index)
        return transform(self, X)

    run_trials = tune._run_trials

    def spy_run_trials(*args, **kwargs):
        during[0] = True
        try:
            return run_trials(*args, **kwargs)
        finally:
            during[0] = False

    monkeypatch.setattr(TableEncoder, "fit", spy_fit)
    monkeypatch.setattr(TableEncoder, "transform", spy_transform)
    monkeypatch.setattr(tune, "_run_trials", spy_run_trials)
    deepzoo.fit(frame, target="label", out=tmp_path / "run", settings=QUICK, tune=2)
    # the test rows deepzoo.fit holds out: the same split, from the same seed
    _, X_test, _, _, _ = table.split(frame.drop(columns="label"), frame["label"], "classify", FitConfig())
    assert seen, "the spy saw no trial"
    touched = set().union(*(set(index) for index in seen))
    assert touched.isdisjoint(X_test.index)
    assert len(touched) == len(frame) - len(X_test)  # the whole training part: fitting and validation rows


class _Curves(tune.Problem):
    """A stand-in trial: 'validation loss' curves that fall to the trial's x, so trials with a large x
    are hopeless from their first epochs; no network, so the pruner's wiring is tested alone."""

    def __init__(self):
        pass

    direction = "minimize"
    metric = "loss"

    def settings(self, trial):
        return {"x": trial.suggest_float("x", 0.0, 1.0)}

    def score(self, settings, on_epoch):
        history = {"loss": [], "val_loss": []}
        for epoch in range(20):
            history["val_loss"].append(settings["x"] + 1.0 / (epoch + 1))
            on_epoch(epoch, history)
        return settings["x"], 20


def test_median_pruner_stops_hopeless_trials():
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0), pruner=tune._pruner())
    for x in (0.1, 0.2, 0.3, 0.4, 0.5):  # the pruner's startup trials
        study.enqueue_trial({"x": x})
    for x in (0.9, 0.05):  # hopeless, then promising
        study.enqueue_trial({"x": x})
    tune._run_trials(study, _Curves(), 7, None)
    states = [t.state for t in study.trials]
    assert states[:5] == [optuna.trial.TrialState.COMPLETE] * 5
    assert states[5] == optuna.trial.TrialState.PRUNED
    assert states[6] == optuna.trial.TrialState.COMPLETE
    # stopped right after the warm-up epochs, not at the end
    assert study.trials[5].user_attrs["epochs"] == tune.PRUNER_WARMUP_EPOCHS + 1


def test_tune_time_stops_the_study():
    study = optuna.create_study(pruner=optuna.pruners.NopPruner())
    tune._run_trials(study, _Curves(), None, deadline=0.0)  # a deadline long past: no trial starts
    assert len(study.trials) == 0


class _SlowCurves(_Curves):
    def score(self, settings, on_epoch):
        def slow(epoch, history):
            time.sleep(0.05)
            on_epoch(epoch, history)

        return super().score(settings, slow)


def test_tune_time_stops_a_trial_only_once_one_has_completed():
    study = optuna.create_study(pruner=optuna.pruners.NopPruner())
    # the budget (0.5 s) runs out during trial 0 (20 epochs of 50 ms): it completes, as there is nothing else
    # to fit in the end; trial 1 starts before the deadline and is stopped at its first epoch after it
    tune._run_trials(study, _SlowCurves(), None, deadline=time.time() + 0.5)
    assert study.trials[0].state == optuna.trial.TrialState.COMPLETE
    assert study.trials[0].user_attrs["epochs"] == 20
    assert len(study.trials) == 1  # the deadline had passed when trial 0 ended: no trial 1
    study.enqueue_trial({"x": 0.5})
    tune._run_trials(study, _SlowCurves(), None, deadline=time.time() + 0.5)
    assert study.trials[1].state == optuna.trial.TrialState.PRUNED
    assert study.trials[1].user_attrs["note"] == "the tuning time ran out"
    assert study.trials[1].user_attrs["epochs"] < 20


def test_epoch_callback_sees_each_epoch_and_can_stop_the_fit():
    X = torch.randn(64, 3, generator=torch.Generator().manual_seed(0))
    y = X.sum(1, keepdim=True)
    calls = []

    def callback(epoch, history):
        calls.append((epoch, len(history["val_loss"])))
        if epoch == 2:
            raise KeyboardInterrupt

    module = torch.nn.Linear(3, 1)
    with epoch_callback(callback), pytest.raises(KeyboardInterrupt):
        fit_loop(module, lambda o, t: ((o - t) ** 2).mean(1), X, y, early_stopping=True, max_iter=10)
    assert calls == [(0, 1), (1, 2), (2, 3)]
    calls.clear()
    fit_loop(module, lambda o, t: ((o - t) ** 2).mean(1), X, y, max_iter=2, warn_on_max_iter=False)
    assert calls == []  # outside the block, no callback


def _fail(args, tmp_path):
    result = CliRunner().invoke(app, ["fit", *args, "--out", str(tmp_path / "run"), "--quiet"])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    return " ".join(result.output.split())


def test_errors_are_one_line(frame, tmp_path):
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    assert "--tune must be at least 1 trial; got 0" in _fail([str(path), "--tune", "0"], tmp_path)
    message = _fail([str(path), "--target", "label", "--tune", "2", "--set", "max_iterr=3"], tmp_path)
    assert "--set 'max_iterr' is not a parameter of MLPClassifier (did you mean 'max_iter'?)" in message
    untuned = tmp_path / "config.json"
    untuned.write_text(json.dumps({"fit": FitConfig(data=str(path), target="label").to_dict()}))
    message = _fail(["--config", str(untuned), "--tune", "2"], tmp_path)
    assert "that run was not tuned" in message
    with pytest.raises(ValueError, match="--tune-jobs must be a whole number"):
        deepzoo.fit(frame, target="label", out=tmp_path / "r", tune=2, tune_jobs=0)


@pytest.mark.slow
def test_torchrun_runs_each_trial_on_both_processes(tmp_path):
    """Process 0 holds the study and sends each trial's settings and prune decision to process 1: a
    process that missed one would wait on the other forever (the timeout) or end early (an error)."""
    import os
    import subprocess
    import sys

    X, y = make_classification(700, n_features=5, n_informative=3, random_state=0)
    data = pd.DataFrame(X, columns=[f"x{i}" for i in range(5)])
    data["label"] = y
    data.to_csv(tmp_path / "data.csv", index=False)
    out = tmp_path / "run"
    sets = [arg for k, v in {**QUICK, "max_iter": 12}.items() for arg in ("--set", f"{k}={v}")]
    command = [
        *(sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--nnodes", "1"),
        *("--master-addr", "127.0.0.1", "--master-port", str(free_port()), "-m", "deepzoo", "fit"),
        *(str(tmp_path / "data.csv"), "--target", "label", "--tune", "7", "--out", str(out), "--quiet"),
        *sets,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    study = _study(out)
    assert len(study.trials) == 7
    assert all(t.state.is_finished() for t in study.trials)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["tune_trials"] == 7


@pytest.mark.slow
def test_tune_jobs_share_one_study(frame, tmp_path):
    out = tmp_path / "run"
    deepzoo.fit(frame, target="label", out=out, settings=QUICK, tune=6, tune_jobs=2)
    trials = _study(out).trials
    # both processes stop at 6 finished trials; one still running in the other process may add one
    assert 6 <= len(trials) <= 7
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)


# -- the other kinds: each tunes its own search space on its training part, the defaults as trial 0 -------
def _tuned_run(data, out, kind_default_trial, settings, **fit):
    """deepzoo.fit with --tune 2: the study's trial 0 is the kind's defaults (less what --set fixes),
    the report has its tuning section, the metrics count the trials."""
    result = deepzoo.fit(data, out=out, settings=settings, tune=2, **fit)
    study = _study(out)
    assert len(study.trials) == 2
    assert study.trials[0].params == {k: v for k, v in kind_default_trial.items() if k not in settings}
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["tune_trials"] == 2
    assert metrics["tune_best_value"] == pytest.approx(study.best_value)
    assert "Tuning" in (out / "report.html").read_text()
    assert (out / "model").exists()
    return result, study


@pytest.mark.slow
def test_text_is_tuned_on_its_training_texts(tmp_path):
    import random

    from deepzoo.tasks import text

    r = random.Random(0)
    texts, labels = [], []
    for _ in range(160):
        label = r.choice(["pos", "neg"])
        words = [r.choice("the film was a story of it".split()) for _ in range(6)]
        words.append(r.choice(["great", "loved"] if label == "pos" else ["awful", "dull"]))
        texts.append(" ".join(words))
        labels.append(label)
    frame = pd.DataFrame({"body": texts, "label": labels})
    train_texts, _, _, _, _ = text.load(deepzoo.tasks.detect.detect(frame, FitConfig()), FitConfig())
    result, study = _tuned_run(
        frame, tmp_path / "run", text.default_trial(train_texts), {"max_iter": 3}, target="label"
    )
    assert result.task == "text"
    assert study.trials[1].params["architecture"] in text.ARCHITECTURES
    assert set(result.predict(["loved it", "awful"])["prediction"]) <= {"pos", "neg"}


@pytest.mark.slow
def test_series_is_tuned_on_the_tail_of_its_training_rows(tmp_path, monkeypatch):
    from deepzoo.tasks import series

    n = 120
    t = np.arange(n)
    sales = 100 + 0.8 * t + 15 * np.sin(2 * np.pi * t / 12) + np.random.default_rng(0).normal(0, 2, n)
    frame = pd.DataFrame({"month": pd.date_range("2000-01", periods=n, freq="MS"), "sales": sales})
    fitted = []
    fit = series.SeriesForecaster.fit

    def spy(self, rows, *args, **kwargs):
        fitted.append(pd.to_datetime(rows["month"]).max())
        return fit(self, rows, *args, **kwargs)

    monkeypatch.setattr(series.SeriesForecaster, "fit", spy)
    result, study = _tuned_run(frame, tmp_path / "run", series.default_trial(96), {"max_iter": 3})
    assert result.task == "forecast"
    # each trial fits on the training rows but their validation tail; the final fits on all 96
    test_start, val_start = frame["month"][96], frame["month"][96 - 19]
    assert all(last < val_start for last in fitted[:2]), fitted
    assert all(last < test_start for last in fitted)
    assert study.trials[1].params["cell"] in ("gru", "lstm")


@pytest.mark.slow
@pytest.mark.parametrize("liked_share", [None, 0.8], ids=["graded", "two-valued"])
def test_ratings_tune_the_recommender_and_its_size(tmp_path, liked_share):
    from deepzoo.data.ratings import make_ratings
    from deepzoo.tasks import ratings

    options = {} if liked_share is None else {"liked_share": liked_share}
    data = make_ratings(60, 40, 900, rank=2, taste=1.0, bias=0.5, noise=0.3, random_state=0, **options)
    binary = liked_share is not None
    result, study = _tuned_run(data, tmp_path / "run", ratings.default_trial(binary), {"max_iter": 4})
    assert result.task == "recommend"
    expected = {"n_components", "n_gibbs_steps"} if binary else {"kind", "hidden_layer_sizes", "alpha"}
    assert expected <= set(study.trials[1].params)
    metric = json.loads((tmp_path / "run" / "metrics.json").read_text())["tune_metric"]
    assert metric == ("roc_auc" if binary else "rmse")


@pytest.mark.slow
def test_images_tune_learning_rate_size_and_augmentation(tmp_path):
    from image_folders import make_folder

    from deepzoo.tasks import images

    root = make_folder(tmp_path / "shapes", n=20)
    out = tmp_path / "run"
    result = deepzoo.fit(root, out=out, settings={"max_iter": 2}, tune=2)
    assert result.task == "images"
    study = _study(out)
    assert len(study.trials) == 2
    # trial 0: the network choose_model picks for these 12 px grayscale images (LeNet-5, augmented)
    first = study.trials[0].params
    assert first["image_side"] == 12 and first["augment_strength"] == 1.0
    assert set(study.trials[1].params) == {"learning_rate", "image_side", "augment_strength"}
    assert json.loads((out / "metrics.json").read_text())["tune_trials"] == 2
    clf, _ = images.choose_model(images.load(deepzoo.tasks.detect.detect(root, FitConfig()), FitConfig()))
    assert images.tuned_settings({"image_side": 6, "augment_strength": 0.0}, clf) == {
        "image_size": (6, 6),
        "augment": None,
    }
