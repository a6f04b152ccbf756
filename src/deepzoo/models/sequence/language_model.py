"""TextGenerator: a word- or character-level recurrent language model that continues a prompt.

Its own module to keep recurrent.py short; it reuses recurrent.py's layers and training settings.
Training cuts the token stream of all documents (each ended by '<eos>') into half-overlapping windows
and learns the next token at every position; ``generate`` samples with a temperature and top-k.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...data.text import _documents, tokenize
from ...engine.base import Interval, Options, seed_from
from ...engine.persistence import register
from .recurrent import _POSITIVE_INT, _TRAINING_FITTED, RecurrentStack, _as_tuple, _RecurrentBase

__all__ = ["LanguageNet", "TextGenerator"]


class LanguageNet(nn.Module):
    """Embedding -> recurrent stack -> Linear over the vocabulary at every step."""

    def __init__(self, n_tokens, embedding_dim, hidden_sizes, cell, dropout):
        super().__init__()
        self.embedding = nn.Embedding(n_tokens, embedding_dim, padding_idx=0)
        self.rnn = RecurrentStack(embedding_dim, hidden_sizes, cell, dropout, False)
        self.head = nn.Linear(self.rnn.n_outputs, n_tokens)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(self.embedding(ids)))  # (N, T) -> (N, T, n_tokens)


@register
class TextGenerator(_RecurrentBase):
    """A word- or character-level recurrent language model that continues a prompt.

    Parameters
    ----------
    level : {'word', 'char'}, default='word'
    n_timesteps : int, default=20
        Tokens of context per training window.
    max_tokens : int, default=5000
        Vocabulary size, special tokens included ('<pad>', '<unk>', '<eos>' ending each document).
    embedding_dim, hidden_layer_sizes, cell, dropout : the network.
    alpha, solver, learning_rate, batch_size, max_iter, tol, n_iter_no_change, early_stopping,
    validation_fraction, clip_grad_norm, warm_start, verbose, device, random_state
        As in :class:`deepzoo.MLPRegressor`.

    Examples
    --------
    >>> from deepzoo import TextGenerator
    >>> gen = TextGenerator(n_timesteps=4, max_iter=60, learning_rate=0.02, random_state=0)
    >>> gen.fit(["the cat sat on the mat"] * 20).generate("the cat", 4, temperature=0.01)
    'the cat sat on the mat'
    """

    _parameter_constraints = {
        **_RecurrentBase._parameter_constraints,
        "level": [Options("word", "char")],
        "n_timesteps": [_POSITIVE_INT],
        "max_tokens": [Interval(numbers.Integral, 4, None, closed="left")],
        "embedding_dim": [_POSITIVE_INT],
        "hidden_layer_sizes": ["int_tuple"],
    }
    _fitted_attributes = _TRAINING_FITTED | {"vocabulary_"}

    def __init__(
        self,
        level="word",
        *,
        n_timesteps=20,
        max_tokens=5000,
        embedding_dim=64,
        hidden_layer_sizes=(128,),
        cell="lstm",
        dropout=0.0,
        alpha=0.0,
        solver="adam",
        learning_rate=3e-3,
        batch_size=64,
        max_iter=20,
        tol=1e-4,
        n_iter_no_change=5,
        early_stopping=False,
        validation_fraction=0.1,
        clip_grad_norm=1.0,
        warm_start=False,
        verbose=False,
        device="auto",
        random_state=None,
    ):
        self.level = level
        self.n_timesteps = n_timesteps
        self.max_tokens = max_tokens
        self.embedding_dim = embedding_dim
        self.hidden_layer_sizes = hidden_layer_sizes
        self.cell = cell
        self.dropout = dropout
        self.alpha = alpha
        self.solver = solver
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.clip_grad_norm = clip_grad_norm
        self.warm_start = warm_start
        self.verbose = verbose
        self.device = device
        self.random_state = random_state

    @staticmethod
    def _loss(output, target):
        # (N, T, V) logits, (N, T) next tokens -> one loss per window
        return F.cross_entropy(output.transpose(1, 2), target, reduction="none").mean(1)

    def _build_module(self) -> LanguageNet:
        return LanguageNet(
            len(self.vocabulary_),
            self.embedding_dim,
            _as_tuple(self.hidden_layer_sizes),
            self.cell,
            self.dropout,
        )

    def _tokenize(self, text: str) -> list[str]:
        return tokenize(text, lowercase=True, level=self.level)

    def fit(self, X, y=None) -> TextGenerator:
        """Learn to predict each next token of the documents ``X`` (a list of texts)."""
        self._check_params()
        continuing = self.warm_start and hasattr(self, "module_")
        docs = [self._tokenize(d) for d in _documents(X)]
        if not continuing:
            counts: dict = {}
            for doc in docs:
                for t in doc:
                    counts[t] = counts.get(t, 0) + 1
            ranked = sorted(counts, key=lambda t: (-counts[t], t))[: self.max_tokens - 3]
            self.vocabulary_ = ("<pad>", "<unk>", "<eos>", *ranked)
        X_t, y_t = self._windows(docs)
        return self._train(X_t, y_t, continuing=continuing, build=self._build_module)

    def _windows(self, docs) -> tuple[torch.Tensor, torch.Tensor]:
        """Half-overlapping windows of the token stream and the tokens that follow each position."""
        index = {t: i for i, t in enumerate(self.vocabulary_)}
        stream = np.asarray([index.get(t, 1) for doc in docs for t in (*doc, "<eos>")], dtype=np.int64)
        T = self.n_timesteps
        if len(stream) < T + 1:
            raise ValueError(
                f"The texts hold {len(stream)} tokens, fewer than n_timesteps + 1 = {T + 1}. "
                "Give more text or a smaller n_timesteps."
            )
        starts = np.arange(0, len(stream) - T, max(1, T // 2))
        windows = stream[starts[:, None] + np.arange(T + 1)]  # (n, T + 1)
        return torch.as_tensor(windows[:, :-1]), torch.as_tensor(windows[:, 1:])

    def perplexity(self, X) -> float:
        """exp(mean cross-entropy of each next token) over the texts ``X``; lower is better."""
        self._check_fitted()
        inputs, targets = self._windows([self._tokenize(d) for d in _documents(X)])
        device = self._device()
        self.module_.eval()
        with torch.no_grad():
            losses = [
                self._loss(self.module_(a.to(device)), b.to(device))
                for a, b in zip(inputs.split(256), targets.split(256), strict=True)
            ]
        return float(torch.exp(torch.cat(losses).mean()))

    def generate(
        self,
        prompt: str,
        n_tokens: int = 20,
        *,
        temperature: float = 1.0,
        top_k=None,
        stop_at_eos: bool = True,
        random_state=None,
    ) -> str:
        """Continue ``prompt`` by sampling ``n_tokens`` tokens.

        ``temperature`` < 1 sharpens the distribution (-> greedy), > 1 flattens it; ``top_k`` keeps the
        k most likely tokens. Unknown prompt words are read as '<unk>'; a prompt of only unknown words
        is an error.
        """
        self._check_fitted()
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValueError("The prompt must be a non-empty text.")
        if not (isinstance(temperature, numbers.Real) and temperature > 0):
            raise ValueError(f"temperature must be a float > 0; got {temperature!r}.")
        if top_k is not None and (
            isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral) or top_k < 1
        ):
            raise ValueError(f"top_k must be None or a positive int; got {top_k!r}.")
        index = {t: i for i, t in enumerate(self.vocabulary_)}
        tokens = self._tokenize(prompt)
        ids = [index.get(t, 1) for t in tokens]
        if all(i == 1 for i in ids):
            raise ValueError(
                f"None of the prompt's tokens {tokens[:8]} is in the model's vocabulary "
                f"({len(self.vocabulary_)} tokens learned from its training texts); use words it has seen."
            )
        generator = torch.Generator().manual_seed(seed_from(random_state))
        device = self._device()
        out = []
        self.module_.eval()
        with torch.no_grad():
            for _ in range(n_tokens):
                context = torch.as_tensor([ids[-self.n_timesteps :]], device=device)
                logits = self.module_(context)[0, -1].float().cpu()  # (V,)
                logits[:2] = -float("inf")  # never sample padding or the unknown word
                if not stop_at_eos:
                    logits[2] = -float("inf")
                logits = logits / float(temperature)
                if top_k is not None and top_k < len(logits):
                    kth = torch.topk(logits, int(top_k)).values[-1]
                    logits[logits < kth] = -float("inf")
                nxt = int(torch.multinomial(torch.softmax(logits, 0), 1, generator=generator))
                if nxt == 2:
                    break
                ids.append(nxt)
                out.append(self.vocabulary_[nxt])
        sep = "" if self.level == "char" else " "
        return prompt.rstrip() + (sep if self.level == "word" and out else "") + sep.join(out)
