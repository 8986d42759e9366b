"""One drill: a steady stream of customers, one fault in the middle of it, then the count.

    figures = await run_drill(system, "kill -9 ai", "kill-ai", fault)

`fault()` injects the fault and returns once it is over (the service or server is back, the
network healed), with figures of its own to print; the stream goes on meanwhile and after.
Then `checker.settle` waits for the system to settle and counts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from .checker import Figures, settle
from .stream import Deliverer, Message, customer_messages, steady_stream
from .system import DrillSystem

Fault = Callable[[], Awaitable[dict[str, Any]]]

COUNT = 120  # messages per drill
RATE = 12.0  # per second: the stream lasts 10 s
FAULT_AFTER = 3.0  # seconds into the stream


async def run_drill(
    system: DrillSystem,
    drill: str,
    tag: str,
    fault: Fault,
    *,
    count: int = COUNT,
    rate: float = RATE,
    fault_after: float = FAULT_AFTER,
    settle_timeout: float = 60.0,
    messages: list[Message] | None = None,
) -> Figures:
    """Stream `count` messages tagged `tag` (or `messages`), inject `fault` mid-stream, settle."""
    messages = messages or customer_messages(tag, count)
    async with Deliverer(system.url("messenger") + "/webhooks/meta") as deliverer:
        stream = asyncio.create_task(steady_stream(deliverer, messages, rate))
        try:
            await asyncio.sleep(fault_after)
            started = time.monotonic()
            about = await fault()
            ended = time.monotonic()
        finally:
            await stream
    figures = await settle(
        system, drill, messages, fault=(started, ended), refusals=deliverer.refusals, timeout=settle_timeout
    )
    figures.extra.update(fault_lasted=f"{ended - started:.1f}s", **about)
    print("\n" + figures.report())
    return figures


def assert_nothing_lost_or_doubled(*figures: Figures) -> None:
    """Every message accepted, stored once, answered once (and recorded as answered)."""
    failed = [f.report() for f in figures if f.problems()]
    assert not failed, "\n".join(failed)
