"""Servers under test as separate processes (mirakuru, like `crm_localrun.Stack`), and CPU accounting.

CPU figures come from /proc (Linux): a process's user+system time, and the machine's busy time,
sampled around each measured step.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from mirakuru import HTTPExecutor

REPO_ROOT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    """One HTTP server process, started and stopped with mirakuru."""

    name: str
    port: int
    command: Sequence[str]
    env: Mapping[str, str]
    cwd: Path
    log_path: Path
    ready_path: str = "/readyz"
    ready_method: str = "GET"
    startup_timeout: float = 60.0
    _executor: HTTPExecutor | None = field(default=None, init=False)
    _log: IO[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        if self._executor is None or self._executor.process is None:
            raise RuntimeError(f"{self.name} is not running")
        return int(self._executor.process.pid)

    def start(self) -> None:
        """Start the process and wait until `ready_path` answers 200; stops it again on failure."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._executor = HTTPExecutor(
            list(self.command),
            url=f"{self.url}{self.ready_path}",
            method=self.ready_method,
            status=200,
            timeout=self.startup_timeout,
            cwd=str(self.cwd),
            envvars=dict(self.env),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._executor.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        try:
            if self._executor is not None:
                self._executor.stop()
        finally:
            self._executor = None
            if self._log is not None:
                self._log.close()
                self._log = None

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def run_module(module: str, args: Sequence[str], env: Mapping[str, str], cwd: Path, timeout: float) -> None:
    """`python -m module args...` to completion, with `env` over this process's environment."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", module, *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"python -m {module} {' '.join(args)} failed:\n{result.stderr[-4000:]}")


# --- CPU accounting ---------------------------------------------------------------------------


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process so far (0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_tree(pid: int) -> list[int]:
    """`pid` and every process below it (a server's worker processes)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def tree_cpu_seconds(pid: int) -> float:
    return sum(process_cpu_seconds(p) for p in process_tree(pid))


def pids_named(names: Iterable[str]) -> list[int]:
    """Processes whose command name (`/proc/PID/comm`) is one of `names`."""
    wanted = set(names)
    out: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if comm in wanted:
            out.append(int(entry.name))
    return out


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, over all cores."""
    first = Path("/proc/stat").read_text().splitlines()[0].split()
    ticks = [int(v) for v in first[1:9]]  # user nice system idle iowait irq softirq steal
    idle = ticks[3] + ticks[4]
    total = sum(ticks)
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


@dataclass(frozen=True)
class CpuSnapshot:
    per_pid: dict[str, dict[int, float]]
    machine_busy: float
    machine_total: float


class CpuMeter:
    """CPU use per named group of processes, plus the machine's, between two snapshots.

    Groups given by command name (e.g. `postgres`) are looked up again at each snapshot, so a
    backend that starts during a step counts from then on; one that starts and ends within a
    step is missed, which the `other` share (machine busy minus all groups) still shows.
    """

    def __init__(
        self,
        fixed: Mapping[str, Sequence[int]],
        named: Mapping[str, Sequence[str]],
        trees: Sequence[str] = (),
    ) -> None:
        """`trees`: fixed groups that count their processes' children too (servers' workers)."""
        self.fixed = {k: list(v) for k, v in fixed.items()}
        self.trees = set(trees)
        self.named = {k: list(v) for k, v in named.items()}

    def snapshot(self) -> CpuSnapshot:
        # A fixed group is a server: its process and its workers, looked up at each snapshot.
        fixed = {
            g: [p for root in roots for p in (process_tree(root) if g in self.trees else [root])]
            for g, roots in self.fixed.items()
        }
        pids = {**fixed, **{g: pids_named(names) for g, names in self.named.items()}}
        per_pid = {g: {p: process_cpu_seconds(p) for p in group} for g, group in pids.items()}
        busy, total = machine_cpu_seconds()
        return CpuSnapshot(per_pid, busy, total)

    @staticmethod
    def usage(before: CpuSnapshot, after: CpuSnapshot) -> dict[str, float]:
        """Percent of one core per group, plus `other` and `machine` (100 per core is all of it)."""
        cores = os.cpu_count() or 1
        wall = max((after.machine_total - before.machine_total) / cores, 1e-9)
        out: dict[str, float] = {}
        for group, now in after.per_pid.items():
            then = before.per_pid.get(group, {})
            used = sum(max(0.0, cpu - then.get(pid, 0.0)) for pid, cpu in now.items())
            out[group] = 100.0 * used / wall
        busy = 100.0 * (after.machine_busy - before.machine_busy) / wall
        out["other"] = max(0.0, busy - sum(out.values()))
        out["machine"] = busy
        out["wall_s"] = wall  # seconds between the snapshots (not a percentage)
        return out


async def wait_quiet(pid: int, *, below_pct: float = 5.0, window: float = 0.25, max_s: float = 20.0) -> float:
    """Wait (at most `max_s`) until process `pid` uses under `below_pct` of a core; seconds waited.

    An overloaded server goes on working through requests its client already gave up on; the
    next step should not pay for them.
    """
    started = time.monotonic()
    for _ in range(max(1, math.ceil(max_s / window))):
        before = tree_cpu_seconds(pid)
        await asyncio.sleep(window)
        if 100.0 * (tree_cpu_seconds(pid) - before) / window < below_pct:
            break
    return time.monotonic() - started


LOG_TROUBLE = re.compile(r"traceback|\berror\b|exception", re.IGNORECASE)


def log_trouble(logs: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Per service (its log's text): how many lines look like trouble, and the first few of them."""
    out: dict[str, dict[str, Any]] = {}
    for service, text in logs.items():
        lines = [line for line in text.splitlines() if LOG_TROUBLE.search(line)]
        if lines:
            out[service] = {"lines": len(lines), "first": [line[:400] for line in lines[:5]]}
    return out
