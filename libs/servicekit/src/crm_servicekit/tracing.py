"""OpenTelemetry setup. The exporter is configured only by the standard `OTEL_*` variables.

With no `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) spans are still created, so
trace ids reach logs and message headers, but nothing is exported.
"""

from __future__ import annotations

import os

import httpx
from opentelemetry import trace
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

_provider: TracerProvider | None = None


def _exporter() -> SpanExporter | None:
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    if not (
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    ):
        return None
    protocol = os.environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    )
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as Grpc

        return Grpc()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as Http

    return Http()


def setup_tracing(service_name: str) -> TracerProvider:
    """Install the process-wide tracer provider once."""
    global _provider
    if _provider is not None:
        return _provider
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    exporter = _exporter()
    if exporter is not None:
        # Batch settings (OTEL_BSP_*) are read from the environment by the SDK.
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _provider = provider
    return provider


def instrument_httpx(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Trace one outgoing client (spans + `traceparent`), rather than patching httpx globally."""
    HTTPXClientInstrumentor.instrument_client(client, tracer_provider=_provider)
    return client


def shutdown_tracing() -> None:
    """Flush what is buffered; called when a service stops."""
    if _provider is not None:
        _provider.force_flush(timeout_millis=5000)
