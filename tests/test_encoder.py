"""TableEncoder: raw columns in (text categories, '1,234' numbers, blanks, dates), float32 features out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

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
        "note:time",
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
