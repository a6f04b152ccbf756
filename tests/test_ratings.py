"""Rating-file readers: MovieLens 100K / 1M / latest layouts, any CSV by column names, clear errors."""

import pandas as pd
import pytest

from deepzoo.data.ratings import load_movielens_100k, read_ratings, read_titles


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def test_tab_separated_u_data(tmp_path):
    f = write(tmp_path, "u1.base", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t377\t1\t878887116\n")
    df = read_ratings(f)
    assert list(df.columns) == ["user", "item", "rating", "timestamp"]
    assert df["user"].tolist() == [196, 186, 22] and df["rating"].tolist() == [3.0, 3.0, 1.0]


def test_double_colon_ratings_dat(tmp_path):
    f = write(tmp_path, "ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n")
    df = read_ratings(f)
    assert df[["user", "item", "rating"]].values.tolist() == [[1, 1193, 5], [1, 661, 3]]


def test_ratings_csv_with_header_and_half_stars(tmp_path):
    f = write(
        tmp_path,
        "ratings.csv",
        "userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1260759179\n",
    )
    df = read_ratings(f)
    assert df["rating"].tolist() == [2.5, 3.0] and df["item"].tolist() == [31, 1029]
    assert "timestamp" in df


def test_any_csv_by_column_names_with_sparse_string_ids(tmp_path):
    f = write(tmp_path, "shop.csv", "customer;product;stars;extra\nann;p-900;4;x\nbob;p-7;5;y\n")
    df = read_ratings(f, columns=("customer", "product", "stars"), sep=";")
    assert df["user"].tolist() == ["ann", "bob"] and df["item"].tolist() == ["p-900", "p-7"]
    with pytest.raises(ValueError, match=r"no column 'stras' \(did you mean 'stars'\?\).*customer"):
        read_ratings(f, columns=("customer", "product", "stras"), sep=";")
    with pytest.raises(ValueError, match="columns must name the user, item and rating"):
        read_ratings(f, columns=("customer", "product"))


def test_unknown_layout_asks_for_column_names(tmp_path):
    f = write(tmp_path, "other.csv", "who,what,score\na,b,3\n")
    with pytest.raises(ValueError, match="pass columns="):
        read_ratings(f)


def test_errors_missing_empty_non_numeric(tmp_path):
    with pytest.raises(FileNotFoundError, match="Ratings file not found"):
        read_ratings(tmp_path / "nope.data")
    with pytest.raises(ValueError, match="is empty"):
        read_ratings(write(tmp_path, "empty.data", "\n"))
    with pytest.raises(ValueError, match="not a number: 'five'"):
        read_ratings(write(tmp_path, "bad.data", "1\t2\tfive\t0\n"))
    with pytest.raises(ValueError, match="2 column"):
        read_ratings(write(tmp_path, "two.data", "1\t2\n"))


def test_titles_from_u_item_latin1_and_movies_dat(tmp_path):
    u_item = write(
        tmp_path, "u.item", "1|Toy Story (1995)|01-Jan-1995||url|0|1\n2|Café (1990)|x||u|0|0\n", "latin-1"
    )
    titles = read_titles(u_item)
    assert titles[1] == "Toy Story (1995)" and titles[2] == "Café (1990)"
    movies = write(tmp_path, "movies.dat", "1::Toy Story (1995)::Animation\n", "latin-1")
    assert read_titles(movies)[1] == "Toy Story (1995)"
    csv = write(tmp_path, "movies.csv", "movieId,title,genres\n5,Heat (1995),Action\n")
    assert read_titles(csv)[5] == "Heat (1995)"
    with pytest.raises(ValueError, match="not a MovieLens titles file"):
        read_titles(write(tmp_path, "x.txt", "hello world\n"))


def test_movielens_100k_u1_split(shared_data_dir):
    train, test, titles = load_movielens_100k("u1", shared_data_dir / "movielens_100k")
    assert len(train) == 80_000 and len(test) == 20_000
    assert train["user"].nunique() == 943 and train["rating"].between(1, 5).all()
    assert len(titles) == 1682 and titles[1] == "Toy Story (1995)"
    full = read_ratings(shared_data_dir / "movielens_100k" / "u.data")
    assert len(pd.concat([train, test]).merge(full, on=["user", "item", "rating", "timestamp"])) == 100_000
    with pytest.raises(ValueError, match="Did you mean 'u1'"):
        load_movielens_100k("u11", shared_data_dir / "movielens_100k")
