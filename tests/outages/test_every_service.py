"""Every service's app, as `python -m crm_<service>` builds it, answers a database it cannot
reach with a 503 (`crm_servicekit.unavailable`, installed by `create_service_app`) and says it is
not ready. How the 503 and the reconnection behave is tested once, on the real PostgreSQL, in
`libs/servicekit/tests/test_unavailable.py` (and the gateway's problem document in its own suite):
here, that no service's wiring leaves it out or replaces it with a 500."""

from __future__ import annotations

import importlib
import socket

import httpx
import pytest
from fastapi import FastAPI

from crm_servicekit.unavailable import CANDIDATES

SERVICES = ["crm_gateway", "crm_messenger", "crm_marketing", "crm_ai", "crm_cache_writer"]


@pytest.fixture
def nowhere(monkeypatch: pytest.MonkeyPatch) -> str:
    """A PostgreSQL URL where nothing listens (a loopback port just handed out and closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql://postgres@127.0.0.1:{port}/crm"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def service_app(package: str) -> FastAPI:
    app: FastAPI = importlib.import_module(f"{package}.app").create_app()
    return app


@pytest.mark.parametrize("package", SERVICES)
def test_a_database_error_that_means_unreachable_is_a_503_in_every_service(
    nowhere: str, package: str
) -> None:
    app = service_app(package)
    for cls in CANDIDATES:
        handler = app.exception_handlers.get(cls)
        assert handler is not None, f"{package}: nothing answers {cls.__name__} but the 500 handler"
        assert handler.__module__ == "crm_servicekit.unavailable", f"{package}: {cls.__name__}"


@pytest.mark.parametrize("package", SERVICES)
async def test_every_service_is_not_ready_while_its_database_cannot_be_reached(
    nowhere: str, package: str
) -> None:
    app = service_app(package)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as http:
        ready = await http.get("/readyz")
    await app.state.runtime.engine.dispose()
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "unavailable"
