"""data/images.py: folder, IDX and array readers, batch transforms, and the bad-input messages."""

import gzip

import numpy as np
import pytest
import torch
from PIL import Image

from deepzoo.data import images as io


def make_folder(root, classes=("cat", "dog"), n=3, size=(10, 12), mode="RGB"):
    """root/<class>/<i>.png with a distinct flat colour per class."""
    for k, name in enumerate(classes):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            colour = (40 * k + i,) * (1 if mode == "L" else 3)
            Image.new(mode, size[::-1], colour[0] if mode == "L" else colour).save(root / name / f"{i}.png")
    return root


def write_idx(path, array, dtype_code=0x08, lie=None):
    shape = lie if lie is not None else array.shape
    header = bytes([0, 0, dtype_code, len(shape)]) + b"".join(int(s).to_bytes(4, "big") for s in shape)
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header + array.astype(">u1").tobytes())
    return path


# -- IDX and arrays --------------------------------------------------------------------------------
def test_read_idx_round_trip(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (5, 4, 3)).astype(np.uint8)
    for name in ("x-idx3-ubyte", "x-idx3-ubyte.gz"):
        np.testing.assert_array_equal(io.read_idx(write_idx(tmp_path / name, images)), images)


def test_read_idx_header_that_lies_about_size(tmp_path):
    path = write_idx(tmp_path / "x.gz", np.zeros((5, 4, 3), np.uint8), lie=(6, 4, 3))
    with pytest.raises(ValueError, match=r"declares shape \(6, 4, 3\).*holds 60 bytes"):
        io.read_idx(path)


def test_read_idx_not_idx(tmp_path):
    path = tmp_path / "x-ubyte"
    path.write_bytes(b"PK\x03\x04hello")
    with pytest.raises(ValueError, match="not an IDX file"):
        io.read_idx(path)


def test_read_arrays(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(4))
    np.savez(tmp_path / "b.npz", images=np.zeros((2, 3)), labels=np.array([0, 1]))
    assert io.read_arrays(tmp_path / "a.npy").tolist() == [0, 1, 2, 3]
    assert set(io.read_arrays(tmp_path / "b.npz")) == {"images", "labels"}
    np.save(tmp_path / "c.npy", np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="pickled Python objects"):
        io.read_arrays(tmp_path / "c.npy")


# -- folders ---------------------------------------------------------------------------------------
def test_load_image_folder(tmp_path):
    X, y, classes = io.load_image_folder(make_folder(tmp_path))
    assert X.shape == (6, 3, 10, 12) and X.dtype == np.uint8
    assert classes == ["cat", "dog"] and y.tolist() == ["cat"] * 3 + ["dog"] * 3
    assert X[3, 0, 0, 0] == 40  # the dog colour


def test_find_splits(tmp_path):
    make_folder(tmp_path / "training_set")
    make_folder(tmp_path / "test_set")
    assert io.find_splits(tmp_path)["test"].name == "test_set"
    with pytest.raises(FileNotFoundError, match="training_set/ and test_set/"):
        io.find_splits(tmp_path / "training_set")


def test_folder_without_class_subfolders(tmp_path):
    Image.new("RGB", (4, 4)).save(tmp_path / "a.png")
    with pytest.raises(ValueError, match=r"no class sub-folders \(it holds images directly"):
        io.load_image_folder(tmp_path)


def test_empty_class(tmp_path):
    make_folder(tmp_path)
    (tmp_path / "bird").mkdir()
    with pytest.raises(ValueError, match="bird holds no image files"):
        io.load_image_folder(tmp_path)


def test_corrupt_jpeg_raises_or_warns(tmp_path):
    make_folder(tmp_path)
    Image.new("RGB", (12, 10), (1, 2, 3)).save(tmp_path / "cat" / "bad.jpg")
    data = (tmp_path / "cat" / "bad.jpg").read_bytes()
    (tmp_path / "cat" / "bad.jpg").write_bytes(data[: len(data) // 2])  # truncated JPEG
    (tmp_path / "dog" / "notes.jpg").write_text("not an image")
    with pytest.raises(ValueError, match=r"Cannot decode the image .*(bad|notes)\.jpg.*on_error='warn'"):
        io.load_image_folder(tmp_path)
    with pytest.warns(UserWarning, match="Skipped"):
        X, y, _ = io.load_image_folder(tmp_path, on_error="warn")
    assert len(X) == 6


@pytest.mark.parametrize("odd_mode", ["L", "RGBA", "I;16"])
def test_mixed_colour_modes(tmp_path, odd_mode):
    make_folder(tmp_path)
    image = Image.new(odd_mode, (12, 10))
    image.save(tmp_path / "cat" / "odd.png")
    with pytest.raises(ValueError, match=r"different colour modes .*mode='RGB'"):
        io.load_image_folder(tmp_path)
    X, _, _ = io.load_image_folder(tmp_path, mode="RGB")
    assert X.shape == (7, 3, 10, 12)


def test_sixteen_bit_grayscale_is_scaled(tmp_path):
    (tmp_path / "a").mkdir()
    Image.fromarray(np.full((4, 4), 65535, np.uint16)).save(tmp_path / "a" / "x.png")
    X, _, _ = io.load_image_folder(tmp_path, mode="L")
    assert X.max() == 255


def test_different_sizes(tmp_path):
    make_folder(tmp_path)
    Image.new("RGB", (20, 30)).save(tmp_path / "dog" / "big.png")
    with pytest.raises(ValueError, match=r"different sizes .*big.png is 30x20.*image_size="):
        io.load_image_folder(tmp_path)
    X, _, _ = io.load_image_folder(tmp_path, image_size=8)
    assert X.shape == (7, 3, 8, 8)


def test_workers_decode_the_same(tmp_path):
    make_folder(tmp_path, n=4)
    a, _, _ = io.load_image_folder(tmp_path, num_workers=0)
    b, _, _ = io.load_image_folder(tmp_path, num_workers=2)
    np.testing.assert_array_equal(a, b)


# -- batch transforms ------------------------------------------------------------------------------
def test_resize_and_normalize():
    x = torch.rand(2, 3, 16, 16)
    assert io.resize(x, (8, 4)).shape == (2, 3, 8, 4)
    z = io.normalize(x, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25))
    torch.testing.assert_close(z, (x - 0.5) / 0.25)


def test_augment_identity_and_flip():
    x = torch.rand(3, 1, 8, 8)
    torch.testing.assert_close(io.augment(x), x)  # nothing asked, nothing changed
    g = torch.Generator().manual_seed(0)
    flipped = io.augment(x, flip=True, generator=g)
    for a, b in zip(x, flipped):  # each image is itself or its mirror (up to interpolation rounding)
        assert torch.allclose(a, b, atol=1e-5) or torch.allclose(a.flip(-1), b, atol=1e-5)


def test_augment_is_seeded():
    x = torch.rand(4, 3, 8, 8)
    settings = dict(shift=0.1, rotation=10, scale=0.1, color=0.2)
    a = io.augment(x, generator=torch.Generator().manual_seed(1), **settings)
    b = io.augment(x, generator=torch.Generator().manual_seed(1), **settings)
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, x)
