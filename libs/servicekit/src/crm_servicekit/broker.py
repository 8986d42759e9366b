"""Broker topology and the failure path every subscriber shares.

- One durable topic exchange, `crm.events`; an event's routing key is its `type`.
- Each subscriber owns a durable quorum queue `<service>.<purpose>` bound to one event type,
  with an explicit ack policy and a bounded prefetch.
- A handler that raises is not requeued at once. `RetryMiddleware` republishes the message to
  the shared delay queue for its attempt (`crm.retry.<n>s`: a quorum queue with a TTL that
  dead-letters back to the original queue through the default exchange) and acks it.
- A failure because the database cannot be reached (`unavailable.database_unavailable`: a
  restart, a failover) is not the message's fault, so it does not spend the message's attempts:
  it is retried with the same backoff (capped at the last delay) up to `OUTAGE_RETRIES` times,
  counted apart, before its attempts count again. Without this, every message in flight when
  PostgreSQL went away for longer than the sum of the delays was parked.
- After the last delay, or at once for a message that can never succeed (it does not parse),
  the message is parked in `<queue>.parked` with the error in its headers, where
  `python -m crm_servicekit.parking` lists and replays it.
- If even that publish fails the message is rejected, and the queue's own dead-letter route
  (to the same parking queue) keeps it; so does the quorum `x-delivery-limit` for a message
  that crashes its consumer over and over. Nothing is dropped silently.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from faststream import AckPolicy
from faststream._internal.middlewares import BaseMiddleware
from faststream.message import StreamMessage
from faststream.rabbit import (
    Channel,
    ExchangeType,
    QueueType,
    RabbitBroker,
    RabbitExchange,
    RabbitQueue,
)
from faststream.rabbit.publisher.usecase import RabbitPublisher
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import Counter
from pydantic import ValidationError

from crm_contracts import Event

from .amqp import FailoverRabbitBroker
from .logging import get_logger
from .msgtrace import MessageTelemetry
from .unavailable import database_unavailable

log = get_logger(__name__)

EVENTS_EXCHANGE = RabbitExchange("crm.events", type=ExchangeType.TOPIC, durable=True)
ATTEMPT_HEADER = "x-crm-attempt"
ERROR_HEADER = "x-crm-error"
FAILED_AT_HEADER = "x-crm-failed-at"
ORIGIN_HEADER = "x-crm-original-queue"
OUTAGE_HEADER = "x-crm-outage-attempt"
# Retries while the database is unreachable, apart from the message's own attempts: with the
# default delays, about an hour at the last one (120 s).
OUTAGE_RETRIES = 30
# Redeliveries without an ack (consumer crashed mid-message) before the queue parks it itself.
DELIVERY_LIMIT = 10

PARKED = Counter("crm_messages_parked_total", "Messages moved to a parking queue", ["queue", "reason"])
RETRIED = Counter("crm_messages_retried_total", "Messages scheduled for a retry", ["queue"])


class PermanentError(Exception):
    """Raised by a handler for a message that can never succeed: parked without retries."""


@dataclass(frozen=True)
class RetryPolicy:
    """Delays (seconds) before each retry; its length bounds the number of retries."""

    delays: tuple[int, ...] = (1, 5, 30, 120)


def retry_queue_name(delay: int) -> str:
    return f"crm.retry.{delay}s"


def parked_queue_name(queue: str) -> str:
    return f"{queue}.parked"


def _quorum(name: str, arguments: dict[str, Any], routing_key: str = "") -> RabbitQueue:
    # faststream types quorum arguments as a TypedDict without the dead-letter keys we need.
    args: Any = arguments
    return RabbitQueue(
        name, queue_type=QueueType.QUORUM, durable=True, arguments=args, routing_key=routing_key
    )


def subscriber_queue(name: str, routing_key: str) -> RabbitQueue:
    return _quorum(
        name,
        {
            "x-delivery-limit": DELIVERY_LIMIT,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": parked_queue_name(name),
        },
        routing_key,
    )


def retry_queue(delay: int) -> RabbitQueue:
    # Expired messages go back through the default exchange with their own routing key, which
    # is the original queue's name; at-least-once dead-lettering needs reject-publish overflow.
    return _quorum(
        retry_queue_name(delay),
        {
            "x-message-ttl": delay * 1000,
            "x-dead-letter-exchange": "",
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        },
    )


def retry_exchange(delay: int) -> RabbitExchange:
    return RabbitExchange(retry_queue_name(delay), type=ExchangeType.FANOUT, durable=True)


@dataclass
class Topology:
    """Every queue a service consumes, with its retry policy, so the retry path can find it."""

    service: str
    policies: dict[str, RetryPolicy] = field(default_factory=dict)

    def queue_name(self, purpose: str) -> str:
        return f"{self.service}.{purpose}"

    def delays(self) -> set[int]:
        return {d for p in self.policies.values() for d in p.delays}


class RetryMiddleware:
    """Broker middleware factory: retry with backoff, then park (see the module docstring)."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.broker: RabbitBroker | None = None

    def __call__(self, msg: Any, context: Any) -> _RetryScope:
        return _RetryScope(msg, context=context, owner=self)


class _RetryScope(BaseMiddleware):
    def __init__(self, msg: Any, /, *, context: Any, owner: RetryMiddleware) -> None:
        super().__init__(msg, context=context)
        self.owner = owner

    async def consume_scope(
        self, call_next: Callable[[StreamMessage[Any]], Awaitable[Any]], msg: StreamMessage[Any]
    ) -> Any:
        try:
            return await call_next(msg)
        except Exception as exc:
            handler = self.context.get_local("handler_")
            queue = getattr(getattr(handler, "queue", None), "name", None)
            policy = self.owner.topology.policies.get(queue) if queue else None
            broker = self.owner.broker
            if queue is None or policy is None or broker is None:
                raise
            await _retry_or_park(broker, queue, policy, msg, exc)
            return None


async def _retry_or_park(
    broker: RabbitBroker, queue: str, policy: RetryPolicy, msg: StreamMessage[Any], exc: Exception
) -> None:
    headers = {k: v for k, v in (msg.headers or {}).items() if not k.startswith("x-death")}
    attempt = int(headers.get(ATTEMPT_HEADER, 0))
    outage = int(headers.get(OUTAGE_HEADER, 0))
    permanent = isinstance(exc, PermanentError | ValidationError)
    event_id = msg.message_id
    if not permanent and outage < OUTAGE_RETRIES and database_unavailable(exc) is not None:
        delay = policy.delays[min(outage, len(policy.delays) - 1)]
        headers[OUTAGE_HEADER] = outage + 1
        await _schedule(broker, queue, msg, headers, delay, exc, outage_attempt=outage + 1)
        return
    if permanent or attempt >= len(policy.delays):
        reason = "permanent" if permanent else "retries_exhausted"
        headers.update(
            {
                ERROR_HEADER: _describe(exc),
                FAILED_AT_HEADER: datetime.now(UTC).isoformat(),
                ORIGIN_HEADER: queue,
            }
        )
        await broker.publish(
            msg.body,
            routing_key=parked_queue_name(queue),
            headers=headers,
            message_id=event_id,
            content_type=msg.content_type,
            persist=True,
        )
        PARKED.labels(queue=queue, reason=reason).inc()
        log.error(
            "message parked",
            queue=queue,
            event_id=event_id,
            attempt=attempt,
            reason=reason,
            error=type(exc).__name__,
        )
        return
    delay = policy.delays[attempt]
    headers[ATTEMPT_HEADER] = attempt + 1
    await _schedule(broker, queue, msg, headers, delay, exc, attempt=attempt + 1)


async def _schedule(
    broker: RabbitBroker,
    queue: str,
    msg: StreamMessage[Any],
    headers: dict[str, Any],
    delay: int,
    exc: Exception,
    **count: int,
) -> None:
    """Send `msg` back to `queue` through the delay queue of `delay` seconds, and say so with
    `count` (`attempt=` or, while the database is unreachable, `outage_attempt=`)."""
    await broker.publish(
        msg.body,
        exchange=retry_exchange(delay),
        routing_key=queue,
        headers=headers,
        message_id=msg.message_id,
        content_type=msg.content_type,
        persist=True,
    )
    RETRIED.labels(queue=queue).inc()
    log.warning(
        "message will be retried",
        queue=queue,
        event_id=msg.message_id,
        delay_seconds=delay,
        error=type(exc).__name__,
        **count,
    )


def _describe(exc: Exception) -> str:
    # Exception class and the last frame only: messages may quote personal data.
    frame = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" at {frame[0].filename.rsplit('/', 1)[-1]}:{frame[0].lineno}" if frame else ""
    return f"{type(exc).__module__}.{type(exc).__name__}{where}"


def create_broker(
    url: str, topology: Topology, tracer_provider: TracerProvider | None = None
) -> RabbitBroker:
    """The service's broker; `url` is `RABBITMQ_URL`, one host or several (`amqp.py`)."""
    retry = RetryMiddleware(topology)
    broker = FailoverRabbitBroker(
        url,
        app_id=f"crm-{topology.service}",
        # A plain logger that propagates to the root handler: JSON lines with trace ids like ours.
        logger=logging.getLogger("crm.broker"),
        # FastStream's "Received" and "Processed" lines for every message at DEBUG, not INFO:
        # two JSON lines per event were a share of every consumer's CPU (ADR 23); failures,
        # retries and parking are logged at WARNING and above as before.
        log_level=logging.DEBUG,
        graceful_timeout=15.0,
        # The retry middleware outermost: the span and timing inside it see the handler's failure
        # before the message is rescheduled or parked.
        middlewares=(retry, MessageTelemetry(tracer_provider)),
    )
    retry.broker = broker
    return broker


E = TypeVar("E", bound=Event)
Handler = Callable[[E], Awaitable[None]]


def subscribe(
    broker: RabbitBroker,
    topology: Topology,
    purpose: str,
    event: type[E],
    *,
    prefetch: int = 16,
    retry: RetryPolicy | None = None,
    description: str | None = None,
) -> Callable[[Handler[E]], Handler[E]]:
    """Register `handler(event)` on the durable quorum queue `<service>.<purpose>`.

    The ack policy is explicit: ack after the handler returns (or after the retry middleware
    has rescheduled or parked a failure); reject only if even that failed, which dead-letters
    the message to its parking queue.
    """
    name = topology.queue_name(purpose)
    topology.policies[name] = retry or RetryPolicy()

    def register(handler: Handler[E]) -> Handler[E]:
        broker.subscriber(
            subscriber_queue(name, event.event_type),
            EVENTS_EXCHANGE,
            channel=Channel(prefetch_count=prefetch),
            ack_policy=AckPolicy.REJECT_ON_ERROR,
            title=name,
            description=description or handler.__doc__,
        )(handler)
        return handler

    return register


def event_publishers(broker: RabbitBroker, events: Sequence[type[Event]]) -> dict[str, RabbitPublisher]:
    """One persistent publisher per event type a service emits (also its AsyncAPI entry)."""
    return {
        event.event_type: broker.publisher(
            exchange=EVENTS_EXCHANGE,
            routing_key=event.event_type,
            persist=True,
            title=f"{event.event_type}:publish",
            schema=event,
            description=event.__doc__,
        )
        for event in events
    }


async def declare_topology(broker: RabbitBroker, topology: Topology) -> None:
    """Declare the exchange, the shared delay queues and each parking queue (idempotent)."""
    await broker.declare_exchange(EVENTS_EXCHANGE)
    for delay in sorted(topology.delays()):
        exchange = await broker.declare_exchange(retry_exchange(delay))
        queue = await broker.declare_queue(retry_queue(delay))
        await queue.bind(exchange, routing_key="#")
    for name in topology.policies:
        await broker.declare_queue(_quorum(parked_queue_name(name), {}))
