"""Text: labelled texts -> a SequenceClassifier beside TF-IDF + logistic regression and the majority class.

read (a table's text and label columns, or a folder of ``.txt`` files per class, with or without
``train/`` and ``test/``) -> split (the data's own train/test, else stratified 80/20 in which identical
texts stay on one side) -> SequenceClassifier on the raw texts, and on the same split TF-IDF + logistic
regression and the majority class -> leaderboard -> learning curves, ROC, confusion matrix, the most
confident mistakes, token saliency -> model/ (raw texts in).

The network's settings for an unseen corpus (:func:`text_settings`; each can be overridden with ``--set``):

* ``architecture='bag'`` with ``ngram_range=(1, 2)``: the document is the sum of its word and word-pair
  vectors weighted by sublinear TF-IDF, the vectors starting near zero. It reads the same evidence as
  the TF-IDF baseline and learns from a few hundred texts, where convolutional and recurrent encoders
  need tens of thousands (benchmarks/RESULTS.md);
* ``char_ngram_range=(2, 5)`` when the median text has at most 100 tokens (messages, titles,
  questions): the bag also reads the character n-grams inside each word, so the words a short text
  has few of still count when it spells them new ("150ppm", a new number, "txt"). On the SMS
  Spam Collection it raised spam F1 from 0.948 to 0.959 (mean of 5 splits; the split of seed 0: 0.920
  to 0.951). Long texts keep words only: they hold words enough, and their ids would grow ~15x;
* ``min_count=2``: n-grams seen once are left out, as the baseline's ``min_df=2`` leaves them out (on
  the resumes, keeping them cost both models 0.1-0.15 accuracy); ``max_tokens`` up to 200,000 n-grams;
* ``max_length``: the 99th percentile of the training texts' length in tokens, at least 16 and at most
  2,000 (and at most 20 million ids over the corpus, character n-grams counted);
* early stopping on a 10% validation part from 300 training texts (the best epoch's weights are kept);
* ``batch_size`` 32 up to 20,000 texts, then 1/600 of them (at most 256), with the learning rate
  growing with the square root of the batch.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .. import plots
from ..data.splits import holdout
from ..data.text import read_lines, read_text_folder, tokenize
from ..engine import distributed
from ..models.sequence.text_classifier import ARCHITECTURES, SequenceClassifier
from .base import (
    TUNING_VALIDATION_FRACTION,
    FitConfig,
    FolderProbe,
    Leaderboard,
    Outcome,
    Source,
    TableProbe,
    TaskKind,
    classification_scores,
    primary_metric,
    read_rows,
    rows_in_chunks,
    stopwatch,
    tuning_metric,
)

__all__ = [
    "add_pictures",
    "add_saliency_figures",
    "baselines",
    "compare",
    "default_trial",
    "fit_and_report",
    "iter_lines",
    "mistakes",
    "predict_texts",
    "run",
    "search_space",
    "settings_of",
    "split",
    "text_settings",
    "tfidf_baseline",
    "token_saliency",
    "tuning_problem",
]

DEEP_NAME = "SequenceClassifier (deepzoo)"
# early stopping from this many training texts (a 10% validation part of 30+ texts)
_EARLY_STOPPING_TEXTS = 300


# -- the data ------------------------------------------------------------------------------------------
def load(source, config: FitConfig) -> tuple:
    """(X_train, y_train, X_test, y_test, how the split was made) from a detected source: a table's
    text and target columns (and its sibling test file), or a folder of ``.txt`` files per class."""
    if source.path is not None:
        parts = read_text_folder(source.path)
        if "test" in parts:
            (X_train, y_train), (X_test, y_test) = parts["train"], parts["test"]
            return list(X_train), y_train, list(X_test), y_test, "the folder's own train/ and test/ parts"
        texts, labels = parts["all"]
        return _drawn(texts, labels, config)
    column, target = source.columns["text"], source.columns["target"]
    texts, labels = _table_texts(source.frame, column, target)
    if source.test_frame is not None:
        X_test, y_test = _table_texts(source.test_frame, column, target)
        unseen = sorted(str(c) for c in set(y_test) - set(labels))[:5]
        if unseen:
            raise ValueError(f"The test file holds labels the training file does not have: {unseen}.")
        return texts, labels, X_test, y_test, "the data's own test file"
    return _drawn(texts, labels, config)


def _drawn(texts, labels, config: FitConfig) -> tuple:
    """The split :func:`load` draws, with how it was made (and which rare labels stayed in training)."""
    *parts, note = _split(texts, labels, config.test_size, config.seed)
    if note and config.verbose and distributed.is_main_process():
        from rich.console import Console

        Console().print(f"note: {note}")
    return (*parts, _SPLIT_RULE + (f". {note}" if note else ""))


_SPLIT_RULE = "stratified; identical texts kept on one side"


def _table_texts(frame: pd.DataFrame, column: str, target: str) -> tuple[list[str], np.ndarray]:
    """The texts and labels of a table's rows that have both (rows without text are left out)."""
    rows = frame[frame[target].notna()]
    values = rows[column]
    present = values.notna() & values.astype(str).str.strip().ne("")
    if not present.any():
        raise ValueError(
            f"The text column {column!r} is empty in every row with a label; pick the column that holds "
            "the texts with --text COLUMN."
        )
    rows = rows[present]
    return rows[column].astype(str).tolist(), rows[target].to_numpy()


def split(texts, labels, test_size: float = 0.2, seed: int = 0) -> tuple:
    """Train and test parts (X_train, y_train, X_test, y_test), stratified by label, with every copy of
    a text on the same side: a corpus with duplicates (SMS messages, resumes) would otherwise score
    the test copies of texts it was trained on. A label of fewer than 3 distinct texts stays in the
    training part (:func:`deepzoo.data.splits.holdout`)."""
    return _split(texts, labels, test_size, seed)[:4]


def _split(texts, labels, test_size: float, seed: int) -> tuple:
    """:func:`split` and its note (None when no class was kept out of the test part)."""
    texts = np.asarray(texts, dtype=object)
    labels = np.asarray(labels)
    distinct, first, which = np.unique(texts.astype(str), return_index=True, return_inverse=True)
    if len(distinct) < 2:
        raise ValueError("The texts are all the same: there is nothing to split or learn from.")
    train_ids, test_ids, _, note = holdout(labels[first], test_size, seed)
    in_train = np.isin(which, train_ids)
    # copies of one text with other labels can bring a label to the test part only: such texts train
    unseen = ~in_train & ~np.isin(labels, labels[in_train])
    if unseen.any():
        in_train |= np.isin(which, which[unseen])
        note = (note + " " if note else "") + (
            f"{int(unseen.sum())} test texts whose label only copies of other texts carry joined the "
            "training part."
        )
    if len(np.unique(labels[in_train])) < 2:
        raise ValueError(
            "The training part holds one class only; give more texts of each class (or a larger --test-size)."
        )
    return (
        texts[in_train].tolist(),
        labels[in_train],
        texts[~in_train].tolist(),
        labels[~in_train],
        note,
    )


# -- the deep model and the baselines -------------------------------------------------------------------
# texts whose median length is at most this many tokens are short (messages, titles, questions): their
# bag also reads the character n-grams of _CHAR_NGRAMS inside each word
_SHORT_TEXT_TOKENS = 100
_CHAR_NGRAMS = (2, 5)


def _char_grams_per_token(sample: list[list[str]]) -> float:
    """The mean number of character n-grams of _CHAR_NGRAMS per token of the tokenised ``sample`` (each
    word marked at both ends, as the vectorizer reads it)."""
    low, high = _CHAR_NGRAMS
    counts = [sum(max(0, len(t) + 3 - n) for n in range(low, high + 1)) for doc in sample for t in doc]
    return float(np.mean(counts)) if counts else 0.0


def text_settings(texts) -> dict:
    """The SequenceClassifier's parameters for a training corpus (see the module's docstring)."""
    n_texts = len(texts)
    step = max(1, n_texts // 2000)  # the lengths of up to 2,000 texts tell the percentile well enough
    sample = [tokenize(str(t)) for t in texts[::step]]
    lengths = np.array([len(tokens) for tokens in sample])
    length = int(np.percentile(lengths, 99)) if len(lengths) else 16
    short = len(lengths) > 0 and np.median(lengths) <= _SHORT_TEXT_TOKENS
    # ids per token: a word and a word pair, plus (short texts) the character n-grams of each word
    per_token = 2 + (_char_grams_per_token(sample) if short else 0)
    max_length = int(np.clip(length, 16, min(2000, max(16, 20_000_000 // int(per_token * n_texts)))))
    batch_size = 32 if n_texts <= 20_000 else int(min(256, n_texts // 600))
    return {
        "architecture": "bag",
        "ngram_range": (1, 2),
        "char_ngram_range": _CHAR_NGRAMS if short else None,
        "min_count": 2,
        "max_tokens": 200_000,
        "max_length": max_length,
        "embedding_dim": 64,
        "dropout": 0.3,
        "learning_rate": 3e-3 * float(np.sqrt(batch_size / 32)),
        "batch_size": batch_size,
        "early_stopping": n_texts >= _EARLY_STOPPING_TEXTS,
        "n_iter_no_change": 3,
        "max_iter": 30,
    }


def search_space(trial, defaults: dict, fixed=()) -> dict:
    """The network's settings for one Optuna ``trial`` (``deepzoo fit --tune``), around
    :func:`default_trial`: the architecture among deepzoo's, the word n-grams, the embedding size,
    dropout and learning rate. Named as SequenceClassifier names them (n-grams as "1-2"), so that
    ``--set NAME=VALUE`` fixes one (named in ``fixed``, it is left out of the search). The n-grams are
    searched for the bag alone: the other encoders read the word order themselves (:func:`settings_of`
    gives them words alone)."""
    lr = defaults["learning_rate"]
    params = {}
    if "architecture" not in fixed:
        params["architecture"] = trial.suggest_categorical("architecture", sorted(ARCHITECTURES))
    suggest = {
        "ngram_range": lambda name: (
            trial.suggest_categorical(name, ["1-1", "1-2", "1-3"])
            if params.get("architecture", "bag") == "bag"
            else None
        ),
        "embedding_dim": lambda name: trial.suggest_categorical(name, [32, 64, 128]),
        "dropout": lambda name: trial.suggest_float(name, 0.0, 0.5),
        "learning_rate": lambda name: trial.suggest_float(name, lr / 10, lr * 10, log=True),
    }
    params.update({name: pick(name) for name, pick in suggest.items() if name not in fixed})
    return {name: value for name, value in params.items() if value is not None}


def default_trial(texts) -> dict:
    """:func:`text_settings` for the training ``texts`` in :func:`search_space`'s terms: the first trial."""
    settings = text_settings(texts)
    low, high = settings["ngram_range"]
    return {
        "architecture": settings["architecture"],
        "ngram_range": f"{low}-{high}",
        "embedding_dim": int(settings["embedding_dim"]),
        "dropout": float(settings["dropout"]),
        "learning_rate": float(settings["learning_rate"]),
    }


def settings_of(params: dict) -> dict:
    """Optuna's parameters (and ``--set``'s) as SequenceClassifier settings: the n-grams "1-2" become
    (1, 2); an encoder other than the bag reads words alone (no word pairs, no character n-grams)."""
    settings = dict(params)
    if isinstance(settings.get("ngram_range"), str):
        settings["ngram_range"] = tuple(int(n) for n in settings["ngram_range"].split("-"))
    if settings.get("architecture", "bag") != "bag":
        settings.setdefault("ngram_range", (1, 1))
        settings.setdefault("char_ngram_range", None)
    return settings


def make_classifier(texts, config: FitConfig, checkpoint=None) -> SequenceClassifier:
    """A SequenceClassifier with :func:`text_settings` for ``texts`` and ``config.settings`` on top."""
    clf = SequenceClassifier(random_state=config.seed, device=config.device, verbose=config.verbose)
    try:
        clf.set_params(**{**text_settings(texts), **config.settings})
    except ValueError as exc:
        raise ValueError(f"--set: {exc}") from None
    if checkpoint is not None and distributed.is_main_process():
        clf.set_params(checkpoint=str(checkpoint), resume=config.resume)
    return clf


def fit_and_compare(X_train, y_train, X_test, y_test, config: FitConfig, checkpoint=None, **fit_params):
    """Fit :func:`make_classifier` on the training texts (within ``config.time_limit``; a one-column
    DataFrame records the text column's name) and compare it with :func:`baselines` on the test texts:
    (clf, Leaderboard, {model name: test probabilities})."""
    from ..engine.training import time_limit

    texts = X_train.iloc[:, 0].tolist() if isinstance(X_train, pd.DataFrame) else list(X_train)
    clf = make_classifier(texts, config, checkpoint)
    with stopwatch() as seconds, time_limit(config.time_limit):
        clf.fit(X_train, y_train, **fit_params)
    clf.set_params(checkpoint=None, resume=False)
    board, outputs = compare(clf, seconds(), baselines(), texts, y_train, X_test, y_test)
    return clf, board, outputs


def tfidf_baseline(C: float = 10.0):
    """TF-IDF of words and word pairs (sublinear tf, terms of at least two texts) + logistic
    regression: the strong linear baseline for text."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    return Pipeline(
        [
            ("tfidf", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)),
            ("model", LogisticRegression(C=C, max_iter=2000)),
        ]
    )


def baselines() -> dict:
    """(display name, key, role) -> an unfitted baseline that reads raw texts."""
    from sklearn.dummy import DummyClassifier

    return {
        ("TF-IDF + LogisticRegression", "tfidf_logistic_regression", "baseline"): tfidf_baseline(),
        ("majority class", "majority", "trivial"): DummyClassifier(strategy="prior"),
    }


def compare(clf, fit_seconds: float, others: dict, X_train, y_train, X_test, y_test) -> tuple:
    """The fitted ``clf`` and the ``others`` (fitted here on the same training texts, timed) scored on
    the same test texts: (Leaderboard, {model name: test probabilities})."""
    classes = clf.classes_
    board = Leaderboard(primary_metric("text", len(classes)))
    proba = clf.predict_proba(X_test)
    scores = classification_scores(y_test, proba, classes)
    board.add(DEEP_NAME, scores, fit_seconds, key="sequence_classifier", role="deep")
    outputs = {DEEP_NAME: proba}
    for (name, key, role), model in others.items():
        with stopwatch() as took:
            model.fit(X_train, y_train)
        proba = _aligned(model.predict_proba(X_test), model.classes_, classes)
        board.add(name, classification_scores(y_test, proba, classes), took(), key=key, role=role)
        outputs[name] = proba
    return board, outputs


def _aligned(proba: np.ndarray, model_classes, classes) -> np.ndarray:
    """Probabilities in the column order of ``classes``."""
    out = np.zeros((len(proba), len(classes)))
    index = {c: i for i, c in enumerate(classes)}
    for j, c in enumerate(model_classes):
        out[:, index[c]] = proba[:, j]
    return out


# -- pictures and tables --------------------------------------------------------------------------------
def mistakes(texts, y_true, proba, classes, limit: int = 20) -> pd.DataFrame:
    """The test texts the model gets wrong, most confident first: text (its first 300 characters),
    true and predicted label, and the probability given to the prediction."""
    proba = np.asarray(proba)
    classes = np.asarray(classes)
    predicted = proba.argmax(1)
    wrong = np.flatnonzero(classes[predicted] != np.asarray(y_true))
    order = wrong[np.argsort(-proba[wrong, predicted[wrong]], kind="stable")][:limit]
    return pd.DataFrame(
        {
            "text": [str(texts[i])[:300] for i in order],
            "true": [y_true[i] for i in order],
            "predicted": classes[predicted[order]],
            "probability": proba[order, predicted[order]].round(4),
        }
    )


def token_saliency(clf, text: str, target=None) -> tuple[list[str], np.ndarray]:
    """The tokens the classifier reads and each one's gradient x input (summed over the embedding)
    towards ``target`` (default: the last class, the positive one of two): how much each token pushes
    that class's logit up (+) or down (-). A word's character n-grams count in the word's weight."""
    from ..audit.explain import input_gradients

    target = clf.classes_[-1] if target is None else target
    grads = input_gradients(clf, [text], target=target)[0]  # (T, E)
    embedded = clf._explain_inputs([text]).cpu().numpy()[0]  # (T, E)
    weights = (grads * embedded).sum(1)
    tokens = clf.tokens([text])[0]
    return _fold_char_grams(clf, text, tokens, weights[: len(tokens)])


def _fold_char_grams(clf, text: str, tokens: list, weights: np.ndarray) -> tuple[list, np.ndarray]:
    """With character n-grams, each word's weight plus those of its pieces, the pieces left out of the
    list (a message of 20 words has ~300 of them); the word n-grams as they are."""
    chars = clf.get_params().get("char_ngram_range")
    low, high = tuple(clf.ngram_range)
    if not chars or low != 1:
        return tokens, weights
    words = tokenize(text, lowercase=clf.lowercase)[: clf.max_length]
    n_words = sum(max(0, len(words) - n + 1) for n in range(low, high + 1))  # words first, then pairs
    pieces = [sum(max(0, len(w) + 3 - n) for n in range(chars[0], chars[1] + 1)) for w in words]
    if len(tokens) != n_words + sum(pieces):  # not the vectorizer's layout: show every id as it is
        return tokens, weights
    folded = np.array(weights[:n_words], dtype=float)
    ends = n_words + np.cumsum(pieces)
    for j, (start, end) in enumerate(zip(ends - np.asarray(pieces), ends, strict=True)):
        folded[j] += weights[start:end].sum()
    return list(tokens[:n_words]), folded


def add_saliency_figures(report, clf, texts, names, title: str, targets=None) -> None:
    """One token-saliency picture per text (towards each ``targets`` label; default the last class)."""
    targets = [None] * len(texts) if targets is None else targets
    for name, text, target in zip(names, texts, targets, strict=True):
        label = clf.classes_[-1] if target is None else target
        tokens, weights = token_saliency(clf, text, label)
        p = float(clf.predict_proba([text])[0, list(clf.classes_).index(label)])
        report.add_figure(
            f"saliency_{name}",
            plots.plot_token_saliency(tokens, weights, title=f"{title} p({label}) = {p:.3f}"),
            f"Input gradient x embedding per token: green pushes towards {label!r}, red away.",
        )


def add_pictures(report, clf, X_test, y_test, outputs: dict, n_saliency: int = 3) -> None:
    """Learning curves, ROC curves of every model (two classes), the confusion matrix, the most
    confident mistakes and token saliency for a few test texts; each in ``report.section``, so that
    one that fails becomes a note and the others are still made."""
    classes = clf.classes_
    y_test = np.asarray(y_test)
    proba = outputs[DEEP_NAME]
    report.add_history(clf.history_)
    with report.section("learning curves"):
        report.add_figure(
            "learning_curves",
            plots.plot_loss(clf),
            "Loss per epoch; with early stopping the dot marks the epoch whose weights were kept.",
        )
    if len(classes) == 2:
        with report.section("ROC curve"):
            ax = None
            for name, p in outputs.items():
                if "majority" not in name:
                    ax = plots.plot_roc(y_test == classes[1], p[:, 1], ax=ax, label=name)
            report.add_figure(
                "roc_curve", ax, f"ROC curves of every model on the test texts ({classes[1]!r} positive)."
            )
    with report.section("confusion matrix"):
        report.add_figure(
            "confusion_matrix",
            plots.plot_confusion_matrix(y_test, classes[proba.argmax(1)], labels=list(classes)),
            "The network's test predictions.",
        )
    with report.section("mistakes"):
        report.add_table(
            "mistakes",
            mistakes(X_test, y_test, proba, classes),
            "Test texts it gets wrong, most confident first.",
        )
    with report.section("token saliency"):
        _add_saliency(report, clf, X_test, y_test, proba, classes, n_saliency)


def _add_saliency(report, clf, X_test, y_test, proba, classes, n_saliency: int) -> None:
    """Token saliency of a right answer of each of the first classes and of the most confident mistake."""
    predicted = classes[proba.argmax(1)]
    picks = []
    for label in classes[:2] if len(classes) == 2 else classes[: n_saliency - 1]:
        right = np.flatnonzero((y_test == label) & (predicted == label))
        if len(right):
            picks.append(int(right[0]))
    wrong = np.flatnonzero(predicted != y_test)
    if len(wrong):
        picks.append(int(wrong[np.argmax(proba[wrong].max(1))]))
    picks = list(dict.fromkeys(picks))[:n_saliency]
    add_saliency_figures(
        report,
        clf,
        [str(X_test[i])[:1500] for i in picks],
        [f"test_{i}" for i in picks],
        "",
        targets=[None if len(classes) == 2 else predicted[i] for i in picks],
    )


# -- the task ------------------------------------------------------------------------------------------
def fit_and_report(
    report,
    X_train,
    y_train,
    X_test,
    y_test,
    config: FitConfig,
    *,
    how: str = _SPLIT_RULE,
    column: str | None = None,
    caption: str = "",
    **fit_params,
) -> Outcome:
    """The text road from the split on, for ``deepzoo fit`` and the text case studies:
    :func:`fit_and_compare` (checkpointed in the run folder) -> the data and the network in a paragraph,
    metrics, leaderboard -> :func:`add_pictures`. ``how`` says how the split was made; ``column``
    names the text column the saved model reads from a table; ``fit_params`` go to the network's
    ``fit`` (``word_vectors``)."""
    if len(np.unique(y_train)) < 2:
        raise ValueError(
            f"The training texts hold one class ({str(y_train[0])!r}); text classification needs two or more."
        )
    train_input = pd.DataFrame({column: X_train}) if column is not None else X_train
    clf, board, outputs = fit_and_compare(
        train_input,
        y_train,
        X_test,
        y_test,
        config,
        report.out_dir / "checkpoints" / "sequence_classifier.ckpt",
        **fit_params,
    )
    report.add_text(
        "Data",
        f"{len(X_train):,} training and {len(X_test):,} test texts ({how}); {len(clf.classes_)} classes. "
        f"The network: {_describe(clf)}.",
    )
    report.add_metrics(
        **board.metrics(),
        n_train=len(X_train),
        n_test=len(X_test),
        epochs=clf.n_iter_,
        vocabulary=clf.n_tokens_,
    )
    board.add_to_report(report, caption)
    report.keep(clf, verdict=board.verdict())  # saved (by deepzoo fit) before anything is drawn
    add_pictures(report, clf, X_test, y_test, outputs)
    return Outcome("text", clf, report.metrics, board.frame(), report.out_dir, verdict=board.verdict())


def run(source, config: FitConfig, report) -> Outcome:
    """Fit the text task on ``source`` (a table's text and target columns, or a folder of texts)."""
    X_train, y_train, X_test, y_test, how = load(source, config)
    outcome = fit_and_report(
        report, X_train, y_train, X_test, y_test, config, how=how, column=source.columns.get("text")
    )
    outcome.schema = source.schema
    return outcome


@dataclasses.dataclass
class TuningProblem:
    """``deepzoo fit --tune`` on texts (:class:`deepzoo.tasks.tune.Problem`): the training texts split
    (stratified, copies of a text on one side) into a part each trial fits and one it is scored on."""

    config: FitConfig
    X_fit: list
    y_fit: np.ndarray
    X_val: list
    y_val: np.ndarray
    n_train: int
    defaults: dict  # text_settings of all the training texts: what the final fit starts from
    first: dict  # default_trial
    metric: str
    direction: str
    model_name: str = "the SequenceClassifier"
    tuned_row: str = DEEP_NAME

    @property
    def n_fit(self) -> int:
        return len(self.X_fit)

    @property
    def n_val(self) -> int:
        return len(self.X_val)

    def estimator(self):
        return SequenceClassifier()

    def default_trial(self) -> dict:
        return self.first

    def settings(self, trial) -> dict:
        params = search_space(trial, self.first, fixed=tuple(self.config.settings))
        return {**self.defaults, **settings_of({**params, **self.config.settings})}

    def score(self, settings: dict, on_epoch) -> tuple[float, int]:
        from ..engine.training import epoch_callback

        clf = SequenceClassifier(random_state=self.config.seed, device=self.config.device)
        clf.set_params(**settings)
        with epoch_callback(on_epoch), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a trial that runs out of max_iter is scored as it is
            clf.fit(self.X_fit, self.y_fit)
        scores = classification_scores(self.y_val, clf.predict_proba(self.X_val), clf.classes_)
        return float(scores[self.metric]), int(clf.n_iter_)

    def final(self, source, report, changed: dict) -> Outcome:
        settings = settings_of({**changed, **self.config.settings})
        return run(source, dataclasses.replace(self.config, settings=settings), report)


def tuning_problem(source, config: FitConfig, report) -> TuningProblem:
    """The texts of ``source`` for ``--tune``: the test texts dropped, a validation part carved out."""
    X_train, y_train, _, _, _ = load(source, config)
    X_fit, y_fit, X_val, y_val = split(X_train, y_train, TUNING_VALIDATION_FRACTION, config.seed)
    metric, direction = tuning_metric("classify", len(np.unique(y_train)))
    defaults = text_settings(X_train)
    return TuningProblem(
        config, X_fit, y_fit, X_val, y_val, len(X_train), defaults, default_trial(X_train), metric, direction
    )


def _describe(clf) -> str:
    p = clf.get_params()
    return (
        f"{p['architecture']}, n-grams {tuple(p['ngram_range'])}"
        + (f", character n-grams {tuple(p['char_ngram_range'])}" if p.get("char_ngram_range") else "")
        + f", a vocabulary of {clf.n_tokens_:,}, "
        f"the first {p['max_length']} tokens of each text, embedding {p['embedding_dim']}, "
        f"{clf.n_iter_} epochs"
        + (f" (best {clf.best_epoch_ + 1}, early stopping)" if clf.best_epoch_ is not None else "")
    )


# -- predict ---------------------------------------------------------------------------------------------
def iter_lines(path, chunksize: int = 100_000):
    """DataFrames of one ``text`` column, ``chunksize`` non-blank lines of a ``.txt`` file at a time."""
    lines = read_lines(path)
    for start in range(0, len(lines), chunksize):
        yield pd.DataFrame({"text": lines[start : start + chunksize]})


def predict_texts(model, data) -> pd.DataFrame:
    """prediction and proba_<class> for texts: a DataFrame (the training text column, or its only
    column), a Series or a list of texts."""
    if isinstance(data, pd.Series):
        data = data.tolist()
    elif isinstance(data, pd.DataFrame):
        data = _text_column(model, data)
    proba = np.asarray(model.predict_proba(list(data)), dtype=float)
    classes = np.asarray(model.classes_)
    out = pd.DataFrame({"prediction": classes[proba.argmax(1)]})
    for j, label in enumerate(classes):
        out[f"proba_{label}"] = proba[:, j]
    return out


def _text_column(model, frame: pd.DataFrame) -> list:
    columns = [str(c) for c in frame.columns]
    known = getattr(model, "feature_names_in_", None)
    name = None if known is None else str(known[0])
    if name is not None and name in columns:
        chosen = name
    elif len(columns) == 1:
        chosen = columns[0]
    else:
        wanted = f"the text column {name!r}" if name is not None else "one text column"
        raise ValueError(
            f"The model reads {wanted}; the data have {', '.join(columns[:10])}. Give a table with that "
            "column, or a .txt file with one text per line."
        )
    extra = [c for c in columns if c != chosen]
    if extra:
        warnings.warn(
            f"Ignoring the columns the model does not use: {', '.join(extra)}.", UserWarning, stacklevel=3
        )
    values = frame[chosen]
    missing = values.isna() | values.astype(str).str.strip().eq("")
    if missing.any():
        raise ValueError(
            f"{int(missing.sum())} row(s) have no text in {chosen!r} (the first is row "
            f"{int(np.argmax(missing))}); fill or drop them."
        )
    return values.astype(str).tolist()


# -- detection: texts in class folders, or a table whose only feature is long text ----------------------
def detect_folder(folder: FolderProbe) -> str | None:
    texts = folder.suffixes.get(".txt", 0)
    return f"a folder of {texts:,} .txt files in class sub-folders" if texts else None


def detect_table(probe: TableProbe) -> Source | None:
    """One long-text column and a label (with --task text: the one text column and the target)."""
    schema = probe.schema
    if schema.target is None:
        if probe.task == "text":
            raise ValueError("--task text needs a target: pass --target COLUMN.")
        return None
    texts = schema.names("text")
    if not (
        probe.task == "text" or (len(texts) == 1 and schema.features == texts and schema.task == "classify")
    ):
        return None
    if len(texts) != 1:
        raise ValueError(f"--task text needs one text column; the schema has {texts or 'none'}.")
    return Source(
        "text",
        f"one long-text column ({texts[0]}) and a label: text classification",
        frame=probe.frame,
        test_frame=probe.test_frame,
        schema=schema,
        columns={"text": texts[0], "target": schema.target},
    )


def _lines(path) -> bool:
    """A .txt file holds one text per line; any other file is a table with the text column."""
    return Path(path).suffix.lower() == ".txt"


def _read(path):
    return read_lines(path) if _lines(path) else read_rows(path)


def _chunks(path, chunksize: int):
    return iter_lines(path, chunksize) if _lines(path) else rows_in_chunks(path, chunksize)


KIND = TaskKind(
    name="text",
    tasks=("text",),
    rule="a folder of .txt sub-folders (one per class); a table whose only feature is long text",
    run=run,
    predict=predict_texts,
    saves=(SequenceClassifier,),
    serves="text",
    read=_read,
    chunks=_chunks,
    detect_folder=detect_folder,
    detect_table=detect_table,
    tune=tuning_problem,
)
