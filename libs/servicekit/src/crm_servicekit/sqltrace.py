"""A client span for each SQL statement that took at least `SQL_SPAN_MIN_MS` or failed, as
OpenTelemetry's SQLAlchemy instrumentation makes them (`INSERT crm_ai`, with `db.system`,
`db.name`, `db.statement` and the server's address), at a fraction of its cost.

Why only the slow ones (ADR 23): a new conversation runs ~95 statements across the services,
nearly all under a millisecond; a span each (made, ended, encoded, exported) was 0.1-0.15 ms of
CPU per statement, ~10 % of the stack's work per conversation, to show operators bars too short
to matter. The time is still measured for every statement (two clock reads); a statement past
the threshold becomes a span with its real start and end, inside the span that ran it, so a
slow query shows in Jaeger where it happened. Failures always do. `SQL_SPAN_MIN_MS=0` records
every statement again (a slow-path investigation; the tests of this module).

The instrumentation worked out the same attributes again for every statement (the engine's URL,
the database name, the operation from the SQL's text): it doubled the CPU of a cached statement
(0.11 -> 0.20 ms), and a conversation runs dozens of statements in every service (ADR 23). Here
the name and attributes of a statement are worked out once per distinct SQL text and reused.
The SQL is the text with its placeholders, never the values. A failed statement's span is
marked with the exception's type only (messages can quote values).
"""

from __future__ import annotations

import os
import time
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from sqlalchemy import event
from sqlalchemy.engine import Engine

# Distinct SQL texts remembered per engine; past this, attributes are built per statement.
MAX_REMEMBERED = 4096
# Statements quicker than this leave no span (failed ones always do); env `SQL_SPAN_MIN_MS`.
DEFAULT_MIN_MS = 2.0


def min_ms_from_env() -> float:
    raw = os.environ.get("SQL_SPAN_MIN_MS", "").strip()
    try:
        value = float(raw) if raw else DEFAULT_MIN_MS
    except ValueError:
        raise ValueError(f"SQL_SPAN_MIN_MS must be a number of milliseconds, not {raw!r}") from None
    if not value >= 0:
        raise ValueError(f"SQL_SPAN_MIN_MS must be 0 or more, not {raw!r}")
    return value


def trace_statements(engine: Engine, tracer: Tracer | None = None, *, min_ms: float | None = None) -> None:
    """Trace each statement `engine` executes that takes `min_ms` or more (default: env
    `SQL_SPAN_MIN_MS`, else `DEFAULT_MIN_MS`), or fails, as a child of the current span."""
    tracer = tracer or trace.get_tracer("crm_servicekit.sqltrace")
    min_ns = int((min_ms_from_env() if min_ms is None else min_ms) * 1_000_000)
    url = engine.url
    common: dict[str, Any] = {"db.system": "postgresql", "db.name": url.database or ""}
    if url.host:
        common["net.peer.name"] = url.host
    if url.port:
        common["net.peer.port"] = url.port
    remembered: dict[str, tuple[str, dict[str, Any]]] = {}

    def details(statement: str) -> tuple[str, dict[str, Any]]:
        found = remembered.get(statement)
        if found is None:
            operation = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
            found = (f"{operation} {common['db.name']}".strip(), {**common, "db.statement": statement})
            if len(remembered) < MAX_REMEMBERED:
                remembered[statement] = found
        return found

    def span(statement: str, started: int) -> Span:
        name, attributes = details(statement)
        return tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes, start_time=started)

    @event.listens_for(engine, "before_cursor_execute")
    def _start(_conn: Any, _cursor: Any, _statement: str, _params: Any, context: Any, _many: bool) -> None:
        context._crm_started = time.time_ns()

    @event.listens_for(engine, "after_cursor_execute")
    def _end(_conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
        started = getattr(context, "_crm_started", None)
        if started is None:
            return
        context._crm_started = None
        ended = time.time_ns()
        if ended - started >= min_ns:
            span(statement, started).end(end_time=ended)

    @event.listens_for(engine, "handle_error")
    def _failed(failure: Any) -> None:
        context = failure.execution_context
        started = getattr(context, "_crm_started", None) if context is not None else None
        if started is None:
            return
        context._crm_started = None
        failed = span(failure.statement or "", started)
        kind = type(_innermost(failure.original_exception)).__qualname__
        failed.set_attribute("exception.type", kind)
        failed.set_status(Status(StatusCode.ERROR, kind))
        failed.end()


def _innermost(exc: BaseException) -> BaseException:
    """The driver's own error under SQLAlchemy's adapters (`DivisionByZeroError`, not `Error`)."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return exc
