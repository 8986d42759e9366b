"""Each service the runner starts gets two ports (ADR 17): `PORT`, its public door, and
`INTERNAL_PORT`, where its internal API, /metrics and /docs answer; the gateway is told the
internal ports of the services it calls."""

from __future__ import annotations

import socket
from pathlib import Path

from crm_localrun import SERVICES, Stack
from crm_localrun.ports import free_port


def test_default_ports_get_the_default_internal_ports_and_the_gateway_calls_them() -> None:
    stack = Stack(env={})
    assert stack.internal_ports == {service: port + 100 for service, port in SERVICES.items()}
    gateway = stack.service_env("gateway")
    assert (gateway["PORT"], gateway["INTERNAL_PORT"]) == ("8000", "8100")
    assert gateway["MESSENGER_INTERNAL_URL"] == "http://127.0.0.1:8101"
    assert gateway["MARKETING_INTERNAL_URL"] == "http://127.0.0.1:8102"
    assert gateway["AI_INTERNAL_URL"] == "http://127.0.0.1:8103"
    assert stack.internal_url("messenger") == "http://127.0.0.1:8101"
    assert stack.url("messenger") == "http://127.0.0.1:8001"


def test_ports_of_your_own_get_free_internal_ports_of_their_own() -> None:
    stack = Stack(env={}, ports={"gateway": 18000, "messenger": 18001})
    internal = stack.internal_ports
    assert set(internal) == {"gateway", "messenger"}
    assert len({*internal.values(), 18000, 18001}) == 4
    assert stack.service_env("messenger")["INTERNAL_PORT"] == str(internal["messenger"])
    assert stack.service_env("gateway")["MESSENGER_INTERNAL_URL"] == stack.internal_url("messenger")
    assert "MARKETING_INTERNAL_URL" not in stack.service_env("gateway")


def test_internal_ports_can_be_named() -> None:
    stack = Stack(env={}, ports={"ai": 9003}, internal_ports={"ai": 9903})
    assert stack.service_env("ai")["INTERNAL_PORT"] == "9903"


def test_a_chosen_port_is_free_outside_the_range_outgoing_connections_take_theirs() -> None:
    """A port handed out now is bound seconds later: an outgoing connection must not take it first."""
    ephemeral_start = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = [free_port() for _ in range(50)]
    assert all(port < ephemeral_start for port in ports)
    assert len(set(ports)) == len(ports)  # never the same twice
    for port in ports:
        with socket.create_server(("127.0.0.1", port)):
            pass
