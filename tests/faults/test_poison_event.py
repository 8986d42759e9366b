"""Drill 2: a poison event.

One customer's `message.received` cannot be handled: the ai's replies table refuses that
customer's row (a trigger in the drill's database stands for any persistent cause: a bad
migration, a constraint the event breaks). The event must be retried a bounded number of times
with growing pauses (never in a hot loop), then parked where an operator sees it with
`python -m crm_servicekit.parking list`, while the rest of the stream flows past it; once the
cause is fixed, `python -m crm_servicekit.parking replay` brings it back and the customer gets
exactly one answer.

The retry delays are the services' own (1, 5, 30, 120 s), shortened tenfold for the drill by a
RabbitMQ policy on the delay queues (`message-ttl`: RabbitMQ uses the lower of the policy's and
the queue's TTL), so the same delay queues and dead-lettering are exercised in 16 s instead of
156 s; the policy is removed afterwards.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
import time
from typing import Any

import asyncpg
import pytest

from crm_servicekit.broker import RetryPolicy, retry_queue_name

from .checker import settle
from .conftest import Servers
from .drill import assert_nothing_lost_or_doubled
from .stream import Deliverer, Message, customer_messages, steady_stream
from .system import DrillSystem

pytestmark = [pytest.mark.e2e, pytest.mark.faults, pytest.mark.timeout(240)]

QUEUE = "ai.messages"
SCALE = 10  # the drill's retry delays are the real ones divided by this
DELAYS = RetryPolicy().delays

POISON = """
CREATE FUNCTION ai.drill_refuse_reply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'drill: this reply cannot be stored'; END $$;
CREATE TRIGGER drill_refuse_reply BEFORE INSERT ON ai.replies
FOR EACH ROW WHEN (NEW.psid = '{psid}') EXECUTE FUNCTION ai.drill_refuse_reply();
"""
CURE = """
DROP TRIGGER IF EXISTS drill_refuse_reply ON ai.replies;
DROP FUNCTION IF EXISTS ai.drill_refuse_reply();
"""


def parking(command: str, url: str) -> str:
    """The operator's tool, as an operator runs it."""
    result = subprocess.run(
        [sys.executable, "-m", "crm_servicekit.parking", command, QUEUE, "--url", url],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def parked(url: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in parking("list", url).splitlines() if line.strip()]


def model_calls(system: DrillSystem, message: Message) -> list[float]:
    """When the ai asked Gemini to answer this message (one call per attempt)."""
    return [r.received_at for r in system.fakes.gemini.requests() if message.psid in json.dumps(r.body)]


async def until(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := await asyncio.to_thread(check)):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout:g} s")
        await asyncio.sleep(0.5)
    return result


async def test_poison_event_is_parked_after_bounded_retries_and_replayed_to_one_answer(
    system: DrillSystem, servers: Servers
) -> None:
    messages = customer_messages("poison", 60)
    poison, others = messages[0], messages[1:]
    rabbit = servers.rabbit
    for delay in DELAYS:
        name = retry_queue_name(delay)
        pattern = "^" + name.replace(".", r"\.") + "$"
        ttl = json.dumps({"message-ttl": delay * 1000 // SCALE})
        rabbit.ctl("set_policy", "-p", "/", "--apply-to", "queues", f"drill-{name}", pattern, ttl)
    conn = await asyncpg.connect(system.database_url)
    try:
        await conn.execute(POISON.format(psid=poison.psid))
        started = time.monotonic()  # the fault lasts from here until the cause is fixed
        async with Deliverer(system.url("messenger") + "/webhooks/meta") as deliverer:
            await steady_stream(deliverer, messages, rate=12.0)

        # The rest of the stream went past the poison: all answered while it was retried.
        flowing = await settle(system, "poison: the others", others, fault=None)
        print("\n" + flowing.report())

        # Parked after the first attempt and one per delay, and listed for the operator.
        waited = sum(DELAYS) / SCALE + 30
        listed = await until(lambda: parked(rabbit.url), waited, "the poison event was not parked")
        calls = model_calls(system, poison)
        gaps = [round(b - a, 1) for a, b in itertools.pairwise(calls)]
        print(
            f"[drill poison] attempts={len(calls)} pauses_between_attempts={gaps}s "
            f"(the services' delays {list(DELAYS)}s, divided by {SCALE} for the drill) "
            f"parked={len(listed)} parked_attempts={listed[0]['attempts']} error={listed[0]['error']}"
        )
        assert [m["event_type"] for m in listed] == ["message.received"]
        assert listed[0]["attempts"] == len(DELAYS)
        assert len(calls) == len(DELAYS) + 1, "one attempt and one retry per delay: no hot loop"
        assert not [m for m in system.fakes.meta.messages() if m.recipient_id == poison.psid and m.text]

        # The cause is fixed; the operator replays; the customer gets one answer.
        await conn.execute(CURE)
        fixed = time.monotonic()
        print(parking("replay", rabbit.url).strip())
        figures = await settle(system, "poison: replayed", messages, fault=(started, fixed), quiet=3.0)
        figures.extra.update(parked_left=len(parked(rabbit.url)))
        print(figures.report())
        assert parked(rabbit.url) == []
        assert_nothing_lost_or_doubled(flowing, figures)
    finally:
        await conn.execute(CURE)
        await conn.close()
        for delay in DELAYS:
            rabbit.ctl("clear_policy", "-p", "/", f"drill-{retry_queue_name(delay)}")
