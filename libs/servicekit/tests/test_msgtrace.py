"""What Jaeger and /metrics show for consumed events: the consumer's span continues the trace of the
span that emitted the event (one trace across services), a failure is marked with its type only,
and each handling is timed by queue and outcome."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from faststream.rabbit import RabbitBroker
from opentelemetry import propagate
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import REGISTRY

from crm_contracts import ContactSeen, ContactSeenData
from crm_servicekit.broker import RetryPolicy, Topology, create_broker, declare_topology, subscribe
from crm_servicekit.testing import eventually

pytestmark = pytest.mark.integration

SECRET = "0812345678 สมชาย"


def contact_seen() -> ContactSeen:
    return ContactSeen(
        correlation_id="m_trace",
        data=ContactSeenData(
            page_id="p1", psid="u1", conversation_id=uuid.uuid4(), first_seen_at=datetime.now(UTC)
        ),
    )


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
async def traced(
    rabbitmq_url: str, spans: InMemorySpanExporter
) -> AsyncIterator[tuple[RabbitBroker, Topology, TracerProvider]]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    topology = Topology(f"trace{uuid.uuid4().hex[:6]}")
    broker = create_broker(rabbitmq_url, topology, provider)
    yield broker, topology, provider
    await broker.stop()


def handled(queue: str, outcome: str) -> float:
    labels = {"queue": queue, "outcome": outcome}
    return REGISTRY.get_sample_value("crm_message_handling_seconds_count", labels) or 0.0


async def test_the_consumer_span_continues_the_emitters_trace_and_a_failure_shows_its_type_only(
    traced: tuple[RabbitBroker, Topology, TracerProvider], spans: InMemorySpanExporter
) -> None:
    broker, topology, provider = traced
    seen: list[uuid.UUID] = []

    @subscribe(broker, topology, "contacts", ContactSeen, retry=RetryPolicy(delays=(1,)))
    async def on_contact(event: ContactSeen) -> None:
        seen.append(event.event_id)
        if len(seen) == 1:
            raise RuntimeError(f"the customer wrote {SECRET}")

    await broker.connect()
    await declare_topology(broker, topology)
    await broker.start()
    queue = topology.queue_name("contacts")
    event = contact_seen()
    headers: dict[str, str] = {}
    with provider.get_tracer("test").start_as_current_span("webhook") as webhook:
        propagate.inject(headers)  # what UnitOfWork.emit stores with the event
    publisher = broker.publisher(exchange="crm.events", routing_key=ContactSeen.event_type)
    await publisher.publish(
        event.model_dump_json().encode(), message_id=str(event.event_id), headers=dict(headers)
    )

    await eventually(lambda: asyncio.sleep(0, len(seen) == 2), timeout=15)

    def consumed() -> list[ReadableSpan]:
        return [s for s in spans.get_finished_spans() if s.kind is SpanKind.CONSUMER]

    failed, retried = await eventually(lambda: asyncio.sleep(0, c if len(c := consumed()) == 2 else []))
    emitter = webhook.get_span_context()
    for span in (failed, retried):
        assert span.context is not None
        assert span.parent is not None
        assert span.context.trace_id == emitter.trace_id, "one trace from the emitter to every delivery"
        assert span.parent.span_id == emitter.span_id
        attributes = dict(span.attributes or {})
        assert attributes["messaging.system"] == "rabbitmq"
        assert attributes["messaging.message.id"] == str(event.event_id)
    assert failed.name == "contact.seen process"
    assert retried.name == f"{queue} process", "a retry comes back by its queue's name"
    assert failed.status.status_code is StatusCode.ERROR
    assert dict(failed.attributes or {})["error.type"] == "RuntimeError"
    assert retried.status.status_code is not StatusCode.ERROR
    everything = repr([(s.attributes, s.status.description, s.events) for s in consumed()])
    assert "0812345678" not in everything
    assert "สมชาย" not in everything
    assert (handled(queue, "error"), handled(queue, "ok")) == (1.0, 1.0)
