"""The two doors (ADR 17), in-process: which request reaches what is decided by the port of the
socket it arrived on (`scope["server"]`), never by what the client sends. The processes on
real sockets are attacked in tests/security/test_doors.py."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from crm_servicekit.doors import Doors, PublicRoutes, declare_public, served
from crm_servicekit.settings import ServiceSettings

PUBLIC_PORT, INTERNAL_PORT = 8001, 8101


def app() -> Doors:
    inner = FastAPI()

    @inner.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @inner.api_route("/webhooks/meta", methods=["GET", "POST"])
    async def webhook() -> dict[str, str]:
        return {"hook": "meta"}

    @inner.get("/internal/v1/conversations")
    async def conversations() -> list[str]:
        return ["every conversation"]

    @inner.get("/metrics")
    async def metrics() -> str:
        return "crm_metric 1"

    @inner.get("/{anything:path}")
    async def catch_all(anything: str) -> dict[str, str]:
        return {"leaked": anything}

    return Doors(inner, internal_port=INTERNAL_PORT, public=PublicRoutes(("/webhooks/meta",)))


async def get(port: int, path: str, method: str = "GET") -> httpx.Response:
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url=f"http://messenger:{port}") as http:
        return await http.request(method, path, headers={"X-Internal-Token": "the-right-one"})


@pytest.mark.parametrize(
    "path",
    [
        "/internal/v1/conversations",
        "/metrics",
        "/docs",
        "/openapi.json",
        "/redoc",
        "/internal",
        "/Internal/v1/conversations",
        "//internal/v1/conversations",
        "/webhooks//meta",
        "/webhooks/metax",
        "/",
    ],
)
async def test_the_public_door_answers_404_for_everything_but_its_routes(path: str) -> None:
    for method in ("GET", "POST", "HEAD", "OPTIONS"):
        response = await get(PUBLIC_PORT, path, method)
        assert response.status_code == 404, (method, path)
        assert "leaked" not in response.text
        assert "every conversation" not in response.text
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


@pytest.mark.parametrize("path", ["/healthz", "/webhooks/meta"])
async def test_the_public_door_lets_the_probes_and_the_public_routes_through(path: str) -> None:
    assert (await get(PUBLIC_PORT, path)).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/webhooks/meta/../../internal/v1/conversations",
        "/webhooks/meta/./x",
        "/webhooks/meta/..",
        "/webhooks//meta",
        "webhooks/meta",
        "/webhooks/meta/../../metrics",
        "/api/v1/../../docs",
    ],
)
def test_a_path_that_is_not_plain_is_never_public(path: str) -> None:
    """As the server hands them over, unnormalised (httpx would normalise them in the client)."""
    assert not PublicRoutes(("/webhooks/meta", "/api/")).allows(path)


async def test_the_internal_door_reaches_everything() -> None:
    assert (await get(INTERNAL_PORT, "/internal/v1/conversations")).json() == ["every conversation"]
    assert (await get(INTERNAL_PORT, "/metrics")).status_code == 200
    assert (await get(INTERNAL_PORT, "/webhooks/meta")).status_code == 200


async def test_an_unknown_socket_is_the_public_door() -> None:
    assert (await get(9999, "/internal/v1/conversations")).status_code == 404
    doors = app()
    assert not doors.internal({"type": "http", "server": None})


def test_the_internal_port_defaults_beside_the_public_one_and_never_on_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("INTERNAL_PORT", raising=False)
    assert ServiceSettings(port=8001, _env_file=None).internal_port == 8101
    monkeypatch.setenv("INTERNAL_PORT", "9101")
    assert ServiceSettings(port=8001, _env_file=None).internal_port == 9101
    monkeypatch.setenv("INTERNAL_PORT", "8001")
    with pytest.raises(ValidationError, match="INTERNAL_PORT must differ from PORT"):
        ServiceSettings(port=8001, _env_file=None)


async def test_a_served_app_without_public_routes_has_only_the_probes_outside() -> None:
    def bare(_: ServiceSettings) -> FastAPI:
        inner = FastAPI()

        @inner.get("/healthz")
        async def healthz() -> str:
            return "ok"

        @inner.get("/api/v1/x")
        async def x() -> str:
            return "x"

        return inner

    def declared(settings: ServiceSettings) -> FastAPI:
        inner = bare(settings)
        declare_public(inner, "/api/")
        return inner

    settings = ServiceSettings(port=PUBLIC_PORT)
    for create, api_status in ((bare, 404), (declared, 200)):
        transport = httpx.ASGITransport(app=served(create, settings, INTERNAL_PORT))
        async with httpx.AsyncClient(transport=transport, base_url=f"http://s:{PUBLIC_PORT}") as http:
            assert (await http.get("/healthz")).status_code == 200
            assert (await http.get("/api/v1/x")).status_code == api_status
