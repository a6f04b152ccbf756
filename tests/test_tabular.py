"""Reading tables (CSV, and the files people have: compressed, workbooks, Parquet, European exports),
target splitting and numeric checks: each failure gets its own clear message."""

from __future__ import annotations

import gzip
import zipfile

import numpy as np
import pandas as pd
import pytest

from deepzoo.data import tabular
from deepzoo.data.tabular import check_numeric, iter_table, read_csv, read_table, split_target

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


# -- read_table: the files people have -------------------------------------------------------------
SMALL = pd.DataFrame(
    {"city": ["Köln", "Lyon", "Porto", "Gent"], "age": [21.5, 40.0, 33.25, 8.0], "left": [1, 0, 0, 1]}
)


def _same_as_small(frame):
    pd.testing.assert_frame_equal(frame, SMALL, check_dtype=False)


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz", ".zip"])
def test_compressed_text_is_sniffed_after_decompressing(tmp_path, suffix):
    path = tmp_path / f"people.csv{suffix}"
    SMALL.to_csv(path, sep=";", decimal=",", index=False)  # pandas compresses by the suffix
    frame = read_table(path)
    _same_as_small(frame)
    assert frame.attrs["separator"] == ";" and frame.attrs["decimal"] == ","
    assert frame.attrs["compression"] == suffix.strip(".").replace("gz", "gzip")
    assert list(iter_table(path, chunksize=3))[1].shape == (1, 3)


def test_compressed_file_with_the_wrong_name_is_read_by_its_bytes(tmp_path):
    path = tmp_path / "people.txt"  # gzip inside, whatever the name says
    path.write_bytes(gzip.compress(SMALL.to_csv(index=False).encode()))
    _same_as_small(read_table(path))


def test_zip_of_several_files_names_them(tmp_path):
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.csv", "x,y\n1,2\n")
        archive.writestr("b.csv", "x,y\n1,2\n")
    with pytest.raises(ValueError, match=r"holds 2 files \(a.csv, b.csv\).*unzip it"):
        read_table(path)


def _workbook(path):
    # a str, not a Path: odfpy saves to a Path object as to a stream and leaves out the 'mimetype' entry
    with pd.ExcelWriter(str(path)) as writer:
        pd.DataFrame({"note": ["read me"]}).to_excel(writer, sheet_name="About", index=False)
        SMALL.to_excel(writer, sheet_name="People", index=False)


@pytest.mark.parametrize("suffix", [".xlsx", ".ods"])
def test_workbook_first_sheet_by_default_else_the_sheet_asked(tmp_path, suffix):
    path = tmp_path / f"book{suffix}"
    _workbook(path)
    first = read_table(path)
    assert first["note"].tolist() == ["read me"] and first.attrs["sheet"] == "About"
    _same_as_small(read_table(path, sheet="People"))
    frame = read_table(path, sheet=1)
    _same_as_small(frame)
    assert frame.attrs["sheets"] == ["About", "People"] and "sheet 'People' of 2" in frame.attrs["dialect"]
    with pytest.raises(ValueError, match=r"no sheet 'Peeple'; its sheets: 'About', 'People'.*'People'\?"):
        read_table(path, sheet="Peeple")
    with pytest.raises(ValueError, match=r"it has 2 sheet\(s\), numbered from 0: 'About', 'People'"):
        read_table(path, sheet=5)


def test_workbook_without_sheets(tmp_path, monkeypatch):
    path = tmp_path / "book.xlsx"
    _workbook(path)
    monkeypatch.setattr(tabular, "_sheet_names", lambda file: [])  # no writer makes such a file
    with pytest.raises(ValueError, match="the workbook has no sheets"):
        read_table(path)


@pytest.mark.parametrize("suffix", [".parquet", ".feather", ".jsonl", ".ndjson", ".jsonl.gz"])
def test_columnar_and_json_lines(tmp_path, suffix):
    path = tmp_path / f"people{suffix}"
    if suffix == ".parquet":
        SMALL.to_parquet(path)
    elif suffix == ".feather":
        SMALL.to_feather(path)
    else:
        SMALL.to_json(path, orient="records", lines=True, force_ascii=False)
    frame = read_table(path)
    _same_as_small(frame)
    assert frame.attrs["format"] == suffix.split(".")[1].replace("ndjson", "jsonl")


@pytest.mark.parametrize(
    "module, suffix, package",
    [("python_calamine", ".xlsx", "python-calamine"), ("pyarrow", ".feather", "pyarrow")],
)
def test_missing_reader_names_the_package(tmp_path, monkeypatch, module, suffix, package):
    import builtins

    path = tmp_path / f"t{suffix}"
    path.write_bytes(b"PK\x03\x04" if suffix == ".xlsx" else b"ARROW1")
    real_import = builtins.__import__

    def hide(name, *args, **kwargs):
        if name == module:
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", hide)
    with pytest.raises(ValueError, match=f"need {package} \\(pip install {package}\\)"):
        read_table(path)


def test_european_export_with_decimal_commas_and_thousands(tmp_path):
    path = tmp_path / "export.csv"
    text = "Name;Fare;Age;Zip\nAnna;7,25;22;0123\nBob;1.234,5;38;4567\nCem;71,2833;-;0042\nDo;8,05;.;1000\n"
    path.write_bytes(text.encode("cp1252"))
    frame = read_table(path)
    assert frame.attrs["decimal"] == "," and "decimal comma" in frame.attrs["dialect"]
    np.testing.assert_array_equal(frame["Fare"], [7.25, 1234.5, 71.2833, 8.05])
    np.testing.assert_array_equal(frame["Age"], [22, 38, np.nan, np.nan])  # '-' and '.' as missing
    assert "Age: 2 lone '-'/'.' as missing" in frame.attrs["notes"]


def test_quoted_decimal_commas_in_a_comma_file(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('name,weight\na,"21,5"\nb,"3,25"\nc,"1,000"\n')
    frame = read_table(path)
    np.testing.assert_array_equal(frame["weight"], [21.5, 3.25, 1.0])
    assert frame.attrs["notes"] == ["weight: decimal comma"]


def test_doubled_tabs_are_one_separator(tmp_path):
    path = tmp_path / "uci.data"
    rows = [f"{i}\t{i * 1.5}\tx y\t{i % 2}" for i in range(12)]
    rows[7] = rows[7].replace("\t", "\t\t", 2)  # the author doubled two tabs on one line
    path.write_text("\n".join(rows) + "\n")
    frame = read_table(path)
    assert frame.attrs["separator"] == r"\t+" and frame.shape == (12, 4)
    assert frame["2"].tolist() == ["x y"] * 12 and frame["1"].iloc[7] == 10.5


def test_semicolon_file_whose_text_holds_commas(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("id;comment\n" + "".join(f"{i};good, cheap, fast\n" for i in range(20)))
    frame = read_table(path)
    assert frame.attrs["separator"] == ";" and frame["comment"].iloc[0] == "good, cheap, fast"


def test_whitespace_aligned_columns(tmp_path):
    path = tmp_path / "aligned.txt"
    path.write_text("mpg   cyl  name\n18.0  8    chevelle\n15.0  8    skylark\n 9.5  4    pinto\n")
    frame = read_table(path)
    assert frame.attrs["separator"] == r"\s+" and frame["mpg"].tolist() == [18.0, 15.0, 9.5]


@pytest.mark.parametrize(
    "text, encoding, expected",
    [("naïve “quote” €5", "cp1252", "cp1252"), ("München", "latin-1", "latin-1"), ("Zoë", "utf-8", "utf-8")],
)
def test_encoding_is_detected_and_said(tmp_path, text, encoding, expected):
    path = tmp_path / "enc.csv"
    path.write_bytes(f"word,n\n{text},1\nplain,2\n".encode(encoding))
    frame = read_table(path)
    assert frame["word"].iloc[0] == text and frame.attrs["encoding"] == expected
    assert f"encoding {expected}" in frame.attrs["dialect"]


def test_non_utf8_byte_past_the_sample_is_read_too(tmp_path):
    path = tmp_path / "late.csv"
    path.write_bytes(b"word,n\n" + b"plain,1\n" * 40_000 + "Café,2\n".encode("latin-1"))
    frame = read_table(path)
    assert frame["word"].iloc[-1] == "Café" and frame.attrs["encoding"] == "latin-1"


def test_missing_markers(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("a,b,c,d\n1, ,x,-\n?,2,NA,5\nN/A,null,None,.\n4,None,-,7\n5,6,.,8\n")
    frame = read_table(path)
    np.testing.assert_array_equal(frame["a"], [1, np.nan, np.nan, 4, 5])
    np.testing.assert_array_equal(frame["b"], [np.nan, 2, np.nan, np.nan, 6])
    np.testing.assert_array_equal(frame["d"], [np.nan, 5, np.nan, 7, 8])
    # in a text column a lone '-' or '.' is a value
    assert frame["c"].tolist()[:1] == ["x"] and frame["c"].tolist()[3:] == ["-", "."]
    assert frame["c"].isna().tolist() == [False, True, True, False, False]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "the file is empty"),
        (b"\n \n", "empty"),
        (b"a,b,c\n", r"header \(a, b, c\) but no data rows"),
        (b"\x00\x01\x02\xff\xfe garbage" * 40, "binary file of no format deepzoo knows"),
        (
            b"a,b,c\n1,2,3\n4,5,6\n7,8,9\n1,2,3,4,5\n",
            r"line 5 has 5 fields where the table has 3 .*: .1,2,3,4,5.",
        ),
        (b"\x1f\x8b\x08\x00cut", "gzip-compressed but does not decompress"),
    ],
    ids=["empty", "blank-lines", "header-only", "binary", "ragged", "broken-gzip"],
)
def test_bad_files_get_one_line_errors(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as info:
        read_table(path)
    assert "\n" not in str(info.value)


def test_messy_resaves_of_titanic_read_as_the_clean_file(shared_data_dir, tmp_path):
    clean_path = shared_data_dir / "titanic" / "train.csv"
    clean = read_table(clean_path)
    original = pd.read_csv(clean_path)
    saves = {
        "eu.csv": lambda p: original.to_csv(p, sep=";", decimal=",", index=False, encoding="cp1252"),
        "t.csv.gz": lambda p: original.to_csv(p, index=False),
        "t.xlsx": lambda p: original.to_excel(p, index=False),
        "t.parquet": lambda p: original.to_parquet(p),
        "t.tsv.zip": lambda p: original.to_csv(p, sep="\t", index=False),
    }
    for name, save in saves.items():
        save(tmp_path / name)
        frame = read_table(tmp_path / name)
        pd.testing.assert_frame_equal(frame, clean, check_dtype=False, obj=name)
        assert frame["Fare"].dtype.kind == "f" and frame["Age"].dtype.kind == "f"


def test_numbers_as_people_write_them(tmp_path):
    path = tmp_path / "money.csv"
    path.write_text(
        "name,rate,weight,price,balance,eu,size,fee\n"
        'a,12%,12 kg,"$1,234.50","(1,234.50)","1.234,5",3.5 GB,5 €\n'
        'b,7.5 %,3.2kg,$12,(12),"12,5",12 GB,12€\n'
        'c,-3%,0.5 kg,"$1,000,000",-3,"7,0",1GB,€ 0.5\n'
    )
    frame = read_table(path)
    np.testing.assert_array_equal(frame["rate"], [12, 7.5, -3])  # percent: the number as written
    np.testing.assert_array_equal(frame["weight"], [12, 3.2, 0.5])
    np.testing.assert_array_equal(frame["price"], [1234.5, 12, 1_000_000])
    np.testing.assert_array_equal(frame["balance"], [-1234.5, -12, -3])
    np.testing.assert_array_equal(frame["eu"], [1234.5, 12.5, 7.0])
    np.testing.assert_array_equal(frame["size"], [3.5, 12, 1])
    np.testing.assert_array_equal(frame["fee"], [5, 12, 0.5])
    assert frame.attrs["units"] == {"weight": "kg", "size": "GB"}
    notes = "; ".join(frame.attrs["notes"])
    assert "rate: percent signs dropped: '12%' read as 12" in notes
    assert "weight: unit 'kg'" in notes and "size: unit 'GB'" in notes
    assert "balance: parentheses as negatives ('(1,234.50)', 2 cells)" in notes
    assert "price: currency sign '$'" in notes and "fee: currency sign '€'" in notes
    assert "rate: percent" in frame.attrs["dialect"]


def test_several_units_or_currencies_stay_text_and_say_so(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("w,price,n\n1 kg,$5,1\n2 lb,5 €,2\n3 kg,$6,3\n")
    frame = read_table(path)
    assert frame["w"].tolist() == ["1 kg", "2 lb", "3 kg"] and frame["price"].iloc[1] == "5 €"
    notes = "; ".join(frame.attrs["notes"])
    assert "w: numbers in several units ('kg', 'lb') kept as text" in notes
    assert "price: amounts in several currencies ('$', '€')" in notes


def test_leading_zero_codes_survive_reading(tmp_path):
    from deepzoo.data.schema import infer_schema

    path = tmp_path / "zips.csv"
    rows = [f"{z},{i * 1.5},{i % 2}" for i, z in enumerate(["02134", "10001", "00501", "94103"] * 5)]
    path.write_text("zip,amount,y\n" + "\n".join(rows) + "\n")
    frame = read_table(path)
    assert frame["zip"].tolist()[:3] == ["02134", "10001", "00501"]
    assert "zip: codes with leading zeros ('02134') kept as text" in frame.attrs["notes"]
    assert frame["amount"].dtype.kind == "f"
    role = {c.name: c.role for c in infer_schema(frame, target="y").columns}["zip"]
    assert role == "categorical"


def test_missing_markers_are_counted_per_column(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("a,b,c\n1,,x\n?,2,NA\nN/A,null,\n4,?,y\n-,6,z\n")
    frame = read_table(path)
    assert frame.attrs["missing"] == {
        "a": {"?": 1, "N/A": 1, "'-'/'.'": 1},
        "b": {"blank": 1, "null": 1, "?": 1},
        "c": {"NA": 1, "blank": 1},
    }
    # the counts add up to the missing cells each column ends with
    for column, markers in frame.attrs["missing"].items():
        assert sum(markers.values()) == frame[column].isna().sum()


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("large", [False, True], ids=["python-parser", "c-parser"])
def test_preamble_and_footer_lines_are_left_out(tmp_path, monkeypatch, suffix, large):
    if large:  # a large compressed file: the C parser reads it all, the footer rows are dropped after
        monkeypatch.setattr(tabular, "_PYTHON_PARSER_BYTES", 0)
    text = (
        "Exported 2021-01-31 by the bank\nday,amount\n1,10.5\n2,11\n3,12.25\n\n"
        "Source: our ledger\n# total 33.75\n"
    )
    path = tmp_path / f"ledger.csv{suffix}"
    path.write_bytes(gzip.compress(text.encode()) if suffix else text.encode())
    frame = read_table(path)
    assert frame["amount"].tolist() == [10.5, 11, 12.25] and frame["day"].dtype.kind in "iu"
    assert frame.attrs["footer"] == ["Source: our ledger", "# total 33.75"]
    # an uncompressed file is read up to the footer's first byte by the C parser
    assert (
        tabular._table_options(path, None, None, "gzip" if suffix else None)[0].get("end") is None
    ) == bool(suffix)
    assert "2 footer line(s) left out: 'Source: our ledger'" in frame.attrs["notes"]
    for chunksize in (1, 2, 3, 10):  # the footer's two rows split between chunks, or not
        chunks = list(iter_table(path, chunksize=chunksize))
        assert pd.concat(chunks)["amount"].tolist() == [10.5, 11, 12.25], chunksize


def test_a_longer_last_row_is_an_error_not_a_footer(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n3,4\nx,5,6\n")
    with pytest.raises(ValueError, match=r"line 4 has 3 fields where the table has 2 .*: 'x,5,6'"):
        read_table(path)


def test_csv_larger_than_memory_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "big.csv"
    path.write_text("a,b\n" + "1,2\n" * 1000)
    monkeypatch.setattr(tabular, "_available_memory", lambda: 1000)
    monkeypatch.setattr(pd, "read_csv", lambda *a, **k: pytest.fail("pandas was asked to read it"))
    with pytest.raises(
        ValueError, match=r"Cannot read .*big.csv whole: .* GiB of memory.*Parquet.*iter_table"
    ):
        read_table(path)
    gz = tmp_path / "big.csv.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    assert tabular._text_size(gz, "gzip") == path.stat().st_size  # the size gzip records


def test_sheet_option_reaches_the_reader(tmp_path):
    from typer.testing import CliRunner

    from deepzoo.cli import app
    from deepzoo.tasks import FitConfig
    from deepzoo.tasks.detect import detect

    path = tmp_path / "book.xlsx"
    _workbook(path)
    source = detect(path, FitConfig(sheet="1", target="age"))
    _same_as_small(source.frame)
    result = CliRunner().invoke(app, ["fit", str(path), "--sheet", "Peeple", "--out", str(tmp_path / "run")])
    assert result.exit_code != 0
    message = result.output.strip()
    assert "no sheet 'Peeple'; its sheets: 'About', 'People'" in message and "\n" not in message
    assert not (tmp_path / "run" / "model").exists()
    with pytest.raises(ValueError, match="sheets belong to workbooks"):
        read_table(_csv(tmp_path), sheet=0)


def _csv(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("a,b\n1,2\n")
    return path


def test_reading_decisions_for_config_json(tmp_path):
    import json

    path = tmp_path / "m.csv"
    path.write_text("a,b\n1 kg,\n?,2\nN/A,?\n4 kg,?\n")
    frame = read_table(path)
    decided = json.loads(json.dumps(tabular.reading_decisions(frame)))  # all of it JSON
    assert decided["units"] == {"a": "kg"} and decided["separator"] == ","
    assert decided["missing"] == {"a": {"?": 1, "N/A": 1}, "b": {"blank": 1, "?": 2}}
    assert tabular.missing_summary(decided["missing"]) == "a 2 (? 1, N/A 1); b 3 (blank 1, ? 2)"
    assert "sheet" not in decided  # only what applies to the file


def test_headerless_codes_with_leading_zeros_and_a_bad_middle_line(tmp_path):
    path = tmp_path / "codes.data"
    path.write_text("".join(f"{z},{i}\n" for i, z in enumerate(["007", "123", "042"] * 4)))
    frame = read_table(path)
    assert frame.attrs["header"] is False and frame["0"].tolist()[:3] == ["007", "123", "042"]
    path.write_text("a,b\n1,2\n3,4,5\n6,7\n8,9\n")
    with pytest.raises(ValueError, match=r"line 3 has 3 fields where the table has 2 .*: '3,4,5'"):
        read_table(path)


def test_aligned_columns_whose_names_hold_commas(tmp_path):
    # R's write.table / a printout of a table: the names' commas split every row alike into two, but not
    # the header; the runs of spaces split every line, header included, into four
    path = tmp_path / "aligned.txt"
    path.write_text(
        "  Survived              Name   Age\n"
        "         0  Braund,_Mr._Owen  22.0\n"
        "         1   Cumings,_Mrs._J  38.0\n"
        "         1   Heikkinen,_Miss    NA\n"
    )
    frame = read_table(path)
    assert frame.attrs["separator"] == r"\s+"
    assert frame.columns.tolist() == ["Survived", "Name", "Age"] and frame["Age"].isna().sum() == 1


def test_short_rows_are_padded_with_missing_values_and_said(tmp_path):
    rows = "".join(f"{i},x{i % 3},{i * 1.5},{i}\n" for i in range(30))
    path = tmp_path / "export.csv"
    path.write_text("a,b,c,d\n" + rows + "30,x0\n31\n")  # an export that cut its last rows short
    frame = read_table(path)
    assert len(frame) == 32 and frame["c"].isna().sum() == 2 and frame["a"].tolist()[-2:] == [30, 31]
    assert any(
        "2 row(s) with fewer fields than the header ('30,x0', ...) padded" in n for n in frame.attrs["notes"]
    )
    # a short last row that starts with a name, in a table of names, is a row, not a footer
    names = tmp_path / "names.csv"
    names.write_text("name,age,city\n" + "".join(f"n{i},{i},c{i % 3}\n" for i in range(30)) + "Alice,30\n")
    frame = read_table(names)
    assert frame["name"].iloc[-1] == "Alice" and frame.attrs["footer"] == []
    names.write_text("name,age,city\n" + "".join(f"n{i},{i},c{i % 3}\n" for i in range(30)) + "Source: me\n")
    assert read_table(names).attrs["footer"] == ["Source: me"]


def test_a_compressed_file_is_decompressed_once(tmp_path, monkeypatch):
    # a tab-separated file with a footer: the footer check, the stray-quote line count and the parser
    # all read the one decompressed copy (before: three decompressions of the whole file)
    text = "a\tb\n" + "".join(f"{i}\tw{i}\n" for i in range(40_000)) + "Source: me\n"
    path = tmp_path / "big.tsv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    read = []
    real_open = gzip.open

    def counting_open(*args, **kwargs):
        stream = real_open(*args, **kwargs)
        real_read = stream.read
        stream.read = lambda *a: read.append(len(data := real_read(*a))) or data
        return stream

    monkeypatch.setattr(tabular.gzip, "open", counting_open)
    frame = read_table(path)
    assert len(frame) == 40_000 and frame.attrs["footer"] == ["Source: me"]
    assert len(text) <= sum(read) < len(text) + 3 * tabular._HEAD_BYTES  # one whole read, two heads
    options, _ = tabular._table_options(path, None, None, "gzip")
    assert "skipfooter" not in options  # decided by read_table alone, never set and then undone


@pytest.mark.parametrize("large", [False, True], ids=["small", "large"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_stray_quote_repair_in_a_tab_separated_file_with_a_footer(
    tmp_path, monkeypatch, suffix, encoding, large
):
    # every road past a footer: read up to its byte (UTF-8, compressed or not), skipped by the python
    # parser (a small UTF-16 file) or dropped after the C parser (a large one); the repair counts the
    # rows each road reads (a large file used to expect the footer rows gone, and gave up)
    if large:
        monkeypatch.setattr(tabular, "_PYTHON_PARSER_BYTES", 0)
    text = 'label\ttext\nham\tsay "hi to him\nspam\tWIN now\nham\tok" then\nham\tfine\nSource: a corpus\n'
    data = text.encode(encoding)
    path = tmp_path / f"sms.txt{suffix}"
    path.write_bytes(gzip.compress(data) if suffix else data)
    frame = read_table(path)
    assert frame["label"].tolist() == ["ham", "spam", "ham", "ham"]
    assert frame.attrs["footer"] == ["Source: a corpus"]


@pytest.mark.parametrize("form", ["plain", "footer", "gz", "gz-footer"])
def test_the_reader_hashes_the_file_bytes_as_it_parses_them(tmp_path, form):
    import hashlib

    text = (
        "a,b\n"
        + "".join(f"{i},{2 * i}\n" for i in range(2000))
        + ("Source: me\n" if "footer" in form else "")
    )
    path = tmp_path / ("t.csv.gz" if "gz" in form else "t.csv")
    path.write_bytes(gzip.compress(text.encode()) if "gz" in form else text.encode())
    frame = read_table(path, sha256=True)
    assert len(frame) == 2000 and frame.attrs["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert "sha256" not in read_table(path, nrows=5, sha256=True).attrs  # a partial read hashes nothing
    assert "sha256" not in read_table(path).attrs  # not asked: no cost


def test_a_quoted_cell_that_spans_the_last_lines_is_not_a_footer(tmp_path):
    # the shared resumes file ends so: its last cell holds lines with a different number of fields
    # ("Role   Software Testing"); they close the quote opened above, so they are the last row's text
    rows = "".join(f'c{i},"line one\r\nline two {i}"\r\n' for i in range(30))
    path = tmp_path / "resumes.csv"
    path.write_bytes(
        (
            "Category,Resume\r\n"
            + rows
            + 'last,"Skills: testing\r\nRole   Software Testing\r\nDuration 6 months"\r\n\r\n'
        ).encode()
    )
    frame = read_table(path)
    assert frame.shape == (31, 2)
    assert frame["Resume"].iloc[-1].endswith("Duration 6 months")
