"""Case study ``text_generation``: a recurrent language model writes text messages.

load (the ham messages of the SMS Spam Collection, CC BY 4.0; 10% held out) -> fit a word-level
TextGenerator -> perplexity on the held-out messages on a leaderboard beside a bigram model (classical)
and word frequencies (unigram, trivial) -> continue a few prompts at several temperatures (and top-k)
-> write.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from .. import plots
from ..data.registry import dataset_file
from ..data.text import read_sms_spam, tokenize
from ..engine.persistence import save
from ..models.sequence.language_model import TextGenerator
from ..report import RunReport
from ..tasks.base import Leaderboard, stopwatch
from ..tasks.boards import add_board


@dataclass
class Config:
    """Settings of the text generation case study; every field can be overridden from the command line."""

    data: str | None = None
    """The SMSSpamCollection file or its folder; None asks the registry."""
    seed: int = 0
    """Seed of the split, the network and the sampling."""
    device: str = "auto"
    """'auto' (CUDA when present), 'cpu' or 'cuda'."""
    quick: bool = False
    """Tiny budgets for tests and smoke runs."""
    level: str = "word"
    """'word' or 'char'."""
    n_timesteps: int = 16
    """Tokens of context per training window."""
    max_tokens: int = 4000
    """Vocabulary size."""
    embedding_dim: int = 64
    """Size of each token vector."""
    hidden_layer_sizes: tuple = (256,)
    """Units of each stacked LSTM layer."""
    learning_rate: float = 3e-3
    """Adam's learning rate."""
    batch_size: int = 64
    """Windows per gradient step."""
    max_iter: int = 12
    """Epochs."""
    prompts: tuple = ("i will call you", "are you free", "sorry i", "what time")
    """Prompts to continue."""
    temperatures: tuple = (0.5, 1.0)
    """Sampling temperatures shown."""
    top_k: int | None = 20
    """Sample among the k most likely tokens (None: all)."""
    n_tokens: int = 15
    """Tokens generated per continuation."""
    verbose: bool = False
    """Show progress bars while training."""


def _budget(config: Config) -> Config:
    return dataclasses.replace(config, max_iter=1, hidden_layer_sizes=(32,)) if config.quick else config


def unigram_perplexity(train_docs, test_docs, vocabulary) -> float:
    """Perplexity of word frequencies alone (add-one smoothing, unknown words pooled), tokens + '<eos>'."""
    known = set(vocabulary)
    counts = Counter(t if t in known else "<unk>" for doc in train_docs for t in (*doc, "<eos>"))
    total, size = sum(counts.values()), len(counts) + 1
    logs = [
        np.log((counts.get(t if t in known else "<unk>", 0) + 1) / (total + size))
        for doc in test_docs
        for t in (*doc, "<eos>")
    ]
    return float(np.exp(-np.mean(logs)))


class BigramModel:
    """The previous token alone: bigram counts with absolute discounting (0.75, not tuned) interpolated with
    the add-one unigram of :func:`unigram_perplexity`, on the same tokens (the network's vocabulary,
    unknown words pooled, '<eos>' closing each message and opening the next)."""

    def __init__(self, vocabulary, discount: float = 0.75):
        self.vocabulary = vocabulary
        self.discount = discount

    def _stream(self, docs) -> list[str]:
        known = set(self.vocabulary)
        return [t if t in known else "<unk>" for doc in docs for t in (*doc, "<eos>")]

    def fit(self, docs) -> BigramModel:
        stream = self._stream(docs)
        self.unigrams_ = Counter(stream)
        self.pairs_ = Counter(zip(["<eos>", *stream[:-1]], stream))
        self.contexts_, self.followers_ = Counter(), Counter()
        for (previous, _), count in self.pairs_.items():
            self.contexts_[previous] += count
            self.followers_[previous] += 1
        return self

    def perplexity(self, docs) -> float:
        stream = self._stream(docs)
        total, size = sum(self.unigrams_.values()), len(self.unigrams_) + 1
        d, logs = self.discount, []
        for previous, token in zip(["<eos>", *stream[:-1]], stream):
            p = (self.unigrams_.get(token, 0) + 1) / (total + size)
            n = self.contexts_.get(previous, 0)
            if n:
                seen = max(self.pairs_.get((previous, token), 0) - d, 0.0) / n
                p = seen + d * self.followers_[previous] / n * p
            logs.append(np.log(p))
        return float(np.exp(-np.mean(logs)))


def run(config: Config, out_dir) -> dict:
    """Run the text generation case study into ``out_dir``; return its metrics."""
    config = _budget(config)
    out_dir = Path(out_dir)
    report = RunReport(
        out_dir,
        "A recurrent network writes text messages",
        dataclasses.asdict(config),
        description="A word-level LSTM language model trained on the 4,827 legitimate ('ham') messages of "
        "the SMS Spam Collection (CC BY 4.0), then asked to continue prompts.",
    )
    # load
    texts, y = read_sms_spam(dataset_file("sms_spam", "SMSSpamCollection", config.data))
    ham = [t for t, label in zip(texts, y, strict=True) if label == 0]
    if config.quick:
        ham = ham[:500]
    train, test = train_test_split(ham, test_size=0.1, random_state=config.seed)
    # fit
    model = TextGenerator(
        config.level,
        n_timesteps=config.n_timesteps,
        max_tokens=config.max_tokens,
        embedding_dim=config.embedding_dim,
        hidden_layer_sizes=tuple(config.hidden_layer_sizes),
        learning_rate=config.learning_rate,
        batch_size=config.batch_size,
        max_iter=config.max_iter,
        n_iter_no_change=config.max_iter,
        device=config.device,
        random_state=config.seed,
        verbose=config.verbose,
    )
    started = time.perf_counter()
    model.fit(train)
    fit_seconds = time.perf_counter() - started
    # evaluate
    tok = lambda text: tokenize(text, level=config.level)  # noqa: E731
    train_docs, test_docs = [tok(t) for t in train], [tok(t) for t in test]
    with stopwatch() as bigram_seconds:
        bigram = BigramModel(model.vocabulary_).fit(train_docs)
    metrics = {
        "perplexity": model.perplexity(test),
        "unigram_perplexity": unigram_perplexity(train_docs, test_docs, model.vocabulary_),
        "fit_seconds": fit_seconds,
        "epochs": model.n_iter_,
        "vocabulary_size": len(model.vocabulary_),
        "n_train_messages": len(train),
        "n_test_messages": len(test),
    }
    rows = []
    for prompt in config.prompts:
        for temperature in config.temperatures:
            try:
                text = model.generate(
                    prompt,
                    config.n_tokens,
                    temperature=temperature,
                    top_k=config.top_k,
                    random_state=config.seed,
                )
            except ValueError as exc:  # a prompt of only unknown words: say so in the table
                text = f"({exc})"
            rows.append({"prompt": prompt, "temperature": temperature, "continuation": text})
    # beside the bigram and unigram models; plot and write
    unit = "word" if config.level == "word" else "character"
    board = Leaderboard(
        "perplexity",
        advice=f"Counting pairs of {unit}s is enough for these short messages at this budget; give the "
        "network more epochs or text.",
    )
    board.add(f"{config.level}-level LSTM (deepzoo)", {"perplexity": metrics["perplexity"]}, fit_seconds,
              key="lstm", role="deep")  # fmt: skip
    board.add(f"bigram (previous {unit})", {"perplexity": bigram.perplexity(test_docs)}, bigram_seconds(),
              key="bigram")  # fmt: skip
    board.add(f"unigram ({unit} frequencies)", {"perplexity": metrics["unigram_perplexity"]}, 0.0,
              key="unigram", role="trivial")  # fmt: skip
    metrics = add_board(
        report,
        board,
        metrics,
        f"Perplexity of the {len(test):,} held-out messages (lower is better), every model on the same "
        "tokens (the network's vocabulary, unknown words pooled); the n-gram models score each token once, "
        f"the network each token of its half-overlapping windows of {config.n_timesteps}.",
    )
    report.add_history(model.history_)
    report.add_figure("learning_curves", plots.plot_loss(model), "Mean next-token cross-entropy per epoch.")
    report.add_table(
        "continuations",
        pd.DataFrame(rows),
        f"Sampled with top_k={config.top_k}; lower temperature = safer, more repetitive text.",
    )
    save(model, out_dir / "model")
    report.write()
    return metrics
