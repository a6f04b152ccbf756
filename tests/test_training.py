"""fit_loop on its own: losses, weights, clipping, history, checkpoints and resuming."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from torch import nn
from torch.nn import functional as F

from deepzoo import MLPClassifier
from deepzoo.engine import training
from deepzoo.engine.training import fit_loop, make_optimizer, predict_batches

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def data(n=240, seed=0):
    X, y = make_classification(n, n_features=6, n_informative=4, random_state=seed)
    return torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y)


def net(seed=0, dropout=0.0):
    """A small classifier network, its weights drawn from ``seed`` without touching the global RNG."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        layers = (
            [nn.Linear(6, 16), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else []) + [nn.Linear(16, 2)]
        )
        return nn.Sequential(*layers)


def ce(output, target):
    return F.cross_entropy(output, target, reduction="none")


def accuracy(output, target):
    return (output.argmax(1) == target).float().mean()


def run(module, X, y, **kwargs):
    """fit_loop with a fixed global seed for dropout, restoring the caller's RNG afterwards."""
    kwargs = {"learning_rate": 0.01, "batch_size": 32, "max_iter": 10, "seed": 0, **kwargs}
    with torch.random.fork_rng():
        torch.manual_seed(123)
        result, _ = fit_loop(module, kwargs.pop("loss_fn", ce), X, y, **kwargs)
    return result


def same_weights(a, b):
    return all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


def test_trains_and_reports_history():
    X, y = data()
    module = net()
    result = run(module, X, y, max_iter=40, score_fn=accuracy)
    assert set(result.history) == {"loss", "score"}
    assert result.n_iter == 40 == len(result.history["loss"])
    assert result.history["loss"][-1] < result.history["loss"][0]
    assert result.history["score"][-1] > 0.8
    assert not module.training  # handed back in eval mode
    assert predict_batches(module, X, batch_size=7).shape == (240, 2)


def test_history_keys_with_early_stopping():
    X, y = data()
    result = run(net(), X, y, early_stopping=True, score_fn=accuracy, stratify=y.numpy(), max_iter=3)
    assert set(result.history) == {"loss", "score", "val_loss", "val_score"}
    assert all(len(v) == 3 for v in result.history.values())
    assert set(run(net(), X, y, early_stopping=True, max_iter=2).history) == {"loss", "val_loss"}


def test_without_targets_the_loss_sees_the_inputs():
    X, _ = data()
    module = nn.Linear(6, 6)
    result = run(module, X, None, loss_fn=lambda out, x: ((out - x) ** 2).mean(dim=1), max_iter=30)
    assert result.history["loss"][-1] < result.history["loss"][0] / 2


def test_batch_transform_changes_training_batches_only():
    # the transform swaps every training label: the network learns the swapped labels; with early
    # stopping the held-out rows are never transformed
    X, y = data()
    calls = []

    def swap(xb, yb):
        calls.append(len(xb))
        return xb, 1 - yb

    module = net()
    result, _ = fit_loop(
        module, ce, X, y, batch_size=50, max_iter=20, learning_rate=0.01, batch_transform=swap
    )
    assert sum(calls) == 240 * result.n_iter
    assert (predict_batches(module, X).argmax(1) == y).float().mean() < 0.2  # chance is 0.5
    calls.clear()
    result, _ = fit_loop(
        net(), ce, X, y, batch_size=50, max_iter=3, early_stopping=True, validation_fraction=0.25,
        batch_transform=swap,
    )  # fmt: skip
    assert sum(calls) == 180 * result.n_iter


def test_nan_loss_raises_floating_point_error():
    X, y = data()

    def nan_loss(output, target):
        return ce(output, target) * torch.tensor(float("nan"))

    with pytest.raises(
        FloatingPointError, match=r"training loss became nan at epoch 1.*learning_rate \(now 0\.01\)"
    ):
        run(net(), X, y, loss_fn=nan_loss)


def test_infinite_loss_mid_training_raises():
    X, y = data()
    calls = {"n": 0}

    def blows_up(output, target):
        calls["n"] += 1
        loss = ce(output, target)
        return loss * float("inf") if calls["n"] > 20 else loss

    with pytest.raises(FloatingPointError, match="became (inf|nan) at epoch 3.*Lower learning_rate"):
        run(net(), X, y, loss_fn=blows_up)


def test_loss_must_be_per_sample():
    X, y = data()
    with pytest.raises(
        ValueError, match=r"loss_fn must return one loss per sample, shape \(32,\); got shape \(\)"
    ):
        run(net(), X, y, loss_fn=lambda out, t: F.cross_entropy(out, t))


def test_sample_weights_equal_duplicated_rows():
    # one batch per epoch: weight 2 on a row is the same gradient as the row twice
    X, y = data(60)
    weights = torch.ones(60)
    weights[:20] = 2.0
    X_dup, y_dup = torch.cat([X, X[:20]]), torch.cat([y, y[:20]])
    weighted, duplicated = net(), net()
    r1 = run(weighted, X, y, sample_weight=weights, batch_size=100, max_iter=15)
    r2 = run(duplicated, X_dup, y_dup, batch_size=100, max_iter=15)
    # the same gradient summed over other rows in another order: float32 rounding (~1e-7 relative per
    # step, measured 2e-7 after 15 steps); rtol 1e-5 allows ~80 steps of it, a wrong weighting moves
    # the loss by 1e-2
    np.testing.assert_allclose(r1.history["loss"], r2.history["loss"], rtol=1e-5)
    for p, q in zip(weighted.parameters(), duplicated.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


def test_a_batch_of_zero_weights_gives_no_nan():
    X, y = data(64)
    weights = torch.ones(64)
    weights[:32] = 0.0  # without shuffling the first batch weighs nothing
    result = run(net(), X, y, sample_weight=weights, shuffle=False, max_iter=3)
    assert np.all(np.isfinite(result.history["loss"]))


def test_clip_grad_norm_bounds_every_step():
    X, y = data(64)
    X = X * 100  # large gradients
    module = net()
    before = torch.cat([p.detach().flatten() for p in module.parameters()])
    optimizer = torch.optim.SGD(module.parameters(), lr=1.0)
    run(module, X, y, optimizer=optimizer, clip_grad_norm=0.01, batch_size=64, max_iter=1)
    after = torch.cat([p.detach().flatten() for p in module.parameters()])
    assert (after - before).norm() <= 0.01 + 1e-6
    unclipped = net()
    run(unclipped, X, y, optimizer=torch.optim.SGD(unclipped.parameters(), lr=1.0), batch_size=64, max_iter=1)
    assert (torch.cat([p.detach().flatten() for p in unclipped.parameters()]) - before).norm() > 1


def test_make_optimizer_leaves_biases_undecayed():
    optimizer = make_optimizer(net(), "adamw", 0.01, weight_decay=0.5)
    decays = {p.ndim: group["weight_decay"] for group in optimizer.param_groups for p in group["params"]}
    assert decays == {2: 0.5, 1: 0.0}
    with pytest.raises(ValueError, match="solver must be one of"):
        make_optimizer(net(), "lbfgs", 0.01)


def test_convergence_warning_when_max_iter_runs_out():
    X, y = data()
    with pytest.warns(ConvergenceWarning, match=r"maximum iterations \(2\) reached"):
        run(net(), X, y, max_iter=2)
    # no improvement by tol=1 is possible: the first epoch sets the best loss, two more fail to beat it
    result = run(net(), X, y, max_iter=500, tol=1.0, n_iter_no_change=2)
    assert result.converged and result.n_iter == 3


def test_checkpoint_is_written_atomically(tmp_path):
    X, y = data()
    path = tmp_path / "run" / "ckpt.pt"
    run(net(), X, y, checkpoint=path, max_iter=3)
    assert path.is_file()
    assert [p.name for p in path.parent.iterdir()] == ["ckpt.pt"]  # no *.tmp left behind
    state = torch.load(path, weights_only=True)
    assert state["epoch"] == 3 and len(state["history"]["loss"]) == 3


def test_a_failed_checkpoint_write_keeps_the_previous_one(tmp_path, monkeypatch):
    X, y = data()
    path = tmp_path / "ckpt.pt"
    run(net(), X, y, checkpoint=path, max_iter=2)
    good = path.read_bytes()
    real_save = torch.save

    def dies_halfway(obj, f):
        real_save(obj, f)
        f.truncate(100)
        raise OSError("disk full")

    monkeypatch.setattr(training.torch, "save", dies_halfway)
    with pytest.raises(OSError, match="disk full"):
        run(net(), X, y, checkpoint=path, max_iter=2)
    assert path.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]


class Interrupt:
    """A loss that raises KeyboardInterrupt on its ``n``-th call, as a user pressing Ctrl-C."""

    def __init__(self, n):
        self.n, self.calls = n, 0

    def __call__(self, output, target):
        self.calls += 1
        if self.calls == self.n:
            raise KeyboardInterrupt
        return ce(output, target)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"early_stopping": True, "n_iter_no_change": 4, "stratify": "y"},
        {"solver": "sgd", "weight_decay": 1e-3},
    ],
    ids=["plain", "early_stopping", "sgd"],
)
def test_resume_after_an_interruption_ends_with_the_same_weights(tmp_path, options):
    X, y = data()
    options = {**options, "stratify": y.numpy()} if "stratify" in options else options
    settings = dict(max_iter=12, learning_rate=0.05, **options)
    reference = net(dropout=0.2)
    expected = run(reference, X, y, **settings)

    path = tmp_path / "ckpt.pt"
    interrupted = net(dropout=0.2)
    with pytest.raises(KeyboardInterrupt):
        run(interrupted, X, y, loss_fn=Interrupt(40), checkpoint=path, **settings)  # in epoch 5 or so
    assert 1 <= torch.load(path, weights_only=True)["epoch"] < expected.n_iter

    # a fresh network and a different global seed: everything must come from the checkpoint
    resumed = net(seed=99, dropout=0.2)
    with torch.random.fork_rng():
        torch.manual_seed(999)
        result, _ = fit_loop(
            resumed, ce, X, y, checkpoint=path, resume=True, batch_size=32, seed=0, **settings
        )
    assert same_weights(resumed, reference)
    assert result.history == expected.history
    assert result.n_iter == expected.n_iter and result.best_epoch == expected.best_epoch


def test_resuming_a_finished_run_trains_no_more(tmp_path):
    X, y = data()
    path = tmp_path / "ckpt.pt"
    settings = dict(early_stopping=True, n_iter_no_change=2, learning_rate=0.1, max_iter=200, checkpoint=path)
    finished = net()
    first = run(finished, X, y, **settings)
    assert first.converged and first.n_iter < 200
    again = net(seed=5)
    second = run(again, X, y, resume=True, **settings)
    assert second.n_iter == first.n_iter and second.converged
    assert same_weights(again, finished)


def test_resume_refuses_a_checkpoint_from_other_data_or_settings(tmp_path):
    X, y = data()
    path = tmp_path / "ckpt.pt"
    run(net(), X, y, checkpoint=path, max_iter=2)
    with pytest.raises(ValueError, match="was written for other data or settings"):
        run(net(), X + 1, y, checkpoint=path, resume=True)
    with pytest.raises(ValueError, match="was written for other data or settings"):
        run(net(), X, y, checkpoint=path, resume=True, learning_rate=0.5)
    with pytest.raises(ValueError, match="was written for other data or settings"):
        run(net(), X, y, checkpoint=path, resume=True, seed=1)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot be read"):
        run(net(), X, y, checkpoint=path, resume=True)
    # resume=False starts over and overwrites it
    run(net(), X, y, checkpoint=path, max_iter=1)
    assert torch.load(path, weights_only=True)["epoch"] == 1


def test_resume_accepts_the_same_data_rounded_otherwise(tmp_path):
    # the same file preprocessed on another CPU can differ in the last bits (a scaler fitted with other
    # SIMD kernels, a vectorised log): still the same run. Shuffled rows are other data of that shape.
    X, y = data()
    path = tmp_path / "ckpt.pt"
    first = run(net(), X, y, checkpoint=path, max_iter=2)
    noise = torch.randn(X.shape, generator=torch.Generator().manual_seed(1))
    rounded = X * (1 + 4 * torch.finfo(torch.float32).eps * noise)  # a few float32 rounding steps
    assert not torch.equal(rounded, X)
    resumed = run(net(), rounded, y, checkpoint=path, resume=True, max_iter=3)
    assert resumed.n_iter == 3 and resumed.history["loss"][:2] == first.history["loss"]
    shuffled = torch.randperm(len(X), generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="was written for other data or settings"):
        run(net(), X[shuffled], y[shuffled], checkpoint=path, resume=True, max_iter=4)


def test_resume_without_a_checkpoint_starts_fresh(tmp_path):
    X, y = data()
    a, b = net(), net()
    run(a, X, y, checkpoint=tmp_path / "none-yet.pt", resume=True, max_iter=3)
    run(b, X, y, max_iter=3)
    assert same_weights(a, b)


KILLED_SCRIPT = """
import sys
import numpy as np
from sklearn.datasets import make_classification
from deepzoo import MLPClassifier

X, y = make_classification(2000, n_features=20, random_state=0)
MLPClassifier(**PARAMS).fit(X, y)
print("finished")
"""


@pytest.mark.slow
def test_resume_after_sigkill_matches_an_uninterrupted_fit(tmp_path):
    checkpoint = tmp_path / "ckpt.pt"
    params = dict(
        hidden_layer_sizes=(32, 32),
        batch_size=32,
        max_iter=60,
        tol=0.0,
        n_iter_no_change=1000,
        learning_rate=1e-3,
        dropout=0.1,
        random_state=0,
    )
    script = tmp_path / "train.py"
    script.write_text(
        textwrap.dedent(KILLED_SCRIPT).replace("PARAMS", repr({**params, "checkpoint": str(checkpoint)}))
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(
        [sys.executable, str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if checkpoint.exists() and torch.load(checkpoint, weights_only=True)["epoch"] >= 3:
                break
            time.sleep(0.02)
        assert proc.poll() is None, f"training ended before it was killed: {proc.communicate()}"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    epoch_at_kill = torch.load(checkpoint, weights_only=True)["epoch"]
    assert 3 <= epoch_at_kill < params["max_iter"]

    X, y = make_classification(2000, n_features=20, random_state=0)
    resumed = MLPClassifier(**params, checkpoint=str(checkpoint), resume=True).fit(X, y)
    assert not list(Path(tmp_path).glob("*.tmp*"))  # a file left by a kill mid-write is cleared
    uninterrupted = MLPClassifier(**params).fit(X, y)
    assert resumed.n_iter_ == uninterrupted.n_iter_ == params["max_iter"]
    # the first epochs ran in another process with one thread, the rest here with torch's default: the
    # same operations, but a thread count may order a sum otherwise (float32 rounding, ~1e-7 relative;
    # measured 0 on this machine with 1 and 2 threads); a resume from the wrong epoch or a lost
    # optimizer state moves the losses by 1e-3 and more
    np.testing.assert_allclose(resumed.history_["loss"], uninterrupted.history_["loss"], rtol=1e-5)
    np.testing.assert_allclose(resumed.predict_proba(X), uninterrupted.predict_proba(X), atol=1e-6)


def test_multiply_adds_counts_convolutions_per_position_and_leaves_the_module_alone():
    layers = [nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.Dropout(0.5), nn.Flatten()]
    net = nn.Sequential(*layers, nn.Linear(4 * 8 * 8, 10))
    net.train()
    before = torch.get_rng_state()
    macs = training.multiply_adds(net, torch.zeros(5, 1, 8, 8))
    # the convolution: 4 x 8 x 8 outputs, each 1 x 3 x 3 taps; the dense layer: 10 outputs x 256 inputs
    assert macs == 4 * 8 * 8 * 9 + 10 * 256
    assert net.training and torch.equal(torch.get_rng_state(), before)
    assert net[1].num_batches_tracked.item() == 0  # evaluated in eval mode: batch-norm statistics untouched
    assert not any(m._forward_hooks for m in net.modules())
    # fit_loop's thread choice reads that work: a convolution's weights alone would say "tiny"
    assert sum(p.numel() for p in net.parameters()) < macs
