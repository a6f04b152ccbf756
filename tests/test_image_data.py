"""Reading a user's labelled images: class folders (own split or drawn), IDX files, .npz, and the files
``deepzoo predict`` scores."""

from __future__ import annotations

import numpy as np
import pytest
from image_folders import make_arrays, make_folder, write_idx

from deepzoo.data import image_data
from deepzoo.tasks import FitConfig, images
from deepzoo.tasks.detect import detect


def test_folder_with_train_and_test_keeps_its_split(tmp_path):
    root = make_folder(tmp_path / "split", n=6, split=True, classes=("a", "b", "c"))
    data = image_data.load_folder(root)
    assert (len(data.y_train), len(data.y_test)) == (18, 18) and all("/test/" in str(p) for p in data.X_test)
    assert data.split == "the folder's own split: train/ and test/"
    assert (data.mode, data.size) == ("L", (12, 12)) and list(data.classes) == ["a", "b", "c"]


def test_pool_splits_ignores_the_folders_split(tmp_path):
    root = make_folder(tmp_path / "split", n=10, split=True)
    data = image_data.load_folder(root, pool_splits=True, test_size=0.25, seed=1)
    assert len(data.y_train) + len(data.y_test) == 40 and len(data.y_test) == 10
    assert "pooled train/ and test/" in data.split
    # the test part is drawn from both folders, not the test folder
    assert any("/train/" in str(p) for p in data.X_test)


def test_npz_with_its_own_split_and_with_images_and_labels(tmp_path):
    X, y = make_arrays(40)
    keras = tmp_path / "keras.npz"
    np.savez(keras, x_train=X[:30, ..., 0], y_train=y[:30], x_test=X[30:, ..., 0], y_test=y[30:])
    data = image_data.load_npz(keras)
    assert (len(data.y_train), len(data.y_test)) == (30, 10) and data.X_train.shape[1:] == (1, 12, 12)
    assert data.split == "the file's own split: x_train and x_test"
    plain = tmp_path / "plain.npz"
    np.savez(plain, images=X[..., 0], labels=y, extra=np.zeros(3))
    source = detect(plain, FitConfig())
    assert source.task == "images"
    data = images.load(source, FitConfig(test_size=0.25))
    assert (len(data.y_train), len(data.y_test)) == (30, 10) and data.split.startswith("a stratified 25%")


def test_idx_files_keep_the_train_t10k_split(tmp_path):
    X, y = make_arrays(30)
    folder = tmp_path / "idx"
    folder.mkdir()
    write_idx(folder / "train-images-idx3-ubyte.gz", X[:20, ..., 0])
    write_idx(folder / "train-labels-idx1-ubyte.gz", y[:20])
    write_idx(folder / "t10k-images-idx3-ubyte.gz", X[20:, ..., 0])
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", y[20:])
    source = detect(folder, FitConfig())
    assert source.task == "images"
    data = images.load(source, FitConfig())
    assert (len(data.y_train), len(data.y_test)) == (20, 10) and data.X_train.dtype == np.uint8
    np.testing.assert_array_equal(data.X_test[:, 0], X[20:, ..., 0])
    assert data.split == "the files' own split: train-* and t10k-*"
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte.gz has no labels file"):
        image_data.load_idx(folder)
    (folder / "t10k-images-idx3-ubyte.gz").unlink()  # one pair: split here
    assert image_data.load_idx(folder, test_size=0.5).split.startswith("a stratified 50%")


def test_npz_without_telling_which_arrays(tmp_path):
    path = tmp_path / "two.npz"
    np.savez(path, first=np.zeros((4, 8, 8)), second=np.zeros((4, 8, 8)), y=np.arange(4))
    with pytest.raises(ValueError, match=r"Cannot tell which array of two.npz holds the images \(first"):
        image_data.load_npz(path)


def test_a_class_of_one_image_stays_in_training():
    X = np.zeros((41, 1, 8, 8), dtype=np.float32)
    y = np.array([0, 1] * 20 + [2])
    data = image_data.from_arrays(X, y, test_size=0.25, seed=0)
    assert 2 in set(data.y_train) and set(data.y_test) == {0, 1}
    assert "1 class has fewer than 3 rows (2: 1)" in data.split
