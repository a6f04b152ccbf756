"""Running two processes under torchrun from a test, and telling a teardown abort from a real failure.

gloo can abort a process while it tears its connections down ("terminate called without an active
exception", SIGABRT), after every line of the script has run: seen once in ~hundreds of CI runs, on a
loaded machine, and not reproduced in 15 runs here. Such a run did all its work, so it is run once more
(with a warning that says why); a run that stopped before its work was done, or aborts twice, fails.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Callable

TEARDOWN_ABORT = "terminate called without an active exception"


def torchrun(args: list[str], *, env: dict, finished: Callable[[], bool], timeout: int = 300, cwd=None):
    """Run ``python -m torch.distributed.run ARGS``; ``finished()`` says whether every rank did its work."""
    command = [sys.executable, "-m", "torch.distributed.run", *args]
    for attempt in (1, 2):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, cwd=cwd)
        aborted_after_work = (
            done.returncode != 0 and TEARDOWN_ABORT in done.stderr + done.stdout and finished()
        )
        if not aborted_after_work or attempt == 2:
            return done
        warnings.warn(
            f"a torchrun rank aborted in gloo's teardown after finishing its work; ran again: {args}",
            stacklevel=2,
        )
    return done
