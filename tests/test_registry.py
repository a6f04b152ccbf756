"""The dataset registry: resolution order, messages, checksums, the checked download, the real shared data."""

from __future__ import annotations

import hashlib
import re

import pytest

from deepzoo.data import registry
from deepzoo.data.registry import (
    DATASETS,
    Dataset,
    DatasetFile,
    DatasetNotFoundError,
    cache_dir,
    dataset_file,
    locate,
    resolve,
    verify,
)

SHARED_FOLDERS = {
    "churn",
    "credit_card_applications",
    "google_stock",
    "movielens_100k",
    "movielens_1m",
    "mnist",
    "cats_and_dogs",
    "hotdog",
    "quickdraw_apple",
    "imdb",
    "sms_spam",
    "resumes",
    "titanic",
    "adult",
    "california_housing",
    "insurance",
    "air_passengers",
    "penn_fudan",
}
CONTENT = b"a,b\n1,2\n"


@pytest.fixture
def env(monkeypatch, tmp_path):
    """No $DEEPZOO_DATA_DIR, and a cache inside tmp_path; returns tmp_path."""
    monkeypatch.delenv("DEEPZOO_DATA_DIR", raising=False)
    monkeypatch.setenv("DEEPZOO_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


@pytest.fixture
def toy(monkeypatch, tmp_path):
    """A registered dataset 'toy' whose file is toy.csv with CONTENT, downloadable from a file:// URL."""
    source = tmp_path / "remote" / "toy.csv"
    source.parent.mkdir()
    source.write_bytes(CONTENT)
    dataset = Dataset(
        name="toy",
        description="A toy table.",
        files=(DatasetFile("toy.csv", hashlib.sha256(CONTENT).hexdigest(), len(CONTENT)),),
        source="the tests",
        licence="CC0",
        case_studies=(),
        url=source.as_uri(),
    )
    monkeypatch.setitem(DATASETS, "toy", dataset)
    return dataset


def make_copy(folder, content=CONTENT):
    """A folder holding toy.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "toy.csv").write_bytes(content)
    return folder


def test_registry_lists_every_shared_folder():
    assert set(DATASETS) == SHARED_FOLDERS
    for name, dataset in DATASETS.items():
        assert dataset.name == name and dataset.files and dataset.source and dataset.licence
        for entry in dataset.files:
            assert entry.sha256 is None or re.fullmatch("[0-9a-f]{64}", entry.sha256), entry
        if dataset.url:  # a download is only ever checked against a known sha256
            assert dataset.files[0].sha256 is not None and len(dataset.files) == 1


def test_cache_dir_env_and_default(monkeypatch, tmp_path):
    monkeypatch.setenv("DEEPZOO_CACHE_DIR", str(tmp_path))
    assert cache_dir() == tmp_path
    monkeypatch.delenv("DEEPZOO_CACHE_DIR")
    assert cache_dir().parts[-2:] == (".cache", "deepzoo")


def test_explicit_path_beats_env_beats_cache(env, toy, monkeypatch):
    explicit = make_copy(env / "mine")
    make_copy(env / "data" / "toy")
    make_copy(env / "cache" / "toy")
    monkeypatch.setenv("DEEPZOO_DATA_DIR", str(env / "data"))
    assert locate("toy", explicit) == (explicit, "path")
    assert locate("toy") == (env / "data" / "toy", "DEEPZOO_DATA_DIR")
    monkeypatch.delenv("DEEPZOO_DATA_DIR")
    assert locate("toy") == (env / "cache" / "toy", "cache")
    assert resolve("toy", download=False) == env / "cache" / "toy"


def test_env_folder_without_the_key_file_falls_through_to_cache(env, toy, monkeypatch):
    (env / "data" / "toy").mkdir(parents=True)
    make_copy(env / "cache" / "toy")
    monkeypatch.setenv("DEEPZOO_DATA_DIR", str(env / "data"))
    assert locate("toy") == (env / "cache" / "toy", "cache")


def test_explicit_file_path_uses_its_folder(env, toy):
    folder = make_copy(env / "mine")
    csv = folder / "toy.csv"
    assert locate("toy", csv) == (folder, "path")
    assert resolve("toy", str(csv)) == folder
    assert dataset_file("toy", path=csv) == csv
    # A file under another name is taken as the dataset's file itself.
    renamed = folder / "my_copy.csv"
    renamed.write_bytes(CONTENT)
    assert dataset_file("toy", path=renamed) == renamed
    assert dataset_file("toy", "toy.csv", path=renamed) == csv


def test_explicit_data_root_finds_the_named_subfolder(env, toy):
    make_copy(env / "root" / "toy")
    assert locate("toy", env / "root") == (env / "root" / "toy", "path")


def test_explicit_path_that_does_not_exist_is_named(env, toy):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        locate("toy", env / "nope.csv")
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        dataset_file("toy", path=env / "nope.csv")


def test_missing_dataset_says_where_to_put_which_file(env):
    folder, where = locate("google_stock")
    assert (folder, where) == (None, "missing")
    with pytest.raises(DatasetNotFoundError) as info:
        resolve("google_stock")
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert "DEEPZOO_DATA_DIR" in message and "is not set" in message
    assert "Google_Stock_Price_Train.csv" in message and "Google_Stock_Price_Test.csv" in message
    assert str(env / "cache" / "google_stock") in message
    assert "github.com/stispe/LSTM-test" in message and "Licence:" in message
    assert "\n" not in message  # the CLI shows errors on one line


def test_missing_file_in_a_found_folder(env, toy):
    folder = make_copy(env / "mine")
    with pytest.raises(DatasetNotFoundError, match="lacks other.csv"):
        dataset_file("toy", "other.csv", path=folder)


def test_unknown_dataset_suggests_the_nearest():
    with pytest.raises(ValueError, match="Unknown dataset 'chrun'.*Did you mean 'churn'"):
        locate("chrun")


def test_verify_ok_and_mismatch(env, toy):
    folder = make_copy(env / "good")
    assert verify("toy", folder) == []
    same_size = make_copy(env / "bad", b"a,b\n1,3\n")
    assert verify("toy", same_size) == ["toy.csv"]
    other_size = make_copy(env / "short", b"a\n")
    assert verify("toy", other_size) == ["toy.csv"]
    assert verify("toy", env / "empty") == ["toy.csv"]


def test_download_file_url(tmp_path, toy):
    dest = tmp_path / "cache" / "toy" / "toy.csv"
    assert registry._download(toy.url, dest, toy.files[0].sha256) == dest
    assert dest.read_bytes() == CONTENT
    assert sorted(p.name for p in dest.parent.iterdir()) == ["toy.csv"]  # no temporary file left


def test_download_checksum_mismatch_deletes_the_file(tmp_path, toy):
    dest = tmp_path / "cache" / "toy.csv"
    with pytest.raises(ValueError, match="Checksum mismatch.*deleted"):
        registry._download(toy.url, dest, "0" * 64)
    assert list(dest.parent.iterdir()) == []


def test_resolve_downloads_into_the_cache(env, toy):
    with pytest.raises(DatasetNotFoundError, match="allow the download from file://"):
        resolve("toy", download=False)
    folder = resolve("toy")
    assert folder == env / "cache" / "toy"
    assert verify("toy", folder) == []
    assert locate("toy") == (folder, "cache")


def test_failed_download_becomes_not_found(env, toy, monkeypatch):
    broken = Dataset(**{**toy.__dict__, "url": (env / "gone.csv").as_uri()})
    monkeypatch.setitem(DATASETS, "toy", broken)
    with pytest.raises(DatasetNotFoundError, match="download from file://.*gone.csv failed"):
        resolve("toy")


def test_shared_datasets_are_found_and_verified(shared_data_dir, monkeypatch):
    monkeypatch.setenv("DEEPZOO_DATA_DIR", str(shared_data_dir))
    problems = {}
    for name in DATASETS:
        folder, where = locate(name)
        if where != "DEEPZOO_DATA_DIR" or folder != shared_data_dir / name:
            problems[name] = f"found in {where}: {folder}"
        elif bad := verify(name, folder):
            problems[name] = f"files not matching their size/sha256: {bad}"
    assert not problems, problems
