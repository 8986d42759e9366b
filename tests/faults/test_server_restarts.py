"""Drills 4 and 5: RabbitMQ restarted, then PostgreSQL restarted, mid-stream.

Both are the drills' own instances (never the machine's): the broker node is shut down and
started again on the same port with the same data (its durable quorum queues survive it); the
database server is stopped with `pg_ctl -m fast` (every connection ended) and started again.
Each stays down a few seconds, long enough for every service to notice. The services must
reconnect by themselves; Meta's webhook deliveries refused meanwhile are delivered again (as
Meta does) and must be accepted once the database is back.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from .conftest import Servers
from .drill import assert_nothing_lost_or_doubled, run_drill
from .system import DrillSystem

pytestmark = [pytest.mark.e2e, pytest.mark.faults, pytest.mark.timeout(240)]

DOWN_FOR = 3.0  # seconds the server stays down


async def test_rabbitmq_restart_mid_stream_loses_and_doubles_nothing(
    system: DrillSystem, servers: Servers
) -> None:
    async def restart_rabbitmq() -> dict[str, Any]:
        began = time.monotonic()
        await asyncio.to_thread(servers.rabbit.stop)
        stopped = time.monotonic()
        await asyncio.sleep(DOWN_FOR)
        await asyncio.to_thread(servers.rabbit.start)
        return {
            "stopping_took": f"{stopped - began:.1f}s",
            "starting_took": f"{time.monotonic() - stopped - DOWN_FOR:.1f}s",
        }

    figures = await run_drill(system, "RabbitMQ restarted", "rabbitmq-restart", restart_rabbitmq)
    assert_nothing_lost_or_doubled(figures)


async def test_postgresql_restart_mid_stream_loses_and_doubles_nothing(
    system: DrillSystem, servers: Servers
) -> None:
    async def restart_postgresql() -> dict[str, Any]:
        await asyncio.to_thread(servers.postgres.stop, "fast")
        await asyncio.sleep(DOWN_FOR)
        await asyncio.to_thread(servers.postgres.start)
        return {}

    figures = await run_drill(system, "PostgreSQL restarted", "postgres-restart", restart_postgresql)
    assert_nothing_lost_or_doubled(figures)
