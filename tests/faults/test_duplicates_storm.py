"""Drill 3: a duplicates storm.

1,000 customers (2,000 at the issue's size, see COUNT) write once each; Meta delivers 30 % of
the messages twice (its delivery is at least once), all of them shuffled and batched several to a
POST, as a burst after an outage would come. Each message must be stored once and answered once,
each customer made once.
"""

from __future__ import annotations

import asyncio
import os
import random
import time

import pytest

from .checker import settle
from .drill import assert_nothing_lost_or_doubled
from .published import Published
from .stream import Deliverer, Message, customer_messages, delivery
from .system import DrillSystem

pytestmark = [pytest.mark.e2e, pytest.mark.faults, pytest.mark.timeout(600)]

# The drill is 2,000 messages (FAULTS_STORM_MESSAGES=2000: about 4 minutes here, the reply
# path answering ~9 a second on two cores); `make test` runs 1,000 to keep the whole suite within
# its 15 minutes. The same mix either way: 30 % delivered twice, shuffled, batched.
COUNT = int(os.environ.get("FAULTS_STORM_MESSAGES", "1000"))
TWICE = 0.30
BATCH = (1, 20)  # messaging items per POST
IN_FLIGHT = 8  # POSTs at a time
# The whole storm is answered at about 9 messages a second on two quiet cores, the ai's reply path
# the slowest stage (issue 16), and at half that on a busy CI machine: a bounded wait, not a target.
SETTLE_WITHIN = 420.0


async def test_duplicates_storm_stores_and_answers_each_message_once(system: DrillSystem) -> None:
    rng = random.Random(2000)
    messages = customer_messages("storm", COUNT)
    items: list[Message] = messages + rng.sample(messages, int(COUNT * TWICE))
    rng.shuffle(items)
    batches: list[list[Message]] = []
    while items:
        size = rng.randint(*BATCH)
        batches.append(items[:size])
        items = items[size:]
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def post(batch: list[Message]) -> bool:
        async with gate:
            return await deliverer.deliver(delivery(m.event for m in batch), batch)

    async with Published(system.rabbitmq_url, ("message.received", "contact.seen")) as published:
        started = time.monotonic()
        async with Deliverer(system.url("messenger") + "/webhooks/meta") as deliverer:
            await asyncio.gather(*(post(b) for b in batches))
        posted = time.monotonic()
        figures = await settle(
            system,
            "duplicates storm",
            messages,
            fault=None,
            refusals=deliverer.refusals,
            deliveries=sum(len(b) for b in batches),
            timeout=SETTLE_WITHIN,
        )
        handled = time.monotonic() - started
    figures.extra.update(**published.figures())
    figures.extra.update(
        posts=len(batches),
        delivered_twice=int(COUNT * TWICE),
        posted_in=f"{posted - started:.1f}s",
        all_answered_in=f"{handled:.1f}s",
        answers_per_second=f"{COUNT / handled:.0f}",
    )
    print("\n" + figures.report())

    assert_nothing_lost_or_doubled(figures)
