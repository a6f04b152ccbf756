"""Case study ``sms_spam``: is this text message spam? (UCI SMS Spam Collection, 5,574 raw messages).

load (``label<TAB>message`` lines, read without quote handling) -> the text task's road
(:mod:`deepzoo.tasks.text`): a stratified 80/20 split with every copy of a message on one side ->
SequenceClassifier on the raw texts (its vocabulary learned from the training messages only and saved
with the model) beside TF-IDF + logistic regression and the majority class -> leaderboard, ROC,
confusion matrix, the messages it gets wrong, token saliency -> the course's extras: precision and
recall of spam -> write.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import precision_score, recall_score
from sklearn.model_selection import train_test_split

from ..data.registry import dataset_file
from ..data.text import read_sms_spam
from ..engine.persistence import save
from ..report import RunReport
from ..tasks import text
from ..tasks.base import FitConfig


@dataclass
class Config:
    """Settings of the SMS spam case study; every field can be overridden from the command line.

    The network's fields default to None: the text task's rule for the corpus
    (:func:`deepzoo.tasks.text.text_settings`: a bag of words and word pairs, sizes from the data).
    """

    data: str | None = None
    """The SMSSpamCollection file or its folder; None asks the registry."""
    seed: int = 0
    """Seed of the split and the network."""
    device: str = "auto"
    """'auto' (CUDA when present), 'cpu' or 'cuda'."""
    quick: bool = False
    """Tiny budgets for tests and smoke runs."""
    test_size: float = 0.2
    """Share of messages held out (stratified; copies of a message stay on one side)."""
    architecture: str | None = None
    """bag, conv1d, lstm, gru, bilstm, stacked_bilstm or conv_lstm; None: bag."""
    max_length: int | None = None
    """Tokens read per message; None: the 99th percentile of the training messages' lengths."""
    embedding_dim: int | None = None
    """Size of each word vector; None: 64."""
    dropout: float | None = None
    """Dropout before the output layer; None: 0.3."""
    learning_rate: float | None = None
    """Adam's learning rate; None: 3e-3."""
    max_iter: int | None = None
    """Epochs at most (early stopping keeps the best); None: 30."""
    verbose: bool = False
    """Show progress bars while training."""


_NETWORK = ("architecture", "max_length", "embedding_dim", "dropout", "learning_rate", "max_iter")


def _settings(config: Config) -> dict:
    """The network's settings the config overrides (the quick budget first)."""
    settings = {"max_iter": 1, "max_length": 20} if config.quick else {}
    settings.update({k: getattr(config, k) for k in _NETWORK if getattr(config, k) is not None})
    return settings


def run(config: Config, out_dir) -> dict:
    """Run the SMS spam case study into ``out_dir``; return its metrics."""
    out_dir = Path(out_dir)
    report = RunReport(
        out_dir,
        "Is this text message spam?",
        dataclasses.asdict(config),
        description="The UCI SMS Spam Collection (5,574 messages, 13% spam), raw text in, a 20% "
        "stratified test split, a sequence classifier beside TF-IDF + logistic regression and the "
        "majority class (deepzoo fit's text road).",
    )
    # load
    texts, y = read_sms_spam(dataset_file("sms_spam", "SMSSpamCollection", config.data))
    labels = np.where(y == 1, "spam", "ham")
    if config.quick:  # a stratified fifth of the messages
        texts, _, labels, _ = train_test_split(
            texts, labels, train_size=0.2, stratify=labels, random_state=config.seed
        )
    X_train, y_train, X_test, y_test = text.split(texts, labels, config.test_size, config.seed)
    # fit and compare
    fit_config = FitConfig(
        seed=config.seed, device=config.device, settings=_settings(config), verbose=config.verbose
    )
    clf, board, outputs = text.fit_and_compare(X_train, y_train, X_test, y_test, fit_config)
    # evaluate: the course's precision and recall of spam
    spam = outputs[text.DEEP_NAME][:, list(clf.classes_).index("spam")] >= 0.5
    metrics = {
        **board.metrics(),
        "precision": float(precision_score(y_test == "spam", spam, zero_division=0)),
        "recall": float(recall_score(y_test == "spam", spam)),
        "epochs": clf.n_iter_,
        "n_train": len(y_train),
        "n_test": len(y_test),
        "spam_rate": float(np.mean(labels == "spam")),
    }
    # plot and write
    report.add_metrics(**metrics)
    board.add_to_report(report)
    text.add_pictures(report, clf, X_test, y_test, outputs)
    save(clf, out_dir / "model")
    report.write()
    return metrics
