"""Segmentation folders: images and their masks (one class id per pixel), read into arrays.

The layout (that of most segmentation sets: Oxford-IIIT Pet's trimaps, VOC's SegmentationClass,
Penn-Fudan's PedMasks)::

    root/images/<stem>.jpg|png      the photos
    root/masks/<stem>.png           one mask per photo, same stem (plus ``mask_suffix``, e.g. "_mask")

A mask is a lossless single-channel image whose pixel values are class ids: a palette PNG (the values
are the palette indices, as VOC stores them) or a grayscale PNG (8 or 16 bits). Colour (RGB) masks
and JPEG masks are refused with the fix, since their values are colours or compression noise, not ids.

* :func:`list_segmentation_folder` pairs the files by stem and names any image without a mask and any
  mask without an image;
* :func:`read_mask` reads one mask as an integer array (height, width);
* :func:`load_segmentation_folder` decodes every pair into ``(images, masks, class_ids)``: images uint8
  (n, C, H, W), masks (n, H, W) holding the class ids as stored, and the sorted ids found (or the
  ``n_classes`` declared). A mask whose size differs from its image's, and ids beyond those declared,
  stop with the file's name.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .images import IMAGE_EXTENSIONS, _probe, decode_image

__all__ = [
    "MAX_UNDECLARED_CLASSES",
    "list_segmentation_folder",
    "load_segmentation_folder",
    "mask_to_png",
    "read_mask",
]

# lossless formats that store one value per pixel; JPEG's compression would invent ids
MASK_EXTENSIONS = (".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")
# without n_classes, more distinct values than this are taken for an image, not a mask of class ids
MAX_UNDECLARED_CLASSES = 64


def _files(folder: Path, extensions) -> dict[str, Path]:
    """{stem: path} of the files in ``folder`` with one of ``extensions``; two files of one stem stop."""
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith(".") or path.suffix.lower() not in extensions:
            continue
        if path.stem in found:
            raise ValueError(
                f"{folder} holds two files named {path.stem!r} ({found[path.stem].name} and {path.name}); "
                "keep one per stem, so that each image has exactly one mask."
            )
        found[path.stem] = path
    return found


def _listed(names: list[str], n: int = 5) -> str:
    return ", ".join(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "")


def list_segmentation_folder(
    root, *, images: str = "images", masks: str = "masks", mask_suffix: str = ""
) -> list[tuple[Path, Path]]:
    """The (image, mask) file pairs of a segmentation folder, sorted by the image's file name.

    Parameters
    ----------
    root : str or Path
        The folder holding ``images`` and ``masks``.
    images, masks : str, default='images', 'masks'
        The sub-folders of the photos and of their masks.
    mask_suffix : str, default=''
        What a mask's stem adds to its image's stem (Penn-Fudan: ``'_mask'``).

    Raises
    ------
    FileNotFoundError
        When a folder is missing.
    ValueError
        Naming the images without a mask and the masks without an image, or a mask saved as JPEG.

    Examples
    --------
    >>> import os, tempfile
    >>> from PIL import Image
    >>> from deepzoo.data.segmentation import list_segmentation_folder
    >>> root = tempfile.mkdtemp()
    >>> for sub in ("images", "masks"):
    ...     os.makedirs(os.path.join(root, sub))
    ...     Image.new("L", (4, 4)).save(os.path.join(root, sub, "a.png"))
    >>> [(i.name, m.name) for i, m in list_segmentation_folder(root)]
    [('a.png', 'a.png')]
    """
    root = Path(root)
    image_dir, mask_dir = root / images, root / masks
    for folder, role in ((image_dir, "images"), (mask_dir, "masks")):
        if not folder.is_dir():
            found = sorted(p.name for p in root.iterdir() if p.is_dir())[:10] if root.is_dir() else None
            raise FileNotFoundError(
                f"The {role} folder {folder} does not exist. A segmentation folder holds {images}/ (the "
                f"photos) and {masks}/ (one mask per photo, same file stem)"
                + (f"; {root} has {found}." if found is not None else f"; {root} does not exist.")
            )
    image_files = _files(image_dir, IMAGE_EXTENSIONS)
    lossy = sorted(p.name for p in mask_dir.iterdir() if p.suffix.lower() in (".jpg", ".jpeg"))
    if lossy:
        raise ValueError(
            f"The masks {_listed(lossy)} in {mask_dir} are JPEGs: JPEG compression changes pixel values, so "
            "they no longer hold class ids. Save the masks as PNG (palette or grayscale)."
        )
    mask_files = {}
    for stem, path in _files(mask_dir, MASK_EXTENSIONS).items():
        mask_files[stem.removesuffix(mask_suffix) if mask_suffix else stem] = path
    without_mask = sorted(image_files[s].name for s in set(image_files) - set(mask_files))
    without_image = sorted(mask_files[s].name for s in set(mask_files) - set(image_files))
    problems = []
    if without_mask:
        problems.append(
            f"{len(without_mask)} image(s) in {image_dir} without a mask: {_listed(without_mask)}"
        )
    if without_image:
        problems.append(
            f"{len(without_image)} mask(s) in {mask_dir} without an image: {_listed(without_image)}"
        )
    if problems:
        expected = f"<stem>{mask_suffix}.png"
        raise ValueError(
            "; ".join(problems)
            + f". Each image <stem>.jpg|png needs the mask {masks}/{expected}"
            + ("" if mask_suffix else " (pass mask_suffix='_mask' if the masks' names add a suffix)")
            + "; add the missing files or remove the extra ones."
        )
    if not image_files:
        raise ValueError(f"{image_dir} holds no images ({', '.join(IMAGE_EXTENSIONS)}).")
    return [(image_files[stem], mask_files[stem]) for stem in sorted(image_files)]


def read_mask(path) -> np.ndarray:
    """One mask file as an integer array (height, width) of class ids (uint8, or int32 for 16-bit masks).

    Palette images give their palette indices, grayscale images their values, 1-bit images 0 and 1.

    Raises
    ------
    ValueError
        When the file is not an image, or a colour image (RGB, RGBA, LA), which holds colours rather
        than ids.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            mode = image.mode
            if mode in ("P", "L", "1"):
                return np.array(image, dtype=np.uint8)
            if mode in ("I", "I;16", "I;16B", "I;16L"):
                return np.array(image, dtype=np.int32)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValueError(f"Cannot decode the mask {path}: {exc}. Remove or replace the file.") from exc
    raise ValueError(
        f"The mask {path} is a {mode} image; a mask must hold one class id per pixel, as a palette ('P') or "
        "grayscale ('L', 16-bit 'I;16') PNG. Convert each colour to its id first, e.g. "
        "ids = np.zeros(rgb.shape[:2], np.uint8); ids[(rgb == colour).all(-1)] = k."
    )


def palette(n: int = 256) -> list[int]:
    """Distinct colours for class ids 0..n-1, flat [r0, g0, b0, r1, ...]: 0 black, then the bits of
    each id spread over the three channels from the top bit down (1 dark red, 2 dark green, 3 olive...),
    the colour map VOC's masks use."""
    colours = []
    for k in range(n):
        r = g = b = 0
        for bit in range(8):
            r |= ((k >> (3 * bit)) & 1) << (7 - bit)
            g |= ((k >> (3 * bit + 1)) & 1) << (7 - bit)
            b |= ((k >> (3 * bit + 2)) & 1) << (7 - bit)
        colours += [r, g, b]
    return colours


def mask_to_png(mask: np.ndarray) -> bytes:
    """A mask (height, width) of class ids as PNG bytes that :func:`read_mask` reads back: a palette
    PNG (ids 0-255, coloured for people), else 16-bit grayscale.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from deepzoo.data.segmentation import mask_to_png, read_mask
    >>> mask = np.array([[0, 1], [2, 0]])
    >>> (read_mask(io.BytesIO(mask_to_png(mask))) == mask).all()
    np.True_
    """
    import io

    from PIL import Image

    mask = np.asarray(mask)
    if mask.min() < 0 or mask.max() > 65535:
        raise ValueError(f"A PNG mask holds class ids 0 to 65535; got values {mask.min()} to {mask.max()}.")
    if mask.max() < 256:
        image = Image.fromarray(mask.astype(np.uint8), "P")
        image.putpalette(palette())
    else:
        image = Image.fromarray(mask.astype(np.uint16))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _resize_pair(image: np.ndarray, mask: np.ndarray, size: tuple[int, int]):
    """An image (C, H, W) resized bilinearly and its mask by nearest neighbour, to (height, width)."""
    from PIL import Image

    height, width = size
    if image.shape[1:] == (height, width):
        return image, mask
    pil = Image.fromarray(image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0))
    resized = np.asarray(pil.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=3.0))
    image = resized[None] if resized.ndim == 2 else resized.transpose(2, 0, 1)
    mask = np.asarray(Image.fromarray(mask).resize((width, height), Image.Resampling.NEAREST))
    return np.ascontiguousarray(image), mask


def load_segmentation_folder(
    root,
    *,
    images: str = "images",
    masks: str = "masks",
    mask_suffix: str = "",
    image_size=None,
    mode: str = "RGB",
    n_classes: int | None = None,
    pairs: list[tuple[Path, Path]] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode a segmentation folder into images, masks and the class ids they hold.

    Parameters
    ----------
    root : str or Path
        The folder holding ``images/`` and ``masks/`` (see :func:`list_segmentation_folder`).
    images, masks, mask_suffix : str
        As in :func:`list_segmentation_folder`.
    image_size : (height, width) or int, default=None
        Resize every pair to this size: the image bilinearly, its mask by nearest neighbour (stretched,
        not cropped: every pixel stays). None requires every image to have one size.
    mode : {'RGB', 'L'}, default='RGB'
        The images' colour mode.
    n_classes : int, default=None
        The number of classes: masks must hold ids 0 to ``n_classes - 1``. None takes the ids found
        (at most 64 distinct values, else the masks are taken for images).
    pairs : list of (image path, mask path), default=None
        Read these pairs instead of listing ``root`` (a subset, e.g. one split of it).

    Returns
    -------
    X : ndarray of uint8, shape (n_images, channels, height, width)
    Y : ndarray of shape (n_images, height, width)
        The masks' class ids as stored (uint8, or int32 for 16-bit masks).
    class_ids : ndarray of int
        The sorted ids found, or ``0 .. n_classes - 1`` when declared.

    Raises
    ------
    ValueError
        Naming the file: a mask whose size differs from its image's, ids outside ``0 .. n_classes - 1``,
        images of different sizes without ``image_size``, and the problems of
        :func:`list_segmentation_folder` and :func:`read_mask`.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> from deepzoo.data.segmentation import load_segmentation_folder
    >>> root = tempfile.mkdtemp()
    >>> os.makedirs(os.path.join(root, "images")); os.makedirs(os.path.join(root, "masks"))
    >>> for name in ("a", "b"):
    ...     Image.new("RGB", (6, 4)).save(os.path.join(root, "images", name + ".jpg"))
    ...     Image.fromarray(np.eye(4, 6, dtype=np.uint8)).save(os.path.join(root, "masks", name + ".png"))
    >>> X, Y, class_ids = load_segmentation_folder(root)
    >>> X.shape, Y.shape, class_ids.tolist()
    ((2, 3, 4, 6), (2, 4, 6), [0, 1])
    """
    if mode not in ("RGB", "L"):
        raise ValueError(f"mode must be 'RGB' or 'L'; got {mode!r}.")
    if n_classes is not None and (
        isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 1
    ):
        raise ValueError(f"n_classes must be a positive int or None; got {n_classes!r}.")
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    if pairs is None:
        pairs = list_segmentation_folder(root, images=images, masks=masks, mask_suffix=mask_suffix)
    # the headers first: wrong sizes stop before any decoding
    sizes = []
    for image_path, mask_path in pairs:
        image_probe, mask_probe = _probe(image_path), _probe(mask_path)
        if image_probe is None:
            raise ValueError(f"Cannot decode the image {image_path}: not an image file or corrupt.")
        if mask_probe is None:
            raise ValueError(f"Cannot decode the mask {mask_path}: not an image file or corrupt.")
        if image_probe[1] != mask_probe[1]:
            (ih, iw), (mh, mw) = image_probe[1], mask_probe[1]
            raise ValueError(
                f"The mask {mask_path.name} is {mh}x{mw} (height x width) but its image {image_path.name} is "
                f"{ih}x{iw}; a mask must label every pixel of its image. Resize the mask with "
                "nearest-neighbour sampling (never bilinear: it invents ids), or fix the pairing."
            )
        sizes.append(image_probe[1])
    if image_size is None and len(set(sizes)) > 1:
        first, other = sizes[0], next(s for s in sizes if s != sizes[0])
        name = pairs[sizes.index(other)][0].name
        raise ValueError(
            f"The images have {len(set(sizes))} different sizes ({pairs[0][0].name} is "
            f"{first[0]}x{first[1]}, {name} is {other[0]}x{other[1]}). Pass image_size=(height, width) to "
            "resize every image and its mask."
        )

    def read(pair):
        image, mask = decode_image(pair[0], mode), read_mask(pair[1])
        return _resize_pair(image, mask, image_size) if image_size is not None else (image, mask)

    with ThreadPoolExecutor(min(8, 2 * (os.cpu_count() or 1))) as pool:  # Pillow decodes without the GIL
        decoded = list(pool.map(read, pairs))
    X = np.stack([image for image, _ in decoded])
    Y = np.stack([mask for _, mask in decoded])
    if n_classes is not None:
        for (_, mask_path), (_, mask) in zip(pairs, decoded):
            if mask.max() >= n_classes:
                raise ValueError(
                    f"The mask {mask_path.name} holds the value {int(mask.max())}, but n_classes={n_classes} "
                    f"declares the ids 0 to {n_classes - 1}. Declare more classes, or map the values to ids "
                    "(a mask saved as 0/255 holds 255 for its second class)."
                )
        return X, Y, np.arange(n_classes)
    class_ids = np.unique(Y)
    if len(class_ids) > MAX_UNDECLARED_CLASSES:
        raise ValueError(
            f"The masks hold {len(class_ids)} distinct values (e.g. {class_ids[:6].tolist()}...): more like "
            "a smoothed or photographed image than class ids. Save masks with one id per pixel (no "
            f"anti-aliasing, no resizing but nearest), or pass n_classes if there really are over "
            f"{MAX_UNDECLARED_CLASSES} classes."
        )
    return X, Y, class_ids
