"""Drill 6: network faults between the services and PostgreSQL and RabbitMQ.

Every service reaches both through the drill's fault proxy (`proxy.py`), which here, mid-stream:

- adds latency to every packet, both ways, for a while;
- drops connections: ends every database connection (FIN), then resets every broker
  connection (RST), then resets both at once;
- partitions the network: nothing passes either way for a while, then everything held is
  delivered (as TCP does when a partition heals before its connections time out).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from .conftest import Servers
from .drill import assert_nothing_lost_or_doubled, run_drill
from .system import DrillSystem

pytestmark = [pytest.mark.e2e, pytest.mark.faults, pytest.mark.timeout(240)]

ROUTES = ("postgres", "rabbitmq")


async def test_latency_loses_and_doubles_nothing(system: DrillSystem, servers: Servers) -> None:
    async def slow_network() -> dict[str, Any]:
        for route in ROUTES:
            servers.proxy.latency(route, 0.2)
        await asyncio.sleep(6)
        for route in ROUTES:
            servers.proxy.latency(route, 0.0)
        return {"added_latency": "200ms each way"}

    figures = await run_drill(system, "network latency", "net-latency", slow_network)
    assert_nothing_lost_or_doubled(figures)


async def test_dropped_and_reset_connections_lose_and_double_nothing(
    system: DrillSystem, servers: Servers
) -> None:
    async def drop_connections() -> dict[str, Any]:
        closed = servers.proxy.close("postgres")
        await asyncio.sleep(1)
        reset = servers.proxy.reset("rabbitmq")
        await asyncio.sleep(2)
        both = servers.proxy.reset("postgres") + servers.proxy.reset("rabbitmq")
        return {"closed_db_connections": closed, "reset_broker_connections": reset, "then_reset": both}

    figures = await run_drill(system, "dropped and reset connections", "net-drops", drop_connections)
    assert_nothing_lost_or_doubled(figures)


async def test_partition_loses_and_doubles_nothing(system: DrillSystem, servers: Servers) -> None:
    async def partition() -> dict[str, Any]:
        for route in ROUTES:
            servers.proxy.partition(route, True)
        await asyncio.sleep(6)
        for route in ROUTES:
            servers.proxy.partition(route, False)
        return {"partitioned_for": "6s"}

    figures = await run_drill(system, "network partition", "net-partition", partition)
    assert_nothing_lost_or_doubled(figures)
