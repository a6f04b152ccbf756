"""Reading a user's table (dialect sniffing, cleaning) and inferring each column's role and the task."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deepzoo.data.encoder import TableEncoder
from deepzoo.data.schema import infer_schema, parse_dates
from deepzoo.data.tabular import iter_table, read_table


def write(tmp_path, text: str, name: str = "t.csv", encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


@pytest.mark.parametrize(
    "text, sep",
    [
        ("a,b,c\n1,2,x\n3,4,y\n", ","),
        ("a\tb\tc\n1\t2\tx\n3\t4\ty\n", "\t"),
        ("a;b;c\n1;2;x\n3;4;y\n", ";"),
        ("a|b|c\n1|2|x\n3|4|y\n", "|"),
        ("a   b  c\n1   2  x\n3   4  y\n", r"\s+"),
    ],
    ids=["comma", "tab", "semicolon", "pipe", "whitespace"],
)
def test_separator_is_sniffed(tmp_path, text, sep):
    frame = read_table(write(tmp_path, text))
    assert frame.attrs["separator"] == sep
    assert list(frame.columns) == ["a", "b", "c"] and frame["b"].tolist() == [2, 4]


def test_headerless_file_gets_pandas_numbers_as_names(tmp_path):
    frame = read_table(write(tmp_path, "39, State-gov, 77516, <=50K\n50, Private, 83311, >50K\n"))
    assert frame.attrs["header"] is False
    assert list(frame.columns) == ["0", "1", "2", "3"] and frame["1"].tolist() == ["State-gov", "Private"]


def test_bom_blank_cells_missing_tokens_and_quoted_thousands(tmp_path):
    text = 'id,total,plan\n1,"1,234.50",a\n2, ,b\n3,?,NA\n4,NA,c\n5,"$2,000",null\n'
    frame = read_table(write(tmp_path, "\ufeff" + text))
    assert list(frame.columns) == ["id", "total", "plan"]  # the BOM is not part of the first name
    np.testing.assert_array_equal(frame["total"].to_numpy(), [1234.5, np.nan, np.nan, np.nan, 2000.0])
    assert frame["plan"].isna().tolist() == [False, False, True, False, True]


def test_latin1_file_is_read(tmp_path):
    frame = read_table(write(tmp_path, "city,n\nMünchen,1\nKöln,2\n", encoding="latin-1"))
    assert frame["city"].tolist() == ["München", "Köln"] and frame.attrs["encoding"] == "latin-1"


def test_preamble_line_is_skipped(tmp_path):
    frame = read_table(write(tmp_path, "|1x3 Cross validator\n25, Private, <=50K.\n38, Private, >50K.\n"))
    assert frame.shape == (2, 3) and frame["0"].tolist() == [25, 38]


def test_stray_quote_in_tab_separated_text(tmp_path):
    text = 'ham\tsay "hi to him\nspam\tWIN now\nham\tok" then\n'
    frame = read_table(write(tmp_path, text, "sms.txt"))
    assert len(frame) == 3 and frame["0"].tolist() == ["ham", "spam", "ham"]


def test_iter_table_reads_in_chunks_with_one_dialect(tmp_path):
    lines = "a;b\n" + "".join(f'{i};"{i * 1000:,}"\n' for i in range(250))
    path = write(tmp_path, lines)
    chunks = list(iter_table(path, chunksize=100))
    assert [len(c) for c in chunks] == [100, 100, 50]
    assert pd.concat(chunks)["b"].tolist() == [i * 1000.0 for i in range(250)]


@pytest.mark.parametrize("content", ["", "a,b\n"], ids=["empty", "header-only"])
def test_empty_tables_are_refused(tmp_path, content):
    with pytest.raises(ValueError, match="empty|no data rows"):
        read_table(write(tmp_path, content))


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(ValueError, match="folder"):
        read_table(tmp_path)


def test_parquet_without_pyarrow_says_what_to_install(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name == "pyarrow":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    (tmp_path / "t.parquet").write_bytes(b"PAR1")
    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(ValueError, match="pip install pyarrow"):
        read_table(tmp_path / "t.parquet")


# -- schema ------------------------------------------------------------------------------------------
def table(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "CustomerId": rng.permutation(10_000)[:n] + 15_000_000,
            "RowNumber": np.arange(1, n + 1),
            "name": [f"person {i}" for i in range(n)],
            "signup": [
                f"{m}/{d}/2021 16:00:00" for m, d in zip(rng.integers(1, 13, n), rng.integers(1, 28, n))
            ],
            "plan": rng.choice(["basic", "pro", "max"], n),
            "sex": rng.choice(["f", "m"], n),
            "age": rng.integers(18, 80, n),
            "constant": 1,
            "empty": np.nan,
            "review": [
                " ".join(rng.choice(["good", "bad", "fine", "slow", "fast", "cheap"], 8)) for _ in range(n)
            ],
            "left": rng.choice(["Yes", "No"], n),
        }
    )


def test_roles_and_their_rules():
    schema = infer_schema(table(), "left")
    roles = {c.name: c.role for c in schema.columns}
    assert roles == {
        "CustomerId": "identifier",
        "RowNumber": "identifier",
        "name": "identifier",
        "signup": "date",
        "plan": "categorical",
        "sex": "binary",
        "age": "numeric",
        "constant": "constant",
        "empty": "empty",
        "review": "text",
    }
    assert schema.task == "classify" and schema.classes == ["No", "Yes"]
    assert all(c.reason for c in schema.columns)
    frame = schema.to_frame()
    assert frame.iloc[-1]["role"] == "target" and "binary classification" in frame.iloc[-1]["reason"]


def test_overrides_win_and_say_so():
    schema = infer_schema(table(), "left", drop=["review"], categorical=["age"], numeric=())
    roles = {c.name: (c.role, c.reason) for c in schema.columns}
    assert roles["review"] == ("dropped", "--drop (you said so)")
    assert roles["age"][0] == "categorical"


@pytest.mark.parametrize(
    "values, task, words",
    [
        ([0, 1] * 30, "classify", "binary"),
        (np.linspace(0, 1, 60), "regress", "fractions"),
        ([1, 2, 3, 4, 5] * 12, "classify", "ambiguous"),
        (list(range(60)), "regress", "regression"),
        (["cat", "dog", "bird"] * 20, "classify", "3 classes"),
    ],
    ids=["binary-ints", "floats", "ratings-1-5", "many-ints", "text"],
)
def test_target_decides_the_task(values, task, words):
    frame = pd.DataFrame({"x": np.arange(60.0) % 7, "y": values})
    schema = infer_schema(frame, "y")
    assert schema.task == task and words in schema.task_reason


def test_task_override_is_recorded():
    frame = pd.DataFrame({"x": np.arange(60.0) % 7, "y": [1, 2, 3, 4, 5] * 12})
    schema = infer_schema(frame, "y", task="regress")
    assert schema.task == "regress" and schema.task_reason.startswith("--task regress")


def test_target_named_like_a_target_is_found():
    schema = infer_schema(pd.DataFrame({"x": [1, 5, 3, 4], "Label": ["a", "b", "a", "b"]}))
    assert schema.target == "Label" and "named like a target" in schema.notes[0]


def test_rows_without_target_are_left_out_and_said():
    frame = pd.DataFrame({"x": [3, 1, 4, 1, 5, 9, 2, 6], "y": [0, 1, None, 1, 0, None, 1, 0]})
    schema = infer_schema(frame, "y")
    assert schema.n_rows == 6 and "2 rows without a target" in schema.notes[0]


def test_bad_targets_and_tables():
    frame = table()
    with pytest.raises(ValueError, match=r"'lef' is not a column.*Did you mean 'left'"):
        infer_schema(frame, "lef")
    with pytest.raises(ValueError, match="one value"):
        infer_schema(frame.assign(left="Yes"), "left")
    with pytest.raises(ValueError, match="missing in every row"):
        infer_schema(frame.assign(left=np.nan), "left")
    with pytest.raises(ValueError, match="nearly one class a row: it is probably an identifier"):
        infer_schema(frame, "name")
    with pytest.raises(ValueError, match="has one column"):
        infer_schema(frame[["left"]], "left")


def test_numbers_with_a_few_words_are_numbers_the_words_missing_and_flagged():
    # issue 20: a word for zero in a column of speeds, "unknown", a cell holding two numbers: the run goes
    # on with the numbers, the words as missing values, and says what it did
    speeds = ["12", "7.5", "zero", "30", "unknown", "18", "3 4", "22", "9", "14"] + ["5", "6"] * 5
    frame = pd.DataFrame({"speed": speeds, "y": [0, 1] * 10})
    info = infer_schema(frame, "y").columns[0]
    assert info.role == "numeric"
    assert "numbers in 85%" in info.reason and "3 cells of words ('zero', 'unknown', '3 4')" in info.reason
    assert "--categorical speed" in info.reason
    encoder = TableEncoder(numeric=("speed",)).fit(frame[["speed"]])
    assert encoder.get_feature_names_out().tolist() == ["speed", "speed_missing"]
    flag = encoder.transform(frame[["speed"]])[:, 1]
    # the flag is 1 exactly where a word stood
    np.testing.assert_array_equal(np.flatnonzero(flag), [2, 4, 6])


def test_a_column_of_mostly_words_is_not_read_as_numbers():
    values = ["low", "high", "3", "medium", "low", "high", "medium", "2", "low", "high"]
    info = infer_schema(pd.DataFrame({"level": values, "y": [0, 1] * 5}), "y").columns[0]
    assert info.role == "categorical"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-03-04", "2021-03-04"),
        ("3/4/2021", "2021-03-04"),  # ambiguous slashes read month first, as in the US
        ("3/4/2021 16:00:00", "2021-03-04 16:00:00"),
        ("2021-03", "2021-03-01"),
        ("04.03.2021", "2021-03-04"),  # dots are day first
        ("Mar 4, 2021", "2021-03-04"),
    ],
)
def test_common_date_formats(text, expected):
    assert (parse_dates(pd.Series([text] * 3)) == pd.Timestamp(expected)).all()


def test_slashed_dates_read_day_first_when_a_first_field_is_above_12():
    # 25/12 cannot be month/day: the whole column is read day first, its ambiguous 3/4 as 3 April
    day_first = parse_dates(pd.Series(["25/12/2020", "3/4/2021", "13/1/2022"]))
    assert list(day_first) == [pd.Timestamp(d) for d in ("2020-12-25", "2021-04-03", "2022-01-13")]
    # the same days written month first: read month first, 3/4 as 4 March
    month_first = parse_dates(pd.Series(["12/25/2020", "3/4/2021", "1/13/2022"]))
    assert list(month_first) == [pd.Timestamp(d) for d in ("2020-12-25", "2021-03-04", "2022-01-13")]
    with_times = parse_dates(pd.Series(["25/12/2020 08:30:00", "3/4/2021 16:00:00"]))
    assert list(with_times) == [pd.Timestamp("2020-12-25 08:30"), pd.Timestamp("2021-04-03 16:00")]


# -- issue 20: roles from values, names only supporting them ---------------------------------------------
def test_identifiers_come_from_values_not_from_a_name_ending_in_id():
    rng = np.random.default_rng(1)
    n = 200
    frame = pd.DataFrame(
        {
            "amount_paid": rng.permutation(100_000)[:n] * 3 + 7,  # distinct integers of varying width
            "valid": rng.permutation(n) * 10 + rng.integers(0, 9, n),
            "humid": rng.permutation(5_000)[:n] + 1,
            "id": rng.permutation(n),  # shuffled row numbers 0..n-1
            "order_no": np.cumsum(rng.integers(1, 4, n)),  # increasing from 1 with gaps
            "y": rng.integers(0, 2, n),
        }
    )
    roles = {c.name: (c.role, c.reason) for c in infer_schema(frame, "y").columns}
    assert {k: v[0] for k, v in roles.items()} == {
        "amount_paid": "numeric",
        "valid": "numeric",
        "humid": "numeric",
        "id": "identifier",
        "order_no": "identifier",
    }
    assert "numbered like rows" in roles["id"][1] and "increasing" in roles["order_no"][1]


def test_short_names_that_repeat_reach_the_model_and_codes_are_dropped():
    rng = np.random.default_rng(2)
    n = 400
    makes = [f"{m} {k}" for m in ("toyota", "ford", "bmw", "audi", "fiat") for k in ("city", "sport", "van")]
    cities = [f"town{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(150)]
    frame = pd.DataFrame(
        {
            # 150 models of 2 words, each repeated: a make and model, not an identifier
            "model": [f"{rng.choice(makes)} {i % 10}x" for i in rng.integers(0, 150, n)],
            "city": rng.choice(cities, n),  # 150 one-word names in 400 rows
            "ticket": [f"PC {v}" for v in rng.permutation(90_000)[:n] + 10_000],  # codes, all distinct
            "y": rng.integers(0, 2, n),
        }
    )
    roles = {c.name: (c.role, c.reason) for c in infer_schema(frame, "y").columns}
    assert roles["model"][0] == "text" and "not an identifier" in roles["model"][1]
    # 150 one-word names in 400 rows (2.7 rows each): too rare for one-hot (categories seen 5+ times), so
    # the text encoder's word presence carries them: every city seen in two rows or more (at most 100)
    assert roles["city"][0] == "text" and "too many to one-hot" in roles["city"][1]
    encoder = TableEncoder(text=("city",)).fit(frame[["city"]])
    counts = frame["city"].value_counts()
    assert len(encoder.vocabulary_["city"]) == min(100, int((counts >= 2).sum()))
    assert roles["ticket"][0] == "identifier" and "code-like" in roles["ticket"][1]


def test_codes_with_leading_zeros_stay_categories():
    frame = pd.DataFrame(
        {"zip": ["02134", "10001", "02134", "94105", "00501", "10001"] * 5, "n": ["3", "7", "11"] * 10,
         "y": [0, 1] * 15}
    )  # fmt: skip
    roles = {c.name: (c.role, c.reason) for c in infer_schema(frame, "y").columns}
    assert roles["zip"][0] == "categorical" and "leading zeros ('02134')" in roles["zip"][1]
    assert roles["n"][0] == "numeric"  # numbers written as text, no leading zero: numbers


def test_day_first_is_decided_from_evidence_anywhere_in_the_column_and_printed():
    # 97 of 100 dates read both ways; 3 have a first field above 12: the whole column is day-first
    days = [f"{d:02d}-{m:02d}-2021" for d, m in zip([1, 2, 3, 4, 5, 6, 7, 8, 9, 10] * 10, [1, 2, 3] * 34)]
    days[40], days[70], days[90] = "25-03-2021", "13-04-2021", "31-05-2021"
    frame = pd.DataFrame({"when": days, "y": [0, 1] * 50})
    info = infer_schema(frame, "y").columns[0]
    assert info.role == "date" and "day-first" in info.reason and "'25-03-2021'" in info.reason
    parsed = parse_dates(frame["when"])
    assert (
        parsed.notna().all()
        and parsed[1] == pd.Timestamp("2021-02-02")
        and parsed[3] == pd.Timestamp("2021-01-04")
    )
    # D/M/YYYY: 99 ambiguous dates (month-first would read them all) and one 14/3/2021
    slashes = pd.Series([f"{d}/{m}/2021" for d, m in zip([1, 2, 3, 5, 6] * 20, [4, 7, 9, 11] * 25)])
    slashes[60] = "14/3/2021"
    parsed = parse_dates(slashes)
    assert parsed.notna().all() and parsed[0] == pd.Timestamp("2021-04-01") and parsed[60].day == 14
    ambiguous = pd.DataFrame({"when": ["3/4/2021", "5/6/2021", "7/8/2021"] * 4, "y": [0, 1] * 6})
    month_first = infer_schema(ambiguous, "y")
    assert "month-first" in month_first.columns[0].reason


@pytest.mark.parametrize(
    ("values", "task", "words"),
    [
        ([1, 2, 3, 4, 5, 6, 7] * 10, "classify", "--task regress"),  # a type coded 1..7 in 70 rows
        ([0, 1, 2] * 20, "classify", "--task regress"),
        (list(range(41)) * 2, "regress", "counts or measurements"),
        # pydataset's Doctor: visits 0..12, 15, 16, 24, 48 in 485 rows (17 values, few enough for the
        # class-code rule): the gaps say counts
        ([*range(13), 15, 16, 24, 48] * 27, "regress", "with gaps between them: counts"),
    ],
    ids=["codes-1-7", "grades-0-1-2", "counts", "counts-with-gaps"],
)
def test_integer_class_codes_are_classes_and_counts_are_numbers(values, task, words):
    frame = pd.DataFrame({"x": np.arange(len(values)) % 7, "y": values})
    schema = infer_schema(frame, "y")
    assert schema.task == task and words in schema.task_reason


def test_a_label_named_like_one_is_taken_and_a_last_column_suggested():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"Age": rng.uniform(1, 80, 50), "Fare": rng.uniform(5, 500, 50)})
    schema = infer_schema(frame.assign(Survived=rng.integers(0, 2, 50)))
    assert schema.target == "Survived" and schema.task == "classify"
    schema = infer_schema(frame.assign(grade=rng.integers(1, 4, 50)))
    assert schema.target is None and "did you mean --target grade?" in schema.notes[0]
    assert infer_schema(frame).notes == []  # the last column is a measurement: nothing to suggest


def test_row_names_and_repeated_id_codes_are_identifiers_from_values_and_name_together():
    rng = np.random.default_rng(4)
    n = 200
    codes = rng.integers(100_000, 9_999_999, n)
    codes[::10] = codes[1::10]  # 20 samples measured twice (MASS's biopsy)
    frame = pd.DataFrame(
        {
            "rownames": rng.permutation(n) + 1000,  # R's row names of a subset: distinct, not 1..n
            "Unnamed: 0": [f"case {i}" for i in rng.permutation(n)],  # pandas' index, as text
            "ID": codes,
            "id": rng.permutation(50_000)[:n],  # distinct, neither one width nor increasing
            "distcod": rng.permutation(90_000)[:n] + 10_000,  # district codes of 5 digits
            "size": codes,  # the same values without an identifier's name: a measurement
            "y": rng.integers(0, 2, n),
        }
    )
    roles = {c.name: (c.role, c.reason) for c in infer_schema(frame, "y").columns}
    assert roles["rownames"][0] == roles["Unnamed: 0"][0] == "identifier"
    assert "row names" in roles["rownames"][1]
    assert roles["ID"][0] == "identifier" and "a few repeat" in roles["ID"][1]
    assert roles["id"][0] == roles["distcod"][0] == "identifier"
    assert roles["size"][0] == "numeric"
