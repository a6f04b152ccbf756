"""The recurrent estimators learn easy problems, reproduce, save and refuse bad input."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import deepzoo
from deepzoo import LSTMForecaster, SequenceClassifier, TextGenerator, Word2Vec
from deepzoo.audit.explain import input_gradients, integrated_gradients
from deepzoo.data.sequences import make_windows
from deepzoo.data.text import TextVectorizer
from deepzoo.models.sequence.recurrent import RecurrentStack, _reverse_padded

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TEXTS = ["good film", "great film", "bad film", "awful film"] * 10
LABELS = [1, 1, 0, 0] * 10


@pytest.fixture(scope="module")
def sine():
    return make_windows(np.sin(np.arange(300) / 5), 20)


def _forecaster(**kw):
    return LSTMForecaster((16,), **{"max_iter": 30, "learning_rate": 0.01, "random_state": 0, **kw})


@pytest.mark.slow
def test_forecaster_learns_a_sine(sine):
    X, y = sine
    model = _forecaster().fit(X, y)
    assert np.sqrt(np.mean((model.predict(X) - y) ** 2)) < 0.05
    # rolling forward on its own predictions stays close to the true continuation
    assert np.abs(model.forecast(X[:1], 5)[0] - y[:5]).max() < 0.15


@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_forecaster_cells_bidirectional_skip(sine, cell):
    X, y = sine
    model = LSTMForecaster(
        (8, 8), cell=cell, bidirectional=True, persistence_skip=True, max_iter=3, random_state=0
    ).fit(X[:, :, 0], y)
    assert model.predict(X[:3]).shape == (3,) and np.isfinite(model.loss_)


def test_persistence_skip_starts_from_persistence(sine):
    X, y = sine
    model = LSTMForecaster((4,), persistence_skip=True, max_iter=1, learning_rate=1e-9, random_state=0).fit(
        X, y
    )
    with torch.no_grad():
        model.module_.head.weight.zero_()
        model.module_.head.bias.zero_()
    assert np.allclose(model.predict(X), X[:, -1, 0], atol=1e-6)


def test_multistep_and_multifeature(sine):
    series = np.stack([np.sin(np.arange(200) / 5), np.cos(np.arange(200) / 5)], 1)
    X, y = make_windows(series, 10, horizon=3)
    model = LSTMForecaster((8,), max_iter=2, random_state=0).fit(X, y)
    assert model.predict(X[:4]).shape == (4, 3)
    with pytest.raises(ValueError, match="forecast feeds predictions back"):
        model.forecast(X[:1], 4)
    X, _ = make_windows(series, 10)
    full = LSTMForecaster((8,), max_iter=2, random_state=0).fit(X[:-1], X[1:, -1, :])
    assert full.forecast(X[:2], 4).shape == (2, 4, 2)


def test_forecaster_same_seed_same_predictions_clone_pickle(sine, tmp_path):
    X, y = sine
    a, b = _forecaster(max_iter=3).fit(X, y), _forecaster(max_iter=3).fit(X, y)
    assert np.array_equal(a.predict(X), b.predict(X))
    assert np.array_equal(pickle.loads(pickle.dumps(a)).predict(X), a.predict(X))
    assert clone(a).get_params() == a.get_params()
    a.save(tmp_path / "m")
    assert np.allclose(deepzoo.load(tmp_path / "m").predict(X), a.predict(X))


def test_forecaster_bad_input(sine):
    X, y = sine
    with pytest.raises(
        ValueError, match=r"expects X of shape \(n_samples, n_timesteps, n_features\); got \(280,\). Reshape"
    ):
        _forecaster().fit(y, y)
    with pytest.raises(ValueError, match="NaN"):
        _forecaster().fit(np.where(X > 0.99, np.nan, X), y)
    with pytest.raises(ValueError, match=r"The 'cell' parameter of LSTMForecaster .* Did you mean 'lstm'"):
        _forecaster(cell="lstn").fit(X, y)
    with pytest.raises(NotFittedError):
        _forecaster().predict(X)
    model = _forecaster(max_iter=1).fit(X, y)
    with pytest.raises(
        ValueError, match="X has 2 features per time step, but LSTMForecaster was fitted with 1"
    ):
        model.predict(np.concatenate([X, X], 2))


def test_forecaster_explain_contract(sine):
    X, y = sine
    model = _forecaster(max_iter=2).fit(X, y)
    assert input_gradients(model, X[:3]).shape == (3, 20, 1)


def test_reverse_padded_and_masking():
    x = torch.arange(12.0).view(2, 3, 2)
    r = _reverse_padded(x, torch.tensor([2, 3]))
    assert r[0, :, 0].tolist() == [2.0, 0.0, 4.0] and r[1, :, 0].tolist() == [10.0, 8.0, 6.0]
    # padding at the end changes nothing in the real positions, forward and backward
    stack = RecurrentStack(2, (3,), "lstm", 0.0, True).eval()
    short = stack(x[:1, :2], torch.tensor([2]))
    padded = stack(torch.cat([x[:1, :2], torch.full((1, 4, 2), 7.0)], 1), torch.tensor([2]))
    assert torch.allclose(short, padded[:, :2], atol=1e-6)


@pytest.mark.parametrize(
    "architecture", ["conv1d", "lstm", "gru", "bilstm", "stacked_bilstm", "conv_lstm", "bag"]
)
def test_classifier_architectures_learn(architecture):
    small = dict(max_length=6, embedding_dim=8, hidden_size=8, n_filters=8)
    clf = SequenceClassifier(
        architecture, **small, max_iter=60, n_iter_no_change=60, learning_rate=0.02, random_state=0
    )
    clf.fit(TEXTS, LABELS)
    assert clf.predict(["a great film", "an awful one"]).tolist() == [1, 0]
    proba = clf.predict_proba(TEXTS[:4])
    assert np.allclose(proba.sum(1), 1)


@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2)])
def test_bag_weights_are_scikit_learns_sublinear_tfidf(tmp_path, ngram_range):
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = ["the cat sat on the mat the end", "a dog and a cat", "dogs bark at the mail man", "cat cat dog"]
    clf = SequenceClassifier(
        "bag", max_length=12, embedding_dim=4, max_iter=1, random_state=0, ngram_range=ngram_range
    )
    clf.fit(texts, [0, 1, 0, 1])
    ids = torch.as_tensor(clf._ids(texts, reset=False))
    weights = clf.module_.token_weights(ids)  # (N, T): a word's weight spread over its positions
    per_word = torch.zeros(len(texts), clf.n_tokens_).scatter_add_(1, ids, weights).numpy()
    oracle = TfidfVectorizer(sublinear_tf=True, token_pattern=r"\S+", ngram_range=ngram_range).fit(texts)
    expected = oracle.transform(texts).toarray()
    columns = [clf.vocabulary_.index(word) for word in oracle.get_feature_names_out()]
    np.testing.assert_allclose(per_word[:, columns], expected, atol=1e-6)
    assert np.allclose(per_word.sum(1), per_word[:, columns].sum(1))  # no weight on padding or unknowns
    # the document vector is that weighted sum of word vectors, and the frequencies are saved with it
    table = clf.module_.embedding.weight.detach().numpy()
    np.testing.assert_allclose(clf.document_vectors(texts), per_word @ table, atol=1e-5)
    clf.save(tmp_path / "bag")
    np.testing.assert_allclose(deepzoo.load(tmp_path / "bag").predict_proba(texts), clf.predict_proba(texts))


def test_bag_with_word_pairs_reads_negation_that_single_words_cannot():
    # "not" flips the sentiment word after it: on single words the unit-norm TF-IDF bag cannot get all
    # four right (not bad > 0 needs v_not > v_bad's magnitude, not good < 0 needs v_not < -v_good),
    # so at most 3 of 4; the pairs "not good" and "not bad" make it separable
    texts, labels = ["good", "not good", "bad", "not bad"] * 10, [1, 0, 0, 1] * 10
    settings = dict(max_iter=200, n_iter_no_change=200, learning_rate=0.05, dropout=0.0, random_state=0)
    words = SequenceClassifier("bag", **settings).fit(texts, labels)
    pairs = SequenceClassifier("bag", ngram_range=(1, 2), **settings).fit(texts, labels)
    assert np.mean(words.predict(texts[:4]) == labels[:4]) <= 0.75
    assert pairs.predict(texts[:4]).tolist() == labels[:4]
    assert "not good" in pairs.vocabulary_ and pairs.tokens(["not good"]) == [["not", "good", "not good"]]


def test_bag_with_character_ngrams_reads_words_it_never_saw_whole(tmp_path):
    # every spam text has its own code word ("prize" + digits), every ham text its own name: no
    # whole word repeats between training and test, so words alone leave the test texts unknown
    # (one probability for all: each is the unknown word's), while the pieces "priz", "rize" carry
    # the class to the unseen codes
    rng = np.random.default_rng(0)
    spam = [f"prize{n}" for n in rng.choice(10_000, 60, replace=False)]
    ham = [f"{name}{n}" for name, n in zip(["tom", "ann", "joe"] * 20, range(60), strict=True)]
    texts, labels = spam[:40] + ham[:40], [1] * 40 + [0] * 40
    test, truth = spam[40:] + ham[40:], np.array([1] * 20 + [0] * 20)
    settings = dict(max_iter=30, learning_rate=0.05, dropout=0.0, random_state=0)
    words = SequenceClassifier("bag", **settings).fit(texts, labels)
    pieces = SequenceClassifier("bag", char_ngram_range=(2, 5), **settings).fit(texts, labels)
    unknown = words.predict_proba(test)[:, 1]
    assert np.allclose(unknown, unknown[0], atol=1e-6)  # float32 rounding of one computation
    assert np.mean(pieces.predict(test) == truth) >= 0.95
    pieces.save(tmp_path / "pieces")
    np.testing.assert_allclose(
        deepzoo.load(tmp_path / "pieces").predict_proba(test), pieces.predict_proba(test)
    )


def test_bag_starts_near_zero_and_ngrams_need_the_bag():
    clf = SequenceClassifier("bag", embedding_dim=8, max_iter=1, random_state=0).fit(TEXTS, LABELS)
    assert clf.module_.embedding.weight.abs().max() < 0.2  # N(0, 0.01) plus one epoch of Adam steps
    with pytest.raises(ValueError, match="needs architecture='bag'"):
        SequenceClassifier("conv1d", ngram_range=(1, 2), max_iter=1).fit(TEXTS, LABELS)
    with pytest.raises(ValueError, match="'ngram_range' parameter"):
        SequenceClassifier("bag", ngram_range=(2, 1), max_iter=1).fit(TEXTS, LABELS)
    with pytest.raises(ValueError, match="char_ngram_range=.2, 5. needs architecture='bag'"):
        SequenceClassifier("gru", char_ngram_range=(2, 5), max_iter=1).fit(TEXTS, LABELS)


def test_classifier_reads_the_text_column_of_a_dataframe(tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"review": TEXTS})
    clf = SequenceClassifier("bag", embedding_dim=8, max_iter=30, learning_rate=0.05, random_state=0)
    clf.fit(frame, LABELS)
    assert clf.feature_names_in_.tolist() == ["review"]
    other = pd.DataFrame({"id": [1, 2], "review": ["a great film", "an awful one"]})
    np.testing.assert_allclose(clf.predict_proba(other), clf.predict_proba(["a great film", "an awful one"]))
    clf.save(tmp_path / "m")
    loaded = deepzoo.load(tmp_path / "m")
    assert loaded.feature_names_in_.tolist() == ["review"] and loaded.predict(other).tolist() == [1, 0]
    with pytest.raises(ValueError, match="the text column 'review'"):
        clf.predict(pd.DataFrame({"a": ["x"], "b": ["y"]}))
    with pytest.raises(ValueError, match="reads one text column; got a DataFrame with 2 columns"):
        clf.fit(frame.assign(other=1), LABELS)
    assert not hasattr(clf.fit(TEXTS, LABELS), "feature_names_in_")  # a list of texts has no column
    # pandas' string dtype (what read_table gives) is text too; a frame of integers is token ids
    strings = SequenceClassifier("bag", embedding_dim=8, max_iter=2, random_state=0)
    strings.fit(frame.astype({"review": "string"}), LABELS)
    assert strings.feature_names_in_.tolist() == ["review"]
    ids = pd.DataFrame(np.array([[1, 2, 3], [2, 3, 0]] * 4))
    assert not hasattr(strings.fit(ids, [0, 1] * 4), "feature_names_in_")


def test_bag_integrated_gradients_complete_from_an_empty_text():
    clf = SequenceClassifier("bag", max_length=6, embedding_dim=8, max_iter=20, random_state=0)
    clf.fit(TEXTS, LABELS)
    attributions = integrated_gradients(clf, ["a great film"], n_steps=16).sum(axis=(1, 2))
    inputs = clf._explain_inputs(["a great film"])
    with torch.no_grad():
        gap = clf._explain_forward(inputs) - clf._explain_forward(torch.zeros_like(inputs))
    predicted = int(clf.predict_proba(["a great film"]).argmax())
    assert attributions[0] == pytest.approx(float(gap[0, predicted]), rel=1e-3, abs=1e-5)


def test_classifier_padding_does_not_change_predictions():
    vec = TextVectorizer(max_length=12).fit(TEXTS)
    clf = SequenceClassifier("bilstm", embedding_dim=8, hidden_size=8, max_iter=5, random_state=0)
    clf.fit(vec.transform(TEXTS), LABELS)
    ids = vec.transform(["good film", "bad film"])
    wider = np.concatenate([ids, np.zeros((2, 30), dtype=ids.dtype)], 1)
    assert np.allclose(clf.predict_proba(ids), clf.predict_proba(wider), atol=1e-6)


def test_classifier_vocabulary_saved_with_model(tmp_path):
    clf = SequenceClassifier("conv1d", max_length=6, embedding_dim=8, max_iter=10, random_state=0).fit(
        TEXTS, LABELS
    )
    clf.save(tmp_path / "clf")
    loaded = deepzoo.load(tmp_path / "clf")
    assert loaded.vocabulary_ == clf.vocabulary_
    assert np.allclose(loaded.predict_proba(["great film"]), clf.predict_proba(["great film"]))


def test_classifier_vocabulary_from_another_model():
    clf = SequenceClassifier("conv1d", max_length=6, embedding_dim=8, max_iter=2, random_state=0).fit(
        TEXTS, LABELS
    )
    other = TextVectorizer().fit(["many other words " + " ".join(f"w{i}" for i in range(50))])
    with pytest.raises(ValueError, match="vocabulary from a different model"):
        clf.predict(other.transform(["w40 w41 w42"]))
    ids_model = SequenceClassifier("conv1d", max_iter=1, random_state=0).fit(
        np.array([[2, 3], [4, 0]]), [0, 1]
    )
    with pytest.raises(ValueError, match="fitted on token ids, not texts"):
        ids_model.predict(["good film"])


def test_classifier_bad_input():
    clf = SequenceClassifier("conv1d", max_length=6, max_iter=1)
    with pytest.raises(ValueError, match="Document 1 is an empty text"):
        clf.fit(["good", ""], [0, 1])
    with pytest.raises(ValueError, match=r"at least 2 classes in the data, but the data contains 1 class"):
        clf.fit(np.array([[1, 2], [3, 4]]), [0, 0])
    with pytest.raises(ValueError, match="expects integer token ids; got non-integer values"):
        clf.fit(np.array([[1.5, 2.0], [3.0, 4.0]]), [0, 1])
    with pytest.raises(ValueError, match="Negative values in data passed to SequenceClassifier"):
        clf.fit(np.array([[1, -2], [3, 4]]), [0, 1])
    with pytest.raises(
        ValueError, match="'architecture' parameter of SequenceClassifier.*Did you mean 'bilstm'"
    ):
        SequenceClassifier("bilstn", max_length=6).fit(TEXTS, LABELS)


def test_classifier_same_seed_and_explain_contract():
    kw = dict(max_length=6, embedding_dim=8, hidden_size=8, max_iter=3, random_state=0)
    a = SequenceClassifier("bilstm", **kw).fit(TEXTS, LABELS)
    b = SequenceClassifier("bilstm", **kw).fit(TEXTS, LABELS)
    assert np.array_equal(a.predict_proba(TEXTS), b.predict_proba(TEXTS))
    inputs = a._explain_inputs(["good film", "bad"])
    assert inputs.shape == (2, a.max_length, 8) and not inputs.requires_grad
    ids = torch.as_tensor(a._ids(["good film", "bad"], reset=False))
    assert torch.allclose(a._explain_forward(inputs), a.module_(ids), atol=1e-6)
    grads = input_gradients(a, ["good film"])
    assert grads.shape == (1, a.max_length, 8) and np.abs(grads[0, 2:]).max() == 0  # padding gets none
    attributions = integrated_gradients(a, ["good film"], n_steps=8)
    assert attributions.shape == (1, a.max_length, 8)


def test_classifier_word_vectors_initialise_embedding():
    w2v = Word2Vec(vector_size=8, window=1, min_count=1, max_iter=1, batch_size=16, random_state=0).fit(TEXTS)
    clf = SequenceClassifier(
        "conv1d", max_length=6, embedding_dim=8, max_iter=1, learning_rate=1e-9, random_state=0
    )
    clf.fit(TEXTS, LABELS, word_vectors=w2v)
    row = clf.vocabulary_.index("film")
    assert clf.n_pretrained_tokens_ == 5
    assert np.allclose(
        clf.module_.embedding.weight[row].detach().numpy(), w2v.transform(["film"])[0], atol=1e-5
    )
    with pytest.raises(ValueError, match="embedding_dim to the vectors' size"):
        SequenceClassifier("conv1d", max_length=6, embedding_dim=4, max_iter=1).fit(
            TEXTS, LABELS, word_vectors=w2v
        )


def test_text_generator_learns_and_samples(tmp_path):
    gen = TextGenerator(
        n_timesteps=4,
        embedding_dim=16,
        hidden_layer_sizes=(32,),
        max_iter=60,
        learning_rate=0.02,
        random_state=0,
    ).fit(["the cat sat on the mat"] * 20)
    assert gen.generate("the cat", 4, temperature=0.01) == "the cat sat on the mat"
    sampled = gen.generate("the", 10, temperature=1.5, top_k=3, random_state=1)
    assert sampled.startswith("the") and sampled == gen.generate(
        "the", 10, temperature=1.5, top_k=3, random_state=1
    )
    gen.save(tmp_path / "gen")
    assert deepzoo.load(tmp_path / "gen").generate("the cat", 4, temperature=0.01) == "the cat sat on the mat"


def test_text_generator_char_level_and_bad_prompts():
    gen = TextGenerator(
        "char", n_timesteps=6, embedding_dim=8, hidden_layer_sizes=(16,), max_iter=2, random_state=0
    ).fit(["abcabcabc"] * 5)
    assert gen.generate("ab", 3, random_state=0).startswith("ab")
    with pytest.raises(
        ValueError, match=r"None of the prompt's tokens \['x', 'y', 'z'\] is in the model's vocabulary"
    ):
        gen.generate("xyz")
    with pytest.raises(ValueError, match="temperature must be a float > 0"):
        gen.generate("ab", temperature=0)
    with pytest.raises(ValueError, match="fewer than n_timesteps"):
        TextGenerator(n_timesteps=50, max_iter=1).fit(["too short"])


def test_text_generator_perplexity_drops_with_training():
    corpus = ["the cat sat on the mat", "the dog sat on the log"] * 10
    small = dict(n_timesteps=4, embedding_dim=8, hidden_layer_sizes=(16,), learning_rate=0.02, random_state=0)
    early = TextGenerator(max_iter=1, **small).fit(corpus).perplexity(corpus)
    late = TextGenerator(max_iter=40, n_iter_no_change=40, **small).fit(corpus).perplexity(corpus)
    assert late < early / 2 and late >= 1.0


def test_classifier_document_vectors_rank_same_class_first():
    clf = SequenceClassifier(
        "conv1d",
        max_length=6,
        embedding_dim=8,
        n_filters=8,
        max_iter=30,
        n_iter_no_change=30,
        learning_rate=0.02,
        random_state=0,
    ).fit(TEXTS, LABELS)
    vectors = clf.document_vectors(["great film", "good film", "awful film"])
    assert vectors.shape == (3, 16)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    assert unit[0] @ unit[1] > unit[0] @ unit[2]
