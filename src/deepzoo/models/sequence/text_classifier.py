"""SequenceClassifier: classify token sequences or raw texts with an embedding and a conv/recurrent encoder.

Deep Learning Illustrated's IMDB line-up (conv1d, lstm, gru, bilstm, stacked_bilstm, conv_lstm) after one
embedding; outputs are max- and mean-pooled over the real tokens, padding (id 0, always at the end)
masked. Its own module to keep recurrent.py short; it reuses recurrent.py's layers and training
settings. Raw texts go through a vocabulary learned in ``fit`` and saved with the model.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from scipy import sparse
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, column_or_1d
from torch import nn

from ...data.text import TextVectorizer, check_ngram_range
from ...engine.base import Interval, Options, numpy_out
from ...engine.persistence import register
from ...engine.training import predict_batches
from .recurrent import _POSITIVE_INT, _TRAINING_FITTED, RecurrentStack, _RecurrentBase

__all__ = ["ARCHITECTURES", "SequenceClassifier", "TokenNet"]

ARCHITECTURES = ("conv1d", "lstm", "gru", "bilstm", "stacked_bilstm", "conv_lstm", "bag")


class TokenNet(nn.Module):
    """Embedding -> conv1d | recurrent stack | both -> masked max+mean pooling -> dropout -> Linear;
    or, for 'bag', the TF-IDF-weighted sum of the embeddings -> dropout -> Linear."""

    def __init__(
        self, n_tokens, embedding_dim, architecture, hidden_size, n_filters, kernel_size, dropout, n_outputs
    ):
        super().__init__()
        self.embedding = nn.Embedding(n_tokens, embedding_dim, padding_idx=0)
        self.bag = architecture == "bag"
        if self.bag:  # inverse document frequencies of the training texts, set by the estimator's fit
            self.register_buffer("idf", torch.ones(n_tokens))
            # word vectors start near zero: a word moves only as far as the training texts push it, so
            # the many rare words carry no random weight into the test texts (a linear model started
            # at zero). The usual N(0, 1) start cost 0.02 validation ROC-AUC on IMDB.
            with torch.no_grad():
                self.embedding.weight.normal_(0.0, 0.01)
                self.embedding.weight[0] = 0
        self.conv = None
        width = embedding_dim
        if architecture in ("conv1d", "conv_lstm"):
            self.conv = nn.Conv1d(embedding_dim, n_filters, kernel_size, padding=kernel_size // 2)
            width = n_filters
        self.rnn = None
        if architecture not in ("conv1d", "bag"):
            cell = "gru" if architecture == "gru" else "lstm"
            layers = (hidden_size, hidden_size) if architecture == "stacked_bilstm" else (hidden_size,)
            self.rnn = RecurrentStack(width, layers, cell, dropout, architecture.endswith("bilstm"))
            width = self.rnn.n_outputs
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(width if self.bag else 2 * width, n_outputs)

    def token_weights(self, ids: torch.Tensor) -> torch.Tensor:
        """(N, T) ids -> (N, T) weight of each position in a 'bag' document vector: a word seen c times
        gets (1 + ln c) x idf in all, shared by its c positions, and each document's weights have unit
        L2 norm over its distinct words (scikit-learn's sublinear TF-IDF); padding gets 0."""
        # c, the count of each position's id in its row, by sorting (N x T work, not N x vocabulary)
        ranked, order = ids.sort(dim=1)  # (N, T)
        starts = torch.ones_like(ranked, dtype=torch.bool)
        starts[:, 1:] = ranked[:, 1:] != ranked[:, :-1]
        run = starts.long().cumsum(1) - 1  # (N, T) which run of equal ids each sorted position is in
        ones = torch.ones(ids.shape, device=ids.device)
        sizes = torch.zeros_like(ones).scatter_add_(1, run, ones)  # (N, T) length of each run
        counts = torch.zeros_like(ones).scatter_(1, order, sizes.gather(1, run))  # (N, T) back in place
        per_word = (1 + counts.log()) * self.idf[ids] * (ids != 0)  # (N, T) each word's full weight
        norm = (per_word.square() / counts).sum(1, keepdim=True).sqrt().clamp_min(1e-12)  # (N, 1)
        return per_word / norm / counts  # (N, T)

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        """(N, T) ids -> (N, T, E) the vectors the encoder reads; for 'bag', already TF-IDF weighted."""
        e = self.embedding(ids)
        return e * self.token_weights(ids)[:, :, None] if self.bag else e

    def forward_embedded(self, e: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(N, T, E) embeddings and (N, T) bool mask of real tokens -> (N, n_outputs) logits."""
        return self.head(self.dropout(self.pooled(e, mask)))  # (N, n_outputs)

    def pooled(self, e: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The document vector the head reads: (N, T, E), (N, T) -> (N, 2 * width), or (N, E) for 'bag'
        (the sum of the weighted embeddings; padding rows are zero)."""
        if self.bag:
            return e.sum(1)
        lengths = mask.sum(1).clamp_min(1)
        h = e
        if self.conv is not None:
            h = torch.relu(self.conv(h.transpose(1, 2))[:, :, : e.shape[1]]).transpose(1, 2)  # (N, T, C)
        if self.rnn is not None:
            h = self.rnn(h, lengths)  # (N, T, H)
        m = mask[:, :, None].to(h.dtype)  # (N, T, 1)
        mean = (h * m).sum(1) / lengths[:, None].to(h.dtype)  # (N, H)
        peak = (h - (1 - m) * 1e4).amax(1)  # (N, H): padding never wins the max
        return torch.cat([mean, peak], 1)  # (N, 2H)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        if self.bag:  # padding is at the end and reads as nothing: drop the columns that are all padding
            ids = ids[:, : max(1, int((ids != 0).sum(1).max()))]
        return self.forward_embedded(self.embed(ids), ids != 0)  # (N, T) -> (N, n_outputs)


@register
class SequenceClassifier(ClassifierMixin, _RecurrentBase):
    """Classify token sequences (or raw texts) with an embedding and a conv/recurrent encoder.

    Parameters
    ----------
    architecture : {'conv1d', 'lstm', 'gru', 'bilstm', 'stacked_bilstm', 'conv_lstm', 'bag'}, \
default='bilstm'
        The encoder after the embedding (Deep Learning Illustrated's IMDB line-up); its outputs are
        max- and mean-pooled over the real tokens (padding masked). 'bag' reads no word order: the
        document vector is the sum of its word vectors weighted by sublinear TF-IDF (inverse document
        frequencies of the training texts), which learns well from a few hundred documents. Its word
        vectors start near zero (N(0, 0.01²)), so that it starts as a linear model at zero would.
    embedding_dim : int, default=64
    hidden_size : int, default=64
        Units of each recurrent direction.
    n_filters, kernel_size : int, default=64, 3
        The convolution of 'conv1d' and 'conv_lstm'.
    max_tokens, max_length, lowercase, min_count : int, int, bool, int
        The vocabulary learned when ``fit`` receives raw texts (see
        :class:`~deepzoo.data.text.TextVectorizer`): at most ``max_tokens`` tokens seen at least
        ``min_count`` times, the first ``max_length`` tokens of each text read.
    ngram_range : tuple (min_n, max_n), default=(1, 1)
        For 'bag' only: the vocabulary and each text's bag also hold the n-grams of these lengths
        (``(1, 2)``: words and word pairs, as ``TfidfVectorizer(ngram_range=(1, 2))``), which lets the
        bag read "not good".
    char_ngram_range : tuple (min_n, max_n) or None, default=None
        For 'bag' only: each text's bag also holds the character n-grams of these lengths inside its
        words (``(2, 5)``, as ``TfidfVectorizer(analyzer='char_wb', ngram_range=(2, 5))``), so a word
        never seen whole ("150ppm", a new phone number, a misspelling) still counts by its pieces.
    dropout, alpha, solver, learning_rate, batch_size, max_iter, tol, n_iter_no_change,
    early_stopping, validation_fraction, clip_grad_norm, warm_start, verbose, device, random_state,
    checkpoint, resume
        As in :class:`deepzoo.MLPClassifier`.

    Attributes
    ----------
    classes_ : ndarray
    feature_names_in_ : ndarray of str
        The text column's name, when ``fit`` received a one-column DataFrame; a DataFrame given to
        ``predict`` is then read from that column (other columns are ignored).
    vocabulary_ : tuple of str or None
        Learned from raw texts (saved with the model); None when fitted on token ids.
    n_tokens_ : int
        Size of the embedding table; ids must be below it.

    Examples
    --------
    >>> from deepzoo import SequenceClassifier
    >>> texts = ["good film", "great film", "bad film", "awful film"] * 10
    >>> clf = SequenceClassifier("conv1d", max_iter=30, learning_rate=0.01, random_state=0)
    >>> clf.fit(texts, [1, 1, 0, 0] * 10).predict(["a great film", "an awful one"]).tolist()
    [1, 0]
    """

    _parameter_constraints = {
        **_RecurrentBase._parameter_constraints,
        "architecture": [Options(*ARCHITECTURES)],
        "embedding_dim": [_POSITIVE_INT],
        "hidden_size": [_POSITIVE_INT],
        "n_filters": [_POSITIVE_INT],
        "kernel_size": [_POSITIVE_INT],
        "max_tokens": [Interval(numbers.Integral, 3, None, closed="left")],
        "max_length": [_POSITIVE_INT],
        "lowercase": [bool],
        "min_count": [_POSITIVE_INT],
        "ngram_range": ["int_tuple"],
        "char_ngram_range": ["int_tuple", None],
        "checkpoint": [str, "pathlike", None],
        "resume": [bool],
    }
    _parameter_constraints.pop("cell")
    _fitted_attributes = _TRAINING_FITTED | {
        "classes_",
        "vocabulary_",
        "n_tokens_",
        "n_pretrained_tokens_",
        "feature_names_in_",
    }

    def __init__(
        self,
        architecture="bilstm",
        *,
        embedding_dim=64,
        hidden_size=64,
        n_filters=64,
        kernel_size=3,
        max_tokens=20000,
        max_length=200,
        lowercase=True,
        min_count=1,
        ngram_range=(1, 1),
        char_ngram_range=None,
        dropout=0.2,
        alpha=0.0,
        solver="adam",
        learning_rate=1e-3,
        batch_size=64,
        max_iter=20,
        tol=1e-4,
        n_iter_no_change=3,
        early_stopping=False,
        validation_fraction=0.1,
        clip_grad_norm=None,
        warm_start=False,
        verbose=False,
        device="auto",
        random_state=None,
        checkpoint=None,
        resume=False,
    ):
        self.architecture = architecture
        self.embedding_dim = embedding_dim
        self.hidden_size = hidden_size
        self.n_filters = n_filters
        self.kernel_size = kernel_size
        self.max_tokens = max_tokens
        self.max_length = max_length
        self.lowercase = lowercase
        self.min_count = min_count
        self.ngram_range = ngram_range
        self.char_ngram_range = char_ngram_range
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
        self.checkpoint = checkpoint
        self.resume = resume

    @staticmethod
    def _score_fn(output, target):
        return (output.argmax(1) == target).float().mean()

    @staticmethod
    def _loss(output, target):
        return F.cross_entropy(output, target, reduction="none")

    def _vectorizer(self) -> TextVectorizer:
        return TextVectorizer(
            self.max_tokens,
            max_length=self.max_length,
            lowercase=self.lowercase,
            min_count=self.min_count,
            ngram_range=tuple(self.ngram_range),
            char_ngram_range=getattr(self, "char_ngram_range", None),
        )

    def _texts_of(self, X, reset: bool):
        """A DataFrame's text column (named in ``feature_names_in_``); anything else, and a DataFrame of
        numbers (token ids), as given."""
        is_frame = hasattr(X, "columns") and hasattr(X, "iloc")
        token_ids = is_frame and all(
            pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in X.dtypes
        )
        if not is_frame or token_ids:  # a frame of numbers holds token ids: read it as an array
            if reset:
                self.__dict__.pop("feature_names_in_", None)
            return X
        columns = [str(c) for c in X.columns]
        name = type(self).__name__
        if reset:
            if len(columns) != 1:
                raise ValueError(
                    f"{name} reads one text column; got a DataFrame with {len(columns)} columns "
                    f"({', '.join(columns[:5])}). Pass frame[[text_column]]."
                )
            self.feature_names_in_ = np.asarray(columns, dtype=object)
            return X.iloc[:, 0].tolist()
        known = getattr(self, "feature_names_in_", None)
        if known is not None and str(known[0]) in columns:
            return X.iloc[:, columns.index(str(known[0]))].tolist()
        if len(columns) == 1:
            return X.iloc[:, 0].tolist()
        wanted = f"the text column {str(known[0])!r}" if known is not None else "one text column"
        raise ValueError(f"{name} reads {wanted}; the DataFrame has {', '.join(columns[:10])}.")

    @staticmethod
    def _is_text(X) -> bool:
        array = np.asarray(X, dtype=object)
        first = next(iter(array.ravel()), None) if array.size else None
        return isinstance(first, str | bytes)

    def _ids(self, X, reset: bool) -> np.ndarray:
        """Texts through the vocabulary, or token ids checked against the embedding table."""
        name = type(self).__name__
        X = self._texts_of(X, reset)
        if self._is_text(X):
            if reset:
                self.vocabulary_ = self._vectorizer().fit(X).vocabulary_
                self.n_tokens_ = len(self.vocabulary_)
            elif self.vocabulary_ is None:
                raise ValueError(
                    f"This {name} was fitted on token ids, not texts, so it has no vocabulary to read texts "
                    "with. Pass ids made by the vectorizer you trained it with."
                )
            vectorizer = self._vectorizer()
            vectorizer.vocabulary_ = self.vocabulary_
            return vectorizer.transform(X)
        X = check_array(X, dtype=None, input_name="X")
        if X.dtype.kind not in "iubf":
            raise ValueError(f"{name} expects token ids (integers) or texts; got values of dtype {X.dtype}.")
        if X.size and X.min() < 0:
            raise ValueError(
                f"Negative values in data passed to {name}: token ids must be >= 0 (0 = padding); "
                f"got {X.min()}."
            )
        if X.dtype.kind == "f" and not np.all(X == np.round(X)):
            raise ValueError(
                f"{name} expects integer token ids; got non-integer values such as floats. Encode texts with "
                "deepzoo.data.text.TextVectorizer, or pass the raw texts."
            )
        X = X.astype(np.int64)
        if reset:
            self.vocabulary_ = None
            self.n_tokens_ = max(int(X.max()) + 1 if X.size else 2, 2)
        elif X.size and X.max() >= self.n_tokens_:
            raise ValueError(
                f"Token id {int(X.max())} is outside this model's vocabulary of {self.n_tokens_} ids: "
                "the ids were probably made with a vocabulary from a different model. Encode texts with the "
                "vocabulary the model was fitted with (or pass the raw texts)."
            )
        return X

    def _build_module(self) -> TokenNet:
        return TokenNet(
            self.n_tokens_,
            self.embedding_dim,
            self.architecture,
            self.hidden_size,
            self.n_filters,
            self.kernel_size,
            self.dropout,
            len(self.classes_),
        )

    def fit(self, X, y, *, word_vectors=None) -> SequenceClassifier:
        """Fit on texts (a list, an array or a one-column DataFrame) or token ids ``X`` and labels ``y``.

        ``word_vectors`` (a fitted :class:`~deepzoo.models.word2vec.Word2Vec` or a mapping word -> vector of
        length ``embedding_dim``) initialises the embedding rows of the words it knows.
        """
        self._check_params()
        check_ngram_range(self.ngram_range, type(self).__name__)
        if tuple(self.ngram_range) != (1, 1) and self.architecture != "bag":
            raise ValueError(
                f"ngram_range={tuple(self.ngram_range)} needs architecture='bag': the "
                f"{self.architecture!r} encoder reads the word order itself. Use ngram_range=(1, 1)."
            )
        if self.char_ngram_range is not None:
            check_ngram_range(self.char_ngram_range, type(self).__name__, "char_ngram_range")
            if self.architecture != "bag":
                raise ValueError(
                    f"char_ngram_range={tuple(self.char_ngram_range)} needs architecture='bag': the "
                    f"{self.architecture!r} encoder reads words in order. Use char_ngram_range=None."
                )
        continuing = self.warm_start and hasattr(self, "module_")
        if y is None:
            raise ValueError("SequenceClassifier requires y to be passed, but the target y is None.")
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if not continuing and len(np.unique(y)) < 2:
            raise ValueError(
                "SequenceClassifier needs samples of at least 2 classes in the data, but the data contains "
                f"{len(np.unique(y))} class(es): {np.unique(y).tolist()}."
            )
        ids = self._ids(X, reset=not continuing)
        if len(y) != len(ids):
            raise ValueError(f"X and y have different numbers of samples: {len(ids)} and {len(y)}.")
        if not continuing:
            self.classes_ = np.unique(y)
        elif not np.isin(y, self.classes_).all():
            raise ValueError(f"y has labels unseen in the first fit; known: {self.classes_.tolist()}.")
        y_t = torch.as_tensor(np.searchsorted(self.classes_, y), dtype=torch.long)
        self._train(
            torch.as_tensor(ids),
            y_t,
            continuing=continuing,
            stratify=y,
            build=lambda: self._with_vectors(self._with_idf(self._build_module(), ids), word_vectors),
            checkpoint=None if continuing else self.checkpoint,
            resume=self.resume,
            # a bag's step reads T word vectors a text, not its whole embedding table: counted as the
            # table's size, every fit would take a second thread that only waits on a busy CPU
            work_per_sample=3 * ids.shape[1] * self.embedding_dim if self.architecture == "bag" else None,
        )
        return self

    @staticmethod
    def _with_idf(module: TokenNet, ids: np.ndarray) -> TokenNet:
        """Set a 'bag' network's inverse document frequencies from the training ids (smoothed as in
        scikit-learn's TfidfVectorizer: ln((1 + n) / (1 + df)) + 1)."""
        if module.bag:
            rows = np.repeat(np.arange(len(ids)), ids.shape[1])
            present = sparse.csr_matrix(
                (np.ones(ids.size, dtype=bool), (rows, ids.ravel())), shape=(len(ids), module.idf.numel())
            )  # duplicates summed: a word's count in each document
            df = np.asarray((present[:, 1:] > 0).sum(0)).ravel()
            with torch.no_grad():
                module.idf[1:] = torch.as_tensor(np.log((1 + len(ids)) / (1 + df)) + 1, dtype=torch.float32)
        return module

    def _with_vectors(self, module: TokenNet, word_vectors) -> TokenNet:
        self.n_pretrained_tokens_ = 0
        if word_vectors is None:
            return module
        if self.vocabulary_ is None:
            raise ValueError(
                "word_vectors needs a model fitted on texts: token ids carry no words to look up."
            )
        if hasattr(word_vectors, "vocabulary_") and hasattr(word_vectors, "vectors_"):  # a fitted Word2Vec
            lookup = dict(zip(word_vectors.vocabulary_, word_vectors.vectors_, strict=True))
        else:
            lookup = dict(word_vectors)
        sizes = {len(v) for v in lookup.values()}
        if sizes and sizes != {self.embedding_dim}:
            raise ValueError(
                f"word_vectors have {sorted(sizes)} dimensions but embedding_dim={self.embedding_dim}; "
                "set embedding_dim to the vectors' size."
            )
        rows = [(i, lookup[w]) for i, w in enumerate(self.vocabulary_) if i >= 2 and w in lookup]
        if rows:
            with torch.no_grad():
                index = torch.as_tensor([i for i, _ in rows])
                values = torch.as_tensor(np.stack([np.asarray(v, dtype=np.float32) for _, v in rows]))
                module.embedding.weight[index] = values
        self.n_pretrained_tokens_ = len(rows)
        return module

    def decision_function(self, X) -> np.ndarray:
        """Logits (n_samples, n_classes); for two classes the difference positive - negative."""
        self._check_fitted()
        ids = torch.as_tensor(self._ids(X, reset=False), device=self._device())
        logits = numpy_out(predict_batches(self.module_, ids, batch_size=512))
        return logits[:, 1] - logits[:, 0] if len(self.classes_) == 2 else logits

    def predict_proba(self, X) -> np.ndarray:
        self._check_fitted()
        ids = torch.as_tensor(self._ids(X, reset=False), device=self._device())
        return numpy_out(torch.softmax(predict_batches(self.module_, ids, batch_size=512), 1)).astype(
            np.float64
        )

    def predict(self, X) -> np.ndarray:
        proba = self.predict_proba(X)  # checks fitted first
        return self.classes_[proba.argmax(1)]

    def document_vectors(self, X) -> np.ndarray:
        """The pooled encoder outputs the last layer reads, one vector per document: (n_samples, 2 * width).

        Useful to rank documents by cosine similarity (e.g. resumes for a job description).
        """
        self._check_fitted()
        ids = torch.as_tensor(self._ids(X, reset=False), device=self._device())
        self.module_.eval()
        with torch.no_grad():
            parts = [self.module_.pooled(self.module_.embed(chunk), chunk != 0) for chunk in ids.split(256)]
        return numpy_out(torch.cat(parts))

    def tokens(self, X) -> list[list[str]]:
        """The tokens the model reads for each text (truncated to ``max_length``), for saliency plots."""
        self._check_fitted()
        ids = self._ids(X, reset=False)
        vocab = self.vocabulary_
        return [[vocab[i] if vocab else str(i) for i in row if i != 0] for row in ids]

    def _explain_inputs(self, X) -> torch.Tensor:
        """Token EMBEDDINGS (N, T, E), detached (for 'bag', already TF-IDF weighted); padding positions are
        exact zero vectors."""
        self._check_fitted()
        ids = torch.as_tensor(self._ids(X, reset=False), device=self._device())
        with torch.no_grad():
            return self.module_.embed(ids)

    def _explain_forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Logits (N, n_classes; two columns for binary). The padding mask is recomputed from the inputs:
        an all-zero embedding vector is padding (so an all-zero baseline reads as an empty text)."""
        return self.module_.forward_embedded(inputs, inputs.abs().sum(2) > 0)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.positive_only = True  # token ids
        return tags
