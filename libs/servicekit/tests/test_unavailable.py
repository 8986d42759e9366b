"""A service whose database or broker goes away: 503s with Retry-After and a not-ready `/readyz`
while it is gone, and the very next request served once it is back. Played with a TCP proxy in
front of the machine's real PostgreSQL and RabbitMQ (`cut()` is the server going down) and with
`pg_terminate_backend` on the service's own connections (what a restart does to them), never by
stopping the real servers."""

from __future__ import annotations

import asyncio
import errno
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from crm_servicekit.db import service_metadata
from crm_servicekit.runtime import Runtime, build_runtime, create_service_app
from crm_servicekit.settings import ServiceSettings, libpq_database_url
from crm_servicekit.testing import eventually
from crm_servicekit.testproxy import TcpProxy
from crm_servicekit.unavailable import database_unavailable

pytestmark = pytest.mark.integration

APPLICATION = "crm-outage-probe"


@dataclass
class Service:
    app: FastAPI
    http: httpx.AsyncClient
    runtime: Runtime
    database: TcpProxy
    broker: TcpProxy
    caplog: pytest.LogCaptureFixture

    def log_lines(self) -> list[dict[str, Any]]:
        """The service's structlog lines since the last call; none of them carries a traceback."""
        records = list(self.caplog.records)
        self.caplog.clear()
        assert not [r for r in records if r.exc_info or r.exc_text], "no traceback is logged"
        return [r.msg for r in records if isinstance(r.msg, dict)]


def probe_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()

    @router.get("/probe")
    async def probe() -> dict[str, int]:
        """One unit of work, as every route of a service runs one."""
        async with runtime.uow() as uow:
            pid = (await uow.session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        return {"pid": pid}

    @router.get("/slow")
    async def slow() -> dict[str, bool]:
        async with runtime.uow() as uow:
            await uow.session.execute(text("SELECT pg_sleep(30)"))
        return {"slept": True}

    @router.get("/missing-file")
    async def missing_file() -> None:
        raise FileNotFoundError(errno.ENOENT, "no such file")

    return router


@pytest.fixture
async def service(
    database_url: str, rabbitmq_url: str, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Service]:
    with TcpProxy.for_url(database_url) as database, TcpProxy.for_url(rabbitmq_url) as broker:
        settings = ServiceSettings(
            service="outage",
            otel_service_name=APPLICATION,
            database_url=database.url(database_url),
            rabbitmq_url=broker.url(rabbitmq_url),
        )
        runtime = build_runtime(settings, service_metadata("outage_probe"), emits=[])
        app = create_service_app(runtime, title="outage probe", routers=[probe_router(runtime)], relay=False)
        # raise_app_exceptions (the default): an error the app did not handle fails the test.
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://svc", timeout=60) as http,
        ):
            yield Service(app, http, runtime, database, broker, caplog)


async def terminate(database_url: str, query: str | None = None) -> list[int]:
    """`pg_terminate_backend` on the probe's connections (only the one running `query`, if given);
    returns once they are gone."""
    conn = await asyncpg.connect(libpq_database_url(database_url))
    try:
        sql = (
            "SELECT pid FROM pg_stat_activity"
            " WHERE application_name = $1 AND ($2::text IS NULL OR query = $2)"
        )
        pids: list[int] = [r["pid"] for r in await conn.fetch(sql, APPLICATION, query)]
        await conn.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", pids)

        async def gone() -> bool:
            return not await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)", pids)

        await eventually(gone, timeout=10)
        return pids
    finally:
        await conn.close()


async def test_database_down_is_a_503_with_retry_after_and_one_log_line_then_served_again(
    service: Service,
) -> None:
    assert (await service.http.get("/probe")).status_code == 200
    service.log_lines()

    service.database.cut()
    down = await service.http.get("/probe")
    assert down.status_code == 503, down.text
    assert down.headers["retry-after"] == "5"
    assert down.json() == {"detail": "The database is unavailable; try again shortly."}
    [line] = [entry for entry in service.log_lines() if entry["event"].startswith("database unavailable")]
    assert line["level"] == "warning"
    assert line["path"] == "/probe"
    assert line["error"] in {"ConnectionResetError", "ConnectionDoesNotExistError", "InterfaceError"}
    refused = await service.http.get("/probe")
    assert refused.status_code == 503, "new connections are refused: still a 503"
    assert [e["error"] for e in service.log_lines() if e["event"].startswith("database")] == [
        "ConnectionRefusedError"
    ]

    service.database.restore()
    back = await service.http.get("/probe")
    assert back.status_code == 200, "the first request after the restart is served"


async def test_connections_a_restart_closed_are_replaced_before_use(
    service: Service, database_url: str
) -> None:
    before = (await service.http.get("/probe")).json()["pid"]
    async with service.runtime.engine.connect() as conn:  # the pool's one connection, as the probe had it
        pooled = (await conn.get_raw_connection()).driver_connection
    assert pooled is not None
    assert before in await terminate(database_url)

    async def noticed() -> bool:
        # The server's goodbye reaches the client a moment later (here through the proxy too).
        return bool(pooled.is_closed())

    await eventually(noticed, timeout=10)
    after = await service.http.get("/probe")
    assert after.status_code == 200, "a connection the server closed is replaced at checkout, no 503"
    assert after.json()["pid"] != before


async def test_a_connection_lost_mid_statement_fails_that_request_only(
    service: Service, database_url: str
) -> None:
    slow = asyncio.create_task(service.http.get("/slow"))

    async def running() -> list[int]:
        return await terminate(database_url, "SELECT pg_sleep(30)") if not slow.done() else [0]

    assert await eventually(running, timeout=10)
    answer = await asyncio.wait_for(slow, 10)
    assert answer.status_code == 503, answer.text
    [error] = [e["error"] for e in service.log_lines() if e["event"].startswith("database")]
    assert error in {"AdminShutdownError", "ConnectionDoesNotExistError"}, "57P01, or the socket's end first"
    assert (await service.http.get("/probe")).status_code == 200


async def test_readyz_is_not_ready_while_the_database_or_the_broker_is_unreachable(service: Service) -> None:
    async def ready() -> dict[str, Any]:
        response = await service.http.get("/readyz")
        body: dict[str, Any] = response.json()
        assert (response.status_code == 200) == (body["status"] == "ok")
        return body

    assert (await ready())["status"] == "ok"

    service.database.cut()
    assert await ready() == {"status": "unavailable", "checks": {"database": "unavailable", "broker": "ok"}}
    service.database.restore()
    assert (await ready())["status"] == "ok"

    service.broker.cut()

    async def broker_down() -> bool:
        return bool((await ready())["checks"] == {"database": "ok", "broker": "unavailable"})

    await eventually(broker_down, timeout=10)
    service.broker.restore()

    async def back() -> bool:
        return bool((await ready())["status"] == "ok")

    await eventually(back, timeout=30)  # the broker's connection retries every 5 s


async def test_other_errors_stay_500s(service: Service) -> None:
    transport = httpx.ASGITransport(app=service.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
        assert (await http.get("/missing-file")).status_code == 500


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed"), True),
        (OSError("Multiple exceptions: [Errno 111] ..., [Errno 99] ..."), True),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), True),
        (asyncpg.exceptions.CannotConnectNowError("the database system is starting up"), True),
        (asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"), True),
        (asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"), True),
        (asyncpg.InterfaceError("connection is closed"), True),
        (OSError(errno.ENOSPC, "No space left on device"), False),
        (FileNotFoundError(errno.ENOENT, "No such file"), False),
        (asyncpg.exceptions.DataError("invalid input for query argument"), False),
        (asyncpg.exceptions.UniqueViolationError("duplicate key"), False),
        (IntegrityError("INSERT ...", {}, Exception("duplicate key")), False),
    ],
)
def test_what_counts_as_an_unreachable_database(error: Exception, unavailable: bool) -> None:
    assert (database_unavailable(error) is not None) is unavailable
