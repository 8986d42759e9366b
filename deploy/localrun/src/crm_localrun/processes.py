"""Child processes that never outlive the runner, and that are stopped, not killed.

- Every child is started with `PR_SET_PDEATHSIG(SIGTERM)` (Linux, `prctl(2)`). When the runner
  dies, whatever killed it (Ctrl-C, SIGTERM, SIGKILL, a crash, a broken pipe), the kernel sends
  each child SIGTERM and the child shuts down as on a normal stop. The kernel ties the signal to
  the *thread* that forked the child, not the process, so every child is forked by one thread
  that lives as long as the process (`_SPAWNER`).
- Every child runs in a session of its own, so a Ctrl-C in the terminal reaches the runner only.
  The runner then stops the children, once.
- `stop_all` asks every child to stop with SIGTERM, waits up to a grace period, and kills only
  the ones still running after it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import IO, Any

_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None
# One worker thread that is never retired: the parent thread of every child (see above).
_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="localrun-spawner")


def die_with_parent() -> None:
    """Have the kernel send this process SIGTERM when its parent dies (no-op off Linux)."""
    if _LIBC is not None:
        parent = os.getppid()
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before prctl: nobody will send the signal
            os.kill(os.getpid(), signal.SIGTERM)


def spawn(args: Sequence[str], **popen: Any) -> subprocess.Popen[bytes]:
    """`subprocess.Popen(args, **popen)` for a child that dies with this process."""

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            args,
            start_new_session=True,
            # Only prctl in the child (libc is loaded before the fork): safe next to threads.
            preexec_fn=die_with_parent,
            **popen,
        )

    return _SPAWNER.submit(start).result()


def describe(returncode: int) -> str:
    """`exit code 3`, or `killed by SIGKILL`."""
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-returncode).name}"
    return f"exit code {returncode}"


def answers(url: str, timeout: float = 1.0) -> bool:
    """True if `url` answers 200 now."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - our own loopback URL
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


@dataclass
class Child:
    """One process: started, watched until `ready_url` answers, stopped gently."""

    name: str
    command: list[str]
    env: dict[str, str]
    ready_url: str
    stdout: IO[bytes] | int | None = None
    stderr: IO[bytes] | int | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    started_at: float = 0.0

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> None:
        self.process = spawn(
            self.command, env=self.env, stdin=subprocess.DEVNULL, stdout=self.stdout, stderr=self.stderr
        )
        self.started_at = time.monotonic()

    def exited(self) -> int | None:
        """The return code if the process has ended (None while it runs)."""
        return self.process.poll() if self.process is not None else None

    def wait_ready(self, timeout: float) -> None:
        """Return once `ready_url` answers 200; fail if the process ends or `timeout` passes."""
        deadline = time.monotonic() + timeout
        while not answers(self.ready_url):
            code = self.exited()
            if code is not None:
                raise RuntimeError(f"{self.name} ended during startup ({describe(code)})")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} was not ready within {timeout:g} s ({self.ready_url})")
            time.sleep(0.1)


def stop_all(children: Sequence[Child], grace: float, say: Callable[[str], None]) -> dict[str, int]:
    """SIGTERM to every running child at once, then wait up to `grace` seconds for all of them;
    only a child still running after that is killed (and said so). Returns how each of the
    children that were running ended (name -> return code)."""
    running = [c for c in children if c.process is not None and c.process.poll() is None]
    for child in running:
        _signal(child, signal.SIGTERM)
    deadline = time.monotonic() + grace
    ended: dict[str, int] = {}
    for child in running:
        assert child.process is not None
        try:
            ended[child.name] = child.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{child.name} did not stop within {grace:g} s; killing it")
            _signal(child, signal.SIGKILL)
            ended[child.name] = child.process.wait(10)
    return ended


def _signal(child: Child, sig: signal.Signals) -> None:
    assert child.process is not None
    with contextlib.suppress(ProcessLookupError):
        child.process.send_signal(sig)
