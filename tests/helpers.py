"""Small helpers that several test modules share: a CLI failure's one line, a free local port."""

from __future__ import annotations

import socket


def one_line_error(result) -> str:
    """The error output of a failed command: exactly one non-empty line, no traceback."""
    text = result.stderr if result.stderr else result.output
    lines = [line for line in text.splitlines() if line.strip()]
    assert result.exit_code != 0
    assert "Traceback" not in text
    assert len(lines) == 1, text
    return lines[0]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (for a server or torchrun's rendezvous)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
