"""Where a model computes and how it is seeded: ``device="auto"`` resolved, seeds derived from
``random_state`` without touching the caller's global random state.

Below both the estimator base and persistence (which places a loaded network on its device), so
neither has to import the other for it.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch

__all__ = ["local_torch_seed", "resolve_device", "seed_from"]


def resolve_device(device) -> torch.device:
    """Turn ``"auto"`` into CUDA when present, else CPU; check that a requested CUDA device exists."""
    if isinstance(device, torch.device):
        device = str(device)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a device torch knows; use 'auto', 'cpu', 'cuda' or 'cuda:N'."
        ) from exc
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} asks for CUDA but torch sees no GPU (torch {torch.__version__}). "
                "Use device='auto' or 'cpu', or install a CUDA build of torch."
            )
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} asks for GPU {resolved.index} but torch sees "
                f"{torch.cuda.device_count()} GPU(s); use 'cuda:0' to 'cuda:{torch.cuda.device_count() - 1}'."
            )
    if resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={device!r} asks for Apple's MPS but torch cannot use it here; use 'cpu'.")
    return resolved


def seed_from(random_state) -> int:
    """Derive one 63-bit seed from ``random_state`` (None draws a fresh one) without touching global RNGs."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    return int(random_state)


@contextlib.contextmanager
def local_torch_seed(seed: int, device: torch.device):
    """Seed torch's RNG for weight initialisation and dropout, restoring the caller's RNG state afterwards.

    Layers such as ``nn.Dropout`` draw from the global generator; forking it keeps ``fit``
    reproducible for a given ``random_state`` while the user's global state is left as it was.
    """
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
