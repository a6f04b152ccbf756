"""Word2Vec: skip-gram pairs, learning of an easy corpus, most_similar/transform, save/load, bad input."""

import numpy as np
import pytest

import deepzoo
from deepzoo import Word2Vec

# two topics that never share a sentence: words of one topic must end closer to each other
ANIMALS = ["cat dog mouse horse", "dog horse cat mouse", "mouse cat horse dog"]
FRUIT = ["apple pear plum cherry", "pear cherry apple plum", "plum apple cherry pear"]
CORPUS = (ANIMALS + FRUIT) * 40


def _model(**kw):
    params = dict(
        vector_size=16, window=3, min_count=1, sample=0.0, max_iter=10, batch_size=64, random_state=0
    )
    return Word2Vec(**{**params, **kw})


def test_pairs_stay_within_sentences_and_windows():
    w2v = _model(window=1)
    w2v.counts_ = np.ones(6, dtype=np.int64)
    stream, sentence = np.array([0, 1, 2, 3, 4, 5]), np.array([0, 0, 0, 1, 1, 1])
    centres, contexts = w2v._pairs(stream, sentence, np.random.default_rng(0))
    pairs = set(zip(centres.tolist(), contexts.tolist(), strict=True))
    assert pairs == {(0, 1), (1, 0), (1, 2), (2, 1), (3, 4), (4, 3), (4, 5), (5, 4)}


def test_learns_topics():
    w2v = _model().fit(CORPUS)
    neighbours = [w for w, _ in w2v.most_similar("cat", 3)]
    assert set(neighbours) == {"dog", "mouse", "horse"}
    assert w2v.loss_history_[-1] < w2v.loss_history_[0]


def test_transform_document_vectors_and_token_lists():
    w2v = _model(max_iter=1).fit([s.split() for s in CORPUS])
    assert w2v.transform(["Cat", "pear"]).shape == (2, 16)
    docs = w2v.document_vectors(["cat dog", "zzz unknown"])
    assert np.allclose(docs[0], w2v.transform(["cat", "dog"]).mean(0)) and not docs[1].any()
    assert w2v.vector("zzz") is None


def test_same_seed_same_vectors_and_save_load(tmp_path):
    a, b = _model(max_iter=2).fit(CORPUS), _model(max_iter=2).fit(CORPUS)
    assert np.array_equal(a.vectors_, b.vectors_)
    a.save(tmp_path / "w2v")
    loaded = deepzoo.load(tmp_path / "w2v")
    assert loaded.vocabulary_ == a.vocabulary_ and np.allclose(loaded.vectors_, a.vectors_)
    assert loaded.most_similar("cat", 2) == a.most_similar("cat", 2)


def test_bad_input():
    with pytest.raises(ValueError, match=r"Only 0 word\(s\) occur at least min_count=5"):
        Word2Vec().fit(["rare words only"])
    with pytest.raises(ValueError, match="Document 1 is an empty text"):
        _model().fit(["cat dog", ""])
    w2v = _model(max_iter=1).fit(CORPUS)
    with pytest.raises(ValueError, match=r"Word\(s\) \['banana'\] are not in the vocabulary"):
        w2v.most_similar("banana")
    with pytest.raises(ValueError, match="'window' parameter of Word2Vec must be an int"):
        _model(window=0).fit(CORPUS)
