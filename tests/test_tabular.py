"""CSV reading, target splitting and numeric checks: each failure gets its own clear message."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deepzoo.data.tabular import check_numeric, read_csv, split_target

CHURN_HEADER = "RowNumber,CustomerId,Surname,CreditScore,Geography,Gender,Age,Exited\n"


@pytest.fixture
def churn_csv(tmp_path):
    csv = tmp_path / "Churn_Modelling.csv"
    csv.write_text(
        CHURN_HEADER + "1,15634602,Hargrave,619,France,Female,42,1\n2,15647311,Hill,608,Spain,Female,41,0\n"
    )
    return csv


def test_read_csv_reads_and_remembers_its_source(churn_csv):
    frame = read_csv(churn_csv)
    assert frame.shape == (2, 8)
    assert frame.attrs["source"] == str(churn_csv)


def test_read_csv_passes_options_to_pandas(tmp_path):
    csv = tmp_path / "prices.csv"
    csv.write_text('Date,Volume\n1/3/2012,"7,380,500"\n')
    assert read_csv(csv, thousands=",")["Volume"].tolist() == [7380500]
    tsv = tmp_path / "sms.tsv"
    tsv.write_text('ham\tsay "hi\nspam\tWIN\n')
    frame = read_csv(tsv, sep="\t", header=None, quoting=3)
    assert frame[1].tolist() == ['say "hi', "WIN"]


def test_read_csv_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="CSV file not found: .*nope.csv"):
        read_csv(tmp_path / "nope.csv")


def test_read_csv_folder(tmp_path):
    with pytest.raises(ValueError, match="as CSV: it is a folder"):
        read_csv(tmp_path)


def test_read_csv_garbage_binary(tmp_path):
    bad = tmp_path / "Churn_Modelling.csv"
    bad.write_bytes(b"\x00\x01\x02garbage\xff\xfe" * 50)
    with pytest.raises(ValueError, match=r"Cannot read .*Churn_Modelling.csv as CSV: .*binary"):
        read_csv(bad)


def test_read_csv_other_encoding_suggests_it(tmp_path):
    csv = tmp_path / "items.csv"
    csv.write_bytes("title,year\nCafé,1999\n".encode("latin-1"))
    with pytest.raises(ValueError, match="not utf-8 text.*encoding='latin-1'"):
        read_csv(csv)
    assert read_csv(csv, encoding="latin-1")["title"].tolist() == ["Café"]


@pytest.mark.parametrize("content", [b"", b"\n\n"])
def test_read_csv_empty(tmp_path, content):
    csv = tmp_path / "empty.csv"
    csv.write_bytes(content)
    with pytest.raises(ValueError, match="Cannot read .*empty.csv as CSV: it is empty"):
        read_csv(csv)


def test_read_csv_header_only(tmp_path):
    csv = tmp_path / "header.csv"
    csv.write_text("a,b\n")
    with pytest.raises(ValueError, match=r"header \(a, b\) but no data rows"):
        read_csv(csv)


def test_read_csv_ragged_rows(tmp_path):
    csv = tmp_path / "ragged.csv"
    csv.write_text("a,b,c\n1,2,3\n1,2,3,4,5\n")
    with pytest.raises(ValueError, match="as CSV: Expected 3 fields in line 3, saw 5"):
        read_csv(csv)
    # pandas would silently make the extra first field an index.
    csv.write_text("a,b\n1,2,3\n")
    with pytest.raises(ValueError, match="more fields than its header"):
        read_csv(csv)


def test_split_target(churn_csv):
    X, y = split_target(read_csv(churn_csv), "Exited", drop=("RowNumber", "CustomerId", "Surname"))
    assert list(X.columns) == ["CreditScore", "Geography", "Gender", "Age"]
    assert y.name == "Exited" and y.tolist() == [1, 0]
    X, _ = split_target(read_csv(churn_csv), "Exited", drop="Surname")  # one name as a str
    assert "Surname" not in X.columns and "RowNumber" in X.columns


def test_split_target_missing_column_lists_columns_and_suggests(churn_csv):
    frame = read_csv(churn_csv)
    with pytest.raises(ValueError) as info:
        split_target(frame, "Exitted")
    message = str(info.value)
    assert message.startswith(f"Column 'Exitted' is not in {churn_csv}; available columns: RowNumber, ")
    assert "CustomerId" in message and message.endswith("Did you mean 'Exited'?")
    with pytest.raises(ValueError, match="Column 'surname' is not in the data.*Did you mean 'Surname'"):
        split_target(pd.DataFrame({"Surname": ["x"], "Exited": [1]}), "Exited", drop=["surname"])
    with pytest.raises(ValueError, match="Column 'zzz'.*available columns: a\\.$"):
        split_target(pd.DataFrame({"a": [1]}), "zzz")


def test_check_numeric_passes_numbers_and_bools():
    check_numeric(pd.DataFrame({"age": [40, 25], "balance": [0.0, 1.5], "active": [True, False]}))


def test_check_numeric_names_text_and_missing_columns():
    frame = pd.DataFrame(
        {
            "Geography": ["France", "Spain", "Spain"],
            "Age": [40.0, np.nan, np.nan],
            "Balance": [1.0, np.inf, 3.0],
            "Tenure": [1, 2, 3],
        }
    )
    with pytest.raises(ValueError) as info:
        check_numeric(frame)
    message = str(info.value)
    assert "non-numeric columns Geography" in message and "'France'" in message
    assert "OneHotEncoder" in message
    assert "missing values in Age (2)" in message and "SimpleImputer" in message
    assert "infinite values in Balance (1)" in message
    assert "Tenure" not in message


def test_check_numeric_names_the_source(churn_csv):
    X, _ = split_target(read_csv(churn_csv), "Exited")
    with pytest.raises(ValueError, match=f"{churn_csv} has non-numeric columns Surname.*Geography.*Gender"):
        check_numeric(X)


def test_real_churn_csv(shared_data_dir):
    frame = read_csv(shared_data_dir / "churn" / "Churn_Modelling.csv")
    X, y = split_target(frame, "Exited", drop=("RowNumber", "CustomerId", "Surname"))
    assert X.shape == (10000, 10) and int(y.sum()) == 2037
    check_numeric(X.drop(columns=["Geography", "Gender"]))
