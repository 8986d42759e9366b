"""`RABBITMQ_URL` with several hosts, and connections that fail over between them (ADR 16).

    amqp://user:pass@node1:5672,node2:5673,[fd00::3]/vhost?heartbeat=30

One URL, several `host[:port]` separated by commas, as libpq and the RabbitMQ Java client's
address lists have them: the credentials, the virtual host and the query apply to every host; a
host without a port takes the scheme's (5672, or 5671 for `amqps://`); an IPv6 address goes in
brackets. `load_balance_hosts=disable` (libpq's name) keeps the hosts in the order written;
the default, `random`, shuffles them once per connection so the replicas of a Deployment, which
share one URL, spread over the cluster's nodes at start-up and again when a node dies.

Each connection attempt, the first and every reconnection, tries the hosts in turn and fails only
when none answered: it starts with the host it last connected to, or with the next one when the
connection to that host was lost. `FailoverRabbitBroker` is FastStream's broker on such a
connection; `connect()` opens a plain (not robust) one for short jobs (the parking CLI, PDPA
purges). A single-host URL works exactly as before.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from aio_pika import Connection, RobustConnection
from aio_pika.abc import TimeoutType
from aio_pika.exceptions import CONNECTION_EXCEPTIONS
from faststream.rabbit import RabbitBroker
from yarl import URL

from .logging import get_logger

log = get_logger(__name__)

# Per host: a node that is gone without refusing (its address blackholed) must not hold a whole
# attempt for the kernel's two-minute SYN timeout before the next host is tried.
CONNECT_TIMEOUT = 10.0
DEFAULT_PORTS = {"amqp": 5672, "amqps": 5671}
LOAD_BALANCE = "load_balance_hosts"
_HOSTNAME = re.compile(r"[A-Za-z0-9_.~%-]+")

Address = tuple[str, int]


@dataclass(frozen=True)
class RabbitmqUrl:
    """`RABBITMQ_URL` taken apart: `url` is a single-host URL (the first host) for the libraries,
    `addresses` every host in the order written."""

    url: str
    addresses: tuple[Address, ...]
    load_balance: bool = True


def parse_rabbitmq_url(url: str) -> RabbitmqUrl:
    """Parse `RABBITMQ_URL`; a ValueError says what is wrong without quoting the URL."""
    scheme, sep, rest = url.strip().partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in DEFAULT_PORTS:
        raise ValueError("RABBITMQ_URL must start with amqp:// or amqps://")
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    netloc, tail = rest[:end], rest[end:]
    if "@" in tail.partition("?")[0].partition("#")[0]:
        raise ValueError("RABBITMQ_URL: percent-encode '/', '?', '#' and '@' in the user name and password")
    userinfo, at, hostlist = netloc.rpartition("@")
    addresses = tuple(
        _address(part, DEFAULT_PORTS[scheme], position)
        for position, part in enumerate(hostlist.split(","), start=1)
    )
    tail, load_balance = _load_balance(tail)
    first = f"{scheme}://{userinfo}{at}{_netloc(addresses[0])}{tail}"
    try:
        parsed = URL(first)
        _ = parsed.port, parsed.user, parsed.password, parsed.path, parsed.query
    except ValueError:
        raise ValueError("RABBITMQ_URL is not a valid URL (check its credentials and path)") from None
    return RabbitmqUrl(first, addresses, load_balance)


def _address(text: str, default_port: int, position: int) -> Address:
    where = f"RABBITMQ_URL, host {position}:"
    if text.startswith("["):
        inside, bracket, port = text[1:].partition("]")
        if not bracket or (port and not port.startswith(":")):
            raise ValueError(f"{where} an IPv6 address is written [address] or [address]:port")
        try:
            host = str(ipaddress.IPv6Address(inside))
        except ValueError:
            raise ValueError(f"{where} not an IPv6 address inside the brackets") from None
        port = port[1:]
    else:
        if text.count(":") > 1:
            raise ValueError(f"{where} an IPv6 address must be in brackets, [address]:port")
        host, colon, port = text.partition(":")
        if not host:
            raise ValueError(f"{where} no host name (an empty entry in the list?)")
        if not _HOSTNAME.fullmatch(host):
            raise ValueError(f"{where} not a host name")
        if colon and not port:
            raise ValueError(f"{where} a ':' with no port after it")
    if not port:
        return host, default_port
    if not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{where} the port must be a number from 1 to 65535")
    return host, int(port)


def _load_balance(tail: str) -> tuple[str, bool]:
    """`tail` (path, query, fragment) without `load_balance_hosts`, and its value."""
    path, question, rest = tail.partition("?")
    if not question:
        return tail, True
    query, hash_, fragment = rest.partition("#")
    kept, load_balance = [], True
    for item in query.split("&"):
        key, _, value = item.partition("=")
        if key != LOAD_BALANCE:
            kept.append(item)
        elif value in ("random", "disable"):
            load_balance = value == "random"
        else:
            raise ValueError(f"RABBITMQ_URL: {LOAD_BALANCE} must be random or disable")
    query = "&".join(item for item in kept if item)
    return path + ("?" + query if query else "") + hash_ + fragment, load_balance


def _netloc(address: Address) -> str:
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class _Hosts:
    """The hosts of one connection, in its order, and where its next attempt starts."""

    def __init__(self, addresses: Sequence[Address], load_balance: bool) -> None:
        if not addresses:
            raise ValueError("RABBITMQ_URL names no host")
        self.order = random.sample(addresses, len(addresses)) if load_balance else list(addresses)
        self.start = 0
        self.connected: int | None = None  # index of the host of the live connection
        self.last: int | None = None  # index of the last host a connection was made to

    async def connect(self, connection: Connection, attempt: Callable[[], Awaitable[None]]) -> None:
        """Point `connection.url` at each host in turn and run `attempt` until one succeeds."""
        if self.connected is not None:
            # A new attempt while connected means that connection was lost: its host failed.
            self.start = (self.connected + 1) % len(self.order)
            self.connected = None
        error: BaseException = ConnectionError("no host tried")
        for offset in range(len(self.order)):
            index = (self.start + offset) % len(self.order)
            host, port = self.order[index]
            # The connection's own URL, not a copy: it keeps a password changed by update_secret.
            connection.url = connection.url.with_host(host).with_port(port)
            try:
                await attempt()
            except CONNECTION_EXCEPTIONS as exc:
                error = exc
                if len(self.order) > 1:
                    log.warning(
                        "rabbitmq host unreachable", host=_netloc((host, port)), error=type(exc).__name__
                    )
                continue
            if self.last is not None and self.last != index:
                log.warning(
                    "rabbitmq connection moved to another host",
                    host=_netloc((host, port)),
                    previous=_netloc(self.order[self.last]),
                )
            elif len(self.order) > 1:
                log.info("rabbitmq connected", host=_netloc((host, port)))
            self.start = self.connected = self.last = index
            return
        # The last host's error, a connection error as aio-pika expects (its retry loop and
        # fail_fast treat only those as "the broker is unreachable").
        raise error


class _MultiHost(Connection):
    """A connection that knows several hosts. `addresses`: `(host, port)`; none means the host of
    `url` alone."""

    def __init__(
        self,
        url: URL,
        loop: asyncio.AbstractEventLoop | None = None,
        *,
        addresses: Sequence[Address] = (),
        load_balance: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(url, loop, **kwargs)
        self.hosts = _Hosts(
            addresses or [(self.url.host or "localhost", self.url.port or 5672)], load_balance
        )


class FailoverConnection(_MultiHost, RobustConnection):
    """aio-pika's robust connection whose every (re)connection tries each host in turn."""

    # The private hook, read in aio-pika 10.2.1 (aio_pika/robust_connection.py): the reconnection
    # loop `RobustConnection.__connection_factory` opens the transport of every attempt, the first
    # and each reconnection, through `RobustConnection.__connect_transport` (name-mangled to
    # `_RobustConnection__connect_transport`), which clears the transport, runs
    # `Connection.connect(self, timeout)` on `self.url` and settles the fail_fast future. We run
    # it once per host. tests/test_amqp.py fails if an upgrade renames or bypasses it.
    async def _RobustConnection__connect_transport(self) -> None:
        attempt = super()._RobustConnection__connect_transport  # type: ignore[misc]
        await self.hosts.connect(self, attempt)


class FirstReachableConnection(_MultiHost):
    """A plain connection (no reconnection) made to the first host that answers."""

    async def connect(self, timeout: TimeoutType = None) -> None:
        await self.hosts.connect(self, partial(Connection.connect, self, timeout))


async def connect(url: str, *, timeout: float = CONNECT_TIMEOUT) -> FirstReachableConnection:
    """A plain connection to the first host of `RABBITMQ_URL` that answers, for a short job."""
    target = parse_rabbitmq_url(url)
    connection = FirstReachableConnection(
        URL(target.url), addresses=target.addresses, load_balance=target.load_balance
    )
    try:
        await connection.connect(timeout)
    except BaseException:
        await connection.close()
        raise
    return connection


class FailoverRabbitBroker(RabbitBroker):
    """FastStream's `RabbitBroker` on a `FailoverConnection`: `url` may name several hosts.

    Takes RabbitBroker's keyword options; `timeout` (per host) defaults to `CONNECT_TIMEOUT`.
    """

    def __init__(self, url: str, **options: Any) -> None:
        target = parse_rabbitmq_url(url)
        options.setdefault("timeout", CONNECT_TIMEOUT)
        super().__init__(target.url, **options)
        # The hook, read in FastStream 0.7.8 (faststream/rabbit/broker/broker.py):
        # `RabbitBroker._connect` calls `aio_pika.connect_robust(**self._connection_kwargs)`, and
        # `connect_robust` builds its connection with `connection_class(url, ..., **kwargs)`.
        self._connection_kwargs["connection_class"] = partial(
            FailoverConnection, addresses=target.addresses, load_balance=target.load_balance
        )
