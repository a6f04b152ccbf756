"""data/sequences.py: price files with real-world quirks, scaling on the training part, windows."""

import numpy as np
import pytest

from deepzoo.data.sequences import SeriesScaler, load_goog, make_windows, read_prices, test_windows


def _write(tmp_path, text, name="prices.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_read_prices_quirks(tmp_path):
    path = _write(
        tmp_path,
        'Date,Open,Volume\r\n1/5/2012,3.5,"1,000"\r\n1/3/2012,1.5,"7,380,500"\r\n'
        '1/3/2012,2.0,"10"\r\n1/12/2012,4.0,"5"',
    )
    with pytest.warns(UserWarning):
        frame = read_prices(path)
    assert frame["Volume"].tolist() == [10.0, 1000.0, 5.0]
    assert frame["Open"].tolist() == [2.0, 3.5, 4.0]  # sorted, the last duplicate kept
    issues = " ".join(frame.attrs["issues"])
    assert "ascending" in issues and "duplicated" in issues and "gap" in issues


def test_read_prices_iso_dates(tmp_path):
    frame = read_prices(_write(tmp_path, "Date,Close\n2017-01-03,786.14\n2017-01-04,786.9\n"))
    assert frame.index[0].day == 3 and frame.attrs["issues"] == []


def test_read_prices_non_numeric_price(tmp_path):
    with pytest.raises(ValueError, match=r"non-numeric value 'closed' at row 1"):
        read_prices(_write(tmp_path, "Date,Open\n1/3/2012,1.0\n1/4/2012,closed\n"))
    # 'n/a' is a missing value, as in read_table: the missing-price message, not a non-number
    with pytest.raises(ValueError, match=r"empty or NaN prices, the first on 2012-01-04"):
        read_prices(_write(tmp_path, "Date,Open\n1/3/2012,1.0\n1/4/2012,n/a\n"))


def test_read_prices_nan_price(tmp_path):
    path = _write(tmp_path, "Date,Open\n1/3/2012,1.0\n1/4/2012,\n1/5/2012,3.0\n")
    with pytest.raises(ValueError, match=r"empty or NaN prices.*on_missing='ffill'"):
        read_prices(path)
    with pytest.warns(UserWarning, match="filled"):
        assert read_prices(path, on_missing="ffill")["Open"].tolist() == [1.0, 1.0, 3.0]


def test_read_prices_missing_date_column(tmp_path):
    with pytest.raises(ValueError, match=r"no date column 'Date'.*date_column"):
        read_prices(_write(tmp_path, "Day,Open\n1/3/2012,1.0\n"))


def test_real_google_files(shared_data_dir):
    train = read_prices(shared_data_dir / "google_stock" / "Google_Stock_Price_Train.csv")
    test = read_prices(shared_data_dir / "google_stock" / "Google_Stock_Price_Test.csv")
    assert len(train) == 1258 and len(test) == 20
    assert train["Volume"].iloc[0] == 7380500.0 and str(test.index[0].date()) == "2017-01-03"


def test_load_goog():
    frame = load_goog()
    assert len(frame) == 1047 and frame.index.is_monotonic_increasing


def test_make_windows_shapes_and_values():
    series = np.arange(20.0).reshape(10, 2)
    X, y = make_windows(series, 3, target=1)
    assert X.shape == (7, 3, 2) and y.shape == (7,)
    assert X[0, :, 1].tolist() == [1.0, 3.0, 5.0] and y[0] == 7.0
    X, y = make_windows(series[:, 0], 3, horizon=2)
    assert y.shape == (6, 2) and y[0].tolist() == [6.0, 8.0]


def test_series_shorter_than_n_timesteps():
    with pytest.raises(ValueError, match=r"has 5 rows, too short.*at least 61"):
        make_windows(np.arange(5.0), 60)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_n_timesteps_must_be_positive(bad):
    with pytest.raises(ValueError, match="n_timesteps must be a positive int"):
        make_windows(np.arange(50.0), bad)


def test_nan_and_text_in_series():
    with pytest.raises(ValueError, match=r"NaN or infinite.*row 2"):
        make_windows([1.0, 2.0, np.nan, 4.0, 5.0], 2)
    with pytest.raises(ValueError, match="must hold numbers"):
        make_windows(np.array(["1", "2", "x", "4"], dtype=object), 2)


def test_scaler_fits_on_train_only_and_inverts():
    train, test = np.array([[10.0, 1.0], [20.0, 3.0]]), np.array([[30.0, 2.0]])
    scaler = SeriesScaler().fit(train)
    assert scaler.transform(test).tolist() == [[2.0, 0.5]]  # beyond 1: test not seen by fit
    assert np.allclose(scaler.inverse_transform(scaler.transform(test)), test)
    assert np.allclose(scaler.inverse_transform([2.0], feature=0), [30.0])


def test_test_windows_reach_into_train():
    X, y = test_windows(np.arange(10.0), np.arange(10.0, 13.0), 4)
    assert X.shape == (3, 4, 1) and X[0, :, 0].tolist() == [6, 7, 8, 9] and y.tolist() == [10, 11, 12]
    with pytest.raises(ValueError, match="n_timesteps=20"):
        test_windows(np.arange(10.0), np.arange(3.0), 20)
