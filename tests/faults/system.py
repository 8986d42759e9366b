"""The whole system for the drills: the five services as processes (`crm_localrun.Stack`,
started the way `make up` starts them) against the drills' own PostgreSQL and RabbitMQ, with the
Messenger (Meta) and Gemini fakes as real HTTP servers on loopback.

`kill(service)` is a kill -9 of the service's process. Who starts it again depends on the
runner: a `Stack` that supervises its services (it has `pid()`, ADR 15) restarts it by itself
and the drill only waits for it; a `Stack` without supervision cannot, and the drill restarts
the process the stack started (same command, environment and log). `restart()` says which.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from crm_ai.knowledge import SAMPLE_DOCUMENTS
from crm_fakes import FakeServer, GeminiState, MetaState, create_gemini_app, create_meta_app
from crm_localrun import SERVICES, Stack
from crm_localrun.ports import free_port

PAGE_ID = "111222333444"
# Secrets as a deployer sets them (the services refuse short or placeholder ones outside
# CRM_ENV=local): the drills run the services as in production.
APP_SECRET = "fa017e5c2b9d48a3c6e0f1b7d4a92c58"  # 32 hex characters, like Meta's
PAGE_TOKEN = "faults-page-token"
ADMIN = ("admin@vschool.test", "faults-admin-password")
INTERNAL_TOKEN = "faults-internal-Yt3Qw8NzR6cLk2VbM9xHsJ4p"


class SendLatency:
    """Holds each Send API call (`POST /{version}/{node}/messages`) `seconds` before the Meta fake
    sees it: instant by default, as long as the real Graph API takes when a drill says so."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seconds = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        send_api = (
            scope["type"] == "http" and scope["method"] == "POST" and scope["path"].endswith("/messages")
        )
        if send_api and self.seconds:
            await asyncio.sleep(self.seconds)
        await self.app(scope, receive, send)


class Fakes:
    """Meta's Graph API (Send API, profiles) and Gemini, instant, each a real HTTP server."""

    def __init__(self) -> None:
        self.meta = MetaState(page_id=PAGE_ID, access_token=PAGE_TOKEN)
        self.gemini = GeminiState()
        self.send_latency = SendLatency(create_meta_app(self.meta))
        self._meta_server = FakeServer(self.send_latency)
        self._gemini_server = FakeServer(create_gemini_app(self.gemini))

    @property
    def meta_url(self) -> str:
        return self._meta_server.url

    @property
    def gemini_url(self) -> str:
        return self._gemini_server.url

    def start(self) -> Fakes:
        self._meta_server.start()
        try:
            self._gemini_server.start()
        except BaseException:
            self._meta_server.stop()
            raise
        return self

    def stop(self) -> None:
        try:
            self._gemini_server.stop()
        finally:
            self._meta_server.stop()


@dataclass
class DrillSystem:
    """One running system: its stack, the fakes it talks to and where its data lives."""

    stack: Stack
    fakes: Fakes
    database_url: str
    """The drill's database, reached directly (never through a drill's fault proxy)."""
    rabbitmq_url: str
    """The drill's virtual host, reached directly."""
    cache_dir: Path

    def url(self, service: str) -> str:
        return self.stack.url(service)

    @property
    def runner_restarts(self) -> bool:
        """Whether the stack itself starts a service that ended again (supervision, ADR 15)."""
        return callable(getattr(self.stack, "pid", None))

    def pid(self, service: str) -> int:
        if self.runner_restarts:
            pid: int | None = getattr(self.stack, "pid")(service)  # noqa: B009 - not in every version
        else:
            process = self._executor(service).process
            pid = process.pid if process is not None else None
        if pid is None:
            raise LookupError(f"{service} has no process")
        return pid

    def _executor(self, service: str) -> Any:
        # A stack without supervision keeps the processes it started here and offers no restart.
        for name, executor, _ in getattr(self.stack, "_running", []):
            if name == service:
                return executor
        raise LookupError(f"{service} is not running in this stack")

    def kill(self, service: str) -> int:
        """kill -9 the service's process; returns the pid it had."""
        pid = self.pid(service)
        os.kill(pid, signal.SIGKILL)
        return pid

    async def restart(self, service: str, killed_pid: int, timeout: float = 90.0) -> tuple[float, str]:
        """Have the killed service running and ready again: the runner restarts it if it
        supervises its services, the drill otherwise. Returns the seconds until its `/readyz`
        answered 200 and who restarted it."""
        started = time.monotonic()
        if not self.runner_restarts:
            executor = self._executor(service)
            await asyncio.to_thread(executor.kill)  # reaps the killed process
            await asyncio.to_thread(executor.start)  # the same command, environment and log
            return time.monotonic() - started, "the drill"
        ready = self.url(service) + "/readyz"
        async with httpx.AsyncClient(timeout=2.0) as http:
            while time.monotonic() - started < timeout:
                with contextlib.suppress(LookupError, httpx.HTTPError):
                    if self.pid(service) != killed_pid and (await http.get(ready)).status_code == 200:
                        return time.monotonic() - started, "the runner (crm_localrun supervision)"
                await asyncio.sleep(0.1)
        raise TimeoutError(f"{service} was not restarted and ready within {timeout:g} s")

    def log(self, service: str) -> str:
        return self.stack.logs().get(service, "")


def service_env(
    *, database_url: str, rabbitmq_url: str, fakes: Fakes, cache_dir: Path, extra: Mapping[str, str] = {}
) -> dict[str, str]:
    """The environment contract of `.env.example`, pointed at the drill's servers and fakes."""
    return {
        "DATABASE_URL": database_url,
        "RABBITMQ_URL": rabbitmq_url,
        "CRM_CACHE_DIR": str(cache_dir),
        "META_APP_SECRET": APP_SECRET,
        "META_VERIFY_TOKEN": "faults-verify",
        "META_PAGE_ACCESS_TOKEN": PAGE_TOKEN,
        "META_GRAPH_API_URL": fakes.meta_url,
        "GEMINI_API_KEY": "faults-gemini-key",
        "GOOGLE_GEMINI_BASE_URL": fakes.gemini_url,
        "CRM_ADMIN_EMAIL": ADMIN[0],
        "CRM_ADMIN_PASSWORD": ADMIN[1],
        "CRM_JWT_SECRET": "faults-jwt-secret-that-is-long-enough-for-hs256",
        "CRM_INTERNAL_TOKEN": INTERNAL_TOKEN,
        # The marketing service runs (it is killed in turn too) but syncs nothing.
        "SYNC_SCHEDULE_ENABLED": "false",
        "LOG_LEVEL": "INFO",
        **extra,
    }


async def start_system(
    *,
    root: Path,
    database_url: str,
    rabbitmq_url: str,
    fakes: Fakes,
    service_database_url: str | None = None,
    service_rabbitmq_url: str | None = None,
    extra_env: Mapping[str, str] = {},
    service_envs: Mapping[str, Mapping[str, str]] = {},
    services: Sequence[str] = tuple(SERVICES),
) -> DrillSystem:
    """Migrate, declare the queues and start the five services; the caller stops the stack.

    `service_*_url`: where the services connect, when not directly (a drill's fault proxy);
    `service_envs`: variables for one service only (e.g. each its own `RABBITMQ_URL`).
    """
    cache_dir = root / "cache"
    cache_dir.mkdir(parents=True, exist_ok=True)
    env = service_env(
        database_url=service_database_url or database_url,
        rabbitmq_url=service_rabbitmq_url or rabbitmq_url,
        fakes=fakes,
        cache_dir=cache_dir,
        extra=extra_env,
    )
    ports = {s: free_port() for s in services}
    if "messenger" in ports:
        # Meta echoes what the Page sends: a reply whose sender died after Meta accepted it is
        # confirmed by its echo, as in production with `message_echoes` subscribed.
        fakes.meta.echo_to(f"http://127.0.0.1:{ports['messenger']}/webhooks/meta", APP_SECRET)
    stack = Stack(
        env=env,
        ports=ports,
        service_envs={s: dict(e) for s, e in service_envs.items()},
        log_dir=root / "logs",
    )
    system = DrillSystem(stack, fakes, database_url, rabbitmq_url, cache_dir)
    try:
        await asyncio.to_thread(stack.migrate)
        # The school's documents, so customers' questions are answered from them (as in use),
        # indexed while the services start; no customer writes before both are done.
        await asyncio.gather(
            asyncio.to_thread(stack.ingest_knowledge, SAMPLE_DOCUMENTS), asyncio.to_thread(stack.start)
        )
    except BaseException:
        await asyncio.to_thread(stack.stop)
        raise
    return system
