"""The steady stream of customers writing to the Page, delivered the way Meta delivers.

Each message comes from a customer of its own (a distinct PSID) with a unique `mid`, in a body
signed with the app secret. A delivery that is not answered 200 (refused, reset, 5xx, no answer
in time) is sent again, byte for byte, after a growing pause, as Meta does, until it is accepted
or the stream's retry horizon passes. Every attempt is recorded, so a drill can tell what was
accepted, what was refused while its fault lasted, and when.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from crm_fakes.webhooks import meta_json, sign, text_message_event

from .system import APP_SECRET, PAGE_ID

TEXTS = (
    "How much is the sushi course?",
    "Do you have a ramen class this month?",
    "What time does the Thai cooking class start?",
    "Is there a weekend pastry course?",
)


@dataclass
class Message:
    """One customer message: who sent it and what became of its deliveries."""

    index: int
    psid: str
    mid: str
    event: dict[str, Any]
    first_sent: float | None = None
    accepted_at: float | None = None
    attempts: int = 0
    refused: int = 0

    @property
    def accepted(self) -> bool:
        return self.accepted_at is not None


def customer_messages(tag: str, count: int) -> list[Message]:
    """`count` messages, each from a new customer; PSIDs start with the drill's `tag`."""
    out = []
    for i in range(count):
        psid = f"{tag}-{i:05d}"
        mid = f"m_{tag}-{i:05d}-{random.getrandbits(48):012x}"
        # The PSID in the text too: the Gemini fake's records show which message each call was for.
        event = text_message_event(PAGE_ID, psid, f"{TEXTS[i % len(TEXTS)]} (ref {psid})", mid=mid)
        out.append(Message(i, psid, mid, event))
    return out


def delivery(events: Iterable[dict[str, Any]]) -> bytes:
    """One POST as Meta sends it: one `entry` per messaging item (batched when several)."""
    now = time.time_ns() // 1_000_000
    entries = [{"id": PAGE_ID, "time": now, "messaging": [e]} for e in events]
    return meta_json({"object": "page", "entry": entries})


@dataclass
class Deliverer:
    """Posts signed bodies to the messenger's webhook, re-sending like Meta until accepted."""

    url: str
    retry_for: float = 120.0
    """Give up on a body this long after its first attempt (Meta keeps trying for hours)."""
    timeout: float = 10.0
    refusals: list[float] = field(default_factory=list)
    """When each refused attempt happened (monotonic)."""
    _client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Deliverer:
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=16)
        self._client = httpx.AsyncClient(timeout=self.timeout, limits=limits)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def deliver(self, body: bytes, messages: Sequence[Message]) -> bool:
        """POST `body` (carrying `messages`) until a 200; False if the horizon passed first."""
        assert self._client is not None
        headers = {"content-type": "application/json", "x-hub-signature-256": sign(APP_SECRET, body)}
        first = time.monotonic()
        pause = 0.25
        for m in messages:
            m.first_sent = first if m.first_sent is None else m.first_sent
        while True:
            for m in messages:
                m.attempts += 1
            try:
                response = await self._client.post(self.url, content=body, headers=headers)
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            now = time.monotonic()
            if ok:
                for m in messages:
                    m.accepted_at = now if m.accepted_at is None else m.accepted_at
                return True
            self.refusals.append(now)
            for m in messages:
                m.refused += 1
            if now - first > self.retry_for:
                return False
            await asyncio.sleep(pause)
            pause = min(pause * 2, 4.0)


async def steady_stream(deliverer: Deliverer, messages: Sequence[Message], rate: float) -> None:
    """Deliver each message in its own POST, `rate` new ones per second, each re-sent on its own
    until accepted (a refused message never holds up the ones after it)."""
    start = time.monotonic()
    tasks: list[asyncio.Task[bool]] = []
    for i, m in enumerate(messages):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(deliverer.deliver(delivery([m.event]), [m])))
    await asyncio.gather(*tasks)
