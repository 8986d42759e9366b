"""Drill 7: a three-node RabbitMQ cluster whose queue-leader node is stopped mid-stream.

Three nodes of the drill's own (names, ports and data folders of their own) are joined with
`rabbitmqctl join_cluster`; the queues are declared (quorum, three replicas each) through the
first node, which so holds every leader. Every service's `RABBITMQ_URL` lists the three nodes
(`amqp://guest:guest@127.0.0.1:a,127.0.0.1:b,127.0.0.1:c/`, ADR 16); each connection starts on a
node of its own choosing (random order), so the services are spread over the cluster. The leader
node stops mid-stream: the quorum queues elect leaders on the other two, the services connected
to it fail over to a live node by themselves, and nothing is lost or doubled. Then the node
comes back and joins again, and the system settles once more.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from .checker import settle
from .conftest import Servers, create_database
from .drill import COUNT, assert_nothing_lost_or_doubled, run_drill
from .servers import RabbitCluster, RabbitNode, rabbit_home
from .stream import customer_messages
from .system import DrillSystem, Fakes, start_system

pytestmark = [pytest.mark.e2e, pytest.mark.faults, pytest.mark.timeout(300)]

# The message path only: the marketing service has no part in it.
SERVICES = ("gateway", "cache-writer", "ai", "messenger")


@dataclass
class ClusterSystem:
    system: DrillSystem
    cluster: RabbitCluster

    def node(self, nodename: str) -> RabbitNode:
        return next(n for n in self.cluster.nodes if n.nodename == nodename)


@pytest.fixture(scope="module")
async def cluster_system(
    servers: Servers, fakes: Fakes, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ClusterSystem]:
    root = servers.root / "cluster"
    run = uuid.uuid4().hex[:6]  # node names of this run's own
    home = rabbit_home(root, f"CRMFAULTSCLUSTER{run}".upper())
    nodes = [RabbitNode(root, f"crmfaults{run}{x}", home) for x in "abc"]
    for node in nodes:
        node.prepare()
    cluster = RabbitCluster(nodes)
    system: DrillSystem | None = None
    try:
        await asyncio.gather(*(asyncio.to_thread(n.start) for n in nodes))
        await asyncio.to_thread(cluster.form)
        database_url = await create_database(servers.postgres, "crm_cluster")
        every_node = ",".join(f"127.0.0.1:{n.port}" for n in nodes)
        system = await start_system(
            root=tmp_path_factory.mktemp("faults-cluster"),
            database_url=database_url,
            rabbitmq_url=nodes[0].url,
            service_rabbitmq_url=f"amqp://guest:guest@{every_node}/",
            fakes=fakes,
            services=SERVICES,
        )
        yield ClusterSystem(system, cluster)
    finally:
        if system is not None:
            await asyncio.to_thread(system.stack.stop)
        await asyncio.gather(*(asyncio.to_thread(n.kill) for n in nodes))


def leaders(cs: ClusterSystem) -> Counter[str]:
    return Counter(cs.cluster.leaders().values())


async def test_leader_node_stopped_the_services_fail_over_and_lose_and_double_nothing(
    cluster_system: ClusterSystem,
) -> None:
    cs = cluster_system
    held = await asyncio.to_thread(leaders, cs)
    leader = cs.node(held.most_common(1)[0][0])

    async def stop_leader_node() -> dict[str, Any]:
        await asyncio.to_thread(leader.stop)
        return {"stopped": leader.nodename, "leaders_before": dict(held)}

    messages = customer_messages("cluster", COUNT)
    down = await run_drill(
        cs.system, "cluster: leader node stopped", "cluster", stop_leader_node, messages=messages
    )
    after = await asyncio.to_thread(leaders, cs)
    print(f"    leaders after: {dict(after)}")
    assert leader.nodename not in after, "the quorum queues elected leaders on the live nodes"

    # The node comes back and rejoins; the system settles again with it.
    began = time.monotonic()
    await asyncio.to_thread(leader.start)
    again = await settle(
        cs.system, "cluster: the stopped node started again", messages, fault=(began, time.monotonic())
    )
    print(again.report())
    assert_nothing_lost_or_doubled(down, again)
