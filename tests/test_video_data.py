"""deepzoo.data.video: the generators, the clip readers and their messages on bad input."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from deepzoo.data.video import (
    DIRECTIONS,
    load_clip_folder,
    make_motion_clips,
    make_moving_digits,
    read_clip,
    stack_clips,
    write_gif,
)

DIGITS = load_digits().images  # (1797, 8, 8), values 0-16


# -- generators --------------------------------------------------------------------------------------
def test_moving_digits_shape_seed_and_range():
    clips = make_moving_digits(DIGITS, 6, n_frames=5, frame_size=20, random_state=0)
    assert clips.shape == (6, 5, 1, 20, 20) and clips.dtype == np.uint8
    assert np.array_equal(clips, make_moving_digits(DIGITS, 6, n_frames=5, frame_size=20, random_state=0))
    assert not np.array_equal(clips, make_moving_digits(DIGITS, 6, n_frames=5, frame_size=20, random_state=1))
    assert clips.max() == 255  # scikit-learn's 0-16 digits are scaled to 0-255


def test_moving_digits_paths_stay_inside_and_bounce():
    """One white square digit: its ink never leaves the frame, each frame holds all of it, and it
    moves by at most the top speed per frame (a bounce folds the path, it does not jump)."""
    square = np.full((1, 4, 4), 255, np.uint8)
    clips = make_moving_digits(
        square, 20, n_frames=30, frame_size=12, n_digits=1, speed=(2, 3), random_state=0
    )
    assert (clips > 0).sum(axis=(2, 3, 4)).min() == 16  # the whole square in every frame
    rows = np.array([[np.argwhere(f[0])[0] for f in clip] for clip in clips])  # (n, T, 2) top-left
    steps = np.abs(np.diff(rows, axis=1))
    assert steps.max() <= 3 + 1  # speed 3, plus one pixel of rounding
    assert ((rows == 0) | (rows == 8)).any()  # some squares reached an edge in 30 frames


def test_moving_digits_brighter_pixel_wins_where_digits_overlap():
    dim, bright = np.full((1, 6, 6), 100, np.uint8), np.full((1, 6, 6), 200, np.uint8)
    both = make_moving_digits(np.concatenate([dim, bright]), 50, n_frames=1, frame_size=6, random_state=0)
    assert set(np.unique(both)) <= {100, 200}  # overlapping, never added up
    assert (both == 200).any() and (both == 100).any()


def test_motion_clips_balanced_and_moving_in_their_direction():
    square = np.full((1, 2, 2), 255, np.uint8)
    clips, y = make_motion_clips(square, 16, n_frames=3, frame_size=16, speed=2, random_state=0)
    assert clips.shape == (16, 3, 1, 16, 16) and np.bincount(y).tolist() == [2] * 8
    for clip, label in zip(clips, y):
        first, second = (np.argwhere(f[0]).min(0) for f in clip[:2])  # top-left, no wrap at start 0..13
        moved = (second - first + 8) % 16 - 8  # the wrap-around shift, in (-8, 8]
        expected = {
            "right": (0, 2), "up-right": (-2, 2), "up": (-2, 0), "up-left": (-2, -2), "left": (0, -2),
            "down-left": (2, -2), "down": (2, 0), "down-right": (2, 2),
        }[DIRECTIONS[label]]  # fmt: skip
        if first.max() < 12 and second.max() < 12:  # the square did not wrap (min of a split square)
            assert tuple(moved) == expected


def test_motion_clips_frames_carry_no_direction():
    """With the wrap-around every position is equally likely whatever the direction: the mean frame of
    each direction is the same flat field (up to sampling noise)."""
    clips, y = make_motion_clips(DIGITS, 4000, n_frames=2, frame_size=8, random_state=0)
    means = np.stack([clips[y == k].mean(axis=(0, 1, 2)) for k in range(8)])  # (8, 8, 8)
    assert np.abs(means - means.mean()).max() < 0.25 * means.mean()


def test_generators_refuse_bad_digits_and_sizes():
    with pytest.raises(ValueError, match=r"expects digit images of shape \(n_digits, height, width\)"):
        make_moving_digits(DIGITS.reshape(len(DIGITS), -1), 2)
    with pytest.raises(ValueError, match="frame_size=6 is smaller than the digits"):
        make_moving_digits(DIGITS, 2, frame_size=6)
    with pytest.raises(ValueError, match="speed must be"):
        make_moving_digits(DIGITS, 2, speed=(3, 1))
    with pytest.raises(ValueError, match="n_clips must be an int"):
        make_motion_clips(DIGITS, -1)


# -- reading clips -----------------------------------------------------------------------------------
def _frames(n, size=8):
    """``n`` random grayscale frames (a different draw for each length)."""
    return list(np.random.default_rng(n).integers(0, 256, (n, size, size), dtype=np.uint8))


def _frame_folder(folder, frames):
    folder.mkdir(parents=True)
    for i, frame in enumerate(frames):
        Image.fromarray(frame).save(folder / f"frame{i}.png")
    return folder


def test_read_frame_folder_in_natural_order(tmp_path):
    frames = _frames(12)
    folder = _frame_folder(tmp_path / "clip", frames)
    (folder / ".DS_Store").write_bytes(b"hidden files are ignored")
    clip = read_clip(folder)
    assert clip.shape == (12, 1, 8, 8)
    assert np.array_equal(clip[:, 0], np.stack(frames))  # frame2 before frame10


def test_read_npy_npz_gif_and_their_layouts(tmp_path):
    frames = np.stack(_frames(5))
    np.save(tmp_path / "a.npy", frames.astype(np.float32) / 255)  # floats in [0, 1]
    np.savez(tmp_path / "b.npz", frames=frames[:, :, :, None].repeat(3, axis=3))  # channels last, RGB
    write_gif(frames, tmp_path / "c.gif")
    assert np.array_equal(read_clip(tmp_path / "a.npy")[:, 0], frames)
    rgb = read_clip(tmp_path / "b.npz")
    assert rgb.shape == (5, 3, 8, 8) and np.array_equal(rgb[:, 1], frames)
    gif = read_clip(tmp_path / "c.gif")
    # GIF stores a palette of at most 256 colours: grayscale frames come back exactly
    assert gif.shape == (5, 1, 8, 8) and np.array_equal(gif[:, 0], frames)
    assert read_clip(tmp_path / "b.npz", mode="L", image_size=4).shape == (5, 1, 4, 4)


def test_read_mp4_through_pyav(tmp_path):
    av = pytest.importorskip("av")
    frames = np.zeros((6, 32, 32, 3), np.uint8)
    for t in range(6):
        frames[t, :, 4 * t : 4 * t + 8] = (255, 64, 0)  # an orange bar moving right
    with av.open(str(tmp_path / "bar.mp4"), "w") as container:
        stream = container.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    clip = read_clip(tmp_path / "bar.mp4")
    assert clip.shape == (6, 3, 32, 32)
    # lossy MPEG-4: each frame's reddest columns are still where the bar is
    bright = clip[:, 0].mean(axis=1).argmax(axis=1)
    assert all(4 * t <= b < 4 * t + 8 for t, b in enumerate(bright))


def test_load_clip_folder_with_classes_and_n_frames(tmp_path):
    for label in ("left", "right"):
        _frame_folder(tmp_path / label / "c1", _frames(6))
        np.save(tmp_path / label / "c2.npy", np.stack(_frames(9)))
    clips, labels, paths = load_clip_folder(tmp_path, n_frames=5)
    assert clips.shape == (4, 5, 1, 8, 8) and labels.tolist() == ["left", "left", "right", "right"]
    assert [p.name for p in paths] == ["c1", "c2.npy", "c1", "c2.npy"]
    unlabelled, none, _ = load_clip_folder(tmp_path / "left", n_frames=6)
    assert unlabelled.shape == (2, 6, 1, 8, 8) and none is None


# -- bad input ---------------------------------------------------------------------------------------
def test_clip_shorter_than_the_requested_frames(tmp_path):
    np.save(tmp_path / "long.npy", np.stack(_frames(10)))
    np.save(tmp_path / "short.npy", np.stack(_frames(4)))
    with pytest.raises(ValueError, match=r"short.npy has 4 frames, fewer than the n_frames=8 requested"):
        load_clip_folder(tmp_path, n_frames=8)


def test_clips_of_different_lengths_or_sizes(tmp_path):
    np.save(tmp_path / "a.npy", np.stack(_frames(10)))
    np.save(tmp_path / "b.npy", np.stack(_frames(7)))
    with pytest.raises(ValueError, match=r"same number of frames: a.npy has 10 but b.npy has 7.*n_frames=N"):
        load_clip_folder(tmp_path)
    np.save(tmp_path / "b.npy", np.stack(_frames(10, size=12)))
    with pytest.raises(ValueError, match=r"same frame size: a.npy has 10 frames of 1x8x8 but b.npy has 10 "
                                         r"frames of 1x12x12.*image_size"):  # fmt: skip
        load_clip_folder(tmp_path)
    assert load_clip_folder(tmp_path, image_size=8)[0].shape == (2, 10, 1, 8, 8)
    with pytest.raises(ValueError, match="same number of frames: clip 0 has 3 but clip 1 has 2"):
        stack_clips([np.zeros((3, 1, 4, 4)), np.zeros((2, 1, 4, 4))])


def test_frame_folder_with_a_non_image_file(tmp_path):
    folder = _frame_folder(tmp_path / "walk", _frames(3))
    (folder / "notes.txt").write_text("not a frame")
    with pytest.raises(
        ValueError, match=r"frame folder .*walk holds 'notes.txt', which is not a frame image"
    ):
        read_clip(folder)
    with pytest.raises(ValueError, match="notes.txt"):
        load_clip_folder(tmp_path)


def test_corrupt_frame_and_unknown_files_are_named(tmp_path):
    folder = _frame_folder(tmp_path / "clip", _frames(2))
    (folder / "frame2.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match=r"Cannot decode the image .*frame2.png"):
        read_clip(folder)
    (tmp_path / "readme.md").write_text("x")
    with pytest.raises(ValueError, match=r"readme.md is not a clip"):
        load_clip_folder(tmp_path)
    with pytest.raises(ValueError, match=r"a clip is \(n_frames, height, width\)"):
        np.save(tmp_path / "bad.npy", np.zeros((2, 5, 6, 7, 8)))
        read_clip(tmp_path / "bad.npy")


def test_write_gif_round_trip(tmp_path):
    frames = np.random.default_rng(0).random((4, 1, 6, 6))  # floats in [0, 1]
    path = write_gif(frames, tmp_path / "x.gif", scale=2)
    clip = read_clip(path)
    assert clip.shape == (4, 1, 12, 12)
    assert np.abs(clip[:, 0, ::2, ::2].astype(int) - np.rint(frames[:, 0] * 255)).max() <= 1
