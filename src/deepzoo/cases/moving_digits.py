"""Case study ``moving_digits``: Moving MNIST in miniature, offline, in seconds (scikit-learn's 8x8 digits).

The ``moving_mnist`` case (the same generator, network, figures and report) on scikit-learn's bundled
1,797 digits of 8x8 pixels, bouncing two at a time in 24x24 frames: 6 frames observed, 6 to predict.
The first 1,200 digits make the training clips, the other 597 the test clips.
"""

from __future__ import annotations

from dataclasses import dataclass

from sklearn.datasets import load_digits

from . import moving_mnist


@dataclass
class Config(moving_mnist.Config):
    """Settings of the offline Moving digits case; every field can be overridden from the command line."""

    n_train: int = 2_000
    """Training clips, from the first 1,200 digits."""
    n_test: int = 300
    """Test clips, from the other 597 digits."""
    n_input_frames: int = 6
    """Frames observed."""
    n_output_frames: int = 6
    """Frames to predict."""
    frame_size: int = 24
    """Side of the square frames."""
    min_speed: float = 1.0
    """A digit's slowest speed, pixels per frame."""
    max_speed: float = 2.5
    """A digit's fastest speed, pixels per frame (slower than MNIST's: these digits are 8 pixels wide)."""
    hidden_layer_sizes: tuple = (32,)
    """Channels of each stacked ConvLSTM layer."""
    patch_size: int = 2
    """Frames are read in patches of this side: 24x24 frames become 4 maps of 12x12."""
    motion_size: int = 7
    """Side of the motion kernels: moves of up to 3 pixels per frame."""
    learning_rate: float = 5e-3
    """Adam's starting learning rate; it follows a half cosine to 0 over max_iter epochs."""
    max_iter: int = 6
    """Epochs over the training clips."""


def _digits(config: Config):
    images = load_digits().images  # (1797, 8, 8), values 0-16
    return images[:1200], images[1200:], "scikit-learn's 8x8 digits (1,200 training / 597 test)"


def run(config: Config, out_dir) -> dict:
    """Run the offline Moving digits case study into ``out_dir``; return its metrics."""
    return moving_mnist.run(
        config, out_dir, load_digits=_digits, title="Moving digits: the next frames with a ConvLSTM (offline)"
    )
