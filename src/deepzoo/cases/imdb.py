"""Case study ``imdb``: is this movie review positive? (Deep Learning Illustrated's IMDB chapter).

load (the aclImdb layout: 5,000 raw training reviews, 5,000 test reviews, balanced; its own split is
kept) -> optionally learn word vectors with Word2Vec on the TRAINING reviews only -> the text task's
road (:mod:`deepzoo.tasks.text`): a SequenceClassifier (by default the bag of words and word pairs;
the book's line-up conv1d, lstm, gru, bilstm, stacked_bilstm, conv_lstm with ``--set architecture=``)
beside TF-IDF + logistic regression and the majority class, in one call
(:func:`deepzoo.tasks.text.fit_and_report`) -> ROC-AUC on the 5,000 test reviews, the reviews it gets
wrong, token saliency -> the course's extra: the word vectors' neighbourhoods -> write.

The book trains on 25,000 reviews (its best, a conv net, reaches ROC-AUC 96.18%); here there are 5,000.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import plots
from ..data.registry import resolve
from ..data.text import read_text_folder
from ..engine.persistence import save
from ..models.word2vec import Word2Vec
from ..report import RunReport
from ..tasks import text
from ..tasks.base import FitConfig


@dataclass
class Config:
    """Settings of the IMDB case study; every field can be overridden from the command line.

    The network's fields default to None: the text task's rule for the corpus
    (:func:`deepzoo.tasks.text.text_settings`: a bag of words and word pairs, sizes from the data).
    """

    data: str | None = None
    """The imdb folder (holding aclImdb_subset/) or the aclImdb folder itself; None asks the registry."""
    seed: int = 0
    """Seed of the networks."""
    device: str = "auto"
    """'auto' (CUDA when present), 'cpu' or 'cuda'."""
    quick: bool = False
    """Tiny budgets (a few hundred reviews, one epoch) for tests and smoke runs."""
    architecture: str | None = None
    """bag, conv1d, lstm, gru, bilstm, stacked_bilstm or conv_lstm; None: bag (benchmarks/RESULTS.md
    compares them)."""
    max_length: int | None = None
    """Tokens read per review; None: the 99th percentile of the training reviews' lengths."""
    embedding_dim: int | None = None
    """Size of each word vector; None: 64 (the Word2Vec vectors' size too)."""
    dropout: float | None = None
    """Dropout before the output layer; None: 0.3."""
    learning_rate: float | None = None
    """Adam's learning rate; None: 3e-3."""
    max_iter: int | None = None
    """Epochs at most (early stopping keeps the best); None: 30."""
    word2vec: bool = False
    """Start the embedding from Word2Vec vectors learned on the training reviews (the chapter's idea;
    benchmarks/RESULTS.md: it no longer helps the bag, whose vectors start near zero)."""
    word2vec_epochs: int = 5
    """Epochs of Word2Vec."""
    verbose: bool = False
    """Show progress bars while training."""


_NETWORK = ("architecture", "max_length", "embedding_dim", "dropout", "learning_rate", "max_iter")


def _settings(config: Config) -> dict:
    """The network's settings the config overrides (the quick budget first)."""
    settings = {"max_iter": 1, "max_length": 100, "embedding_dim": 16} if config.quick else {}
    settings.update({k: getattr(config, k) for k in _NETWORK if getattr(config, k) is not None})
    return settings


def _folder(config: Config) -> Path:
    root = resolve("imdb", config.data)
    return root / "aclImdb_subset" if (root / "aclImdb_subset").is_dir() else root


def run(config: Config, out_dir) -> dict:
    """Run the IMDB case study into ``out_dir``; return its metrics."""
    out_dir = Path(out_dir)
    report = RunReport(
        out_dir,
        "Is this movie review positive?",
        dataclasses.asdict(config),
        description="Raw IMDB reviews (aclImdb, 5,000 for training, 5,000 for testing, balanced): "
        "a sequence classifier beside TF-IDF + logistic regression and the majority class, all trained "
        "on the same 5,000 reviews (deepzoo fit's text road).",
    )
    # load: the folder's own train/ and test/ parts
    parts = read_text_folder(_folder(config))
    (X_train, y_train), (X_test, y_test) = parts["train"], parts["test"]
    if config.quick:
        rng = np.random.default_rng(config.seed)
        keep_train, keep_test = rng.permutation(len(y_train))[:400], rng.permutation(len(y_test))[:200]
        X_train, y_train = [X_train[i] for i in keep_train], y_train[keep_train]
        X_test, y_test = [X_test[i] for i in keep_test], y_test[keep_test]
    fit_config = FitConfig(
        task="text",
        out=str(out_dir),
        seed=config.seed,
        device=config.device,
        settings=_settings(config),
        verbose=config.verbose,
    )
    report.config["fit"] = fit_config.to_dict()
    # the course's start: word vectors learned on the training reviews
    extras: dict = {}
    vectors = None
    if config.word2vec:
        started = time.perf_counter()
        vectors = Word2Vec(
            fit_config.settings.get("embedding_dim", text.text_settings(X_train)["embedding_dim"]),
            window=5,
            min_count=3,
            max_iter=1 if config.quick else config.word2vec_epochs,
            device=config.device,
            random_state=config.seed,
        ).fit(X_train)
        extras["word2vec_seconds"] = time.perf_counter() - started
    # the text task: fit -> beside the baselines -> leaderboard and pictures
    outcome = text.fit_and_report(
        report,
        X_train,
        y_train,
        X_test,
        y_test,
        fit_config,
        how="the folder's own train/ and test/ parts",
        caption="Every model on the 5,000 test reviews; the book's best on 25,000: 96.18%.",
        word_vectors=vectors,
    )
    clf = outcome.model
    # the course's extra: the word vectors' neighbourhoods
    metrics = report.add_metrics(pretrained_tokens=getattr(clf, "n_pretrained_tokens_", 0), **extras)
    if vectors is not None:
        _add_word_vectors(report, vectors)
    save(clf, out_dir / "model")
    report.write()
    return metrics


def _add_word_vectors(report, vectors) -> None:
    """The course's picture: a few query words and their nearest Word2Vec neighbours, in 2-D."""
    queries = [w for w in ("great", "awful", "boring", "actor") if vectors.vector(w) is not None]
    words, groups = [], []
    for q in queries:
        for w in [q] + [n for n, _ in vectors.most_similar(q, 6)]:
            if w not in words:
                words.append(w)
                groups.append(q)
    if len(words) >= 3:
        report.add_figure(
            "word_vectors",
            plots.plot_word_vectors(vectors, words, groups=groups),
            "Word2Vec vectors learned from the training reviews: each query word and its nearest "
            "neighbours, projected to 2-D by PCA.",
        )
