"""The runner keeps its services up and never leaves one behind: a killed service is restarted
(and said so) and serves again; stopping after a crash stops the others gently; killing the
runner (SIGKILL) or closing its stdout before a Ctrl-C leaves no child running. Real processes
on loopback, against the machine's PostgreSQL and RabbitMQ; every wait has a deadline."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TypeVar

import asyncpg
import pytest

from crm_localrun import Stack
from crm_localrun.__main__ import ensure_database, port_variable, service_ports
from crm_localrun.ports import free_port
from crm_localrun.processes import answers
from crm_localrun.stack import SERVICES
from crm_servicekit.testing import (
    ADMIN_DATABASE_URL,
    create_database,
    create_vhost,
    delete_vhost,
    drop_database,
)

pytestmark = pytest.mark.integration
T = TypeVar("T")


def wait_for(check: Callable[[], T | None], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(0.1)
    return result


def running(pid: int) -> bool:
    """The process exists and is not a zombie (a zombie has ended; its parent has not reaped it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


@pytest.fixture
def rabbitmq() -> Iterator[str]:
    url = create_vhost("crm-test-localrun")
    yield url
    delete_vhost(url)


@pytest.fixture
def database() -> Iterator[str]:
    url = asyncio.run(create_database("crm_test_localrun"))
    yield url
    asyncio.run(drop_database(url))


def test_a_killed_service_is_restarted_said_and_serves_again_and_a_stop_after_a_crash_is_gentle(
    database: str, rabbitmq: str, tmp_path: Path
) -> None:
    said: list[str] = []
    stack = Stack(
        env={
            "DATABASE_URL": database,
            "RABBITMQ_URL": rabbitmq,
            "CRM_CACHE_DIR": str(tmp_path / "cache"),
            # The ai service's internal token is the development one: allowed in a local run only.
            "CRM_ENV": "local",
        },
        ports={"cache-writer": free_port(), "ai": free_port()},
        log_dir=tmp_path / "logs",
        say=said.append,
    )
    with stack:
        first = stack.pid("cache-writer")
        assert first is not None
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: "cache-writer is ready again" in said, 60, "cache-writer restarted and ready")
        assert said[:2] == [
            "cache-writer ended (killed by SIGKILL); restarting it in 1 s",
            f"cache-writer restarted (pid {stack.pid('cache-writer')}, restart 1)",
        ]
        assert stack.pid("cache-writer") != first
        assert answers(f"{stack.url('cache-writer')}/readyz")

        # A crash, and the stop comes before the restart: the others are still stopped gently.
        crashed = stack.pid("cache-writer")
        assert crashed is not None
        os.kill(crashed, signal.SIGKILL)
        wait_for(lambda: len(said) > 3, 10, "the second crash noticed")
    assert not [line for line in said if "killing" in line], said
    assert stack.logs()["ai"].count('"service stopped"') == 1, "the ai stopped through its shutdown"


def test_every_database_url_form_the_services_take_is_accepted(tmp_path: Path) -> None:
    name = f"crm_test_localrun_{uuid.uuid4().hex[:8]}"
    url = (
        ADMIN_DATABASE_URL.replace("postgresql://", "postgresql+asyncpg://", 1).rsplit("/", 1)[0] + "/" + name
    )
    asyncio.run(ensure_database(url))
    asyncio.run(ensure_database(url))  # a second time: it exists, nothing to do

    async def exists() -> bool:
        conn = await asyncpg.connect(ADMIN_DATABASE_URL)
        try:
            return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
        finally:
            await conn.close()

    try:
        assert asyncio.run(exists())
    finally:
        asyncio.run(drop_database(url))


class Runner:
    """`python -m crm_localrun` as a process, on free ports, in a directory of its own (no `.env`)."""

    def __init__(self, root: Path, database_url: str, rabbitmq_url: str) -> None:
        self.ports = {port_variable(s): str(free_port()) for s in service_ports({})}
        env = {
            **os.environ,
            **self.ports,
            "DATABASE_URL": database_url,
            "RABBITMQ_URL": rabbitmq_url,
            "CRM_CACHE_DIR": str(root / "cache"),
            "META_FAKE_PORT": str(free_port()),
            "MARKETING_FAKE_PORT": str(free_port()),
            "SYNC_SCHEDULE_ENABLED": "false",
        }
        self.stderr_path = root / "services.log"
        self._stderr = self.stderr_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "crm_localrun"],
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        self.children: set[int] = set()

    def wait_running(self, timeout: float = 180) -> None:
        """Read its output until it says the system is running (on a thread: bounded)."""
        assert self.process.stdout is not None
        stdout: IO[bytes] = self.process.stdout
        lines: list[bytes] = []

        def banner() -> bool:
            return any(b"V School CRM is running" in line for line in lines)

        def read() -> None:
            for line in iter(stdout.readline, b""):
                lines.append(line)
                if banner():
                    return

        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        thread.join(timeout)
        assert banner(), b"".join(lines).decode(errors="replace") + self.stderr_path.read_text(
            errors="replace"
        )
        self.children = children_of(self.process.pid)

    def close(self) -> None:
        for pid in self.children:  # only if a test failed: nothing of ours is left behind
            if running(pid):
                os.kill(pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        self._stderr.close()


@pytest.fixture
def runner(rabbitmq: str, tmp_path: Path) -> Iterator[Runner]:
    name = f"crm_test_localrun_{uuid.uuid4().hex[:8]}"
    # The asyncpg form every service takes; the runner creates the database itself.
    url = (
        ADMIN_DATABASE_URL.replace("postgresql://", "postgresql+asyncpg://", 1).rsplit("/", 1)[0] + "/" + name
    )
    runner = Runner(tmp_path, url, rabbitmq)
    try:
        yield runner
    finally:
        runner.close()
        asyncio.run(drop_database(url))


def test_killing_the_runner_leaves_no_service_running(runner: Runner) -> None:
    runner.wait_running()
    assert len(runner.children) >= 6, "five services and the Marketing API fake"
    runner.process.send_signal(signal.SIGKILL)
    runner.process.wait(10)
    wait_for(lambda: not [p for p in runner.children if running(p)], 30, "every child gone")


def test_a_closed_stdout_then_ctrl_c_stops_every_service_gently(runner: Runner) -> None:
    runner.wait_running()
    assert runner.process.stdout is not None
    runner.process.stdout.close()  # `make up | tee up.log`, and tee is gone
    runner.process.send_signal(signal.SIGINT)
    assert runner.process.wait(60) == 0
    assert not [p for p in runner.children if running(p)]
    log = runner.stderr_path.read_text(errors="replace")
    # With stdout gone, the runner says on stderr how each service ended: all five by themselves.
    report = [line for line in log.splitlines() if line.startswith("stopped: ")]
    assert report, log[-4000:]
    ended = dict(part.split(" ", 1) for part in report[-1].removeprefix("stopped: ").split(", "))
    assert ended == dict.fromkeys(SERVICES, "stopped"), report
    assert "killing" not in log
    # And each service that said it started also said it stopped (its shutdown ran to the end).
    started = set(re.findall(r'"event": "service started", "service": "([a-z-]+)"', log))
    stopped = set(re.findall(r'"event": "service stopped", "service": "([a-z-]+)"', log))
    assert started, log[-4000:]
    assert started == stopped, log[-4000:]
