"""What Jaeger shows for a service's SQL: one client span per statement, inside the span that ran
it, with the SQL's text but never its values, and only the type of a failure."""

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
from crm_servicekit.sqltrace import trace_statements


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
async def traced(spans: InMemorySpanExporter) -> AsyncIterator[tuple[AsyncEngine, TracerProvider]]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    engine = create_async_engine(ServiceSettings().async_database_url)
    trace_statements(engine.sync_engine, provider.get_tracer("test"))
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
