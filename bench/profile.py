"""Where a server's CPU goes while a benchmark runs: py-spy samples the process from outside
(no change to the server, no restart) and the folded stacks are summed per function.

    with Profile(pid, out_path) as profile: ...run the load...
    print(profile.summary())   # top functions by inclusive share of the samples

py-spy is a dev dependency; it needs ptrace rights on the process (root, or the same user with
`kernel.yama.ptrace_scope` 0). Without them the profile says so and the bench goes on.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Self

SAMPLE_RATE = 200  # per second: enough for a 10 s step, cheap for the profiled process


class Profile:
    def __init__(self, pid: int, out: Path, *, rate: int = SAMPLE_RATE) -> None:
        self.pid, self.out, self.rate = pid, out, rate
        self.error = ""
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        self.out.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._process = subprocess.Popen(  # noqa: S603 (py-spy from this environment)
                [spy, "record", "--pid", str(self.pid), "--rate", str(self.rate), "--format", "raw",
                 "--nonblocking", "--output", str(self.out)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )  # fmt: skip
        except OSError as exc:
            self.error = f"py-spy did not start: {exc}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.send_signal(signal.SIGINT)
        try:
            _, stderr = self._process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            _, stderr = self._process.communicate()
        if not self.out.exists():
            self.error = (
                stderr.decode(errors="replace").strip().splitlines()[-1:][0] if stderr else "no samples"
            )
        self._process = None

    def summary(self, top: int = 25) -> list[tuple[float, str]]:
        """(percent of samples, function) by inclusive share, the event loop's frames left out."""
        return summarize(self.out, top) if self.out.exists() else []


def summarize(path: Path, top: int = 25) -> list[tuple[float, str]]:
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        for frame in set(stack.split(";")):
            inclusive[frame] += n
    if not total:
        return []
    skip = ("asyncio/", "<frozen", "uvloop", "threading.py", "runpy", "(uvicorn/", "(anyio/")
    rows = [(100.0 * n / total, f) for f, n in inclusive.most_common() if not any(s in f for s in skip)]
    return [r for r in rows if r[0] < 99.5][:top]


def print_summary(name: str, profile: Profile, top: int = 25) -> None:
    if profile.error:
        print(f"  profile of {name}: {profile.error}")
        return
    print(f"  profile of {name} ({profile.out}): share of its samples, inclusive")
    for share, frame in profile.summary(top):
        print(f"    {share:5.1f}%  {frame[:120]}")
