"""A free TCP port on loopback for a server that will bind it a little later.

Asking the kernel for port 0 hands out a port from the ephemeral range, the same range every
outgoing connection takes its local port from. A service started many seconds after its port was
chosen (the stack starts them one after another, each ready before the next) can then find that
port taken by one of the hundreds of connections the other services, PostgreSQL and RabbitMQ
clients open meanwhile: `Address already in use`, and the whole stack fails to start. So the
port is chosen below the ephemeral range, where only listeners live, and checked free by binding
it; a process never hands out the same port twice.
"""

from __future__ import annotations

import random
import socket
import threading
from pathlib import Path

_LOWEST = 10_000
_handed_out: set[int] = set()
_lock = threading.Lock()


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default


def _binds(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A loopback port nothing listens on, outside the ephemeral range when there is room."""
    top = _ephemeral_start()
    with _lock:
        if top - _LOWEST >= 1_000:
            for _ in range(200):
                port = random.randrange(_LOWEST, top)  # noqa: S311 - not a secret
                if port not in _handed_out and _binds(port):
                    _handed_out.add(port)
                    return port
        with socket.socket() as s:  # no room below the range: the kernel's choice
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        _handed_out.add(port)
        return port
