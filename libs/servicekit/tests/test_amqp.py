"""`RABBITMQ_URL` with several hosts, and connections that fail over between them.

The "cluster" is the machine's one RabbitMQ behind two `TcpProxy` routes, one per "node": cutting
a route (open connections reset, new ones refused) is that node dying.
"""

from __future__ import annotations

import asyncio
import inspect
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aio_pika
import pytest
from aio_pika import RobustConnection
from aio_pika.exceptions import CONNECTION_EXCEPTIONS
from faststream.rabbit import RabbitBroker

from crm_contracts import ContactSeen, ContactSeenData
from crm_servicekit import amqp
from crm_servicekit.amqp import FailoverConnection, FailoverRabbitBroker, parse_rabbitmq_url
from crm_servicekit.broker import Topology, create_broker, declare_topology, subscribe
from crm_servicekit.logging import configure_logging
from crm_servicekit.parking import list_parked
from crm_servicekit.pdpa import purge_parked
from crm_servicekit.testing import eventually
from crm_servicekit.testproxy import TcpProxy

PASSWORD = "s3cr3t-Pw"

# -- parsing -----------------------------------------------------------------------------------


def test_a_single_host_url_is_read_as_before() -> None:
    parsed = parse_rabbitmq_url("amqp://guest:guest@127.0.0.1:5672/")
    assert parsed.url == "amqp://guest:guest@127.0.0.1:5672/"
    assert parsed.addresses == (("127.0.0.1", 5672),)
    assert parse_rabbitmq_url("amqp://rabbitmq/").addresses == (("rabbitmq", 5672),), "default port"


def test_several_hosts_share_credentials_vhost_and_query() -> None:
    parsed = parse_rabbitmq_url(
        f"amqp://crm:{PASSWORD}@node1:5672,node2:5673,node3/crm%2Fprod?heartbeat=30&name=crm"
    )
    assert parsed.addresses == (("node1", 5672), ("node2", 5673), ("node3", 5672))
    assert parsed.url == f"amqp://crm:{PASSWORD}@node1:5672/crm%2Fprod?heartbeat=30&name=crm"
    assert parsed.load_balance, "random order by default"


def test_amqps_ipv6_and_load_balance_hosts() -> None:
    parsed = parse_rabbitmq_url("AMQPS://u:p%40w@[::1]:5673,[fd00::3],node?load_balance_hosts=disable")
    assert parsed.addresses == (("::1", 5673), ("fd00::3", 5671), ("node", 5671)), "amqps: 5671"
    assert parsed.url == "amqps://u:p%40w@[::1]:5673", "load_balance_hosts is ours, not aio-pika's"
    assert not parsed.load_balance
    query = "?heartbeat=5&load_balance_hosts=random&x=1"
    assert parse_rabbitmq_url(f"amqp://a,b/{query}").url == "amqp://a:5672/?heartbeat=5&x=1"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (f"http://crm:{PASSWORD}@node1/", "must start with amqp:// or amqps://"),
        (f"crm:{PASSWORD}@node1", "must start with amqp:// or amqps://"),
        (f"amqp://crm:{PASSWORD}@node1,,node2/", "host 2: no host name"),
        (f"amqp://crm:{PASSWORD}@/", "host 1: no host name"),
        (f"amqp://crm:{PASSWORD}@node1,node2:http/", "host 2: the port must be a number"),
        (f"amqp://crm:{PASSWORD}@node1:0/", "host 1: the port must be a number"),
        (f"amqp://crm:{PASSWORD}@node1:65536/", "host 1: the port must be a number"),
        (f"amqp://crm:{PASSWORD}@node1:/", "host 1: a ':' with no port"),
        (f"amqp://crm:{PASSWORD}@node1,::1/", "host 2: an IPv6 address must be in brackets"),
        (f"amqp://crm:{PASSWORD}@[::1/", "host 1: an IPv6 address is written [address]"),
        (f"amqp://crm:{PASSWORD}@[::1]x/", "host 1: an IPv6 address is written [address]"),
        (f"amqp://crm:{PASSWORD}@[node1]/", "host 1: not an IPv6 address"),
        (f"amqp://crm:{PASSWORD}@no de/", "host 1: not a host name"),
        (f"amqp://crm:{PASSWORD}/x@node1/", "percent-encode"),
        (
            f"amqp://crm:{PASSWORD}@node1/?load_balance_hosts=yes",
            "load_balance_hosts must be random or disable",
        ),
    ],
)
def test_a_bad_url_is_a_value_error_naming_the_variable_not_the_password(url: str, says: str) -> None:
    with pytest.raises(ValueError, match="RABBITMQ_URL") as error:
        parse_rabbitmq_url(url)
    assert says in str(error.value)
    assert PASSWORD not in str(error.value)
    assert "s3cr3t" not in str(error.value)


def test_services_refuse_a_bad_url_when_they_build_their_broker() -> None:
    with pytest.raises(ValueError, match="RABBITMQ_URL, host 2"):
        create_broker(f"amqp://crm:{PASSWORD}@node1,node2:x/", Topology("bad"))


def test_each_connection_orders_the_hosts_at_random_unless_disabled() -> None:
    hosts = [(f"node{n}", 5672) for n in range(1, 4)]
    orders = {tuple(amqp._Hosts(hosts, load_balance=True).order) for _ in range(200)}
    assert len(orders) == 6, "every order of three hosts turns up: replicas spread over the nodes"
    assert {tuple(amqp._Hosts(hosts, load_balance=False).order) for _ in range(20)} == {tuple(hosts)}


def test_the_library_hooks_failover_relies_on_are_still_there() -> None:
    """Read in aio-pika 10.2.1 and FastStream 0.7.8 (amqp.py). If this fails after an upgrade,
    read their sources again: the overridden hook is no longer called the way amqp.py expects."""
    robust = vars(RobustConnection)
    factory = inspect.getsource(robust["_RobustConnection__connection_factory"])
    assert "await self.__connect_transport()" in factory, "every attempt opens its transport there"
    transport = inspect.getsource(robust["_RobustConnection__connect_transport"])
    assert "Connection.connect(self, self.__connect_timeout)" in transport, "...on self.url"
    assert "__fail_fast_future.set_result" in transport, "...and settles fail_fast there"
    assert "_RobustConnection__connect_transport" in vars(FailoverConnection), "we override it"
    assert "connection_class" in inspect.signature(aio_pika.connect_robust).parameters
    connect = inspect.getsource(RabbitBroker._connect)
    assert "connect_robust(**self._connection_kwargs)" in connect, "FastStream passes our class on"
    broker = FailoverRabbitBroker("amqp://a,b/")
    assert broker._connection_kwargs["connection_class"].func is FailoverConnection


# -- against RabbitMQ --------------------------------------------------------------------------


@dataclass
class Cluster:
    """Two routes to the machine's RabbitMQ, as two nodes of a cluster."""

    vhost_url: str
    nodes: tuple[TcpProxy, TcpProxy]

    def url(self) -> str:
        """RABBITMQ_URL naming both "nodes", in order."""
        parts = urlsplit(self.vhost_url)
        credentials = parts.netloc.rpartition("@")[0]
        hosts = ",".join(f"127.0.0.1:{node.port}" for node in self.nodes)
        return urlunsplit(
            (parts.scheme, f"{credentials}@{hosts}", parts.path, "load_balance_hosts=disable", "")
        )


@pytest.fixture
def cluster(rabbitmq_url: str) -> Iterator[Cluster]:
    # As a service's lifespan does: structlog lines reach the root logger (and caplog).
    configure_logging("crm-amqp-test", "INFO")
    with TcpProxy.for_url(rabbitmq_url) as first, TcpProxy.for_url(rabbitmq_url) as second:
        yield Cluster(rabbitmq_url, (first, second))


@dataclass
class Service:
    broker: RabbitBroker
    topology: Topology
    received: list[uuid.UUID]

    async def publish(self) -> uuid.UUID:
        event = ContactSeen(
            correlation_id="m_failover",
            data=ContactSeenData(
                page_id="p1", psid="u1", conversation_id=uuid.uuid4(), first_seen_at=datetime.now(UTC)
            ),
        )
        await self.broker.publish(
            event.model_dump_json().encode(),
            exchange="crm.events",
            routing_key=ContactSeen.event_type,
            message_id=str(event.event_id),
            persist=True,
        )
        return event.event_id

    async def consumed(self, event_id: uuid.UUID) -> None:
        async def seen() -> bool:
            return event_id in self.received

        await eventually(seen, timeout=10)

    async def port(self) -> int | None:
        connection = await self.broker.connect()
        return connection.url.port if connection.connected.is_set() else None


@pytest.fixture
async def service(cluster: Cluster) -> AsyncIterator[Service]:
    topology = Topology(f"failover{uuid.uuid4().hex[:6]}")
    broker = create_broker(cluster.url(), topology)
    received: list[uuid.UUID] = []

    @subscribe(broker, topology, "contacts", ContactSeen)
    async def on_contact(event: ContactSeen) -> None:
        received.append(event.event_id)

    yield Service(broker, topology, received)
    await broker.stop()


async def start(service: Service) -> None:
    await service.broker.connect()
    await declare_topology(service.broker, service.topology)
    await service.broker.start()


def lines(caplog: pytest.LogCaptureFixture, event: str) -> list[dict[str, Any]]:
    return [r.msg for r in caplog.records if isinstance(r.msg, dict) and r.msg.get("event") == event]


@pytest.mark.integration
async def test_a_service_moves_to_another_node_when_its_node_dies(
    cluster: Cluster, service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = cluster.nodes
    await start(service)
    assert await service.port() == first.port, "hosts in the order written (load_balance_hosts=disable)"
    await service.consumed(await service.publish())
    connection = await service.broker.connect()
    reconnected = asyncio.Event()
    # Called once the new connection has its channels and consumers back.
    connection.reconnect_callbacks.add(lambda _: reconnected.set())

    first.cut()  # the node dies: its connections reset, new ones refused

    await asyncio.wait_for(reconnected.wait(), 15)
    assert await service.port() == second.port
    await service.consumed(await service.publish())  # published after the cut, consumed
    [moved] = lines(caplog, "rabbitmq connection moved to another host")
    assert moved["host"] == f"127.0.0.1:{second.port}"
    assert moved["previous"] == f"127.0.0.1:{first.port}"
    assert f":{urlsplit(cluster.vhost_url).password}@" not in caplog.text, "no line carries the password"


@pytest.mark.integration
async def test_a_service_starts_while_the_first_node_is_down(
    cluster: Cluster, service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = cluster.nodes
    first.cut()
    await start(service)
    assert await service.port() == second.port
    await service.consumed(await service.publish())
    [unreachable] = lines(caplog, "rabbitmq host unreachable")
    assert unreachable["host"] == f"127.0.0.1:{first.port}"
    assert unreachable["error"] in {"ConnectionRefusedError", "AMQPConnectionError"}

    # The short jobs (the parking CLI, PDPA purges) connect through the same list.
    queue = service.topology.queue_name("contacts")
    assert await list_parked(cluster.url(), queue) == []
    assert await purge_parked(cluster.url(), [queue], ["someone"]) == 0
    connection = await amqp.connect(cluster.url())
    async with connection:
        assert connection.url.port == second.port


@pytest.mark.integration
async def test_fail_fast_still_fails_when_no_node_answers(cluster: Cluster, service: Service) -> None:
    for node in cluster.nodes:
        node.cut()
    with pytest.raises(CONNECTION_EXCEPTIONS):
        await service.broker.connect()
    with pytest.raises(CONNECTION_EXCEPTIONS):
        await amqp.connect(cluster.url())


@pytest.mark.integration
async def test_a_node_that_accepts_but_never_answers_is_passed_over(cluster: Cluster) -> None:
    """A hung node (its kernel completes the TCP handshake, RabbitMQ never speaks): the attempt
    moves on after the per-host timeout instead of waiting on it."""
    first, second = cluster.nodes
    with socket.create_server(("127.0.0.1", 0), backlog=8) as hung:  # listens, never accepts
        url = cluster.url().replace(f"127.0.0.1:{first.port}", f"127.0.0.1:{hung.getsockname()[1]}")
        broker = FailoverRabbitBroker(url, timeout=1.0, logger=None)
        try:
            connection = await broker.connect()
            assert connection.url.port == second.port
        finally:
            await broker.stop()
