"""Lists in a cell and addresses: what the schema calls a list or a URL column, and how the cells split."""

from __future__ import annotations

import numpy as np
import pandas as pd

from deepzoo import load, save
from deepzoo.data.encoder import TableEncoder
from deepzoo.data.lists import domains, list_separator, split_lists
from deepzoo.data.schema import infer_schema

POOL = ["red", "big", "blue", "small", "green"]


def tags(n=60, seed=0) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    return [sorted({str(t) for t in rng.choice(POOL, size=rng.integers(1, 4))}) for _ in range(n)]


def test_list_literals_and_joined_items_split_into_items():
    literal = pd.Series(["['a', 'B ']", '["c"]', "[]", "['a', \"it's\"]"])
    assert list_separator(literal) == "["
    assert split_lists(literal, "[").tolist() == [["a", "b"], ["c"], [], ["a", "it's"]]
    joined = pd.Series(["Action;Comedy", "Drama", "Comedy; Romance", None])
    assert list_separator(joined.dropna()) == ";"
    assert split_lists(joined, ";").tolist() == [["action", "comedy"], ["drama"], ["comedy", "romance"], []]
    # sentences joined by ';' are text, and a comma never separates items ("Smith, John")
    prose = pd.Series(["we came early; the shop was shut and nobody answered"] * 3 + ["fine"])
    assert list_separator(prose) is None
    assert list_separator(pd.Series(["Smith, John", "Doe, Jane", "Roe, Rick"])) is None


def test_addresses_give_their_domain_and_look_alikes_do_not():
    urls = pd.Series(["https://www.Shop.com/p/1?x=2", "http://news.org", "www.blog.net/a", "ftp://x.io:21/f"])
    assert domains(urls).tolist() == ["shop.com", "news.org", "blog.net", "x.io"]
    mails = pd.Series(["ann@gmail.com", "bob@mail.uni.edu", "c@gmail.com"])
    assert domains(mails).tolist() == ["gmail.com", "mail.uni.edu", "gmail.com"]
    assert domains(pd.Series(["3.5", "1.2", "a.b"])) is None  # no scheme nor '@': not addresses
    assert domains(pd.Series(["ann@gmail.com", "no", "no", "no"])) is None


def test_schema_roles_and_the_encoder_multi_hot():
    rows = tags()
    frame = pd.DataFrame(
        {
            "tags": [str(t) for t in rows],
            "genres": [";".join(t) for t in rows],
            "site": [f"https://www.{['shop', 'news', 'blog'][i % 3]}.com/p/{i}" for i in range(60)],
            "home": [f"https://example.org/u{i}" for i in range(60)],
            "y": [int("red" in t) for t in rows],
        }
    )
    schema = infer_schema(frame, "y")
    roles = {c.name: c.role for c in schema.columns}
    assert roles == {"tags": "list", "genres": "list", "site": "url", "home": "dropped"}
    assert "5 distinct items" in schema.to_dict()["columns"]["tags"]["reason"]
    assert "one domain (example.org)" in schema.to_dict()["columns"]["home"]["reason"]
    enc = TableEncoder(lists=("tags", "genres"), urls=("site",)).fit(frame)
    names = enc.get_feature_names_out().tolist()
    assert names == [f"tags[{t}]" for t in sorted(POOL)] + [f"genres[{t}]" for t in sorted(POOL)] + [
        "site@blog.com", "site@news.com", "site@shop.com", "site@other",
    ]  # fmt: skip
    X = enc.transform(frame)
    expected = np.array([[t in r for t in sorted(POOL)] for r in rows], dtype=float)
    np.testing.assert_array_equal(X[:, :5], expected)
    np.testing.assert_array_equal(X[:, 5:10], expected)  # the same items however they were written
    new = pd.DataFrame(
        {"tags": [None, "['RED', 'purple']"], "genres": ["?", "big"], "site": ["no", "x@news.com"]}
    )
    assert enc.transform(new).tolist() == [
        [0] * 10 + [0, 0, 0, 1],
        [0, 0, 0, 1, 0] + [1, 0, 0, 0, 0] + [0, 1, 0, 0],
    ]


def test_list_and_url_columns_save_and_load(tmp_path):
    rows = tags(20)
    frame = pd.DataFrame({"tags": [";".join(t) for t in rows], "site": ["http://a.com", "http://b.org"] * 10})
    enc = TableEncoder(lists=("tags",), urls=("site",), min_frequency=1).fit(frame)
    back = load(save(enc, tmp_path / "enc"))
    np.testing.assert_array_equal(back.transform(frame), enc.transform(frame))
    assert [c["kind"] for c in back.input_schema()] == ["text", "text"]
