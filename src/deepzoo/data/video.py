"""Video clips as arrays ``(n_clips, n_frames, channels, height, width)``: generated, read and written.

* :func:`make_moving_digits` -- Moving MNIST as Srivastava et al. (2015) describe it: digits bouncing
  inside a square frame, seeded, from any array of digit images (MNIST's, or scikit-learn's 8x8 ones);
* :func:`make_motion_clips` -- one digit sliding in one of 8 directions, the label of the clip;
* :func:`read_clip` reads one clip: a folder of frame images (in natural order: ``2.png`` before
  ``10.png``), an ``.npy``/``.npz`` array, an animated GIF (Pillow), or an MP4/AVI/MOV/MKV/WebM video
  (PyAV, ``pip install 'deepzoo[video]'``);
* :func:`load_clip_folder` reads a folder of clips, or of class folders of clips, into one array;
* :func:`stack_clips` stacks clips of one length and frame size, and says which clip differs;
* :func:`write_gif` writes frames as an animated GIF.

Clips are ``uint8`` (0-255) everywhere here; the estimators of
:mod:`deepzoo.models.video.estimators` scale them to [0, 1].
"""

from __future__ import annotations

import numbers
import os
import re
from pathlib import Path

import numpy as np

from .images import IMAGE_EXTENSIONS, _probe, decode_image, read_arrays

__all__ = [
    "ARRAY_EXTENSIONS",
    "DIRECTIONS",
    "VIDEO_EXTENSIONS",
    "load_clip_folder",
    "make_motion_clips",
    "make_moving_digits",
    "read_clip",
    "stack_clips",
    "write_gif",
]

ARRAY_EXTENSIONS = (".npy", ".npz")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm")
# the 8 directions of make_motion_clips, counter-clockwise from "right" (image rows grow downwards)
DIRECTIONS = ("right", "up-right", "up", "up-left", "left", "down-left", "down", "down-right")


# -- generated clips --------------------------------------------------------------------------------
def _check_digits(digits, caller: str) -> np.ndarray:
    """Digit images (n, h, w) as uint8 0-255 (floats in [0, 1], or 0-16 as scikit-learn's, are scaled)."""
    digits = np.asarray(digits)
    if digits.ndim != 3 or len(digits) == 0:
        raise ValueError(
            f"{caller} expects digit images of shape (n_digits, height, width); got {digits.shape}. "
            "For MNIST pass the (60000, 28, 28) array, for scikit-learn's digits load_digits().images."
        )
    if digits.dtype != np.uint8:
        top = float(digits.max()) if digits.size else 1.0
        scale = 255.0 / (16.0 if 1.0 < top <= 16.0 else 255.0 if top > 16.0 else 1.0)
        digits = np.clip(np.rint(digits * scale), 0, 255).astype(np.uint8)
    return digits


def _check_count(value, name: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an int >= {low}; got {value!r}.")
    return int(value)


def _paste(canvas: np.ndarray, digits: np.ndarray, rows: np.ndarray, cols: np.ndarray, wrap: bool) -> None:
    """Draw ``digits[i]`` (n, h, w) at top-left corner (rows[i], cols[i]) of ``canvas[i]`` (n, S, S),
    keeping the brighter pixel where digits overlap (np.maximum, as Srivastava et al.); with ``wrap``
    a digit leaving one side comes back on the other."""
    n, h, w = digits.shape
    size = canvas.shape[-1]
    # a slice per clip is far faster than one fancy-indexed assignment of the whole batch
    target = np.zeros((n, size + h, size + w), canvas.dtype) if wrap else canvas
    rows, cols = (rows % size, cols % size) if wrap else (rows, cols)
    for i, (r, c) in enumerate(zip(rows.tolist(), cols.tolist())):
        np.maximum(target[i, r : r + h, c : c + w], digits[i], out=target[i, r : r + h, c : c + w])
    if wrap:  # fold what went past the bottom and right edges back onto the top and left
        target[:, :h] = np.maximum(target[:, :h], target[:, size : size + h])
        target[:, :, :w] = np.maximum(target[:, :, :w], target[:, :, size : size + w])
        np.maximum(canvas, target[:, :size, :size], out=canvas)


def make_moving_digits(
    digits,
    n_clips: int,
    *,
    n_frames: int = 20,
    frame_size: int = 64,
    n_digits: int = 2,
    speed: tuple[float, float] = (2.0, 5.0),
    random_state=None,
) -> np.ndarray:
    """Moving MNIST (Srivastava et al., 2015): digits bouncing inside a square frame.

    Each clip draws ``n_digits`` digit images at random, places each at a random position inside the
    frame and gives it a velocity whose direction is uniform on the circle and whose length is uniform
    in ``speed`` pixels per frame. A digit that reaches an edge bounces off it (mirror reflection of its
    path); where digits overlap the brighter pixel wins. The paper's clips are 20 frames of 64x64 with
    two MNIST digits: 10 observed, 10 to predict.

    Parameters
    ----------
    digits : array of shape (n_digits_available, h, w)
        The digit images to draw from (uint8 0-255, floats in [0, 1], or scikit-learn's 0-16).
        Generate training clips from training digits and test clips from test digits.
    n_clips : int
    n_frames : int, default=20
    frame_size : int, default=64
        Side of the square frame in pixels; at least the digits' side.
    n_digits : int, default=2
        Digits per clip.
    speed : (low, high), default=(2.0, 5.0)
        Range of a digit's speed in pixels per frame.
    random_state : int, numpy Generator or None
        Same seed, same clips.

    Returns
    -------
    clips : uint8 array of shape (n_clips, n_frames, 1, frame_size, frame_size)

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from deepzoo.data.video import make_moving_digits
    >>> clips = make_moving_digits(load_digits().images, 4, n_frames=6, frame_size=24, random_state=0)
    >>> clips.shape, clips.dtype.name
    ((4, 6, 1, 24, 24), 'uint8')
    """
    digits = _check_digits(digits, "make_moving_digits")
    n_clips, n_frames = _check_count(n_clips, "n_clips", 0), _check_count(n_frames, "n_frames")
    n_digits = _check_count(n_digits, "n_digits")
    h, w = digits.shape[1:]
    room = _check_count(frame_size, "frame_size") - np.array([h, w])  # top-left corners in [0, room]
    if (room < 0).any():
        raise ValueError(
            f"frame_size={frame_size} is smaller than the digits ({h}x{w}); use at least {max(h, w)}."
        )
    low, high = speed
    if not 0 <= low <= high:
        raise ValueError(f"speed must be (low, high) with 0 <= low <= high pixels per frame; got {speed!r}.")
    rng = np.random.default_rng(random_state)
    clips = np.zeros((n_clips, n_frames, frame_size, frame_size), np.uint8)
    t = np.arange(n_frames)[None, :]  # (1, T)
    for _ in range(n_digits):
        chosen = digits[rng.integers(0, len(digits), n_clips)]  # (n, h, w)
        start = rng.uniform(0, 1, (n_clips, 2)) * room  # (n, 2): row, column
        angle = rng.uniform(0, 2 * np.pi, n_clips)
        length = rng.uniform(low, high, n_clips)
        velocity = np.stack([np.sin(angle), np.cos(angle)], 1) * length[:, None]  # (n, 2)
        # a bounce is a mirror: unfold the straight path, then fold it back into [0, room]
        path = start[:, None, :] + velocity[:, None, :] * t[:, :, None]  # (n, T, 2)
        span = np.maximum(room, 1e-9)
        folded = np.mod(path, 2 * span)
        folded = np.where(folded > span, 2 * span - folded, folded)
        corner = np.rint(np.minimum(folded, room)).astype(int)  # (n, T, 2)
        for frame in range(n_frames):
            _paste(clips[:, frame], chosen, corner[:, frame, 0], corner[:, frame, 1], wrap=False)
    return clips[:, :, None]


def make_motion_clips(
    digits,
    n_clips: int,
    *,
    n_frames: int = 10,
    frame_size: int = 32,
    speed: float = 2.0,
    random_state=None,
) -> tuple[np.ndarray, np.ndarray]:
    """One digit sliding in one of 8 directions; the direction is the clip's label.

    The digit starts anywhere and moves ``speed`` pixels per frame along one of :data:`DIRECTIONS`
    (diagonals move ``speed`` along each axis). The frame wraps around (a digit leaving on the right
    comes back on the left), so every frame of every direction looks alike: the position of the digit
    in one frame says nothing about the direction, only the order of the frames does.

    Parameters
    ----------
    digits : array of shape (n_digits_available, h, w)
    n_clips : int
    n_frames : int, default=10
    frame_size : int, default=32
    speed : float, default=2.0
        Pixels per frame along each moving axis.
    random_state : int, numpy Generator or None

    Returns
    -------
    clips : uint8 array of shape (n_clips, n_frames, 1, frame_size, frame_size)
    y : int array of shape (n_clips,)
        The index of the direction in :data:`DIRECTIONS`, balanced over the clips.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from deepzoo.data.video import DIRECTIONS, make_motion_clips
    >>> clips, y = make_motion_clips(load_digits().images, 16, frame_size=16, random_state=0)
    >>> clips.shape, sorted(set(DIRECTIONS[k] for k in y))[:2]
    ((16, 10, 1, 16, 16), ['down', 'down-left'])
    """
    digits = _check_digits(digits, "make_motion_clips")
    n_clips, n_frames = _check_count(n_clips, "n_clips", 0), _check_count(n_frames, "n_frames")
    if _check_count(frame_size, "frame_size") < max(digits.shape[1:]):
        raise ValueError(f"frame_size={frame_size} is smaller than the digits {digits.shape[1:]}.")
    rng = np.random.default_rng(random_state)
    y = rng.permutation(np.arange(n_clips) % len(DIRECTIONS))
    angle = y * (np.pi / 4)
    step = np.stack([-np.rint(np.sin(angle)), np.rint(np.cos(angle))], 1) * speed  # (n, 2): rows up
    chosen = digits[rng.integers(0, len(digits), n_clips)]
    start = rng.uniform(0, frame_size, (n_clips, 2))
    clips = np.zeros((n_clips, n_frames, frame_size, frame_size), np.uint8)
    for frame in range(n_frames):
        corner = np.rint(start + step * frame).astype(int)
        _paste(clips[:, frame], chosen, corner[:, 0], corner[:, 1], wrap=True)
    return clips[:, :, None], y


# -- stacking and reading clips ---------------------------------------------------------------------
def _describe(shape) -> str:
    return f"{shape[0]} frames of {'x'.join(str(s) for s in shape[1:])}"


def stack_clips(clips, names=None) -> np.ndarray:
    """Stack clips (each (n_frames, channels, height, width)) into one array (n_clips, n_frames, C, H, W).

    Raises ``ValueError`` naming the first clip whose length or frame size differs from the first
    clip's, with the fix. ``names`` (one per clip, e.g. file names) are used in that message.

    Examples
    --------
    >>> import numpy as np
    >>> from deepzoo.data.video import stack_clips
    >>> stack_clips([np.zeros((4, 1, 8, 8), np.uint8)] * 3).shape
    (3, 4, 1, 8, 8)
    """
    arrays = [np.asarray(clip) for clip in clips]
    names = [f"clip {i}" for i in range(len(arrays))] if names is None else [str(n) for n in names]
    if not arrays:
        raise ValueError("No clips to stack: got an empty list.")
    for name, array in zip(names, arrays):
        if array.ndim != 4:
            raise ValueError(
                f"{name} has shape {array.shape}; each clip must be (n_frames, channels, height, width). "
                "For a grayscale clip (n_frames, height, width) use clip[:, None]."
            )
    first = arrays[0].shape
    for name, array in zip(names, arrays):
        if array.shape[0] != first[0]:
            raise ValueError(
                f"Clips in one batch must have the same number of frames: {names[0]} has {first[0]} but "
                f"{name} has {array.shape[0]}. Cut them to a common length, e.g. "
                f"clip[:{min(first[0], array.shape[0])}] "
                "(load_clip_folder(n_frames=...) does it for a folder)."
            )
        if array.shape[1:] != first[1:]:
            raise ValueError(
                f"Clips in one batch must have the same frame size: {names[0]} has {_describe(first)} but "
                f"{name} has {_describe(array.shape)} (channels x height x width). Resize the frames "
                "(load_clip_folder(image_size=(H, W)) does it) and give them one colour mode (mode='L' "
                "or 'RGB')."
            )
    return np.stack(arrays)


def _natural_key(path: Path):
    """'frame2.png' before 'frame10.png': runs of digits compare as numbers."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


# frames of a frame folder; a GIF is read as a clip of its own
FRAME_EXTENSIONS = tuple(e for e in IMAGE_EXTENSIONS if e != ".gif")
CLIP_EXTENSIONS = (*ARRAY_EXTENSIONS, ".gif", *VIDEO_EXTENSIONS)


def _visible(folder: Path) -> list[Path]:
    """A folder's entries without hidden ones (.DS_Store, .ipynb_checkpoints)."""
    return sorted((p for p in folder.iterdir() if not p.name.startswith(".")), key=_natural_key)


def _frames_of_array(array: np.ndarray, path: Path) -> list[np.ndarray]:
    """A clip array (T, H, W), (T, C, H, W) or (T, H, W, C) -> uint8 frames (H, W) or (H, W, C)."""
    if array.ndim == 3:
        frames = array
    elif array.ndim == 4 and array.shape[1] in (1, 3, 4):
        frames = array.transpose(0, 2, 3, 1)
    elif array.ndim == 4 and array.shape[-1] in (1, 3, 4):
        frames = array
    else:
        raise ValueError(
            f"{path} holds an array of shape {array.shape}; a clip is (n_frames, height, width) or "
            "(n_frames, channels, height, width) with 1, 3 or 4 channels."
        )
    if frames.dtype != np.uint8:
        if frames.dtype.kind not in "fiub":
            raise ValueError(f"{path} holds {frames.dtype} values; a clip holds numeric pixels.")
        low, high = (float(frames.min()), float(frames.max())) if frames.size else (0.0, 0.0)
        if frames.dtype.kind == "f" and low >= 0 and high <= 1:
            frames = frames * 255.0
        elif low < 0 or high > 255:
            raise ValueError(
                f"{path} holds pixels from {low:g} to {high:g}; a clip holds uint8 pixels (0-255) or floats "
                "in [0, 1]."
            )
        frames = np.rint(frames).astype(np.uint8)
    if frames.ndim == 4 and frames.shape[-1] == 1:
        frames = frames[..., 0]
    return list(frames)


def _open_frames(path: Path) -> list:
    """The frames of one clip file or frame folder, as Pillow images or uint8 arrays."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    suffix = path.suffix.lower()
    if path.is_dir():
        entries = _visible(path)
        for entry in entries:
            if not (entry.is_file() and entry.suffix.lower() in FRAME_EXTENSIONS):
                raise ValueError(
                    f"The frame folder {path} holds {entry.name!r}, which is not a frame image "
                    f"({', '.join(FRAME_EXTENSIONS)}); a clip folder holds only its frames. Move it out."
                )
        if not entries:
            raise ValueError(f"The frame folder {path} holds no frames.")
        return entries  # decoded one by one by decode_image, which names a file that fails
    if suffix in ARRAY_EXTENSIONS:
        array = read_arrays(path)
        if isinstance(array, dict):
            keys = [k for k in ("frames", "clip") if k in array] or list(array)
            if len(keys) != 1:
                raise ValueError(
                    f"{path} holds several arrays {sorted(array)}; name the clip's array 'frames' or "
                    "save only that one."
                )
            array = array[keys[0]]
        return _frames_of_array(array, path)
    if suffix == ".gif":
        try:
            with Image.open(path) as gif:
                return [frame.copy() for frame in ImageSequence.Iterator(gif)]
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise ValueError(f"Cannot decode the GIF {path}: {exc}. Remove or replace the file.") from exc
    if suffix in VIDEO_EXTENSIONS:
        try:
            import av
        except ImportError as exc:
            raise ImportError(
                f"Reading {suffix} clips needs PyAV (FFmpeg in a wheel): pip install 'deepzoo[video]'. "
                "Or convert the clip to frame images or a GIF."
            ) from exc
        try:
            with av.open(str(path)) as container:
                return [frame.to_image() for frame in container.decode(video=0)]
        except (av.FFmpegError, OSError, ValueError, IndexError) as exc:
            raise ValueError(f"Cannot decode the video {path}: {exc}. Remove or replace the file.") from exc
    raise ValueError(
        f"{path} is not a clip: a clip is a folder of frame images, an .npy/.npz array, a .gif or a video "
        f"({', '.join(VIDEO_EXTENSIONS)})."
    )


_GRAY_MODES = ("L", "1", "LA", "I", "I;16", "I;16B", "I;16L")


def _is_gray(frame) -> bool:
    """A frame file of a grayscale mode, a 2-D array, or a decoded frame whose colours are all grays
    (Pillow hands a GIF's later frames over as RGB)."""
    if isinstance(frame, Path):  # from the header; a file that cannot be read fails when decoded
        probe = _probe(frame)
        return probe is None or probe[0] in _GRAY_MODES
    if isinstance(frame, np.ndarray):
        return frame.ndim == 2
    if frame.mode in _GRAY_MODES:
        return True
    rgb = np.asarray(frame.convert("RGB"))
    return bool((rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all())


def read_clip(path, *, mode: str = "auto", image_size=None) -> np.ndarray:
    """Read one clip into a uint8 array (n_frames, channels, height, width).

    Parameters
    ----------
    path : str or Path
        A folder of frame images (PNG, JPEG, ...; read in natural order, so ``2.png`` comes before
        ``10.png``; hidden files are ignored, any other file is an error), an ``.npy``/``.npz`` array of
        shape (n_frames, height, width) or (n_frames, channels, height, width) (uint8, or floats in
        [0, 1]), an animated ``.gif``, or a video (``.mp4``, ``.avi``, ``.mov``, ``.mkv``, ``.webm``;
        needs PyAV: ``pip install 'deepzoo[video]'``).
    mode : {'auto', 'L', 'RGB'}, default='auto'
        'auto' gives grayscale clips one channel and colour clips three; 'L' or 'RGB' converts.
    image_size : (height, width) or int, default=None
        Resize every frame (shorter side scaled to fit, then centre-cropped); None needs one size.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from deepzoo.data.video import read_clip
    >>> path = os.path.join(tempfile.mkdtemp(), "clip.npy")
    >>> np.save(path, np.zeros((5, 16, 16), np.uint8))
    >>> read_clip(path).shape
    (5, 1, 16, 16)
    """
    from PIL import Image

    from .images import _fit_size, _to_mode

    if mode not in ("auto", "RGB", "L"):
        raise ValueError(f"mode must be 'auto', 'RGB' or 'L'; got {mode!r}.")
    if isinstance(image_size, numbers.Integral):
        image_size = (int(image_size), int(image_size))
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"The clip {path} does not exist.")
    frames = _open_frames(path)
    if mode == "auto":  # grayscale when every frame is
        mode = "L" if all(_is_gray(frame) for frame in frames) else "RGB"
    out = []
    for frame in frames:
        if isinstance(frame, Path):
            out.append(decode_image(frame, mode, image_size))
            continue
        image = Image.fromarray(frame) if isinstance(frame, np.ndarray) else frame
        image = _to_mode(image, mode)
        if image_size is not None:
            image = _fit_size(image, tuple(image_size))
        array = np.array(image, dtype=np.uint8)
        out.append(array[None] if array.ndim == 2 else array.transpose(2, 0, 1))
    sizes = {a.shape for a in out}
    if len(sizes) > 1:
        raise ValueError(
            f"The frames of {path} have different sizes {sorted(s[1:] for s in sizes)[:3]}; pass "
            "image_size=(height, width) to resize them all."
        )
    return np.stack(out)


def _is_clip(path: Path) -> bool:
    if path.is_dir():
        return any(p.is_file() and p.suffix.lower() in FRAME_EXTENSIONS for p in _visible(path))
    return path.suffix.lower() in CLIP_EXTENSIONS


def load_clip_folder(
    root, *, n_frames: int | None = None, image_size=None, mode: str = "auto"
) -> tuple[np.ndarray, np.ndarray | None, list[Path]]:
    """Read a folder of clips, or a folder of class folders of clips, into one uint8 array.

    ``root/<clip>`` (each clip as :func:`read_clip` reads it) gives unlabelled clips;
    ``root/<class>/<clip>`` gives each clip its class folder's name as its label.

    Parameters
    ----------
    root : str or Path
    n_frames : int, default=None
        Keep the first ``n_frames`` frames of every clip (a shorter clip is an error that names it);
        None needs every clip to have the same length.
    image_size, mode : as in :func:`read_clip`
        With ``mode='auto'``, grayscale and colour clips in one folder are an error: pass 'L' or 'RGB'.

    Returns
    -------
    clips : uint8 array of shape (n_clips, n_frames, channels, height, width)
    labels : array of str of shape (n_clips,), or None without class folders
    paths : list of Path, the clip of each row

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from deepzoo.data.video import load_clip_folder
    >>> root = tempfile.mkdtemp()
    >>> for label in ("left", "right"):
    ...     os.makedirs(os.path.join(root, label))
    ...     np.save(os.path.join(root, label, "a.npy"), np.zeros((6, 8, 8), np.uint8))
    >>> clips, labels, paths = load_clip_folder(root, n_frames=4)
    >>> clips.shape, labels.tolist()
    ((2, 4, 1, 8, 8), ['left', 'right'])
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"The clip folder {root} does not exist.")
    if n_frames is not None:
        n_frames = _check_count(n_frames, "n_frames")
    entries = _visible(root)
    if not entries:
        raise ValueError(f"The clip folder {root} is empty.")
    classes = all(p.is_dir() and not _is_clip(p) for p in entries)
    if classes:
        found = [(clip, folder.name) for folder in entries for clip in _visible(folder)]
    else:
        found = [(clip, None) for clip in entries]
    if not found:
        raise ValueError(f"The class folders of {root} hold no clips.")
    for clip, _ in found:
        if not _is_clip(clip):
            raise ValueError(
                f"{clip} is not a clip: {root} should hold clips (folders of frame images, .npy/.npz arrays, "
                f".gif or {'/'.join(VIDEO_EXTENSIONS)} files), or one folder per class holding clips."
            )
    arrays, paths = [], [clip for clip, _ in found]
    for clip in paths:
        array = read_clip(clip, mode=mode, image_size=image_size)
        if n_frames is not None:
            if len(array) < n_frames:
                raise ValueError(
                    f"The clip {clip} has {len(array)} frames, fewer than the n_frames={n_frames} requested. "
                    f"Lower n_frames to {len(array)} or remove the clip."
                )
            array = array[:n_frames]
        arrays.append(array)
    try:
        clips = stack_clips(arrays, names=[p.relative_to(root) for p in paths])
    except ValueError as exc:
        hint = (
            " Or pass n_frames=N to keep the first N frames of each clip."
            if "number of frames" in str(exc)
            else ""
        )
        raise ValueError(str(exc) + hint) from None
    labels = np.asarray([label for _, label in found]) if classes else None
    return clips, labels, paths


def write_gif(frames, path, *, fps: float = 5.0, scale: int = 1) -> Path:
    """Write frames (n_frames, channels, height, width) or (n_frames, height, width), uint8 or floats in
    [0, 1], as a looping animated GIF; ``scale`` enlarges each pixel (nearest) for small frames. The
    file is written under a temporary name and renamed."""
    from PIL import Image

    frames = np.asarray(frames)
    if frames.ndim == 4:
        frames = frames.transpose(0, 2, 3, 1)
        frames = frames[..., 0] if frames.shape[-1] == 1 else frames
    if frames.ndim not in (3, 4) or len(frames) == 0:
        raise ValueError(
            f"write_gif expects frames (n_frames, [channels,] height, width); got {frames.shape}."
        )
    if frames.dtype != np.uint8:
        frames = np.rint(np.clip(frames, 0, 1) * 255).astype(np.uint8)
    if scale > 1:
        frames = frames.repeat(scale, axis=1).repeat(scale, axis=2)
    images = [Image.fromarray(frame) for frame in frames]
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        images[0].save(
            tmp, format="GIF", save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0
        )
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
