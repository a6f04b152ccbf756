"""data/text.py: tokenizer, vocabulary, readers of raw corpora and their bad input."""

import numpy as np
import pytest

from deepzoo.data.text import (
    TextVectorizer,
    read_aclimdb,
    read_labeled_lines,
    read_sms_spam,
    read_text_csv,
    tokenize,
)


def test_tokenize_words_punctuation_and_html():
    assert tokenize("Hello, WORLD!<br /><br />It's fine") == ["hello", ",", "world", "!", "it's", "fine"]
    assert tokenize("Ab c", level="char") == ["a", "b", " ", "c"]


def test_vectorizer_vocabulary_padding_truncation():
    vec = TextVectorizer(max_tokens=4, max_length=3).fit(["b a a", "a c b", "d"])
    assert vec.vocabulary_ == ("<pad>", "<unk>", "a", "b")  # by frequency, capped at max_tokens
    ids = vec.transform(["a b c d e", "b"])
    assert ids.tolist() == [[2, 3, 1], [3, 0, 0]]
    assert vec.inverse_transform(ids[1:]) == ["b"]


def test_vectorizer_min_count_and_char_level():
    vec = TextVectorizer(min_count=2).fit(["x y", "x z"])
    assert vec.vocabulary_ == ("<pad>", "<unk>", "x")
    chars = TextVectorizer(level="char", max_length=5).fit(["abba"])
    assert chars.inverse_transform(chars.transform(["ab"])) == ["ab"]


def test_empty_text_is_an_error():
    with pytest.raises(ValueError, match=r"Document 1 is an empty text"):
        TextVectorizer().fit(["fine", "   "])
    with pytest.raises(ValueError, match="holds no documents"):
        TextVectorizer().fit([])


def test_non_utf8_bytes_document():
    with pytest.raises(ValueError, match=r"Document 0 is not valid UTF-8.*latin-1"):
        TextVectorizer().fit([b"caf\xe9"])
    assert TextVectorizer().fit([b"caf\xc3\xa9"]).vocabulary_[2] == "café"


def test_bad_parameters():
    with pytest.raises(ValueError, match=r"'max_length' parameter of TextVectorizer must be an int"):
        TextVectorizer(max_length=0).fit(["a"])
    with pytest.raises(ValueError, match=r"'level' parameter.*Got 'chars'"):
        TextVectorizer(level="chars").fit(["a"])


def test_read_labeled_lines_first_tab_and_quotes(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text('ham\tsay "hi"\tthere\nspam\tWIN\n')
    texts, labels = read_labeled_lines(path)
    assert texts == ['say "hi"\tthere', "WIN"] and labels.tolist() == ["ham", "spam"]


def test_non_utf8_file(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"ham\tok\nspam\tcaf\xe9\n")
    with pytest.raises(ValueError, match=r"not valid UTF-8: byte 15 \(line 2\)"):
        read_sms_spam(path)


def test_missing_label_separator(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("ham\tok\njust text without label\n")
    with pytest.raises(ValueError, match=r"line 2: no '\\t' separating the label"):
        read_labeled_lines(path)


def test_csv_label_column_missing(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text('Category,Resume\nHR,"two\r\nlines"\n\n')
    texts, labels = read_text_csv(path, text_column="Resume", label_column="Category")
    assert texts == ["two\r\nlines"] and labels.tolist() == ["HR"]
    with pytest.raises(
        ValueError, match=r"no label column 'Label'; its columns are \['Category', 'Resume'\]"
    ):
        read_text_csv(path, text_column="Resume", label_column="Label")


def test_aclimdb_layout(tmp_path):
    for split in ("train",):
        for name in ("pos", "neg"):
            (tmp_path / split / name).mkdir(parents=True)
    (tmp_path / "train/pos/10_8.txt").write_text("good<br />film")
    (tmp_path / "train/pos/2_9.txt").write_text("great")
    (tmp_path / "train/neg/0_1.txt").write_text("bad")
    texts, y = read_aclimdb(tmp_path, "train")
    assert texts == ["bad", "great", "good<br />film"] and y.tolist() == [0, 1, 1]
    with pytest.raises(FileNotFoundError, match="aclImdb layout"):
        read_aclimdb(tmp_path, "test")


def test_real_sms_spam(shared_data_dir):
    texts, y = read_sms_spam(shared_data_dir / "sms_spam" / "SMSSpamCollection")
    assert len(texts) == 5574 and int(y.sum()) == 747
    assert any('"' in t for t in texts)


def test_real_resumes(shared_data_dir):
    texts, labels = read_text_csv(
        shared_data_dir / "resumes" / "UpdatedResumeDataSet.csv",
        text_column="Resume",
        label_column="Category",
    )
    assert len(texts) == 962 and len(set(labels)) == 25 and len(set(texts)) == 166
    assert np.unique(labels).size == 25


def test_vectorizer_ngrams_of_the_first_max_length_tokens():
    vec = TextVectorizer(max_length=3, ngram_range=(1, 2)).fit(["not good at all", "not bad"])
    assert "not good" in vec.vocabulary_ and vec.width_ == 3 + 2
    ids = vec.transform(["not good at all", "good"])
    assert ids.shape == (2, 5)
    # the first three tokens and their two pairs; "all" is beyond max_length
    assert vec.inverse_transform(ids) == ["not good at not good good at", "good"]
    with pytest.raises(ValueError, match="'ngram_range' parameter of TextVectorizer"):
        TextVectorizer(ngram_range=(0, 2)).fit(["a b"])


def test_vectorizer_character_ngrams_inside_each_word():
    vec = TextVectorizer(max_length=2, char_ngram_range=(2, 3)).fit(["ab c", "zz"])
    # "_ab_" gives _a ab b_ _ab ab_, "_c_" gives _c c_ _c_; the third word is beyond max_length
    assert vec.encode("ab c d", vec.max_length) == [vec.index_[t] for t in ["ab", "c"]] + [
        vec.index_["#" + g] for g in ["_a", "ab", "b_", "_ab", "ab_", "_c", "c_", "_c_"]
    ]
    # a character n-gram never takes a word's id ("ab" the word and "ab" inside a word differ)
    assert vec.index_["ab"] != vec.index_["#ab"]
    ids = vec.transform(["ab", "ab c"])  # padded to the longest text's ids, not to a fixed width
    assert ids.shape == (2, 10) and (ids[0, 6:] == 0).all() and (ids[1] != 0).all()
    with pytest.raises(ValueError, match="'char_ngram_range' parameter of TextVectorizer"):
        TextVectorizer(char_ngram_range=(3, 2)).fit(["a b"])
    with pytest.raises(ValueError, match="needs level='word'"):
        TextVectorizer(level="char", char_ngram_range=(2, 3)).fit(["a b"])


def test_text_folder_layouts(tmp_path):
    from deepzoo.data.text import read_text_folder

    root = tmp_path / "corpus" / "inner"  # one folder down, as imdb/aclImdb_subset/
    for part, label, text in [("train", "pos", "fine"), ("train", "neg", "dull"), ("test", "pos", "good")]:
        (root / part / label).mkdir(parents=True, exist_ok=True)
        (root / part / label / "1_7.txt").write_text(text)
    (root / "train" / "unsup").mkdir()
    (root / "train" / "unsup" / "0_0.txt").write_text("no label")
    (root / "train" / "neg" / "2_1.txt").write_text("  ")
    with pytest.warns(UserWarning, match="Skipped 1 empty .txt file"):
        parts = read_text_folder(tmp_path / "corpus")
    assert parts["train"][0] == ["dull", "fine"] and parts["train"][1].tolist() == ["neg", "pos"]
    assert parts["test"][0] == ["good"]


def test_read_lines_skips_blank_lines_and_refuses_an_empty_file(tmp_path):
    from deepzoo.data.text import read_lines

    path = tmp_path / "t.txt"
    path.write_text("one\n\n  \ntwo\n")
    assert read_lines(path) == ["one", "two"]
    path.write_text("\n\n")
    with pytest.raises(ValueError, match="holds no text"):
        read_lines(path)
