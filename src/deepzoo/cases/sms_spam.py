"""Case study ``sms_spam``: is this text message spam? (UCI SMS Spam Collection, 5,574 raw messages).

load (``label<TAB>message`` lines, read without quote handling) -> stratified 80/20 split -> fit a
SequenceClassifier on the raw texts (its vocabulary is learned from the training messages only and
saved with the model) beside a TF-IDF + logistic regression baseline -> precision, recall, F1 of spam,
ROC-AUC, the messages it gets wrong, token saliency -> write.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from .. import plots
from ..data.registry import dataset_file
from ..data.text import read_sms_spam
from ..persistence import save
from ..report import RunReport
from ..text_classifier import SequenceClassifier
from . import text_common


@dataclass
class Config:
    """Settings of the SMS spam case study; every field can be overridden from the command line."""

    data: str | None = None
    """The SMSSpamCollection file or its folder; None asks the registry."""
    seed: int = 0
    """Seed of the split and the network."""
    device: str = "auto"
    """'auto' (CUDA when present), 'cpu' or 'cuda'."""
    quick: bool = False
    """Tiny budgets for tests and smoke runs."""
    test_size: float = 0.2
    """Share of messages held out (stratified)."""
    architecture: str = "conv1d"
    """conv1d, lstm, gru, bilstm, stacked_bilstm or conv_lstm."""
    max_length: int = 60
    """Tokens read per message."""
    max_tokens: int = 20000
    """Vocabulary size."""
    embedding_dim: int = 64
    """Size of each word vector."""
    n_filters: int = 128
    """Convolution filters."""
    hidden_size: int = 32
    """Units per recurrent direction."""
    dropout: float = 0.2
    """Dropout before the output layer (and between recurrent layers)."""
    learning_rate: float = 2e-3
    """Adam's learning rate."""
    batch_size: int = 64
    """Messages per gradient step."""
    max_iter: int = 8
    """Epochs."""
    verbose: bool = False
    """Show progress bars while training."""


def _budget(config: Config) -> Config:
    return dataclasses.replace(config, max_iter=1, max_length=20) if config.quick else config


def run(config: Config, out_dir) -> dict:
    """Run the SMS spam case study into ``out_dir``; return its metrics."""
    config = _budget(config)
    out_dir = Path(out_dir)
    report = RunReport(
        out_dir,
        "Is this text message spam?",
        dataclasses.asdict(config),
        description="The UCI SMS Spam Collection (5,574 messages, 13% spam), raw text in, a 20% "
        "stratified test split, a sequence classifier beside TF-IDF + logistic regression.",
    )
    # load
    texts, y = read_sms_spam(dataset_file("sms_spam", "SMSSpamCollection", config.data))
    texts = np.asarray(texts, dtype=object)
    if config.quick:  # a stratified fifth of the messages
        texts, _, y, _ = train_test_split(texts, y, train_size=0.2, stratify=y, random_state=config.seed)
    X_train, X_test, y_train, y_test = train_test_split(
        texts, y, test_size=config.test_size, stratify=y, random_state=config.seed
    )
    # fit
    clf = SequenceClassifier(
        config.architecture,
        embedding_dim=config.embedding_dim,
        hidden_size=config.hidden_size,
        n_filters=config.n_filters,
        max_tokens=config.max_tokens,
        max_length=config.max_length,
        dropout=config.dropout,
        learning_rate=config.learning_rate,
        batch_size=config.batch_size,
        max_iter=config.max_iter,
        n_iter_no_change=config.max_iter,
        device=config.device,
        random_state=config.seed,
        verbose=config.verbose,
    )
    started = time.perf_counter()
    clf.fit(list(X_train), y_train)
    fit_seconds = time.perf_counter() - started
    baseline = text_common.tfidf_baseline()
    started = time.perf_counter()
    baseline.fit(X_train, y_train)
    baseline_seconds = time.perf_counter() - started
    # evaluate
    proba = clf.predict_proba(list(X_test))[:, 1]
    base_proba = baseline.predict_proba(X_test)[:, 1]
    scores = text_common.binary_scores(y_test, proba)
    base_scores = text_common.binary_scores(y_test, base_proba)
    metrics = {
        **scores,
        "tfidf_f1": base_scores["f1"],
        "tfidf_roc_auc": base_scores["roc_auc"],
        "fit_seconds": fit_seconds,
        "epochs": clf.n_iter_,
        "n_train": len(y_train),
        "n_test": len(y_test),
        "spam_rate": float(np.mean(y)),
    }
    # plot and write
    report.add_metrics(**metrics)
    report.add_history(clf.history_)
    report.add_figure("learning_curves", plots.plot_loss(clf), "Training loss per epoch.")
    ax = plots.plot_roc(y_test, proba, label=f"SequenceClassifier ({config.architecture})")
    plots.plot_roc(y_test, base_proba, ax=ax, label="TF-IDF + logistic regression")
    report.add_figure("roc_curve", ax, "Test messages.")
    report.add_figure(
        "confusion_matrix",
        plots.plot_confusion_matrix(y_test, (proba >= 0.5).astype(int), labels=["ham", "spam"]),
        "Test messages, threshold 0.5.",
    )
    table = pd.DataFrame(
        {
            "SequenceClassifier": {**scores, "fit_seconds": fit_seconds},
            "TF-IDF + logistic regression": {**base_scores, "fit_seconds": baseline_seconds},
        }
    ).T
    report.add_table("comparison", table.round(4).reset_index(names="model"), "Same split.")
    report.add_table(
        "mistakes",
        text_common.mistakes(X_test, y_test, proba, labels=("ham", "spam")),
        "The test messages it gets wrong, most confident first.",
    )
    spam_idx = np.flatnonzero(y_test == 1)[:2].tolist()
    ham_idx = np.flatnonzero(y_test == 0)[:1].tolist()
    text_common.add_saliency_figures(
        report,
        clf,
        [X_test[i] for i in spam_idx + ham_idx],
        [f"test_{i}" for i in spam_idx + ham_idx],
        "Spam?",
    )
    save(clf, out_dir / "model")
    report.write()
    return metrics
