"""torchrun / DDP glue: who am I, how many are we, and the few collectives the training loops need.

Under ``torchrun --nproc-per-node N`` every process runs the same ``fit``. The process group is
created lazily on first use (gloo on CPU, nccl on CUDA); without torchrun everything here is a no-op
and deepzoo runs in one process.
"""

from __future__ import annotations

import atexit
import os

import torch
import torch.distributed as dist

__all__ = [
    "all_reduce_sum",
    "barrier",
    "device_for_rank",
    "ensure_initialized",
    "is_distributed",
    "is_main_process",
    "rank",
    "world_size",
]


def launched_by_torchrun() -> bool:
    """True when torchrun's environment asks for more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def ensure_initialized(device: torch.device | None = None) -> bool:
    """Create the default process group from torchrun's environment if needed; return whether DDP is on."""
    if not dist.is_available() or not launched_by_torchrun():
        return False
    if not dist.is_initialized():
        use_nccl = device is not None and device.type == "cuda" and dist.is_nccl_available()
        dist.init_process_group(backend="nccl" if use_nccl else "gloo")
        # the group deepzoo made is also the one it takes down, while the interpreter is still whole: a gloo
        # group left to interpreter finalization can abort the process ("terminate called without an
        # active exception") after all the work is done, and torchrun then reports the run as failed
        atexit.register(_destroy_at_exit)
    return True


def _destroy_at_exit() -> None:
    # no barrier: after an error on one process the others never reach it, and the failing process must
    # exit so that torchrun can stop the rest
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    if is_distributed():
        return dist.get_rank()
    return int(os.environ.get("RANK", "0"))


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def is_main_process() -> bool:
    """Only this process writes files (checkpoints, reports) under torchrun."""
    return rank() == 0


def device_for_rank(device: torch.device) -> torch.device:
    """Under torchrun each process takes the GPU of its local rank."""
    if device.type == "cuda" and launched_by_torchrun() and device.index is None:
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum a tensor over all processes, in place; a no-op in one process."""
    if is_distributed():
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def broadcast_object(obj):
    """Rank 0's Python object on every rank (small objects only: flags, paths)."""
    if not is_distributed():
        return obj
    holder = [obj]
    dist.broadcast_object_list(holder, src=0)
    return holder[0]


def barrier() -> None:
    if is_distributed():
        dist.barrier()
