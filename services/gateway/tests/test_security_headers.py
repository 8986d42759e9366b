"""Every answer of the gateway carries the security headers, whatever its status: a signed-in
read, a refusal, a 404, a validation error and a crash alike; HSTS only over https (or always,
by setting)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from crm_gateway.app import create_app
from crm_gateway.config import GatewaySettings

pytestmark = pytest.mark.integration

EXPECTED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


def assert_secured(response: httpx.Response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (name, response.status_code, response.headers)
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp


@pytest.fixture(scope="module")
async def app(settings: GatewaySettings) -> AsyncIterator[FastAPI]:
    """The gateway with one route that crashes, to see a 500's headers."""
    app = create_app(settings)

    async def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/api/v1/boom-for-the-test", boom)
    async with app.router.lifespan_context(app):
        yield app


def client_of(app: FastAPI, base_url: str = "http://gateway") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url=base_url)


async def test_a_signed_in_answer_with_personal_data_is_secured_and_not_stored(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    response = await client.get("/api/v1/auth/me", headers=auth)

    assert response.status_code == 200
    assert_secured(response)
    assert "strict-transport-security" not in response.headers  # plain http: HSTS means nothing


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/customers", 401),
        ("GET", "/api/v1/no/such/route", 404),
        ("POST", "/api/v1/auth/refresh", 422),
        ("GET", "/api/v1/boom-for-the-test", 500),
        ("GET", "/healthz", 200),
    ],
    ids=["401", "404", "422", "500", "probe"],
)
async def test_refusals_errors_and_crashes_carry_the_headers_too(
    app: FastAPI, method: str, path: str, status: int
) -> None:
    async with client_of(app) as client:
        response = await client.request(method, path, json={} if method == "POST" else None)

    assert response.status_code == status, response.text
    assert_secured(response)


async def test_hsts_is_sent_over_https(app: FastAPI) -> None:
    async with client_of(app, "https://gateway") as client:
        response = await client.get("/no/such/route")

    assert response.headers["strict-transport-security"].startswith("max-age=")
    assert int(response.headers["strict-transport-security"].removeprefix("max-age=")) >= 180 * 24 * 3600


async def test_hsts_can_be_sent_always_behind_a_proxy_that_ends_tls(settings: GatewaySettings) -> None:
    app = create_app(settings.model_copy(update={"crm_hsts_always": True}))
    async with app.router.lifespan_context(app), client_of(app) as client:
        response = await client.get("/healthz")

    assert "max-age=" in response.headers["strict-transport-security"]
    assert_secured(response)
