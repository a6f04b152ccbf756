"""data/segmentation.py: a folder of images and masks read into arrays; each bad folder named clearly."""

import numpy as np
import pytest
from PIL import Image

from deepzoo.data.segmentation import list_segmentation_folder, load_segmentation_folder, read_mask

PALETTE = [0, 0, 0, 255, 0, 0, 0, 255, 0] + [0] * (256 * 3 - 9)


def make_folder(root, masks: dict, image_sizes=None, mask_kind="L", suffix=""):
    """images/<stem>.jpg and masks/<stem><suffix>.png from {stem: mask array (H, W)}."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for stem, mask in masks.items():
        h, w = (image_sizes or {}).get(stem, mask.shape)
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(root / "images" / f"{stem}.jpg")
        image = Image.fromarray(mask.astype(np.uint8), "L")
        if mask_kind == "P":
            image = image.convert("P")
            image.putpalette(PALETTE)
            image.putdata(mask.astype(np.uint8).ravel().tolist())
        image.save(root / "masks" / f"{stem}{suffix}.png")
    return root


def stripes(h=8, w=12, ids=(0, 1, 2)):
    return np.array(ids)[np.arange(w) * len(ids) // w][None].repeat(h, 0)


@pytest.mark.parametrize("kind", ["L", "P"])
def test_reads_grayscale_and_palette_masks(tmp_path, kind):
    root = make_folder(tmp_path, {"b": stripes(), "a": stripes()[:, ::-1].copy()}, mask_kind=kind)
    X, Y, class_ids = load_segmentation_folder(root)
    assert X.shape == (2, 3, 8, 12) and X.dtype == np.uint8
    assert Y.shape == (2, 8, 12) and class_ids.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(Y[1], stripes())  # sorted by name: a, b
    assert read_mask(root / "masks" / "a.png").dtype == np.uint8


def test_resizes_images_bilinearly_and_masks_by_nearest(tmp_path):
    root = make_folder(tmp_path, {"a": stripes(8, 12), "b": stripes(10, 6)})
    X, Y, class_ids = load_segmentation_folder(root, image_size=(16, 24))
    assert X.shape == (2, 3, 16, 24) and Y.shape == (2, 16, 24)
    assert set(np.unique(Y)) == {0, 1, 2}  # nearest neighbour: no id in between
    np.testing.assert_array_equal(Y[0], stripes(16, 24))


def test_mask_suffix_and_declared_classes(tmp_path):
    root = make_folder(tmp_path, {"FudanPed1": stripes(ids=(0, 1))}, suffix="_mask")
    pairs = list_segmentation_folder(root, mask_suffix="_mask")
    assert [(i.name, m.name) for i, m in pairs] == [("FudanPed1.jpg", "FudanPed1_mask.png")]
    _, _, class_ids = load_segmentation_folder(root, mask_suffix="_mask", n_classes=4)
    assert class_ids.tolist() == [0, 1, 2, 3]


# -- bad folders -------------------------------------------------------------------------------------
def test_image_without_mask_is_named(tmp_path):
    root = make_folder(tmp_path, {"a": stripes(), "b": stripes()})
    (root / "masks" / "b.png").unlink()
    with pytest.raises(ValueError, match=r"1 image\(s\) in .*images without a mask: b.jpg"):
        load_segmentation_folder(root)


def test_mask_without_image_is_named(tmp_path):
    root = make_folder(tmp_path, {"a": stripes(), "b": stripes()})
    (root / "images" / "a.jpg").unlink()
    with pytest.raises(ValueError, match=r"1 mask\(s\) in .*masks without an image: a.png"):
        load_segmentation_folder(root)


def test_suffixed_masks_without_the_suffix_option_say_so(tmp_path):
    root = make_folder(tmp_path, {"a": stripes()}, suffix="_mask")
    with pytest.raises(ValueError, match=r"without a mask: a.jpg.*mask_suffix='_mask'"):
        list_segmentation_folder(root)


def test_mask_of_another_size_than_its_image(tmp_path):
    root = make_folder(tmp_path, {"a": stripes(), "b": stripes()}, image_sizes={"b": (9, 12)})
    with pytest.raises(ValueError, match=r"The mask b.png is 8x12 .* but its image b.jpg is 9x12"):
        load_segmentation_folder(root)


def test_more_classes_than_declared(tmp_path):
    root = make_folder(tmp_path, {"a": stripes(ids=(0, 1)), "b": stripes(ids=(0, 1, 2))})
    with pytest.raises(
        ValueError, match=r"The mask b.png holds the value 2, but n_classes=2 declares the ids 0 to 1"
    ):
        load_segmentation_folder(root, n_classes=2)


def test_values_that_are_not_class_ids(tmp_path):
    smooth = np.tile(np.arange(0, 256, 2, dtype=np.uint8), (4, 1))  # a blurred edge: 128 grey levels
    root = make_folder(tmp_path, {"a": smooth})
    with pytest.raises(ValueError, match=r"The masks hold 128 distinct values .*image than class ids"):
        load_segmentation_folder(root)


def test_colour_and_jpeg_masks_are_refused(tmp_path):
    root = make_folder(tmp_path, {"a": stripes()})
    Image.new("RGB", (12, 8), (255, 0, 0)).save(root / "masks" / "a.png")
    with pytest.raises(ValueError, match=r"is a RGB image; a mask must hold one class id per pixel"):
        load_segmentation_folder(root)
    (root / "masks" / "a.png").unlink()
    Image.new("L", (12, 8)).save(root / "masks" / "a.jpg")
    with pytest.raises(ValueError, match=r"are JPEGs: JPEG compression changes pixel values"):
        load_segmentation_folder(root)


def test_images_of_different_sizes_need_image_size(tmp_path):
    root = make_folder(tmp_path, {"a": stripes(8, 12), "b": stripes(10, 6)})
    with pytest.raises(ValueError, match=r"2 different sizes .*b.jpg is 10x6.*Pass image_size"):
        load_segmentation_folder(root)


def test_missing_folder_says_the_layout(tmp_path):
    (tmp_path / "images").mkdir()
    with pytest.raises(FileNotFoundError, match=r"masks folder .* does not exist.*same file stem"):
        list_segmentation_folder(tmp_path)
