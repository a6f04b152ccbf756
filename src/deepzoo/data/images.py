"""Image data without torchvision: folders of JPEG/PNG files, MNIST's IDX files, ``.npz``/``.npy`` arrays,
and the batch transforms (resize, normalise, augment) written once in torch.

Readers return ``uint8`` arrays of shape (n_images, channels, height, width), labels, and class names:

* :func:`read_idx` reads an IDX file (``*-ubyte`` or ``*-ubyte.gz``) and checks its header against its size;
* :func:`read_arrays` reads ``.npy`` (one array) or ``.npz`` (a dict of arrays);
* :func:`list_image_folder` finds ``root/<class>/*.jpg|png`` files, :func:`find_splits` the
  ``training_set/`` + ``test_set/`` or ``train/`` + ``test/`` sub-folders;
* :func:`load_image_folder` decodes a folder (in worker processes through a ``DataLoader``) into one
  tensor; :class:`ImageFileDataset` decodes one file at a time, for folders streamed in batches.

A corrupt or non-image file is reported by name: ``on_error="raise"`` stops, ``"warn"`` skips it with a
warning. Mixed colour modes (grayscale, RGBA, 16-bit next to RGB) and mixed sizes stop with a message that
names two offending files and the option that fixes it (``mode="RGB"``, ``image_size=(H, W)``).
"""

from __future__ import annotations

import gzip
import math
import os
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "IMAGE_EXTENSIONS",
    "ImageFileDataset",
    "augment",
    "augment_with_masks",
    "decode_image",
    "find_splits",
    "inspect_images",
    "list_image_folder",
    "load_image_folder",
    "normalize",
    "read_arrays",
    "read_idx",
    "resize",
]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")
# IDX type codes -> NumPy big-endian dtypes (the format of LeCun's MNIST files)
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_SPLITS = (("training_set", "test_set"), ("train", "test"))


# -- IDX and NumPy arrays ---------------------------------------------------------------------------
def read_idx(path) -> np.ndarray:
    """Read an IDX file (MNIST's format), gzip-compressed or not.

    Parameters
    ----------
    path : str or Path
        A ``*-ubyte`` or ``*-ubyte.gz`` file.

    Returns
    -------
    array : ndarray
        Of the shape and dtype the header declares, e.g. (60000, 28, 28) uint8.

    Raises
    ------
    ValueError
        When the magic number is not IDX's or the header declares more or fewer values than the file holds.

    Examples
    --------
    >>> import gzip, os, tempfile
    >>> import numpy as np
    >>> from deepzoo.data.images import read_idx
    >>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte.gz")
    >>> with gzip.open(path, "wb") as f:
    ...     _ = f.write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]))
    >>> read_idx(path)
    array([7, 2, 1], dtype=uint8)
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        raise ValueError(
            f"Cannot read the IDX file {path}: {exc}. Check that the download is complete."
        ) from exc
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise ValueError(
            f"{path} is not an IDX file: its first bytes {data[:4].hex()} are not an IDX magic number "
            "(00 00 <type> <ndim>). Pass MNIST's *-ubyte or *-ubyte.gz files."
        )
    dtype, ndim = np.dtype(_IDX_TYPES[data[2]]), data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(
            f"{path} is truncated: its header declares {ndim} dimensions but the file ends first."
        )
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = math.prod(shape) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(
            f"The header of {path} declares shape {shape} ({expected:,} bytes of data) but the file holds "
            f"{len(data) - header:,} bytes after the header; the file is truncated or not what it claims. "
            "Download it again."
        )
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_arrays(path):
    """Read a ``.npy`` file (one array) or a ``.npz`` file (a dict of arrays); pickled objects are refused.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from deepzoo.data.images import read_arrays
    >>> path = os.path.join(tempfile.mkdtemp(), "images.npz")
    >>> np.savez(path, images=np.zeros((2, 8, 8), np.uint8))
    >>> read_arrays(path)["images"].shape
    (2, 8, 8)
    """
    path = Path(path)
    if path.suffix not in (".npy", ".npz"):
        raise ValueError(f"read_arrays reads .npy and .npz files; got {path.name!r}.")
    try:
        loaded = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise ValueError(
            f"{path} holds pickled Python objects, which deepzoo does not load (they can run code); "
            "save plain numeric arrays."
        ) from exc
    except (OSError, EOFError) as exc:
        raise ValueError(f"Cannot read {path}: {exc}. Is the file complete?") from exc
    if isinstance(loaded, np.ndarray):
        return loaded
    with loaded:
        return {key: loaded[key] for key in loaded.files}


# -- image folders ----------------------------------------------------------------------------------
def find_splits(root) -> dict[str, Path]:
    """The train and test sub-folders of ``root``: ``training_set``/``test_set`` or ``train``/``test``.

    Returns ``{"train": Path, "test": Path}``; raises ``FileNotFoundError`` naming what was looked for.
    """
    root = Path(root)
    for train, test in _SPLITS:
        if (root / train).is_dir() and (root / test).is_dir():
            return {"train": root / train, "test": root / test}
    raise FileNotFoundError(
        f"{root} has no train/test split: expected the sub-folders training_set/ and test_set/, or train/ "
        f"and test/, each with one folder per class. Found: {sorted(p.name for p in root.iterdir())[:10]}."
        if root.is_dir()
        else f"The image folder {root} does not exist."
    )


def list_image_folder(root, classes=None) -> tuple[list[Path], np.ndarray, list[str]]:
    """The image files of ``root/<class>/*`` in sorted order, their class names, and the classes.

    Parameters
    ----------
    root : str or Path
        A folder with one sub-folder per class.
    classes : list of str, default=None
        Expected class folders (those of the training folder when listing a test folder); None takes
        every sub-folder.

    Returns
    -------
    paths : list of Path
    labels : ndarray of str, shape (n_images,)
    classes : list of str, sorted
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"The image folder {root} does not exist.")
    found = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not found:
        loose = [p.name for p in root.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS][:3]
        raise ValueError(
            f"The image folder {root} has no class sub-folders"
            + (f" (it holds images directly, e.g. {loose})" if loose else "")
            + ". Put the images of each class in their own folder: root/<class>/<image>.jpg."
        )
    if classes is not None:
        missing = sorted(set(classes) - set(found))
        extra = sorted(set(found) - set(classes))
        if extra:
            raise ValueError(
                f"{root} has class folders {extra} that the model was not trained on "
                f"(classes: {list(classes)})."
            )
        if missing:
            warnings.warn(f"{root} has no folder for the classes {missing}.", stacklevel=2)
        found = [c for c in classes if c in found]
    paths, labels = [], []
    for name in found:
        files = sorted(
            p for p in (root / name).iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
        )
        if not files:
            raise ValueError(
                f"The class folder {root / name} holds no image files ({', '.join(IMAGE_EXTENSIONS)}); "
                "add images or remove the folder."
            )
        paths += files
        labels += [name] * len(files)
    return paths, np.asarray(labels), list(classes) if classes is not None else found


def _to_mode(image, mode: str):
    """Convert a Pillow image to ``mode``; 16/32-bit grayscale is scaled down to 8 bits first."""
    from PIL import Image

    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        image = Image.fromarray(np.clip(array / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if image.mode == "RGBA" and mode == "RGB":  # transparent pixels become white, not black
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image if image.mode == mode else image.convert(mode)


def _fit_size(image, size: tuple[int, int]):
    """Scale the shorter side to fit ``size`` (aspect kept), then centre-crop to exactly ``size``."""
    from PIL import Image

    height, width = size
    scale = max(height / image.height, width / image.width)
    new = (max(width, round(image.width * scale)), max(height, round(image.height * scale)))
    if new != image.size:
        image = image.resize(new, Image.BILINEAR, reducing_gap=3.0)
    left, top = (image.width - width) // 2, (image.height - height) // 2
    return image.crop((left, top, left + width, top + height))


def decode_image(path, mode: str = "RGB", image_size: tuple[int, int] | None = None) -> np.ndarray:
    """Decode one image file into a ``uint8`` array of shape (channels, height, width).

    Raises ``ValueError`` naming the file when Pillow cannot decode it (corrupt, truncated, not an image).
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()  # decode now: a truncated JPEG fails here, not later
            image = _to_mode(image, mode)
            if image_size is not None:
                image = _fit_size(image, tuple(image_size))
            array = np.array(image, dtype=np.uint8)  # a writable copy
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValueError(f"Cannot decode the image {path}: {exc}. Remove or replace the file.") from exc
    return array[None] if array.ndim == 2 else np.ascontiguousarray(array.transpose(2, 0, 1))


def _probe(path) -> tuple[str, tuple[int, int]] | None:
    """(mode, (height, width)) from the header alone; None when Pillow cannot identify the file."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.mode, (image.height, image.width)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None


def inspect_images(paths, threads: int | None = None) -> list[tuple[str, tuple[int, int]] | str]:
    """Open and fully decode each file (in a pool of threads), keeping nothing but what it is.

    Returns, per file, ``(mode, (height, width))`` when it decodes, else the error message that names
    it: unlike the header probe of :func:`scan_image_folder`, a truncated JPEG is caught here, before
    any training starts.

    Examples
    --------
    >>> import os, tempfile
    >>> from PIL import Image
    >>> from deepzoo.data.images import inspect_images
    >>> folder = tempfile.mkdtemp()
    >>> Image.new("L", (12, 10)).save(os.path.join(folder, "a.png"))
    >>> with open(os.path.join(folder, "b.png"), "w") as f:
    ...     _ = f.write("not an image")
    >>> found = inspect_images([os.path.join(folder, "a.png"), os.path.join(folder, "b.png")])
    >>> found[0], found[1].startswith("Cannot decode the image")
    (('L', (10, 12)), True)
    """
    from concurrent.futures import ThreadPoolExecutor

    from PIL import Image, UnidentifiedImageError

    def inspect(path):
        try:
            with Image.open(path) as image:
                image.load()  # Pillow releases the GIL while decoding: threads pay
                return image.mode, (image.height, image.width)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            return f"Cannot decode the image {path}: {exc}."

    with ThreadPoolExecutor(threads or min(8, 2 * (os.cpu_count() or 1))) as pool:
        return list(pool.map(inspect, paths))


class ImageFileDataset(torch.utils.data.Dataset):
    """One decoded image per index: ``(uint8 tensor (C, H, W), index)``; a file that fails gives None.

    For a ``DataLoader`` with workers; use :func:`collate_images` as its ``collate_fn``.
    """

    def __init__(self, paths, mode: str = "RGB", image_size=None):
        self.paths = list(paths)
        self.mode = mode
        self.image_size = image_size

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int):
        try:
            return torch.from_numpy(decode_image(self.paths[index], self.mode, self.image_size)), index, None
        except ValueError as exc:
            return None, index, str(exc)


def collate_images(items):
    """Stack the decoded images of a batch; keep the indices and the errors of those that failed."""
    good = [(image, index) for image, index, _ in items if image is not None]
    errors = [(index, error) for image, index, error in items if image is None]
    images = torch.stack([g[0] for g in good]) if good else None
    return images, [g[1] for g in good], errors


def _num_workers(n_files: int) -> int:
    return 0 if n_files < 256 else min(4, os.cpu_count() or 1)


def _bad_file_handler(on_error: str, keep: np.ndarray):
    """``bad(index, message)``: stop with the message (``on_error='raise'``) or warn and clear ``keep``."""

    def bad(index: int, message: str) -> None:
        if on_error == "raise":
            raise ValueError(message + " Pass on_error='warn' to skip such files.")
        warnings.warn(message + " Skipped.", stacklevel=4)
        keep[index] = False

    return bad


def scan_image_folder(
    root, *, image_size=None, mode: str = "auto", on_error: str = "raise", classes=None, max_per_class=None
) -> tuple[list[Path], np.ndarray, list[str], str, tuple[int, int] | None]:
    """The files of ``root/<class>/*`` checked from their headers alone, without decoding them.

    Unreadable files stop with their name or are dropped with a warning (``on_error``); mixed colour
    modes (with ``mode='auto'``) and mixed sizes (without ``image_size``) stop with the fix. Returns
    ``(paths, labels, classes, mode, image_size)``: the mode settled to 'RGB' or 'L', and the size every
    image will have, (height, width), or None for an empty folder. Arguments as in
    :func:`load_image_folder`.
    """
    if on_error not in ("raise", "warn"):
        raise ValueError(f"on_error must be 'raise' or 'warn'; got {on_error!r}.")
    if mode not in ("auto", "RGB", "L"):
        raise ValueError(f"mode must be 'auto', 'RGB' or 'L'; got {mode!r}.")
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    paths, labels, classes = list_image_folder(root, classes)
    if max_per_class is not None:
        chosen = np.concatenate([np.flatnonzero(labels == c)[:max_per_class] for c in classes])
        paths, labels = [paths[i] for i in chosen], labels[chosen]
    keep = np.ones(len(paths), bool)
    bad = _bad_file_handler(on_error, keep)

    # the headers first: mixed modes and sizes are found before any decoding work
    probes = [_probe(p) for p in paths]
    for index, probe in enumerate(probes):
        if probe is None:
            bad(index, f"Cannot decode the image {paths[index]}: not an image file or corrupt.")
    if mode == "auto":
        by_mode = {}
        for index, probe in enumerate(probes):
            if probe is not None and keep[index]:
                kind = "RGB" if probe[0] in ("RGB", "YCbCr", "CMYK") else probe[0]
                by_mode.setdefault(kind, paths[index])
        if len(by_mode) > 1:
            listed = ", ".join(f"{p.name} is {m}" for m, p in list(by_mode.items())[:3])
            raise ValueError(
                f"The images in {root} have different colour modes ({listed}). Pass mode='RGB' "
                "(or mode='L' for grayscale) to convert every image to one mode."
            )
        found = next(iter(by_mode), "RGB")
        mode = "L" if found in ("L", "1") else "RGB"
    if image_size is None:
        sizes = Counter(p[1] for i, p in enumerate(probes) if p is not None and keep[i])
        if len(sizes) > 1:
            (common, _), (other, _) = sizes.most_common(2)
            first = next(paths[i] for i, p in enumerate(probes) if p is not None and p[1] == other)
            raise ValueError(
                f"The images in {root} have different sizes ({len(sizes)} sizes; most are "
                f"{common[0]}x{common[1]} but {first.name} is {other[0]}x{other[1]}, height x width). "
                "Pass image_size=(height, width) to resize them all."
            )
    kept = np.flatnonzero(keep)
    if image_size is None:
        image_size = next((probes[i][1] for i in kept), None)
    return [paths[i] for i in kept], labels[kept], classes, mode, image_size


def load_image_folder(
    root,
    *,
    image_size=None,
    mode: str = "auto",
    on_error: str = "raise",
    classes=None,
    num_workers: int | None = None,
    max_per_class: int | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Decode every image of ``root/<class>/*`` into one ``uint8`` array (n, C, H, W).

    Parameters
    ----------
    root : str or Path
        Folder with one sub-folder per class.
    image_size : (height, width) or int, default=None
        Resize every image (shorter side scaled to fit, then centre-cropped). None requires all images
        to have the same size.
    mode : {'auto', 'RGB', 'L'}, default='auto'
        'auto' keeps the images' common mode (RGB or grayscale) and refuses a mix; 'RGB' or 'L'
        converts every image (RGBA, palette and 16-bit images included).
    on_error : {'raise', 'warn'}, default='raise'
        What a corrupt or non-image file does: stop with its name, or skip it with a warning.
    classes : list of str, default=None
        The class folders to expect (those of the training folder when reading a test folder).
    num_workers : int, default=None
        Decoding processes; None uses up to 4 for folders of 256+ files.
    max_per_class : int, default=None
        Read only the first ``max_per_class`` files (in sorted order) of each class, for quick runs.

    Returns
    -------
    X : ndarray of uint8, shape (n_images, channels, height, width)
    y : ndarray of str, shape (n_images,)
        The class folder of each image.
    classes : list of str

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> from deepzoo.data.images import load_image_folder
    >>> root = tempfile.mkdtemp()
    >>> for name in ("cat", "dog"):
    ...     os.makedirs(os.path.join(root, name))
    ...     Image.new("RGB", (12, 10)).save(os.path.join(root, name, "a.png"))
    >>> X, y, classes = load_image_folder(root, image_size=8)
    >>> X.shape, y.tolist(), classes
    ((2, 3, 8, 8), ['cat', 'dog'], ['cat', 'dog'])
    """
    paths, labels, classes, mode, size = scan_image_folder(
        root,
        image_size=image_size,
        mode=mode,
        on_error=on_error,
        classes=classes,
        max_per_class=max_per_class,
    )
    image_size = None if image_size is None else size  # images of one size are decoded as they are
    images, kept = decode_files(paths, mode, image_size, on_error=on_error, num_workers=num_workers)
    if images is None:
        raise ValueError(f"No image of {root} could be decoded.")
    return images, labels[kept], classes


def decode_files(
    paths, mode: str, image_size=None, *, on_error: str | None = None, num_workers: int | None = None
) -> tuple[np.ndarray | None, np.ndarray]:
    """Decode image files (in worker processes for 256+ files) into one uint8 array (n, C, H, W).

    ``mode`` is 'RGB' or 'L'; ``image_size`` (height, width) resizes, None needs one size for all. A file
    that fails stops with its name (``on_error=None``, or 'raise' which also names the option to skip
    it) or is skipped with a warning ('warn'). Returns the array (None when no file decoded) and the
    indices of the files it holds.
    """
    keep = np.ones(len(paths), bool)
    bad = _bad_file_handler(on_error, keep) if on_error is not None else None
    dataset = ImageFileDataset(paths, mode, image_size)
    workers = _num_workers(len(paths)) if num_workers is None else num_workers
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=64, num_workers=workers, collate_fn=collate_images, shuffle=False
    )
    images: list[torch.Tensor] = []
    for batch, _, errors in loader:
        for index, error in errors:
            if bad is None:
                raise ValueError(error)
            bad(index, error)
        if batch is not None:
            images.append(batch)
    kept = np.flatnonzero(keep)
    return (torch.cat(images).numpy() if images else None), kept


class ImageStream:
    """Image files read on demand, for folders too large to hold decoded in memory.

    It looks like the uint8 array (n, C, H, W) that :func:`load_image_folder` would return (``len``,
    ``shape``, ``dtype``, ``ndim``), but ``stream[indices]`` decodes only those files, in a pool of
    threads (Pillow releases the GIL while decoding), and returns them as a uint8 array. A file that
    fails to decode stops with its name. Build it from :func:`scan_image_folder`'s paths, settled mode
    and size.

    Examples
    --------
    >>> import os, tempfile
    >>> from PIL import Image
    >>> from deepzoo.data.images import ImageStream, scan_image_folder
    >>> root = tempfile.mkdtemp()
    >>> for name in ("cat", "dog"):
    ...     os.makedirs(os.path.join(root, name))
    ...     Image.new("RGB", (12, 10)).save(os.path.join(root, name, "a.png"))
    >>> paths, labels, classes, mode, size = scan_image_folder(root, image_size=8)
    >>> stream = ImageStream(paths, mode, size)
    >>> stream.shape, stream[[1]].shape
    ((2, 3, 8, 8), (1, 3, 8, 8))
    """

    dtype = np.dtype(np.uint8)
    ndim = 4

    def __init__(self, paths, mode: str, image_size: tuple[int, int], threads: int | None = None):
        if mode not in ("RGB", "L"):
            raise ValueError(f"mode must be 'RGB' or 'L' (settled by scan_image_folder); got {mode!r}.")
        self.paths = list(paths)
        self.mode = mode
        self.image_size = tuple(image_size)
        self.threads = threads or min(8, 2 * (os.cpu_count() or 1))
        self._pool = None

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (len(self.paths), 1 if self.mode == "L" else 3, *self.image_size)

    def __getitem__(self, index) -> np.ndarray:
        if isinstance(index, torch.Tensor):
            index = index.cpu().numpy()
        rows = np.arange(len(self.paths))[index]
        if rows.ndim == 0:
            return self[[int(rows)]][0]
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="deepzoo-decode")
        decode = lambda i: decode_image(self.paths[i], self.mode, self.image_size)  # noqa: E731
        images = list(self._pool.map(decode, rows.tolist()))
        return np.stack(images) if images else np.empty((0, *self.shape[1:]), np.uint8)

    def __getstate__(self):  # the thread pool stays behind when pickled
        return {**self.__dict__, "_pool": None}


class BatchSource:
    """A random-access source of training batches for :func:`~deepzoo.engine.training.fit_loop`:
    ``source[rows]`` is ``transform(images[rows])`` on ``device`` (e.g. an :class:`ImageStream` normalised
    batch by batch). ``shape`` is that of the transformed whole."""

    def __init__(self, images, transform, device, item_shape: tuple):
        self.images, self.transform, self.device = images, transform, torch.device(device)
        self.shape = (len(images), *item_shape)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index) -> torch.Tensor:
        if isinstance(index, slice):
            index = np.arange(len(self.images))[index]
        return self.transform(self.images[index])


# -- batch transforms in torch ----------------------------------------------------------------------
def resize(images: torch.Tensor, size) -> torch.Tensor:
    """Bilinear resize of a float batch (N, C, H, W) to ``size`` = (height, width) or an int."""
    size = (size, size) if isinstance(size, int) else tuple(size)
    if tuple(images.shape[-2:]) == size:
        return images
    return F.interpolate(images, size=size, mode="bilinear", align_corners=False, antialias=True)


def normalize(images: torch.Tensor, mean, std) -> torch.Tensor:
    """``(images - mean) / std`` per channel, for a float batch (N, C, H, W)."""
    mean = torch.as_tensor(mean, dtype=images.dtype, device=images.device).reshape(1, -1, 1, 1)
    std = torch.as_tensor(std, dtype=images.dtype, device=images.device).reshape(1, -1, 1, 1)
    return (images - mean) / std


def augment(
    images: torch.Tensor,
    *,
    shift: float = 0.0,
    flip: bool = False,
    rotation: float = 0.0,
    scale: float = 0.0,
    color: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Random crop (as a shift), horizontal flip, small rotation and zoom, and colour jitter on a batch.

    All geometric changes are one affine warp per image (a single ``grid_sample`` call for the batch).

    Parameters
    ----------
    images : float tensor (N, C, H, W)
    shift : float
        Largest translation, as a fraction of the image side (0.1 = up to 10%).
    flip : bool
        Mirror half of the images left-right.
    rotation : float
        Largest rotation in degrees, either way.
    scale : float
        Largest zoom in or out, as a fraction (0.1 = 0.9x to 1.1x).
    color : float
        Largest relative change of brightness and contrast (per image) and saturation (RGB).
    generator : torch.Generator, optional
        On the images' device; None uses torch's global generator.

    Examples
    --------
    >>> import torch
    >>> from deepzoo.data.images import augment
    >>> augment(torch.rand(4, 3, 16, 16), shift=0.1, flip=True, rotation=10).shape
    torch.Size([4, 3, 16, 16])
    """
    if shift or flip or rotation or scale:
        grid = _random_grid(images, shift, flip, rotation, scale, generator)
        images = F.grid_sample(images, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    return _color_jitter(images, color, generator) if color else images


def augment_with_masks(
    images: torch.Tensor,
    masks: torch.Tensor,
    *,
    shift: float = 0.0,
    flip: bool = False,
    rotation: float = 0.0,
    scale: float = 0.0,
    color: float = 0.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`augment` for segmentation: each image and its mask move together.

    The same random warp (flip, shift, rotation, zoom) moves an image (bilinear) and its integer mask
    (nearest, so every pixel keeps a class id); the colour jitter changes the images only.

    Parameters
    ----------
    images : float tensor (N, C, H, W)
    masks : integer tensor (N, H, W) of class ids
    shift, flip, rotation, scale, color, generator : as in :func:`augment`

    Returns
    -------
    images : float tensor (N, C, H, W)
    masks : tensor (N, H, W), of the masks' dtype

    Examples
    --------
    >>> import torch
    >>> from deepzoo.data.images import augment_with_masks
    >>> images, masks = torch.rand(2, 3, 16, 16), torch.randint(0, 3, (2, 16, 16))
    >>> out, out_masks = augment_with_masks(images, masks, flip=True, scale=0.2)
    >>> out.shape, out_masks.shape, set(out_masks.unique().tolist()) <= {0, 1, 2}
    (torch.Size([2, 3, 16, 16]), torch.Size([2, 16, 16]), True)
    """
    if shift or flip or rotation or scale:
        grid = _random_grid(images, shift, flip, rotation, scale, generator)
        images = F.grid_sample(images, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
        # nearest sampling copies a class id from one source pixel: exact in float32 below 2**24
        moved = F.grid_sample(
            masks[:, None].to(images.dtype),
            grid,
            mode="nearest",
            padding_mode="reflection",
            align_corners=False,
        )
        masks = moved[:, 0].round().to(masks.dtype)
    return (_color_jitter(images, color, generator) if color else images), masks


def _uniform(n: int, low: float, high: float, like: torch.Tensor, generator) -> torch.Tensor:
    """``n`` draws from U(low, high) on ``like``'s device and dtype."""
    return torch.rand(n, device=like.device, generator=generator, dtype=like.dtype) * (high - low) + low


def _random_grid(images, shift, flip, rotation, scale, generator) -> torch.Tensor:
    """One random affine warp per image (flip, rotation, zoom, shift) as a sampling grid (N, H, W, 2)."""
    n = len(images)
    angle = _uniform(n, -rotation, rotation, images, generator) * (math.pi / 180.0)
    zoom = _uniform(n, 1.0 - scale, 1.0 + scale, images, generator)
    mirror = torch.ones(n, device=images.device, dtype=images.dtype)
    if flip:
        mirror = torch.where(_uniform(n, 0, 1, images, generator) < 0.5, -mirror, mirror)
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack(
        [
            torch.stack([cos * mirror, -sin, _uniform(n, -2 * shift, 2 * shift, images, generator)], 1),
            torch.stack([sin * mirror, cos, _uniform(n, -2 * shift, 2 * shift, images, generator)], 1),
        ],
        1,
    )  # (N, 2, 3); grid coordinates span [-1, 1], so a shift of s sides is 2s
    return F.affine_grid(theta, list(images.shape), align_corners=False)


def _color_jitter(images, color, generator) -> torch.Tensor:
    """Brightness and contrast per image, and saturation for RGB, each within 1 +- ``color``."""
    n = len(images)
    brightness = _uniform(n, 1 - color, 1 + color, images, generator).reshape(n, 1, 1, 1)
    contrast = _uniform(n, 1 - color, 1 + color, images, generator).reshape(n, 1, 1, 1)
    mean = images.mean(dim=(1, 2, 3), keepdim=True)
    images = (images - mean) * contrast + mean * brightness
    if images.shape[1] == 3:
        gray = images.mean(dim=1, keepdim=True)
        images = gray + (images - gray) * _uniform(n, 1 - color, 1 + color, images, generator).reshape(
            n, 1, 1, 1
        )
    return images
