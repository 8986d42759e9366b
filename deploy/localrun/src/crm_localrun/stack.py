"""The whole system as local processes: migrations and broker topology first, then the services.

Used by `make up` (`python -m crm_localrun`) and by the end-to-end tests, so both start the
system the same way a deployer does: `python -m crm_<service> migrate`, then
`python -m crm_<service>` with the environment contract of `.env.example`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from mirakuru import HTTPExecutor

# Start order: consumers of an event before its producers is not needed (queues are declared
# by `migrate`), but the webhook door opens last so nothing arrives before the rest is ready.
SERVICES: dict[str, int] = {
    "gateway": 8000,
    "cache-writer": 8004,
    "marketing": 8002,
    "ai": 8003,
    "messenger": 8001,
}


def module(service: str) -> str:
    return "crm_" + service.replace("-", "_")


@dataclass
class Stack:
    env: dict[str, str]
    ports: dict[str, int] = field(default_factory=lambda: dict(SERVICES))
    service_envs: dict[str, dict[str, str]] = field(default_factory=dict)
    """Variables for one service only, over `env`: e.g. the marketing service's
    `META_GRAPH_API_URL` is the Marketing API fake while the messenger's is the Messenger fake."""
    log_dir: Path | None = None
    """Each service's output goes to `<log_dir>/<service>.log`; None: to this terminal."""
    startup_timeout: float = 60.0
    _running: list[tuple[str, HTTPExecutor, IO[bytes] | None]] = field(default_factory=list)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def service_env(self, service: str) -> dict[str, str]:
        return {
            **self.env,
            **self.service_envs.get(service, {}),
            "PORT": str(self.ports[service]),
            "OTEL_SERVICE_NAME": f"crm-{service}",
            # Services that call another's internal API find it where this stack started it.
            **({"MESSENGER_INTERNAL_URL": self.url("messenger")} if "messenger" in self.ports else {}),
            **({"MARKETING_INTERNAL_URL": self.url("marketing")} if "marketing" in self.ports else {}),
            **({"AI_INTERNAL_URL": self.url("ai")} if "ai" in self.ports else {}),
        }

    def migrate(self) -> None:
        """Each service migrates its own schema and declares its own queues (in parallel)."""

        def one(service: str) -> None:
            result = subprocess.run(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", module(service), "migrate"],
                env={**os.environ, **self.service_env(service)},
                capture_output=True,
                text=True,
                timeout=120,
            )
            if result.returncode != 0:
                raise RuntimeError(f"{service} migrate failed:\n{result.stderr[-4000:]}")

        with ThreadPoolExecutor(len(self.ports)) as pool:
            list(pool.map(one, self.ports))

    def start(self) -> None:
        try:
            for service in self.ports:
                log = None
                if self.log_dir is not None:
                    self.log_dir.mkdir(parents=True, exist_ok=True)
                    log = (self.log_dir / f"{service}.log").open("ab")
                executor = HTTPExecutor(
                    [sys.executable, "-m", module(service)],
                    url=f"{self.url(service)}/readyz",
                    method="GET",
                    status=200,
                    timeout=self.startup_timeout,
                    envvars=self.service_env(service),
                    stdin=subprocess.DEVNULL,
                    stdout=log if log is not None else None,
                    stderr=subprocess.STDOUT if log is not None else None,
                )
                self._running.append((service, executor, log))
                executor.start()
        except Exception:
            self.stop()
            raise

    def stop(self) -> None:
        while self._running:
            _, executor, log = self._running.pop()
            try:
                executor.stop()
            finally:
                if log is not None:
                    log.close()

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
