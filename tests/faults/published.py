"""What was published on `crm.events`, counted by event id: how often each event went out.

An event may go out more than once (the outbox relay sends what the committing unit of work has
not yet confirmed; a redelivery after a crash), and every consumer must then still act once.
A queue of the drill's own, bound to the event types it asks for, counts each delivery by the
message's id (the event id), without parsing bodies.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import aio_pika

from crm_servicekit.broker import EVENTS_EXCHANGE


class Published:
    def __init__(self, url: str, event_types: tuple[str, ...]) -> None:
        self.url = url
        self.event_types = event_types
        self.ids: dict[str, Counter[str]] = {t: Counter() for t in event_types}
        self._connection: Any = None

    async def __aenter__(self) -> Published:
        self._connection = await aio_pika.connect(self.url)
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=500)
        exchange = await channel.get_exchange(EVENTS_EXCHANGE.name, ensure=False)
        queue = await channel.declare_queue(f"drill.published.{uuid.uuid4().hex[:8]}", exclusive=True)
        for event_type in self.event_types:
            await queue.bind(exchange, routing_key=event_type)
        await queue.consume(self._count, no_ack=True)
        return self

    async def _count(self, message: Any) -> None:
        counter = self.ids.get(message.routing_key)
        if counter is not None:
            counter[message.message_id] += 1

    async def __aexit__(self, *exc: object) -> None:
        if self._connection is not None:
            await self._connection.close()

    def figures(self) -> dict[str, str]:
        """`<type>=<events>/<times published>` for each event type."""
        return {
            f"published_{t.replace('.', '_')}": f"{len(c)}_events/{sum(c.values())}_times"
            for t, c in self.ids.items()
        }
