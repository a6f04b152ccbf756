"""What the image case studies share: the report's pictures and the test-set figures of a ConvNet."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import accuracy_score

from .. import distributed, plots
from ..audit.explain import input_gradients
from ..persistence import save
from ..report import RunReport
from ..training import torch_threads


def evaluate(clf, X_test, y_test) -> tuple[dict, np.ndarray]:
    """Test accuracy (and the predictions) of a fitted classifier."""
    y_pred = clf.predict(X_test)
    return {"accuracy": float(accuracy_score(y_test, y_pred)), "n_test": len(y_test)}, y_pred


def add_pictures(report: RunReport, clf, X_test, y_test, y_pred, *, class_names=None, n_saliency=6) -> None:
    """Learning curves, confusion matrix, predictions (mistakes first), first-layer filters, saliency."""
    report.add_history(clf.history_)
    report.add_figure("learning_curves", plots.plot_loss(clf), "Training loss and accuracy per epoch.")
    report.add_figure(
        "confusion_matrix",
        plots.plot_confusion_matrix(y_test, y_pred, labels=class_names),
        "Test images: rows are the true class, columns the predicted one.",
    )
    report.add_figure(
        "predictions",
        plots.plot_predictions(X_test, y_test, y_pred, n=24),
        "Test images titled 'predicted (true)'; the mistakes come first, framed in red.",
    )
    report.add_figure(
        "first_layer_filters",
        plots.plot_conv_filters(clf),
        "The kernels of the first convolution: edge, blob and colour detectors after training.",
    )
    wrong = np.flatnonzero(np.asarray(y_test) != np.asarray(y_pred))
    right = np.flatnonzero(np.asarray(y_test) == np.asarray(y_pred))
    chosen = np.concatenate([wrong[: n_saliency // 2], right])[:n_saliency]
    saliency = np.abs(input_gradients(clf, X_test[chosen])).sum(axis=1, keepdims=True)  # (n, 1, h, w)
    size = np.shape(X_test)[-2:]
    if saliency.shape[-2:] != size:  # the network saw resized images: map back to the shown ones
        saliency = torch.nn.functional.interpolate(torch.as_tensor(saliency), size=size, mode="area").numpy()
    labels = [f"{y_pred[i]} ({y_test[i]})" for i in chosen]
    report.add_figure(
        "saliency",
        plots.plot_saliency(X_test[chosen], saliency, labels=labels, n=n_saliency),
        "Input gradients of the predicted class's score: the pixels that move the decision most "
        "(a few mistakes first, then correct answers).",
    )


def fit_and_report(
    report: RunReport,
    clf,
    data,
    out_dir,
    *,
    threads: int | None = None,
    extra: dict | None = None,
    resume: bool = False,
) -> dict:
    """The tail every image case shares: fit (timed in wall and CPU seconds; a checkpoint after every
    epoch in ``out_dir/checkpoints``, continued from with ``resume``) -> test accuracy -> the pictures ->
    save the model (rank 0) -> write the report. ``data`` is (X_train, y_train, X_test, y_test);
    ``extra`` holds the case's own metrics to add. Returns the metrics."""
    X_train, y_train, X_test, y_test = data
    checkpoint = Path(out_dir) / "checkpoints" / "convnet.ckpt" if distributed.is_main_process() else None
    clf.set_params(checkpoint=None if checkpoint is None else str(checkpoint), resume=resume)
    with torch_threads(threads):
        started, cpu_started = time.perf_counter(), time.process_time()
        clf.fit(X_train, y_train)
        clf.set_params(checkpoint=None, resume=False)  # the saved model keeps no run-folder path
        fit_seconds = time.perf_counter() - started
        fit_cpu_seconds = time.process_time() - cpu_started
        metrics, y_pred = evaluate(clf, X_test, y_test)
    metrics.update(
        fit_seconds=fit_seconds,
        fit_cpu_seconds=fit_cpu_seconds,
        seconds_per_epoch=fit_seconds / max(clf.n_iter_, 1),
        epochs=clf.n_iter_,
        n_train=len(y_train),
        test_errors=int((np.asarray(y_pred) != np.asarray(y_test)).sum()),
    )
    metrics.update(extra or {})
    report.add_metrics(**metrics)
    add_pictures(report, clf, X_test, y_test, y_pred)
    if distributed.is_main_process():
        save(clf, Path(out_dir) / "model")
    report.write()
    return metrics
