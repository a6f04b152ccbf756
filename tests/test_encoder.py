"""TableEncoder: raw columns in (text categories, '1,234' numbers, blanks, dates), float32 features out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import TruncatedSVD
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from deepzoo import load, save
from deepzoo.data.encoder import TableEncoder


def frame():
    return pd.DataFrame(
        {
            "total": ["1,200", " ", "300", "?", "450.5", "80"],
            "plan": ["a", "b", "a", "a", "c", "a"],
            "smoker": ["yes", "no", "no", None, "yes", "no"],
            "flag": [0, 1, 1, 0, 1, 0],
            "signup": ["1/5/2021 16:00:00", "2/6/2021 16:00:00", "3/7/2021 16:00:00"] * 2,
            "note": ["late fee paid", "paid on time", "late again", "", "on time", "late"],
        }
    )


def encoder(**kw):
    return TableEncoder(
        numeric=("total",),
        binary=("smoker", "flag"),
        categorical=("plan",),
        dates=("signup",),
        text=("note",),
        min_frequency=2,
        **kw,
    )


def test_features_by_role():
    enc = encoder().fit(frame())
    names = enc.get_feature_names_out().tolist()
    assert names == [
        "total",
        "total_missing",
        "smoker",
        "flag",  # binaries carry no "missing" column: a missing value is 0.5
        "plan=a",
        "plan=other",
        "signup.day_of_year_sin",
        "signup.day_of_year_cos",
        "signup.day_of_week_sin",
        "signup.day_of_week_cos",
        "note:late",
        "note:on",
        "note:paid",
        "note:time",  # text keeps its words only (no n-gram coordinates: see the encoder's docstring)
    ]
    X = enc.transform(frame())
    assert X.dtype == np.float32 and X.shape == (6, len(names)) and np.isfinite(X).all()
    column = dict(zip(names, X.T))
    # 'total': blank and '?' are missing -> the median of 1200, 300, 450.5, 80 (375.25), flagged
    present = np.array([1200, 300, 450.5, 80])
    filled = np.array([1200, 375.25, 300, 375.25, 450.5, 80])
    np.testing.assert_allclose(column["total"], (filled - filled.mean()) / filled.std(), rtol=1e-5)
    assert column["total_missing"].tolist() == [0, 1, 0, 1, 0, 0] and present.size == 4
    assert column["smoker"].tolist() == [1, 0, 0, 0.5, 1, 0]  # 'no' < 'yes'; missing in between
    assert column["plan=a"].tolist() == [1, 0, 1, 1, 0, 1] and column["plan=other"].tolist() == [
        0,
        1,
        0,
        0,
        1,
        0,
    ]
    assert column["note:late"].tolist() == [1, 0, 1, 0, 0, 1]


def test_unseen_values_and_string_numbers_at_predict_time():
    enc = encoder().fit(frame())
    new = pd.DataFrame(
        {
            "total": [1e9, "2,000"],  # beyond the training range: clipped to it
            "plan": ["zzz", None],
            "smoker": ["maybe", "yes"],
            "flag": ["1.0", 0],  # numbers given as text agree with numbers
            "signup": ["not a date", "4/8/2021 16:00:00"],
            "note": [None, "late"],
        }
    )
    X = enc.transform(new)
    names = enc.get_feature_names_out().tolist()
    column = dict(zip(names, X.T))
    assert column["total"][0] == pytest.approx((1200 - enc.means_["total"]) / enc.scales_["total"], rel=1e-5)
    assert column["plan=other"].tolist() == [1, 1]
    assert column["smoker"].tolist() == [0.5, 1] and column["flag"].tolist() == [1, 0]
    assert np.isfinite(X).all()


def test_scale_none_keeps_numbers_in_their_unit_and_minmax_maps_them_to_0_1():
    enc = encoder(scale="none").fit(frame())
    column = dict(zip(enc.get_feature_names_out().tolist(), enc.transform(frame()).T))
    np.testing.assert_allclose(column["total"], [1200, 375.25, 300, 375.25, 450.5, 80], rtol=1e-6)
    clipped = enc.transform(frame().assign(total=["1e9", "-5", "", "1", "2", "3"]))[:, 0]
    assert clipped[:3].tolist() == [1200, 80, 375.25]  # the training range, the median for a blank
    minmax = encoder(scale="minmax").fit(frame())
    np.testing.assert_allclose(minmax.transform(frame())[:, 0], (column["total"] - 80) / 1120, rtol=1e-6)
    with pytest.raises(ValueError, match="'scale' parameter of TableEncoder"):
        encoder(scale="robust").fit(frame())


def test_missing_and_extra_columns():
    enc = encoder().fit(frame())
    with pytest.raises(ValueError, match=r"lacks the columns \['plan'\]"):
        enc.transform(frame().drop(columns="plan"))
    with pytest.warns(UserWarning, match="Ignoring the columns the model does not use: id"):
        enc.transform(frame().assign(id=range(6)))


def test_not_fitted_and_bad_setups():
    with pytest.raises(NotFittedError):
        encoder().transform(frame())
    with pytest.raises(ValueError, match="no column to encode"):
        TableEncoder().fit(frame())
    with pytest.raises(ValueError, match="two roles"):
        TableEncoder(numeric=("flag",), binary=("flag",)).fit(frame())
    with pytest.raises(ValueError, match="lacks the columns"):
        TableEncoder(numeric=("nope",)).fit(frame())


def test_saves_as_json_and_loads_identically(tmp_path):
    enc = encoder().fit(frame())
    folder = save(enc, tmp_path / "enc")
    assert not (folder / "weights.safetensors").exists()
    back = load(folder)
    np.testing.assert_array_equal(back.transform(frame()), enc.transform(frame()))
    assert back.input_schema() == enc.input_schema()


def test_string_coordinates_are_tfidf_of_char_grams_then_svd():
    # oracle: scikit-learn's own TF-IDF of character 3-4-grams + TruncatedSVD (the LSA that skrub's
    # StringEncoder computes), divided by the square root of the coordinates' total variance
    chains = ("McChicken", "McDouble", "Whopper", "Big Mac")
    names = [f"{a} {b}" for a in chains for b in ("Jr", "Deluxe", "")]
    train = pd.DataFrame({"item": names * 3})
    new = pd.DataFrame({"item": ["McRib", "Whopper Meal", None, "zz"]})
    # a categorical column of more values than max_categories (here 1) gets the coordinates
    enc = TableEncoder(categorical=("item",), max_categories=1, min_frequency=1, string_components=4).fit(
        train
    )
    lsa = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4)), TruncatedSVD(n_components=4, random_state=0)
    ).fit(train["item"].str.strip())
    scale = np.sqrt(lsa.transform(train["item"].str.strip()).var(axis=0).sum())
    expected = lsa.transform(["McRib", "Whopper Meal", "", "zz"]) / scale
    np.testing.assert_allclose(enc.transform(new)[:, -4:], expected, rtol=1e-4, atol=1e-6)
    assert enc.get_feature_names_out().tolist()[-4:] == ["item~0", "item~1", "item~2", "item~3"]
    with pytest.raises(ValueError, match="'string_components' parameter"):
        TableEncoder(text=("item",), string_components=-1).fit(train)


def test_char_grams_carry_what_names_share_below_the_word():
    # menu items of two chains (a categorical column of more values than max_categories), tested on
    # items never seen in training: one-hot sends them all to "other", while the shared "Mc" grams
    # place them
    stems = "Chicken Double Rib Flurry Muffin Wrap Nugget Fish Shake Melt Toast Bagel Salad Tea Pie Cone"
    sizes = ("Small", "Medium", "Large")
    rows = [(f"{pre}{stem} {size}", label, i) for i, stem in enumerate(stems.split())
            for pre, label in (("Mc", 1), ("Whop", 0)) for size in sizes]  # fmt: skip
    items = pd.DataFrame({"item": [r[0] for r in rows]})
    y = np.array([r[1] for r in rows])
    train = np.array([r[2] < 11 for r in rows])  # 11 stems to learn from, 5 new ones to test on

    def accuracy(**kw):
        encoder = TableEncoder(categorical=("item",), max_categories=5, min_frequency=1, **kw)
        model = make_pipeline(encoder, LogisticRegression())
        model.fit(items[train], y[train])
        return (model.predict(items[~train]) == y[~train]).mean()

    words, grams = accuracy(string_components=0), accuracy()
    assert grams >= 0.9 and grams > words + 0.3, (words, grams)


def test_categories_beyond_max_categories_get_string_coordinates():
    # 20 countries, 4 one-hot columns: the other 16 would all be "other" without their coordinates
    countries = pd.DataFrame({"country": [f"Country {chr(65 + i)}{chr(97 + i)}" for i in range(20)] * 3})
    enc = TableEncoder(categorical=("country",), max_categories=4, min_frequency=1).fit(countries)
    names = enc.get_feature_names_out().tolist()
    assert names[:5] == [f"country={v}" for v in enc.categories_["country"]] + ["country=other"]
    assert len(names) > 5 and all(n.startswith("country~") for n in names[5:])
    X = enc.transform(countries)
    others = X[X[:, 4] == 1][:20, 5:]  # rows in "other": told apart by their coordinates
    assert len(np.unique(others.round(6), axis=0)) == 16
    few = TableEncoder(categorical=("country",), max_categories=50).fit(countries)
    assert not any("~" in n for n in few.get_feature_names_out())


def test_underscores_read_as_spaces_in_string_coordinates():
    # a whitespace-aligned export writes 'NEAR_BAY' for 'NEAR BAY': the same name, the same features
    spaced = pd.DataFrame({"place": ["NEAR BAY", "NEAR OCEAN", "INLAND", "<1H OCEAN", "ISLAND"] * 4})
    underscored = spaced.assign(place=spaced["place"].str.replace(" ", "_"))
    a = TableEncoder(text=("place",), min_frequency=1).fit(spaced)
    b = TableEncoder(text=("place",), min_frequency=1).fit(underscored)
    np.testing.assert_allclose(a.transform(spaced), b.transform(underscored), atol=1e-6)
