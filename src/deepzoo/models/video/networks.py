"""The networks of :mod:`deepzoo.models.video.estimators`, in plain PyTorch: the ConvLSTM cell and
stack, the forecaster that reads and draws frames in patches, and the per-frame CNN + LSTM/GRU clip
classifier.

Every network takes clips (N, T, C, H, W), uint8 (0-255) or floats in [0, 1], scaled inside ``forward``.
Its own module (rather than the top of video.py) to keep each file readable in one sitting.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..sequence.recurrent import RecurrentStack
from ..vision.architectures import build_network

__all__ = ["ClipClassifierNet", "ConvLSTM", "ConvLSTMCell", "ForecastNet"]


def _unit_pixels(x: torch.Tensor) -> torch.Tensor:
    """uint8 pixels (0-255) as floats in [0, 1]; float pixels as they are. Clips stay uint8 in memory
    (four times smaller) and are scaled batch by batch."""
    return x.float() / 255.0 if x.dtype == torch.uint8 else x


class ConvLSTMCell(nn.Module):
    """One ConvLSTM layer (Shi et al., 2015) without the peephole terms: the input, forget and output
    gates and the candidate are one convolution of the input and the previous hidden state.

    Parameters
    ----------
    in_channels, hidden_channels : int
    kernel_size : int
        Side of the gates' convolution (odd: the maps keep their size).
    """

    def __init__(self, in_channels: int, hidden_channels: int, kernel_size: int = 3):
        super().__init__()
        self.hidden_channels = hidden_channels
        self.gates = nn.Conv2d(
            in_channels + hidden_channels, 4 * hidden_channels, kernel_size, padding="same"
        )
        with torch.no_grad():  # forget gate open at the start: the state is kept until learnt otherwise
            self.gates.bias[hidden_channels : 2 * hidden_channels].fill_(1.0)

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]):
        h, c = state  # (N, Hc, h, w) each
        i, f, o, g = self.gates(torch.cat([x, h], 1)).chunk(4, 1)  # 4 x (N, Hc, h, w)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)  # (N, Hc, h, w)
        h = torch.sigmoid(o) * torch.tanh(c)  # (N, Hc, h, w)
        return h, c


class ConvLSTM(nn.Module):
    """Stacked ConvLSTM cells, stepped one frame at a time; the state of every layer is kept."""

    def __init__(self, in_channels: int, hidden_sizes, kernel_size: int = 3):
        super().__init__()
        sizes = [in_channels, *hidden_sizes]
        self.cells = nn.ModuleList(ConvLSTMCell(a, b, kernel_size) for a, b in zip(sizes, sizes[1:]))

    def initial_state(self, x: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Zero (h, c) of every layer for inputs like ``x`` (N, C, h, w); the batch size is read from
        ``x`` itself, so that an ONNX export keeps it dynamic."""
        zero = torch.zeros_like(x[:, :1])  # (N, 1, h, w)
        return [(zero.repeat(1, cell.hidden_channels, 1, 1),) * 2 for cell in self.cells]

    def forward(self, x: torch.Tensor, state):
        new_state = []
        for cell, layer_state in zip(self.cells, state):
            x, c = cell(x, layer_state)  # (N, Hc_l, h, w)
            new_state.append((x, c))
        return new_state


class ForecastNet(nn.Module):
    """Encoder-forecaster on patches: each frame is cut into ``patch_size`` x ``patch_size`` patches
    stacked as channels (pixel_unshuffle, as PredRNN does) and read by the ConvLSTM at the smaller size.

    Each next frame is made from the hidden states of every layer in up to two ways, mixed pixel by
    pixel: *drawn*, a 1x1 convolution of the states unshuffled back to pixels; and *moved*, the frame
    before it convolved with ``n_motions`` kernels of ``motion_size`` x ``motion_size`` that the
    network predicts for each clip at each step (a softmax over displacements: CDNA, Finn et al.,
    2016). A softmax mask per pixel chooses among the ``n_motions`` moved frames and the drawn one.
    Moving what is already there is far easier to learn than drawing it anew; ``n_motions=0`` draws
    only (Shi et al.'s and PredRNN's output).
    """

    def __init__(
        self, channels, hidden_sizes, kernel_size, patch_size, n_input_frames, n_output_frames,
        n_motions=0, motion_size=11,
    ):  # fmt: skip
        super().__init__()
        self.patch_size = patch_size
        self.n_input_frames, self.n_output_frames = n_input_frames, n_output_frames
        self.n_motions, self.motion_size = n_motions, motion_size
        patch_channels = channels * patch_size**2
        self.rnn = ConvLSTM(patch_channels, hidden_sizes, kernel_size)
        self.head = nn.Conv2d(sum(hidden_sizes), patch_channels, 1)
        if n_motions:
            self.motions = nn.Linear(hidden_sizes[-1], n_motions * motion_size**2)
            self.masks = nn.Conv2d(sum(hidden_sizes), (n_motions + 1) * patch_size**2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Clips (N, T, C, H, W), of which the first ``n_input_frames`` are read, -> the prediction of
        every next frame, (N, n_input_frames + n_output_frames - 1, C, H, W), floats in [0, 1]: frames
        1 .. n_input_frames - 1 from the observed frames before them, the rest from the drawn ones."""
        p, t_in = self.patch_size, self.n_input_frames
        observed = _unit_pixels(x[:, :t_in])  # (N, Tin, C, H, W)
        state = self.rnn.initial_state(_to_patches(observed[:, :1], p)[:, 0])
        drawn = []
        for t in range(t_in + self.n_output_frames - 1):
            frame = observed[:, t] if t < t_in else drawn[-1]  # (N, C, H, W)
            state = self.rnn(_to_patches(frame[:, None], p)[:, 0], state)  # read as (N, C*p*p, H/p, W/p)
            drawn.append(self._next_frame(frame, state))
        return torch.stack(drawn, 1)  # (N, T', C, H, W)

    def _next_frame(self, frame: torch.Tensor, state) -> torch.Tensor:
        """The frame after ``frame`` (N, C, H, W), from the ConvLSTM's state after reading it."""
        p, channels = self.patch_size, frame.shape[1]
        hidden = torch.cat([h for h, _ in state], 1)  # (N, sum(hidden), H/p, W/p)
        pixels = torch.sigmoid(_from_patches(self.head(hidden)[:, None], p, channels)[:, 0])  # (N, C, H, W)
        if not self.n_motions:
            return pixels
        k, s = self.n_motions, self.motion_size
        top = state[-1][0].mean(dim=(2, 3))  # (N, hidden[-1]): what the whole frame is doing
        kernels = torch.softmax(self.motions(top).reshape(-1, k, s * s), dim=2).reshape(-1, k, s, s)
        moved = _move(frame, kernels, s)  # (N, K, C, H, W)
        masks = torch.softmax(
            _from_patches(self.masks(hidden)[:, None], p, k + 1)[:, 0], dim=1
        )  # (N, K+1, H, W)
        return (masks[:, :k, None] * moved).sum(1) + masks[:, k:] * pixels  # (N, C, H, W)


def _move(frames: torch.Tensor, kernels: torch.Tensor, s: int) -> torch.Tensor:
    """Each clip's frame (N, C, H, W) convolved with each of its own kernels (N, K, s, s), zero-padded
    -> (N, K, C, H, W). One grouped convolution, a group per clip and channel; an ONNX export takes
    the unfold formulation instead (the same sums), whose graph keeps the batch size dynamic."""
    n, c, h, w = frames.shape
    k = kernels.shape[1]
    if torch.onnx.is_in_onnx_export():
        columns = F.unfold(frames.reshape(-1, 1, h, w), s, padding=s // 2)  # (N*C, s*s, H*W)
        columns = columns.reshape(-1, c, s * s, h * w)
        moved = torch.einsum("nkd,ncdp->nkcp", kernels.reshape(-1, k, s * s), columns)  # (N, K, C, H*W)
        return moved.reshape(-1, k, c, h, w)
    weight = kernels[:, None].expand(n, c, k, s, s).reshape(n * c * k, 1, s, s)
    moved = F.conv2d(frames.reshape(1, n * c, h, w), weight, padding=s // 2, groups=n * c)  # (1, N*C*K, H, W)
    return moved.reshape(n, c, k, h, w).transpose(1, 2)


# pixel_unshuffle and pixel_shuffle over clips, written as reshapes whose batch size is -1: torch's
# own functions export to ONNX with the example's batch size fixed in the graph
def _to_patches(x: torch.Tensor, p: int) -> torch.Tensor:
    """(N, T, C, H, W) -> (N, T, C*p*p, H/p, W/p); channel c*p*p + i*p + j holds pixel (i, j) of each
    patch, as in pixel_unshuffle."""
    _, t, c, h, w = x.shape
    x = x.reshape(-1, t, c, h // p, p, w // p, p)  # (N, T, C, H/p, i, W/p, j)
    return x.permute(0, 1, 2, 4, 6, 3, 5).reshape(-1, t, c * p * p, h // p, w // p)


def _from_patches(x: torch.Tensor, p: int, c: int) -> torch.Tensor:
    """The inverse of :func:`_to_patches`: (N, T, C*p*p, h, w) -> (N, T, C, h*p, w*p)."""
    _, t, _, h, w = x.shape
    x = x.reshape(-1, t, c, p, p, h, w)  # (N, T, C, i, j, h, w)
    return x.permute(0, 1, 2, 5, 3, 6, 4).reshape(-1, t, c, h * p, w * p)


class ClipClassifierNet(nn.Module):
    """A per-frame CNN (any of :data:`deepzoo.models.vision.convnet.ARCHITECTURES` without its last
    layer) -> one vector per frame -> stacked LSTM/GRU -> the state after the last frame -> Linear ->
    class logits."""

    def __init__(self, frame_shape, architecture, width, batch_norm, hidden_sizes, cell, dropout,
                 n_classes, mean, std):  # fmt: skip
        super().__init__()
        self.encoder = build_network(architecture, tuple(frame_shape), 2, width=width, batch_norm=batch_norm)
        n_features = getattr(self.encoder, self.encoder.head_name).in_features
        setattr(self.encoder, self.encoder.head_name, nn.Identity())  # forward_features is what we read
        self.rnn = RecurrentStack(n_features, hidden_sizes, cell, dropout, bidirectional=False)
        self.head = nn.Linear(self.rnn.n_outputs, n_classes)
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32).reshape(1, -1, 1, 1))
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32).reshape(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # sizes taken from x itself (not from intermediate tensors) stay dynamic in an ONNX export
        frames = _unit_pixels(x).reshape(-1, *x.shape[2:])  # (N*T, C, H, W)
        frames = (frames - self.mean) / self.std
        features = self.encoder.forward_features(frames).reshape(x.shape[0], x.shape[1], -1)  # (N, T, F)
        h = self.rnn(features)  # (N, T, H)
        return self.head(h[:, -1])  # (N, n_classes)
