"""The whole system as local processes: migrations and broker topology first, then the services,
supervised until stopped.

Used by `make up` (`python -m crm_localrun`) and by the end-to-end tests, so both start the
system the same way a deployer does: `python -m crm_<service> migrate`, then
`python -m crm_<service>` with the environment contract of `.env.example`.

Supervision (ADR 15): a service that ends while the stack runs is started again after a pause
that doubles from 1 s up to 30 s (back to 1 s once it has stayed up for a minute), and each
step is said: it ended, it restarts, it is ready again. `stop()` asks every service to stop
(SIGTERM, 15 s of grace) and kills only one that does not. It never fails on a service that
had crashed. No child outlives the process that started it (`processes.py`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .ports import free_port
from .processes import Child, answers, describe, spawn, stop_all

# Start order: consumers of an event before its producers is not needed (queues are declared
# by `migrate`), but the webhook door opens last so nothing arrives before the rest is ready.
SERVICES: dict[str, int] = {
    "gateway": 8000,
    "cache-writer": 8004,
    "marketing": 8002,
    "ai": 8003,
    "messenger": 8001,
}
# Each service's internal door (ADR 17): its internal API, /metrics and /docs answer only there.
INTERNAL_PORT_OFFSET = 100
RESTART_DELAY = (1.0, 30.0)  # seconds: the first pause, and the longest
STABLE_AFTER = 60.0  # seconds up after which a service's next crash pauses 1 s again


def module(service: str) -> str:
    return "crm_" + service.replace("-", "_")


def _ending(code: int) -> str:
    """How a service ended after the SIGTERM that asked it to: uvicorn re-raises that signal once
    its shutdown has run, so -SIGTERM (or 0) is a gentle stop."""
    return "stopped" if code in (0, -signal.SIGTERM) else describe(code)


def say_to_stdout(line: str) -> None:
    print(line, flush=True)


@dataclass
class _Supervised:
    child: Child
    log: IO[bytes] | None
    delay: float = RESTART_DELAY[0]
    restarts: int = 0
    restart_at: float | None = None
    awaiting_ready: bool = False


@dataclass
class Stack:
    env: dict[str, str]
    ports: dict[str, int] = field(default_factory=lambda: dict(SERVICES))
    """Each service's public port (`PORT`)."""
    internal_ports: dict[str, int] = field(default_factory=dict)
    """Each service's internal port (`INTERNAL_PORT`); one not named here is its default port
    + 100 when its public port is the default, else a free port."""
    service_envs: dict[str, dict[str, str]] = field(default_factory=dict)
    """Variables for one service only, over `env`: e.g. the marketing service's
    `META_GRAPH_API_URL` is the Marketing API fake while the messenger's is the Messenger fake."""
    log_dir: Path | None = None
    """Each service's output goes to `<log_dir>/<service>.log`; None: to this terminal."""
    startup_timeout: float = 60.0
    stop_timeout: float = 15.0
    say: Callable[[str], None] = say_to_stdout
    """Where the stack tells what happens to its services (restarts, kills)."""
    _services: dict[str, _Supervised] = field(default_factory=dict)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _watcher: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for service, port in self.ports.items():
            if service not in self.internal_ports:
                default = SERVICES.get(service) == port
                self.internal_ports[service] = port + INTERNAL_PORT_OFFSET if default else free_port()

    def url(self, service: str) -> str:
        """Where the service's public door is: what a customer, Meta or staff may reach."""
        return f"http://127.0.0.1:{self.ports[service]}"

    def internal_url(self, service: str) -> str:
        """Where the service's internal door is: its internal API, /metrics and /docs."""
        return f"http://127.0.0.1:{self.internal_ports[service]}"

    def service_env(self, service: str) -> dict[str, str]:
        return {
            **self.env,
            **self.service_envs.get(service, {}),
            "PORT": str(self.ports[service]),
            "INTERNAL_PORT": str(self.internal_ports[service]),
            "OTEL_SERVICE_NAME": f"crm-{service}",
            # Services that call another's internal API find it where this stack started it.
            **{
                f"{other.upper()}_INTERNAL_URL": self.internal_url(other)
                for other in ("gateway", "messenger", "marketing", "ai")
                if other in self.ports
            },
        }

    def migrate(self) -> None:
        """Each service migrates its own schema and declares its own queues (in parallel)."""

        def one(service: str) -> None:
            self._run(service, [sys.executable, "-m", module(service), "migrate"], f"{service} migrate", 120)

        with ThreadPoolExecutor(len(self.ports)) as pool:
            list(pool.map(one, self.ports))

    def ingest_knowledge(self, folder: Path) -> str:
        """Load a folder of documents into the ai's knowledge base and index it, as an operator
        does with `python -m crm_ai.knowledge ingest <folder> --wait`; unchanged files are a no-op.
        Returns the tool's summary."""
        command = [sys.executable, "-m", "crm_ai.knowledge", "ingest", str(folder), "--wait"]
        return self._run("ai", command, "knowledge ingest", 300)

    def _run(self, service: str, command: list[str], what: str, timeout: float) -> str:
        """Run one of a service's commands with its environment; its output, or an error with
        the end of what it said."""
        process = spawn(
            command,
            env={**os.environ, **self.service_env(service)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise
        if process.returncode != 0:
            raise RuntimeError(f"{what} failed:\n{stderr.decode(errors='replace')[-4000:]}")
        return stdout.decode(errors="replace")

    def start(self) -> None:
        """Start every service in order, each ready before the next; then watch them."""
        self._stopping.clear()
        try:
            for service in self.ports:
                log = None
                if self.log_dir is not None:
                    self.log_dir.mkdir(parents=True, exist_ok=True)
                    log = (self.log_dir / f"{service}.log").open("ab")
                child = Child(
                    service,
                    [sys.executable, "-m", module(service)],
                    env={**os.environ, **self.service_env(service)},
                    ready_url=f"{self.url(service)}/readyz",
                    stdout=log,
                    stderr=subprocess.STDOUT if log is not None else None,
                )
                self._services[service] = _Supervised(child, log)
                child.start()
                child.wait_ready(self.startup_timeout)
        except BaseException:
            self.stop()
            raise
        self._watcher = threading.Thread(target=self._watch, name="localrun-supervisor", daemon=True)
        self._watcher.start()

    def pid(self, service: str) -> int | None:
        """The process id of the service now (it changes when the service is restarted)."""
        with self._lock:
            return self._services[service].child.pid

    def stop(self) -> None:
        """Stop watching, then stop every service gently (see the module's doc); safe to repeat."""
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join(10)
            self._watcher = None
        with self._lock:
            services = list(reversed(self._services.values()))
            self._services.clear()
        try:
            ended = stop_all([s.child for s in services], self.stop_timeout, self.say)
            if ended:
                self.say("stopped: " + ", ".join(f"{name} {_ending(code)}" for name, code in ended.items()))
        finally:
            for supervised in services:
                if supervised.log is not None:
                    supervised.log.close()

    def _watch(self) -> None:
        while not self._stopping.wait(0.2):
            with self._lock:
                for supervised in self._services.values():
                    self._supervise(supervised)

    def _supervise(self, s: _Supervised) -> None:
        child, now = s.child, time.monotonic()
        if s.restart_at is None:
            code = child.exited()
            if code is None:
                if s.awaiting_ready and answers(child.ready_url, timeout=0.5):
                    s.awaiting_ready = False
                    self.say(f"{child.name} is ready again")
                return
            if now - child.started_at >= STABLE_AFTER:
                s.delay = RESTART_DELAY[0]
            s.restart_at = now + s.delay
            self.say(f"{child.name} ended ({describe(code)}); restarting it in {s.delay:g} s")
            return
        if now >= s.restart_at:
            child.start()
            s.restarts += 1
            s.restart_at, s.awaiting_ready = None, True
            s.delay = min(s.delay * 2, RESTART_DELAY[1])
            self.say(f"{child.name} restarted (pid {child.pid}, restart {s.restarts})")

    def logs(self) -> dict[str, str]:
        """Everything each service wrote so far (when started with a `log_dir`)."""
        if self.log_dir is None:
            return {}
        return {
            service: path.read_text(errors="replace")
            for service in self.ports
            if (path := self.log_dir / f"{service}.log").exists()
        }

    def __enter__(self) -> Stack:
        self.migrate()
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
