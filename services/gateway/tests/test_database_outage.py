"""A PostgreSQL restart seen from the gateway: while the database cannot be reached every route
that needs it answers a 503 problem with `Retry-After` (never a 500), and once it is back the
next request is served, on both pools (SQLAlchemy's and the hot reads' asyncpg pool).

The gateway reaches the real PostgreSQL through a TCP proxy (`cut()` plays the server going
away); a restart's effect on open connections is played with `pg_terminate_backend`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import httpx
import pytest

from crm_gateway.app import create_app
from crm_gateway.config import GatewaySettings
from crm_servicekit.testing import eventually
from crm_servicekit.testproxy import TcpProxy

pytestmark = pytest.mark.integration

ADMIN = {"username": "Admin@VSchool.example", "password": "correct horse battery staple"}


@dataclass
class Gateway:
    http: httpx.AsyncClient
    database: TcpProxy
    database_url: str

    async def sign_in(self) -> httpx.Response:
        return await self.http.post("/api/v1/auth/token", data=ADMIN)

    async def me(self, token: str) -> httpx.Response:
        return await self.http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})


@pytest.fixture(scope="module")
async def gateway(settings: GatewaySettings, migrated_database_url: str) -> AsyncIterator[Gateway]:
    with TcpProxy.for_url(migrated_database_url) as database:
        app = create_app(settings.model_copy(update={"database_url": database.url(migrated_database_url)}))
        # raise_app_exceptions (the default): an error the app left unhandled fails the test.
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as http,
        ):
            yield Gateway(http, database, migrated_database_url)


def assert_database_unavailable(response: httpx.Response, path: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    assert response.json() == {
        "type": "urn:vschool-crm:problem:database-unavailable",
        "title": "Service unavailable",
        "status": 503,
        "detail": "The database is unavailable, try again shortly.",
        "instance": path,
    }


async def test_while_the_database_is_down_both_pools_answer_503_problems_then_serve_again(
    gateway: Gateway,
) -> None:
    signed_in = await gateway.sign_in()
    assert signed_in.status_code == 200, signed_in.text
    token = signed_in.json()["access_token"]

    gateway.database.cut()
    try:
        # The bearer check is a hot read (asyncpg); signing in writes through SQLAlchemy.
        assert_database_unavailable(await gateway.me(token), "/api/v1/auth/me")
        assert_database_unavailable(await gateway.sign_in(), "/api/v1/auth/token")
        ready = await gateway.http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] == "unavailable"
    finally:
        gateway.database.restore()

    assert (await gateway.me(token)).status_code == 200, "the hot reads reconnect"
    assert (await gateway.sign_in()).status_code == 200, "SQLAlchemy's pool reconnects"
    assert (await gateway.http.get("/readyz")).status_code == 200


async def test_connections_a_restart_terminated_are_replaced_on_both_pools(gateway: Gateway) -> None:
    token = (await gateway.sign_in()).json()["access_token"]
    assert (await gateway.me(token)).status_code == 200

    admin = await asyncpg.connect(gateway.database_url)
    try:
        database = await admin.fetchval("SELECT current_database()")
        terminated = await admin.fetch(
            "SELECT pid, application_name, pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND application_name LIKE 'crm-gateway%'",
            database,
        )
        assert {r["application_name"] for r in terminated} == {"crm-gateway", "crm-gateway/hot-reads"}
        pids = [r["pid"] for r in terminated]

        async def gone() -> bool:
            return not await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)", pids)

        await eventually(gone, timeout=10)
    finally:
        await admin.close()

    # The request that meets a closed connection before the client noticed gets a 503, never a
    # 500; the pools replace what the restart closed, and from then on every request is served.
    for request in (lambda: gateway.me(token), gateway.sign_in):

        async def served(request: Callable[[], Awaitable[httpx.Response]] = request) -> bool:
            response = await request()
            assert response.status_code in (200, 503), response.text
            return response.status_code == 200

        await eventually(served, timeout=10)
    assert [(await gateway.me(token)).status_code for _ in range(5)] == [200] * 5
    assert (await gateway.sign_in()).status_code == 200
