"""Case study ``motion``: which way is the digit moving? One frame cannot tell; the order of ten frames can.

load (MNIST's digits, halved to 14x14; clips of 10 frames of 32x32 in which one digit slides in one of 8
directions, wrapping around the edges, training clips from the training digits, test clips from the test
digits) -> fit a per-frame CNN + LSTM (VideoClassifier) on the clips, and the same CNN alone on one frame
of each clip -> evaluate both on the test clips, on a leaderboard with the most frequent direction
(trivial) -> plot (confusion matrix, test clips with their predicted direction, learning curves) -> write.

Every frame of every direction looks alike (the digit can be anywhere), so the CNN alone stays near
chance (1/8): what tells the direction is the change from frame to frame, which the recurrent layers read.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score

from .. import plots
from ..data.video import DIRECTIONS, make_motion_clips
from ..engine.persistence import save
from ..engine.training import torch_threads
from ..models.video.estimators import VideoClassifier
from ..models.vision.convnet import ConvNetClassifier
from ..report import RunReport
from ..tasks.base import Leaderboard
from ..tasks.boards import add_board
from .moving_mnist import load_average


@dataclass
class Config:
    """Settings of the motion case study; every field can be overridden from the command line."""

    data: str | None = None
    """Folder with MNIST's four IDX .gz files; None asks the registry ($DEEPZOO_DATA_DIR/mnist, ...)."""
    seed: int = 0
    """Seed of the generated clips and of the networks."""
    device: str = "auto"
    """'auto' (CUDA when present), 'cpu' or 'cuda'."""
    quick: bool = False
    """Tiny budgets (200 training clips, one epoch) for tests and smoke runs."""
    verbose: bool = False
    """Show progress bars while training."""
    resume: bool = False
    """Continue an interrupted fit from the checkpoint in the run folder (same settings and seed)."""
    n_train: int = 4_000
    """Training clips, from MNIST's training digits."""
    n_test: int = 2_000
    """Test clips, from MNIST's test digits."""
    n_frames: int = 10
    """Frames per clip."""
    frame_size: int = 32
    """Side of the square frames."""
    speed: float = 2.0
    """Pixels per frame along each moving axis."""
    architecture: str = "lenet5"
    """The per-frame CNN (lenet5, small_vgg, resnet18, mobilenet_v2, efficientnet_lite0), for both models."""
    width: float = 1.0
    """Multiplier of the CNN's channels."""
    hidden_layer_sizes: tuple = (64,)
    """Units of each stacked recurrent layer."""
    cell: str = "lstm"
    """lstm, gru or rnn."""
    learning_rate: float = 3e-3
    """Adam's starting learning rate; it follows a half cosine to 0 over max_iter epochs."""
    batch_size: int = 64
    """Clips (or frames, for the CNN alone) per gradient step."""
    max_iter: int = 10
    """Epochs."""
    threads: int | None = None
    """CPU threads for torch (None: torch's default, every core)."""


def _budget(config: Config) -> Config:
    if not config.quick:
        return config
    return dataclasses.replace(
        config, n_train=min(config.n_train, 400), n_test=min(config.n_test, 100), max_iter=1
    )


def load_clips(config: Config):
    """(X_train, y_train, X_test, y_test): motion clips of MNIST's training and test digits, halved."""
    from .mnist import load_data

    train_digits, _, test_digits, _ = load_data(config.data)
    settings = dict(n_frames=config.n_frames, frame_size=config.frame_size, speed=config.speed)
    X_train, y_train = make_motion_clips(
        _halve(train_digits), config.n_train, random_state=config.seed, **settings
    )
    X_test, y_test = make_motion_clips(
        _halve(test_digits), config.n_test, random_state=config.seed + 1, **settings
    )
    return X_train, y_train, X_test, y_test


def _halve(digits: np.ndarray) -> np.ndarray:
    """28x28 digits -> 14x14 (mean of each 2x2 block), so that they move inside a small frame."""
    n, h, w = digits.shape
    return digits.reshape(n, h // 2, 2, w // 2, 2).mean(axis=(2, 4)).round().astype(np.uint8)


def _one_frame_each(clips: np.ndarray, seed: int) -> np.ndarray:
    """One frame drawn at random from each clip: (n, C, H, W)."""
    picks = np.random.default_rng(seed).integers(0, clips.shape[1], len(clips))
    return clips[np.arange(len(clips)), picks]


def run(config: Config, out_dir) -> dict:
    """Run the motion case study into ``out_dir``; return its metrics."""
    config = _budget(config)
    out_dir = Path(out_dir)
    report = RunReport(
        out_dir,
        "Which way does the digit move? A CNN + LSTM against the CNN alone",
        dataclasses.asdict(config),
        description=f"One MNIST digit slides in one of 8 directions through {config.n_frames} frames (and "
        "wraps around the edges). A per-frame CNN reads each frame; an LSTM reads the frames in order. "
        "The same CNN trained on single frames shows what one frame can tell.",
    )
    # load
    X_train, y_train, X_test, y_test = load_clips(config)
    names = np.asarray(DIRECTIONS)
    y_train, y_test = names[y_train], names[y_test]
    # fit: the CNN + LSTM on clips, and the same CNN alone on one frame of each clip
    shared = dict(learning_rate=config.learning_rate, lr_schedule="cosine", batch_size=config.batch_size,
                  max_iter=config.max_iter, device=config.device, verbose=config.verbose,
                  random_state=config.seed)  # fmt: skip
    model = VideoClassifier(
        config.architecture, width=config.width, hidden_layer_sizes=tuple(config.hidden_layer_sizes),
        cell=config.cell, checkpoint=out_dir / "checkpoints" / "classifier.ckpt", resume=config.resume,
        **shared,
    )  # fmt: skip
    single = ConvNetClassifier(config.architecture, width=config.width, **shared)
    with torch_threads(config.threads):
        load_before = load_average()
        started, cpu_started = time.perf_counter(), time.process_time()
        model.fit(X_train, y_train)
        model.set_params(checkpoint=None, resume=False)  # the saved model keeps no run-folder path
        fit_seconds = time.perf_counter() - started
        fit_cpu_seconds = time.process_time() - cpu_started
        load_after = load_average()
        started = time.perf_counter()
        single.fit(_one_frame_each(X_train, config.seed), y_train)
        single_seconds = time.perf_counter() - started
        # evaluate
        y_pred = model.predict(X_test)
        y_single = single.predict(_one_frame_each(X_test, config.seed + 1))
    metrics = {
        "accuracy": float(accuracy_score(y_test, y_pred)),
        "baseline_single_frame_accuracy": float(accuracy_score(y_test, y_single)),
        "fit_seconds": fit_seconds,
    }
    # the leaderboard, plot and write
    board = Leaderboard(
        "accuracy",
        advice="At this budget the frames' order taught the network nothing one frame does not; give it more "
        "clips or epochs.",
    )
    board.add("CNN + LSTM (VideoClassifier)", {"accuracy": metrics["accuracy"]}, fit_seconds, key="cnn_lstm",
              role="deep")  # fmt: skip
    board.add("the CNN alone, one frame", {"accuracy": metrics["baseline_single_frame_accuracy"]},
              single_seconds, key="single_frame")  # fmt: skip
    majority = pd.Series(y_train).mode().iloc[0]  # the most frequent training direction (first by name)
    board.add(f"always '{majority}' (most frequent)", {"accuracy": float(np.mean(y_test == majority))}, 0.0,
              key="majority", role="trivial")  # fmt: skip
    metrics = add_board(report, board, metrics, f"{len(y_test):,} test clips; chance is 1/8 = 0.125.")
    report.add_history(model.history_)
    report.add_figure("learning_curves", plots.plot_loss(model), "CNN + LSTM: training loss and accuracy.")
    report.add_figure(
        "confusion_matrix",
        plots.plot_confusion_matrix(y_test, y_pred, labels=list(DIRECTIONS)),
        "Test clips: rows are the true direction, columns the predicted one (CNN + LSTM).",
    )
    order = np.argsort(y_pred == y_test, kind="stable")[:6]  # mistakes first
    rows = [
        (f"{y_test[i]} ({'ok' if y_pred[i] == y_test[i] else 'said ' + y_pred[i]})", X_test[i]) for i in order
    ]
    report.add_figure(
        "test_clips",
        plots.plot_frame_rows(rows, title="Test clips: true direction (the CNN + LSTM's answer)"),
        "Each row is one test clip, frame by frame; mistakes come first.",
    )
    report.add_text(
        "What one frame can tell",
        f"The CNN + LSTM reads the direction in {metrics['accuracy']:.1%} of the test clips; the same CNN "
        f"on one frame gets {metrics['baseline_single_frame_accuracy']:.1%} (chance: 12.5%). The CNN + LSTM "
        f"trained {model.n_iter_} epochs on {len(y_train):,} clips in {fit_seconds:.0f} s "
        f"({fit_cpu_seconds:.0f} s of CPU time); the machine's load average was {load_before:.1f} when "
        f"training started and {load_after:.1f} when it ended.",
    )
    save(model, out_dir / "model")
    report.write()
    return metrics
