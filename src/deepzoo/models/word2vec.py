"""Word2Vec: word vectors by skip-gram with negative sampling (Mikolov et al., 2013), vectorised.

Every (centre, context) pair of an epoch is built at once with NumPy (dynamic window, frequent words
subsampled), then minibatches of pairs update two embedding tables. The loop is hand-written, as the
SOM's and the GAN's are: each step touches only the rows of its batch's words (``index_add_``), where
a dense optimizer over ``fit_loop`` would update all ``n_words x vector_size`` entries every step.
The learning rate decays linearly to zero as in the original.
"""

from __future__ import annotations

import numbers
from collections import Counter

import numpy as np
import torch
from torch import nn

from ..data.text import _documents, tokenize
from ..engine.base import Interval, TorchEstimator, local_torch_seed, numpy_out, resolve_device, seed_from
from ..engine.persistence import register
from ..engine.training import _progress, cpu_threads_for

__all__ = ["SkipGram", "Word2Vec"]


class SkipGram(nn.Module):
    """Two tables: the word vectors (``input``) and the context vectors (``output``)."""

    def __init__(self, n_words: int, vector_size: int):
        super().__init__()
        self.input = nn.Embedding(n_words, vector_size)
        self.output = nn.Embedding(n_words, vector_size)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.input(ids)  # (N,) -> (N, vector_size)


@register
class Word2Vec(TorchEstimator):
    """Skip-gram word vectors with negative sampling, as an estimator.

    Parameters
    ----------
    vector_size : int, default=100
    window : int, default=5
        Largest distance between a word and its context; each centre draws its own window in [1, window].
    negative : int, default=5
        Noise words per pair, drawn from the unigram distribution raised to 3/4.
    min_count : int, default=5
        Words seen fewer times are dropped.
    sample : float, default=1e-3
        Subsampling threshold of frequent words (0 keeps every occurrence).
    learning_rate : float, default=0.025
        Start of the linearly decaying SGD step.
    max_iter : int, default=5
        Epochs.
    batch_size : int, default=4096
        Pairs per update.
    lowercase : bool, default=True
    verbose : bool, default=False
    device : str, default='auto'
    random_state : int, RandomState or None, default=None

    Attributes
    ----------
    vocabulary_ : tuple of str
        Words kept, most frequent first.
    counts_ : ndarray of shape (n_words,)
    vectors_ : ndarray of shape (n_words, vector_size)
        The word vectors (a property over ``module_``).

    Examples
    --------
    >>> from deepzoo import Word2Vec
    >>> corpus = ["the king rules the land", "the queen rules the land"] * 50
    >>> w2v = Word2Vec(vector_size=16, window=2, min_count=1, max_iter=5, random_state=0).fit(corpus)
    >>> w2v.transform(["king", "queen"]).shape
    (2, 16)
    """

    _parameter_constraints = {
        "vector_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "window": [Interval(numbers.Integral, 1, None, closed="left")],
        "negative": [Interval(numbers.Integral, 1, None, closed="left")],
        "min_count": [Interval(numbers.Integral, 1, None, closed="left")],
        "sample": [Interval(numbers.Real, 0, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "lowercase": [bool],
        "verbose": [bool, Interval(numbers.Integral, 0, None, closed="left")],
        "device": ["device"],
        "random_state": ["random_state"],
    }
    _fitted_attributes = frozenset({"vocabulary_", "counts_", "n_iter_", "loss_history_"})

    def __init__(
        self,
        vector_size=100,
        *,
        window=5,
        negative=5,
        min_count=5,
        sample=1e-3,
        learning_rate=0.025,
        max_iter=5,
        batch_size=4096,
        lowercase=True,
        verbose=False,
        device="auto",
        random_state=None,
    ):
        self.vector_size = vector_size
        self.window = window
        self.negative = negative
        self.min_count = min_count
        self.sample = sample
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.lowercase = lowercase
        self.verbose = verbose
        self.device = device
        self.random_state = random_state

    def _build_module(self) -> SkipGram:
        return SkipGram(len(self.vocabulary_), self.vector_size)

    def _sentences(self, corpus) -> list[list[str]]:
        """Texts are tokenised; lists of tokens are taken as they are."""
        if len(corpus) and isinstance(corpus[0], list | tuple):
            return [[str(t).lower() if self.lowercase else str(t) for t in s] for s in corpus]
        return [tokenize(doc, lowercase=self.lowercase) for doc in _documents(corpus, "corpus")]

    def _pairs(self, stream, sentence, rng) -> tuple[np.ndarray, np.ndarray]:
        """All (centre, context) id pairs of an epoch: subsample, then each offset within each window."""
        if self.sample > 0:
            freq = self.counts_[stream] / self.counts_.sum()
            keep_p = (np.sqrt(freq / self.sample) + 1) * self.sample / freq  # word2vec.c's formula
            keep = rng.random(len(stream)) < keep_p
            stream, sentence = stream[keep], sentence[keep]
        reach = rng.integers(1, self.window + 1, size=len(stream))  # each centre's own window
        centres, contexts = [], []
        for d in range(1, self.window + 1):
            same = sentence[:-d] == sentence[d:]
            right = same & (reach[:-d] >= d)  # centre i, context i + d
            left = same & (reach[d:] >= d)  # centre i + d, context i
            centres += [stream[:-d][right], stream[d:][left]]
            contexts += [stream[d:][right], stream[:-d][left]]
        centres, contexts = np.concatenate(centres), np.concatenate(contexts)
        order = rng.permutation(len(centres))
        return centres[order], contexts[order]

    def fit(self, corpus, y=None) -> Word2Vec:
        """Learn vectors from ``corpus``: a list of texts or of token lists (one sentence each)."""
        self._check_params()
        sentences = self._sentences(corpus)
        counts = Counter(t for s in sentences for t in s)
        kept = sorted((w for w, c in counts.items() if c >= self.min_count), key=lambda w: (-counts[w], w))
        if len(kept) < 2:
            raise ValueError(
                f"Only {len(kept)} word(s) occur at least min_count={self.min_count} times in the corpus; "
                "give more text or lower min_count."
            )
        self.vocabulary_ = tuple(kept)
        self.counts_ = np.asarray([counts[w] for w in kept], dtype=np.int64)
        index = {w: i for i, w in enumerate(kept)}
        ids = [[index[t] for t in s if t in index] for s in sentences]
        stream = np.fromiter((i for s in ids for i in s), dtype=np.int64)
        sentence = np.repeat(np.arange(len(ids)), [len(s) for s in ids])
        seed = seed_from(self.random_state)
        rng = np.random.default_rng(seed)
        device = resolve_device(self.device)
        generator = torch.Generator(device=device).manual_seed(seed)
        with local_torch_seed(seed, device):
            self.module_ = self._build_module().to(device)
        d = self.vector_size
        w_in, w_out = self.module_.input.weight.data, self.module_.output.weight.data
        w_in.uniform_(-0.5 / d, 0.5 / d, generator=generator)
        w_out.zero_()
        noise = torch.as_tensor(self.counts_**0.75, dtype=torch.float32, device=device)
        epochs = [self._pairs(stream, sentence, rng) for _ in range(self.max_iter)]
        total = sum(len(c) for c, _ in epochs)
        if total == 0:
            raise ValueError("The corpus has no two neighbouring words in one sentence; give longer texts.")
        progress = _progress(bool(self.verbose), self.max_iter, "Word2Vec")
        work = self.batch_size * (1 + self.negative) * d
        with cpu_threads_for(work, device):
            self._train(epochs, w_in, w_out, noise, generator, total, progress)
        if progress is not None:
            progress.stop()
        self.n_iter_ = self.max_iter
        return self

    def _train(self, epochs, w_in, w_out, noise, generator, total, progress) -> None:
        """SGD over every epoch's pairs in minibatches; only the rows of each batch's words change."""
        device, d = w_in.device, w_in.shape[1]
        done, self.loss_history_ = 0, []
        for centres_np, contexts_np in epochs:
            centres_all = torch.as_tensor(centres_np, device=device)
            contexts_all = torch.as_tensor(contexts_np, device=device)
            loss_sum = torch.zeros((), device=device)
            for start in range(0, len(centres_all), self.batch_size):
                lr = self.learning_rate * max(1e-4, 1 - done / total)
                c = centres_all[start : start + self.batch_size]  # (B,)
                o = contexts_all[start : start + self.batch_size]  # (B,)
                k = torch.multinomial(noise, len(c) * self.negative, replacement=True, generator=generator)
                targets = torch.cat([o[:, None], k.view(len(c), self.negative)], 1)  # (B, 1 + K)
                v = w_in[c]  # (B, d)
                u = w_out[targets]  # (B, 1 + K, d)
                score = torch.sigmoid(torch.einsum("bd,bkd->bk", v, u))  # (B, 1 + K)
                label = torch.zeros_like(score)
                label[:, 0] = 1
                g = score - label  # d(loss)/d(dot): sigma - 1 for the true context, sigma for noise
                loss_sum -= torch.log(torch.where(label > 0, score, 1 - score).clamp_min(1e-7)).sum()
                w_in.index_add_(0, c, -lr * torch.einsum("bk,bkd->bd", g, u))
                w_out.index_add_(0, targets.reshape(-1), -lr * (g[:, :, None] * v[:, None, :]).reshape(-1, d))
                done += len(c)
            self.loss_history_.append(float(loss_sum) / max(len(centres_all), 1))
            if progress is not None:
                progress.update(progress.task_ids[0], advance=1, status=f"loss {self.loss_history_[-1]:.3f}")

    @property
    def vectors_(self) -> np.ndarray:
        self._check_fitted()
        return numpy_out(self.module_.input.weight)

    def _index(self) -> dict:
        cached = getattr(self, "_index_cache", None)
        if cached is None or cached[0] is not self.vocabulary_:
            self._index_cache = cached = (self.vocabulary_, {w: i for i, w in enumerate(self.vocabulary_)})
        return cached[1]

    def _ids(self, words) -> np.ndarray:
        self._check_fitted()
        if isinstance(words, str):
            words = [words]
        index = self._index()
        unknown = [w for w in words if (w.lower() if self.lowercase else w) not in index]
        if unknown:
            raise ValueError(
                f"Word(s) {unknown[:5]} are not in the vocabulary ({len(index)} words seen at least "
                f"min_count={self.min_count} times); check `word in model.vocabulary_` first."
            )
        return np.asarray([index[w.lower() if self.lowercase else w] for w in words])

    def transform(self, words) -> np.ndarray:
        """The vectors of ``words``: (n_words, vector_size)."""
        return self.vectors_[self._ids(words)]

    def vector(self, word: str):
        """The vector of one word, or None when it is not in the vocabulary."""
        i = self._index().get(word.lower() if self.lowercase else word)
        return None if i is None else self.vectors_[i]

    def most_similar(self, word: str, topn: int = 10) -> list[tuple[str, float]]:
        """The ``topn`` words with the highest cosine similarity to ``word`` (itself excluded)."""
        vectors = self.vectors_
        normed = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        i = int(self._ids([word])[0])
        sims = normed @ normed[i]
        sims[i] = -np.inf
        best = np.argsort(-sims)[:topn]
        return [(self.vocabulary_[j], float(sims[j])) for j in best]

    def document_vectors(self, texts) -> np.ndarray:
        """Mean vector of each text's known words (zeros for a text with none): (n_texts, vector_size)."""
        vectors, index = self.vectors_, self._index()
        out = np.zeros((len(texts), self.vector_size), dtype=np.float32)
        for row, sentence in enumerate(self._sentences(list(texts))):
            ids = [index[t] for t in sentence if t in index]
            if ids:
                out[row] = vectors[ids].mean(0)
        return out
