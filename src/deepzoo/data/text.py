"""Text for sequence models: a tokenizer and vocabulary fitted on training text, and readers of raw corpora.

* :func:`tokenize` lower-cases, drops HTML line breaks and splits words from punctuation (or characters);
* :class:`TextVectorizer` learns a vocabulary (``max_tokens`` most frequent, id 0 = padding, id 1 =
  out-of-vocabulary) and turns texts into padded/truncated id arrays of ``max_length``; its
  ``vocabulary_`` is plain data, which is how :class:`~deepzoo.SequenceClassifier` saves it with the
  model;
* readers: :func:`read_sms_spam` (``label<TAB>text`` lines), :func:`read_labeled_lines`,
  :func:`read_text_csv`, :func:`read_aclimdb` (``{train,test}/{pos,neg}/*.txt``), :func:`read_text_folder`
  (any folder of ``.txt`` files in class sub-folders, with or without ``train/`` and ``test/``) and
  :func:`read_lines`.

Every reader decodes strict UTF-8 and names the file and byte of a bad sequence.
"""

from __future__ import annotations

import csv
import numbers
import re
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "OOV_TOKEN",
    "PAD_TOKEN",
    "TextVectorizer",
    "read_aclimdb",
    "read_labeled_lines",
    "read_lines",
    "read_sms_spam",
    "read_text_csv",
    "read_text_folder",
    "tokenize",
]

PAD_TOKEN, OOV_TOKEN = "<pad>", "<unk>"
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
# words (letters, digits, apostrophes inside words) or single punctuation marks
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*|[^\w\s]", re.UNICODE)


def _as_text(doc, index: int) -> str:
    """One document as str: bytes must be UTF-8, anything else is a TypeError naming the index."""
    if isinstance(doc, bytes | bytearray):
        try:
            return bytes(doc).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"Document {index} is not valid UTF-8 (byte {exc.start}: "
                f"{bytes(doc)[exc.start : exc.start + 1]!r}). "
                "Decode it with the right encoding first, e.g. raw.decode('latin-1')."
            ) from exc
    if isinstance(doc, str):
        return doc
    if doc is None or (isinstance(doc, float) and doc != doc):
        raise ValueError(f"Document {index} is missing (None or NaN); drop it or replace it with text.")
    raise TypeError(f"Documents must be str or UTF-8 bytes; document {index} is {type(doc).__name__}.")


def tokenize(text: str, *, lowercase: bool = True, level: str = "word") -> list[str]:
    """Split a text into tokens.

    Parameters
    ----------
    text : str
    lowercase : bool, default=True
    level : {'word', 'char'}, default='word'
        Words and punctuation marks, or single characters (spaces included).

    Returns
    -------
    list of str

    Examples
    --------
    >>> tokenize("Great film!<br />I'd see it again.")
    ['great', 'film', '!', "i'd", 'see', 'it', 'again', '.']
    """
    text = _BREAK.sub(" ", text)
    if lowercase:
        text = text.lower()
    if level == "char":
        return list(re.sub(r"\s+", " ", text).strip())
    return _WORD.findall(text)


def _documents(X, what: str = "X") -> list[str]:
    if isinstance(X, str | bytes):
        raise TypeError(
            f"{what} must be a list of documents; got a single {type(X).__name__}. Wrap it: [text]."
        )
    docs = [_as_text(d, i) for i, d in enumerate(np.asarray(X, dtype=object).ravel())] if len(X) else []
    if not docs:
        raise ValueError(f"{what} holds no documents; pass a non-empty list of texts.")
    for i, doc in enumerate(docs):
        if not doc.strip():
            raise ValueError(f"Document {i} is an empty text; drop empty documents or give them content.")
    return docs


class TextVectorizer(TransformerMixin, BaseEstimator):
    """Texts -> padded arrays of token ids, with a vocabulary learned from the training texts.

    Parameters
    ----------
    max_tokens : int, default=20000
        Vocabulary size, the two special tokens included (id 0 = padding, id 1 = unknown word).
    max_length : int, default=200
        Tokens kept per text (the first ones); shorter texts are padded with 0 at the end.
    min_count : int, default=1
        Tokens seen fewer times in the training texts become the unknown token.
    lowercase : bool, default=True
    level : {'word', 'char'}, default='word'
    ngram_range : tuple (min_n, max_n), default=(1, 1)
        As in scikit-learn's ``CountVectorizer``: the vocabulary holds the n-grams of these lengths
        (``"not good"``), and each text becomes the ids of its n-grams (all of one length, then the
        next), formed from its first ``max_length`` tokens. Only for models that read a bag of tokens.
    char_ngram_range : tuple (min_n, max_n) or None, default=None
        Words only: each text's ids also hold the character n-grams of these lengths inside each of
        its first ``max_length`` words, the word marked at both ends with ``_`` (scikit-learn's
        ``analyzer='char_wb'``), after the word n-grams. They let a bag read a word it never saw
        whole ("150ppm", "txt4free") by its pieces. Stored as ``#`` + the n-gram (``#_tx``), which no
        word n-gram can be. Texts then have different numbers of ids: ``transform`` pads to the
        longest. Only for models that read a bag of tokens.

    Attributes
    ----------
    vocabulary_ : tuple of str
        Token of each id, most frequent first after ``'<pad>'`` and ``'<unk>'``.

    Examples
    --------
    >>> vec = TextVectorizer(max_length=4).fit(["a good film", "a bad film"])
    >>> vec.transform(["a good day"]).tolist()
    [[2, 5, 1, 0]]
    >>> bigrams = TextVectorizer(max_length=3, ngram_range=(1, 2)).fit(["not good", "not bad"])
    >>> bigrams.inverse_transform(bigrams.transform(["not good at all"]))
    ['not good <unk> not good <unk>']
    """

    def __init__(
        self,
        max_tokens=20000,
        *,
        max_length=200,
        min_count=1,
        lowercase=True,
        level="word",
        ngram_range=(1, 1),
        char_ngram_range=None,
    ):
        self.max_tokens = max_tokens
        self.max_length = max_length
        self.min_count = min_count
        self.lowercase = lowercase
        self.level = level
        self.ngram_range = ngram_range
        self.char_ngram_range = char_ngram_range

    def _check(self):
        for name, low in (("max_tokens", 3), ("max_length", 1), ("min_count", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
                raise ValueError(
                    f"The {name!r} parameter of TextVectorizer must be an int in the range [{low}, inf). "
                    f"Got {value!r} instead."
                )
        if self.level not in ("word", "char"):
            raise ValueError(
                f"The 'level' parameter of TextVectorizer must be a str among {{'char', 'word'}}. "
                f"Got {self.level!r} instead."
            )
        check_ngram_range(self.ngram_range, "TextVectorizer")
        if self.char_ngram_range is not None:
            check_ngram_range(self.char_ngram_range, "TextVectorizer", "char_ngram_range")
            if self.level != "word":
                raise ValueError(
                    "char_ngram_range needs level='word': at level='char' the tokens are characters "
                    "already; use ngram_range for their n-grams."
                )

    def tokenize(self, text: str) -> list[str]:
        """The tokens of one text, with this vectorizer's settings."""
        return tokenize(text, lowercase=self.lowercase, level=self.level)

    def _grams(self, tokens: list[str]) -> list[str]:
        """The n-grams of ``ngram_range`` of a token list, shortest first, then the words' character
        n-grams of ``char_ngram_range``."""
        low, high = getattr(self, "ngram_range", (1, 1))
        grams = tokens
        if (low, high) != (1, 1):
            sep = "" if self.level == "char" else " "
            grams = [
                sep.join(tokens[i : i + n]) for n in range(low, high + 1) for i in range(len(tokens) - n + 1)
            ]
        chars = getattr(self, "char_ngram_range", None)
        if chars is not None:
            grams = grams + [
                "#" + w[i : i + n]
                for w in (f"_{t}_" for t in tokens)
                for n in range(chars[0], chars[1] + 1)
                for i in range(len(w) - n + 1)
            ]
        return grams

    @property
    def width_(self) -> int:
        """Ids per text without character n-grams: ``max_length``, or the number of n-grams of
        ``max_length`` tokens."""
        low, high = getattr(self, "ngram_range", (1, 1))
        return sum(max(0, self.max_length - n + 1) for n in range(low, high + 1))

    def fit(self, X, y=None) -> TextVectorizer:
        self._check()
        counts = Counter()
        for doc in _documents(X):
            counts.update(self._grams(self.tokenize(doc)))
        # most frequent first, ties alphabetical: the same texts always give the same ids
        ranked = sorted((t for t, c in counts.items() if c >= self.min_count), key=lambda t: (-counts[t], t))
        self.vocabulary_ = (PAD_TOKEN, OOV_TOKEN, *ranked[: self.max_tokens - 2])
        return self

    @property
    def index_(self) -> dict:
        """Token -> id."""
        check_is_fitted(self, "vocabulary_")
        cached = getattr(self, "_index", None)
        if cached is None or cached[0] is not self.vocabulary_:
            cached = (self.vocabulary_, {t: i for i, t in enumerate(self.vocabulary_)})
            self._index = cached
        return cached[1]

    def encode(self, text: str, max_length: int | None = None) -> list[int]:
        """The ids of (the n-grams of the first ``max_length`` tokens of) one text, unpadded."""
        index = self.index_
        return [index.get(t, 1) for t in self._grams(self.tokenize(text)[:max_length])]

    def transform(self, X) -> np.ndarray:
        """(n_texts, width_) int64 ids, 0-padded at the end (``width_`` is ``max_length`` for words)."""
        check_is_fitted(self, "vocabulary_")
        rows = [self.encode(doc, self.max_length) for doc in _documents(X)]
        # with character n-grams a text's ids number with its letters: pad to the longest text
        width = (
            self.width_ if getattr(self, "char_ngram_range", None) is None else max(map(len, rows), default=1)
        )
        out = np.zeros((len(rows), max(1, width)), dtype=np.int64)
        for row, ids in enumerate(rows):
            out[row, : len(ids)] = ids
        return out

    def inverse_transform(self, ids) -> list[str]:
        """Ids back to space-joined tokens (padding dropped)."""
        check_is_fitted(self, "vocabulary_")
        vocab = self.vocabulary_
        sep = "" if self.level == "char" else " "
        return [sep.join(vocab[i] for i in row if i != 0) for row in np.asarray(ids)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags


def check_ngram_range(value, owner: str, name: str = "ngram_range") -> tuple[int, int]:
    """``(min_n, max_n)`` with 1 <= min_n <= max_n, else scikit-learn's parameter error."""
    ok = (
        isinstance(value, tuple | list)
        and len(value) == 2
        and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value)
        and 1 <= value[0] <= value[1]
    )
    if not ok:
        raise ValueError(
            f"The {name!r} parameter of {owner} must be a tuple (min_n, max_n) of ints with "
            f"1 <= min_n <= max_n, e.g. (1, 2) for words and word pairs. Got {value!r} instead."
        )
    return int(value[0]), int(value[1])


# -- readers ------------------------------------------------------------------------------------
def _read_utf8(path) -> str:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No text file at {path}.")
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ValueError(
            f"{path} is not valid UTF-8: byte {exc.start} (line {line}) is "
            f"{raw[exc.start : exc.start + 1]!r}. "
            "Re-save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)."
        ) from exc


def read_labeled_lines(path, *, sep: str = "\t", label_first: bool = True) -> tuple[list[str], np.ndarray]:
    """One document per line with its label, split on the FIRST ``sep`` only; no quote handling.

    Parameters
    ----------
    path : str or Path
    sep : str, default='\\t'
    label_first : bool, default=True
        ``label<sep>text`` (True) or ``text<sep>label`` (False, split on the last ``sep``).

    Returns
    -------
    texts : list of str
    labels : ndarray of str

    Examples
    --------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "spam.txt"
    >>> _ = f.write_text('ham\\tSee you "soon"\\tok\\nspam\\tWIN NOW\\n')
    >>> read_labeled_lines(f)
    (['See you "soon"\\tok', 'WIN NOW'], array(['ham', 'spam'], dtype='<U4'))
    """
    texts, labels = [], []
    for number, line in enumerate(_read_utf8(path).splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split(sep, 1) if label_first else line.rsplit(sep, 1)
        if len(parts) != 2:
            raise ValueError(
                f"{path}, line {number}: no {sep!r} separating the label from the text "
                f"({line[:60]!r}). Each line must be 'label{sep}text'."
            )
        label, text = parts if label_first else parts[::-1]
        if not text.strip():
            raise ValueError(f"{path}, line {number}: the text after the label {label!r} is empty.")
        texts.append(text)
        labels.append(label.strip())
    if not texts:
        raise ValueError(f"{path} holds no labelled lines.")
    return texts, np.asarray(labels)


def read_sms_spam(path) -> tuple[list[str], np.ndarray]:
    """The SMS Spam Collection (``ham|spam<TAB>message`` per line); labels 1 = spam, 0 = ham.

    Examples
    --------
    >>> from deepzoo.data.registry import DatasetNotFoundError, dataset_file
    >>> try:
    ...     texts, y = read_sms_spam(dataset_file("sms_spam"))
    ... except DatasetNotFoundError:
    ...     texts, y = ["x"], np.array([0])
    >>> len(texts) in (1, 5574)
    True
    """
    texts, labels = read_labeled_lines(path)
    unknown = sorted(set(labels) - {"ham", "spam"})
    if unknown:
        raise ValueError(f"{path}: labels must be 'ham' or 'spam'; found {unknown[:5]}.")
    return texts, (labels == "spam").astype(np.int64)


def read_text_csv(path, *, text_column: str, label_column: str | None = None):
    """Texts (and labels) from a CSV with a header; quoted fields may span lines.

    Returns
    -------
    texts : list of str
    labels : ndarray of str, only when ``label_column`` is given

    Examples
    --------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
    >>> _ = f.write_text('Category,Resume\\nHR,"line one\\nline two"\\n')
    >>> read_text_csv(f, text_column="Resume", label_column="Category")
    (['line one\\nline two'], array(['HR'], dtype='<U2'))
    """
    text = _read_utf8(path)
    rows = list(csv.reader(text.splitlines(keepends=True)))
    if not rows:
        raise ValueError(f"{path} is empty.")
    header = [h.strip() for h in rows[0]]
    for role, column in (("text", text_column), ("label", label_column)):
        if column is not None and column not in header:
            raise ValueError(
                f"{path} has no {role} column {column!r}; its columns are {header}. "
                f"Pass {role}_column= one of them."
            )
    t = header.index(text_column)
    lab = None if label_column is None else header.index(label_column)
    texts, labels = [], []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank records, e.g. a trailing empty line
        if len(row) != len(header):
            raise ValueError(
                f"{path}, record {number}: {len(row)} fields where the header has {len(header)}."
            )
        texts.append(row[t])
        if lab is not None:
            labels.append(row[lab].strip())
    return (texts, np.asarray(labels)) if label_column is not None else texts


def read_aclimdb(folder, split: str = "train") -> tuple[list[str], np.ndarray]:
    """Reviews of the aclImdb layout ``<folder>/<split>/{pos,neg}/<id>_<rating>.txt``; 1 = positive.

    Files are read in the order of their numeric id, negatives first.

    Examples
    --------
    >>> from deepzoo.data.registry import locate
    >>> folder, _ = locate("imdb")
    >>> if folder is not None:
    ...     texts, y = read_aclimdb(folder / "aclImdb_subset", "test")
    ...     assert len(texts) == 5000 and y.mean() == 0.5
    """
    root = Path(folder)
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}.")
    texts, labels = [], []
    for label, name in ((0, "neg"), (1, "pos")):
        sub = root / split / name
        if not sub.is_dir():
            raise FileNotFoundError(
                f"{sub} is missing: read_aclimdb expects {root}/{split}/pos and {root}/{split}/neg "
                "with one review per .txt file (the aclImdb layout)."
            )
        for file in _text_files(sub):
            texts.append(_read_utf8(file))
            labels.append(label)
    if not texts:
        raise ValueError(f"{root}/{split} holds no .txt reviews.")
    return texts, np.asarray(labels, dtype=np.int64)


def _text_files(folder: Path) -> list[Path]:
    """The .txt files under ``folder`` in the order of a leading numeric id (aclImdb's ``<id>_<rating>``),
    then by name."""

    def order(path: Path):
        head = path.stem.split("_")[0]
        return (int(head) if head.isdigit() else 0, path.relative_to(folder).as_posix())

    return sorted((p for p in folder.rglob("*.txt") if p.is_file() and not p.name.startswith(".")), key=order)


# class folders of these names hold unlabelled texts (aclImdb's train/unsup): not a class
_UNLABELLED = ("unsup", "unlabeled", "unlabelled")


def _class_folders(root: Path) -> list[Path]:
    return sorted(
        p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name not in _UNLABELLED
    )


def text_folder_root(folder) -> Path:
    """The folder that holds the classes (or ``train/`` and ``test/``): ``folder`` itself, or its only
    sub-folder when it has one and no texts of its own (``imdb/`` -> ``imdb/aclImdb_subset/``)."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(
            f"No folder at {root}; give a folder with one sub-folder of .txt files per class."
        )
    while True:
        subs = _class_folders(root)
        names = {p.name.lower() for p in subs}
        if len(subs) == 1 and "train" not in names and not any(p.suffix == ".txt" for p in subs[0].iterdir()):
            root = subs[0]
        else:
            return root


def read_text_folder(folder) -> dict[str, tuple[list[str], np.ndarray]]:
    """Labelled texts of a folder with one sub-folder of ``.txt`` files per class.

    Layouts: ``<folder>/<class>/*.txt`` gives ``{"all": (texts, labels)}``; ``<folder>/train/<class>/*.txt``
    and ``<folder>/test/<class>/*.txt`` (aclImdb's) give ``{"train": ..., "test": ...}``, so that the data's
    own split is kept. A folder whose only sub-folder holds the layout is entered; ``unsup`` folders
    (unlabelled texts) are not classes. Files are read as strict UTF-8; empty files are skipped with a
    warning.

    Returns
    -------
    dict of part -> (texts, labels)
        ``labels`` are the class folder names (str).

    Raises
    ------
    FileNotFoundError, ValueError
        No folder; fewer than two classes; a class folder without texts; a test class unknown to the
        training part; no texts at all; a file that is not UTF-8 (named, with the byte).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for label, text in (("good", "a fine film"), ("bad", "a dull film")):
    ...     (root / label).mkdir()
    ...     _ = (root / label / "1.txt").write_text(text)
    >>> texts, labels = read_text_folder(root)["all"]
    >>> texts, labels.tolist()
    (['a dull film', 'a fine film'], ['bad', 'good'])
    """
    root = text_folder_root(folder)
    names = {p.name.lower(): p for p in _class_folders(root)}
    if "train" in names:
        parts = {"train": names["train"]}
        if "test" in names:
            parts["test"] = names["test"]
    else:
        parts = {"all": root}
    out = {}
    for part, where in parts.items():
        out[part] = _read_classes(where, part)
    if "test" in out:
        unknown = sorted(str(c) for c in set(out["test"][1]) - set(out["train"][1]))
        if unknown:
            raise ValueError(
                f"{parts['test']} has classes the training part lacks: {unknown}; every test class needs "
                f"a folder under {parts['train']} too."
            )
    return out


def _read_classes(where: Path, part: str) -> tuple[list[str], np.ndarray]:
    classes = _class_folders(where)
    if not classes:
        hint = " (its .txt files should sit in one sub-folder per class)" if any(where.glob("*.txt")) else ""
        raise ValueError(f"The folder {where} has no class sub-folders with .txt texts{hint}.")
    if len(classes) < 2 and part != "test":  # a test part may miss a class; training needs two
        raise ValueError(
            f"The folder {where} has one class folder ({classes[0].name}); text classification needs at "
            "least two, one sub-folder of .txt files per class."
        )
    texts, labels, skipped = [], [], []
    for sub in classes:
        files = _text_files(sub)
        if not files:
            raise ValueError(
                f"The class folder {sub} holds no .txt files; put that class's texts there or remove "
                "the folder."
            )
        n_before = len(texts)
        for file in files:
            text = _read_utf8(file)
            if text.strip():
                texts.append(text)
                labels.append(sub.name)
            else:
                skipped.append(file)
        if len(texts) == n_before:
            raise ValueError(f"Every .txt file in the class folder {sub} is empty.")
    if skipped:
        warnings.warn(
            f"Skipped {len(skipped)} empty .txt file(s) in the {part} texts, e.g. {skipped[0]}.",
            UserWarning,
            stacklevel=3,
        )
    return texts, np.asarray(labels)


def read_lines(path) -> list[str]:
    """One text per non-blank line of a UTF-8 file (what ``deepzoo predict`` reads from a ``.txt`` file).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "new.txt"
    >>> _ = f.write_text("what a film\\n\\nnot for me\\n")
    >>> read_lines(f)
    ['what a film', 'not for me']
    """
    lines = [line for line in _read_utf8(path).splitlines() if line.strip()]
    if not lines:
        raise ValueError(f"{path} holds no text: give one text per line.")
    return lines
