"""One server span per HTTP request, named after the route that answered (`GET /api/v1/customers/{id}`).

OpenTelemetry's `FastAPIInstrumentor` finds the route for the span's name before the request is
routed, by matching the request against every route of the app once more; with the gateway's
~120 routes in included routers that walk was 17 % of the CPU of a cached read (ADR 23). Here
the span starts with the method alone and takes the route's template when the response starts,
from the route FastAPI's router has put in the scope by then: the same name, no second routing.

Two things it does differently, on purpose:
- No query string in the span: `http.url` carries the path only. A query holds what staff
  searched for (a customer's name or phone number), which must not reach span attributes.
- A request that raises records the exception's type on the span, not its message (messages can
  hold personal data; FastAPI's own telemetry is off for the same reason, `runtime.py`).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.trace import Span, Status, StatusCode, TracerProvider
from opentelemetry.util.http import parse_excluded_urls
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_ROUTE = "http.route"
HTTP_URL = "http.url"


def instrument_app(
    app: FastAPI, *, excluded_urls: str, tracer_provider: TracerProvider | None = None
) -> None:
    """Trace every request but `excluded_urls` (comma-separated regexes matched against the URL).

    The span wraps Starlette's `ServerErrorMiddleware`, so a 500 is inside it and the span is
    current in every exception handler; an outer plain `ServerErrorMiddleware` answers anything
    the tracing itself raised."""
    excluded = parse_excluded_urls(excluded_urls)
    build = app.build_middleware_stack

    def traced_stack() -> ASGIApp:
        inner = build()
        if not isinstance(inner, ServerErrorMiddleware):  # Starlette changed how it builds the stack
            raise TypeError(f"expected Starlette's ServerErrorMiddleware outermost, got {type(inner)!r}")
        errors = ServerErrorMiddleware(_RecordErrors(inner.app), handler=inner.handler, debug=inner.debug)
        otel = OpenTelemetryMiddleware(
            _NamedByRoute(errors),
            excluded_urls=excluded,
            default_span_details=_method_only,
            server_request_hook=_without_query,
            exclude_spans=["receive", "send"],
            tracer_provider=tracer_provider,
        )
        return ServerErrorMiddleware(otel)

    app.build_middleware_stack = traced_stack  # type: ignore[method-assign]


def _method_only(scope: Scope) -> tuple[str, dict[str, str]]:
    return str(scope.get("method") or "HTTP"), {}


def _without_query(span: Span, scope: dict[str, Any]) -> None:
    if span.is_recording():
        url = (getattr(span, "attributes", None) or {}).get(HTTP_URL)
        if isinstance(url, str) and "?" in url:
            span.set_attribute(HTTP_URL, url.split("?", 1)[0])


def route_template(scope: Scope) -> str | None:
    """The template of the route the router matched (`/customers/{id}`), once it has."""
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path if isinstance(path, str) else None


class _NamedByRoute:
    """Inside the server span: names it `METHOD /route/{template}` as the response starts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        span = trace.get_current_span()

        async def named(message: Message) -> None:
            if message["type"] == "http.response.start" and span.is_recording():
                template = route_template(scope)
                if template is not None:
                    span.update_name(f"{scope['method']} {template}")
                    span.set_attribute(HTTP_ROUTE, template)
            await send(message)

        await self.app(scope, receive, named)


class _RecordErrors:
    """Marks the span as failed by an exception of this type (the message is left out)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            span = trace.get_current_span()
            if span.is_recording():
                span.set_attribute("exception.type", type(exc).__qualname__)
                span.set_status(Status(StatusCode.ERROR, type(exc).__qualname__))
            raise
