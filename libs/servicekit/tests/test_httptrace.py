"""What an operator reads in Jaeger for one HTTP request: one server span, named after the route
that answered, with no query string and no exception message in it."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from crm_servicekit import httptrace


@pytest.fixture
def traced() -> tuple[FastAPI, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = FastAPI()
    router = APIRouter(prefix="/api/v1")

    @router.get("/customers/{customer_id}")
    async def one(customer_id: str) -> dict[str, str]:
        return {"id": customer_id}

    @router.get("/customers")
    async def search(q: str = "") -> list[str]:
        return [q]

    @router.get("/broken")
    async def broken() -> None:
        raise RuntimeError("Somchai 0812345678 could not be loaded")

    @app.get("/healthz")
    async def healthz() -> str:
        return "ok"

    app.include_router(router)
    httptrace.instrument_app(app, excluded_urls="healthz", tracer_provider=provider)
    return app, exporter


async def get(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        return await client.get(path)


def server_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]


async def test_the_span_is_named_after_the_route_template(
    traced: tuple[FastAPI, InMemorySpanExporter],
) -> None:
    app, exporter = traced
    assert (await get(app, "/api/v1/customers/c-42")).json() == {"id": "c-42"}
    [span] = server_spans(exporter)
    assert span.name == "GET /api/v1/customers/{customer_id}"
    assert span.attributes is not None
    assert span.attributes["http.route"] == "/api/v1/customers/{customer_id}"
    assert span.attributes["http.status_code"] == 200


async def test_what_staff_searched_for_stays_out_of_the_span(
    traced: tuple[FastAPI, InMemorySpanExporter],
) -> None:
    app, exporter = traced
    assert (await get(app, "/api/v1/customers?q=0812345678")).json() == ["0812345678"]
    [span] = server_spans(exporter)
    assert span.name == "GET /api/v1/customers"
    assert "0812345678" not in repr(dict(span.attributes or {}))


async def test_a_failure_is_marked_with_its_type_and_not_its_message(
    traced: tuple[FastAPI, InMemorySpanExporter],
) -> None:
    app, exporter = traced
    assert (await get(app, "/api/v1/broken")).status_code == 500
    [span] = server_spans(exporter)
    assert span.name == "GET /api/v1/broken"
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes["exception.type"] == "RuntimeError"
    everything = repr(dict(span.attributes)) + repr(span.status.description) + repr(span.events)
    assert "Somchai" not in everything


async def test_excluded_paths_and_unknown_paths(traced: tuple[FastAPI, InMemorySpanExporter]) -> None:
    app, exporter = traced
    assert (await get(app, "/healthz")).status_code == 200
    assert server_spans(exporter) == []
    assert (await get(app, "/nowhere")).status_code == 404
    [span] = server_spans(exporter)
    assert span.name == "GET"
