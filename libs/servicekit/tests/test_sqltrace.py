"""What Jaeger shows for a service's SQL: a client span for each statement slower than the
threshold (every one at 0) or failed, inside the span that ran it, with the SQL's text but never
its values, and only the type of a failure."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from crm_servicekit.settings import ServiceSettings
from crm_servicekit.sqltrace import DEFAULT_MIN_MS, min_ms_from_env, trace_statements


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
async def traced(spans: InMemorySpanExporter) -> AsyncIterator[tuple[AsyncEngine, TracerProvider]]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    engine = create_async_engine(ServiceSettings().async_database_url)
    trace_statements(engine.sync_engine, provider.get_tracer("test"), min_ms=0)
    yield engine, provider
    await engine.dispose()


async def test_each_statement_is_a_child_span_with_its_sql_and_no_values(
    traced: tuple[AsyncEngine, TracerProvider], spans: InMemorySpanExporter
) -> None:
    engine, provider = traced
    with provider.get_tracer("test").start_as_current_span("handler") as handler:
        async with engine.connect() as conn:
            for _ in range(2):  # the second one from what the first worked out
                await conn.execute(text("SELECT CAST(:phone AS text) AS phone"), {"phone": "0812345678"})
    statements = [s for s in spans.get_finished_spans() if s.kind is SpanKind.CLIENT]
    assert len(statements) == 2
    for span in statements:
        assert span.name.startswith("SELECT ")
        assert span.parent is not None
        assert span.parent.span_id == handler.get_span_context().span_id
        attributes = dict(span.attributes or {})
        assert attributes["db.system"] == "postgresql"
        assert str(attributes["db.statement"]).startswith("SELECT CAST($1")
        assert "0812345678" not in repr(attributes)


async def test_a_failed_statement_is_marked_with_its_type_only(
    traced: tuple[AsyncEngine, TracerProvider], spans: InMemorySpanExporter
) -> None:
    engine, _ = traced
    async with engine.connect() as conn:
        with pytest.raises(DBAPIError):
            await conn.execute(text("SELECT 1 / CAST(:zero AS int)"), {"zero": 0})
    [span] = [s for s in spans.get_finished_spans() if s.kind is SpanKind.CLIENT]
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None
    assert "DivisionByZero" in str(span.attributes["exception.type"])
    assert "division by zero" not in repr(dict(span.attributes)) + repr(span.status.description)


async def test_only_statements_past_the_threshold_and_failures_become_spans(
    spans: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    engine = create_async_engine(ServiceSettings().async_database_url)
    monkeypatch.setenv("SQL_SPAN_MIN_MS", "40")
    trace_statements(engine.sync_engine, provider.get_tracer("test"))
    try:
        with provider.get_tracer("test").start_as_current_span("handler") as handler:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
                await conn.execute(text("SELECT pg_sleep(0.06)"))
                with pytest.raises(DBAPIError):
                    await conn.execute(text("SELECT 1 / CAST(:zero AS int)"), {"zero": 0})
    finally:
        await engine.dispose()
    statements = [s for s in spans.get_finished_spans() if s.kind is SpanKind.CLIENT]
    assert [str((s.attributes or {})["db.statement"]) for s in statements] == [
        "SELECT pg_sleep(0.06)",
        "SELECT 1 / CAST($1 AS int)",
    ]
    slow = statements[0]
    assert slow.parent is not None
    assert slow.parent.span_id == handler.get_span_context().span_id
    assert slow.start_time is not None
    assert slow.end_time is not None
    assert slow.end_time - slow.start_time >= 60_000_000, "the span shows how long the statement took"
    assert statements[1].status.status_code is StatusCode.ERROR


def test_a_threshold_that_is_not_a_number_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SQL_SPAN_MIN_MS", "fast")
    with pytest.raises(ValueError, match="SQL_SPAN_MIN_MS"):
        min_ms_from_env()
    monkeypatch.setenv("SQL_SPAN_MIN_MS", "-1")
    with pytest.raises(ValueError, match="0 or more"):
        min_ms_from_env()
    monkeypatch.delenv("SQL_SPAN_MIN_MS")
    assert min_ms_from_env() == DEFAULT_MIN_MS
