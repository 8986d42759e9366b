"""From `crm.events` to the hub: which events staff see at once, under which topic, with what.

The replica declares a server-named, exclusive, auto-delete queue of its own, bound to the types
below: every replica (and every worker process) gets its own copy of each event, and the queue
goes away with the connection. It consumes with automatic acks, no retries and no parking queue,
unlike every other subscriber (ADR 3), because nothing is decided here: the events' owners and
their durable queues hold the truth, and a push the browser missed is made good by its resume
cursor or by `reset` (refetch). A reconnection to the broker resets the hub for that reason.

A change carries ids, flags and the event's type: never a name, a phone number or message text
(the browser fetches those through the API, which checks what the staff member may read).
"""

from __future__ import annotations

import json
from typing import Any

from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from yarl import URL

from crm_gateway.auth.domain import Permission
from crm_servicekit.amqp import FailoverConnection, parse_rabbitmq_url
from crm_servicekit.broker import EVENTS_EXCHANGE
from crm_servicekit.logging import get_logger

from .hub import Hub

log = get_logger(__name__)

TOPICS: dict[str, str] = {
    "contact.seen": "conversations",
    "contact.profile_updated": "conversations",
    "message.received": "conversations",
    "message.sent": "conversations",
    "message.send_failed": "conversations",
    "conversation.mode_changed": "conversations",
    "reply.generated": "conversations",
    "customer.created": "customers",
    "customer.updated": "customers",
    "customer.merged": "customers",
    "customer.merge_undone": "customers",
    # Not the ai's `lead.scored`/`customer.insights_updated`: they arrive before the gateway has
    # stored them, and a browser refetching then would read the customer without them.
    "customer.lead_updated": "customers",
    "order.created": "orders",
    "order.status_changed": "orders",
    "catalog.product_changed": "catalog",
}
# Who may hear a topic: the permission that reads what it is about.
READS: dict[str, Permission] = {
    "conversations": Permission.CONVERSATION_READ,
    "customers": Permission.CUSTOMER_READ,
    "orders": Permission.CUSTOMER_READ,
    "catalog": Permission.CUSTOMER_READ,
}
# What of an event's `data` a change carries: ids, flags and states, nothing personal.
CARRIED = (
    "conversation_id",
    "customer_id",
    "survivor_id",
    "merged_id",
    "restored_id",
    "order_id",
    "product_id",
    "mode",
    "needs_human",
    "handover",
    "handover_requested",
    "sent_by",
    "status",
    "changed",
)


def change_of(event_type: str, body: bytes) -> bytes | None:
    """The `data:` JSON of the change an event makes, or None for a body that is not an event."""
    try:
        event = json.loads(body)
        data = event["data"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(data, dict):
        return None
    change: dict[str, Any] = {"topic": TOPICS[event_type], "type": event_type}
    change.update((key, data[key]) for key in CARRIED if data.get(key) is not None)
    if event_type == "reply.generated":
        change["needs_human"] = bool(data.get("handover"))
    elif event_type == "message.received":
        change["needs_human"] = (
            bool(data.get("handover_requested")) or data.get("conversation_mode") == "human"
        )
    return json.dumps(change, separators=(",", ":")).encode()


class Feed:
    """The replica's own queue on `crm.events`, feeding `hub`."""

    def __init__(self, hub: Hub, rabbitmq_url: str) -> None:
        self.hub = hub
        self.rabbitmq_url = rabbitmq_url
        self.connection: AbstractRobustConnection | None = None

    async def start(self) -> None:
        target = parse_rabbitmq_url(self.rabbitmq_url)
        connection = FailoverConnection(
            URL(target.url), addresses=target.addresses, load_balance=target.load_balance
        )
        await connection.connect()
        self.connection = connection
        # The robust connection declares, binds and consumes again after a reconnection; what
        # was published meanwhile never reached the queue, so browsers are told to refetch.
        connection.reconnect_callbacks.add(lambda *_: self._reconnected())
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=256)
        exchange = await channel.declare_exchange(
            EVENTS_EXCHANGE.name, EVENTS_EXCHANGE.type.value, durable=True
        )
        queue = await channel.declare_queue("", exclusive=True, auto_delete=True, durable=False)
        for event_type in TOPICS:
            await queue.bind(exchange, routing_key=event_type)
        await queue.consume(self._on_message, no_ack=True)
        log.info("live feed started", queue_bindings=len(TOPICS))

    async def stop(self) -> None:
        if self.connection is not None:
            await self.connection.close()
            self.connection = None

    def _reconnected(self) -> None:
        log.warning("live feed reconnected to the broker; browsers refetch")
        self.hub.reset()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        event_type = message.routing_key or ""
        if event_type not in TOPICS:
            return
        data = change_of(event_type, message.body)
        if data is None:
            log.warning("live feed skipped a body that is not an event", event_type=event_type)
            return
        self.hub.publish(TOPICS[event_type], data)
