"""A small fault-injecting TCP proxy, in a process of its own, between the services and their
PostgreSQL and RabbitMQ.

Each *route* listens on a loopback port and forwards every connection to the first of its
targets that accepts it (one target: a plain proxy; several: a balancer in front of a cluster,
as a Kubernetes Service is). On a route a drill can, while traffic flows:

- `latency(route, seconds)`: hold every chunk that long before passing it on (both ways, order kept);
- `partition(route, on)`: pass nothing on, in either direction, and accept new connections
  without connecting them, until it is healed; what was held is then delivered, as TCP
  retransmits after a network partition heals;
- `reset(route)`: end every open connection with a TCP reset (RST), both sides;
- `close(route)`: end every open connection with a FIN, both sides;
- `targets(route, [...])`: where new connections go from now on.

It runs as a separate process (`python proxy.py`, standard library only) so that forwarding
every byte of five services costs the drill's own process nothing; the drill sends it one JSON
command per line on its stdin and reads one JSON answer per line from its stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import select
import socket
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST, not FIN
_EOF = b""


# -- the proxy process ------------------------------------------------------------------------


@dataclass(eq=False)  # kept in a set, by identity
class _Connection:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def writers(self) -> list[asyncio.StreamWriter]:
        return [w for w in (self.client, self.upstream) if w is not None]


class _Route:
    def __init__(self, name: str, targets: list[tuple[str, int]]) -> None:
        self.name = name
        self.targets = targets
        self.latency = 0.0
        self.healthy = asyncio.Event()
        self.healthy.set()
        self.open: set[_Connection] = set()
        self.server: asyncio.Server | None = None
        self.accepted = 0
        self.forwarded = 0

    async def listen(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        conn = _Connection(writer)
        self.open.add(conn)
        try:
            await self.healthy.wait()  # a partition: the connection hangs, as SYNs would
            upstream_reader: asyncio.StreamReader | None = None
            for host, port in self.targets:
                try:
                    upstream_reader, conn.upstream = await asyncio.wait_for(
                        asyncio.open_connection(host, port), 5
                    )
                    break
                except (OSError, TimeoutError):
                    continue
            if upstream_reader is None or conn.upstream is None:
                _abort(writer)
                return
            conn.tasks = [
                asyncio.create_task(self._pipe(reader, conn.upstream)),
                asyncio.create_task(self._pipe(upstream_reader, writer)),
            ]
            await asyncio.gather(*conn.tasks, return_exceptions=True)
        finally:
            for w in conn.writers():
                with contextlib.suppress(Exception):
                    w.close()
            self.open.discard(conn)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Forward in order; each chunk waits out the latency and any partition first."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def send() -> None:
            while True:
                due, data = await queue.get()
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                await self.healthy.wait()
                if data == _EOF:
                    with contextlib.suppress(OSError, RuntimeError):
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()
                self.forwarded += len(data)

        sender = asyncio.create_task(send())
        ended = False
        try:
            while True:
                data = await reader.read(65536)
                await queue.put((time.monotonic() + self.latency, data))
                if not data:
                    break
            await sender
            ended = True
        except (OSError, ConnectionError):
            pass
        finally:
            sender.cancel()
            # An end passes on as an end; a reset (or a write that failed) as a reset.
            if ended:
                with contextlib.suppress(Exception):
                    writer.close()
            else:
                _abort(writer)

    def reset(self) -> int:
        n = len(self.open)
        for conn in list(self.open):
            for w in conn.writers():
                _abort(w)
        return n

    def close(self) -> int:
        n = len(self.open)
        for conn in list(self.open):
            for w in conn.writers():
                with contextlib.suppress(Exception):
                    w.close()
        return n


def _abort(writer: asyncio.StreamWriter) -> None:
    if writer.transport.is_closing():
        return
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
    writer.transport.abort()


async def _serve_commands() -> None:
    routes: dict[str, _Route] = {}
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        cmd = json.loads(line)
        op, name = cmd["op"], cmd.get("route", "")
        answer: dict[str, Any] = {"ok": True}
        try:
            if op == "route":
                route = routes[name] = _Route(name, [(h, int(p)) for h, p in cmd["targets"]])
                answer["port"] = await route.listen()
            elif op == "targets":
                routes[name].targets = [(h, int(p)) for h, p in cmd["targets"]]
            elif op == "latency":
                routes[name].latency = float(cmd["seconds"])
            elif op == "partition":
                event = routes[name].healthy
                event.clear() if cmd["on"] else event.set()
            elif op == "reset":
                answer["connections"] = routes[name].reset()
            elif op == "close":
                answer["connections"] = routes[name].close()
            elif op == "stats":
                answer["routes"] = {
                    n: {"open": len(r.open), "accepted": r.accepted, "forwarded": r.forwarded}
                    for n, r in routes.items()
                }
            else:
                answer = {"ok": False, "error": f"unknown op {op}"}
        except Exception as exc:
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(answer), flush=True)


# -- the drill's side -------------------------------------------------------------------------


class FaultProxy:
    """The proxy process, driven from the drill."""

    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self._process: subprocess.Popen[str] | None = None
        self.ports: dict[str, int] = {}

    def start(self) -> FaultProxy:
        self._process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stdout is not None:
            process.stdout.close()

    def _call(self, **cmd: Any) -> dict[str, Any]:
        process = self._process
        assert process is not None, "the fault proxy is not running"
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write(json.dumps(cmd) + "\n")
        process.stdin.flush()
        ready, _, _ = select.select([process.stdout], [], [], self.timeout)
        if not ready:
            raise TimeoutError(f"the fault proxy did not answer {cmd['op']} within {self.timeout:g} s")
        answer: dict[str, Any] = json.loads(process.stdout.readline())
        if not answer.get("ok"):
            raise RuntimeError(f"fault proxy: {answer.get('error')}")
        return answer

    def route(self, name: str, targets: list[tuple[str, int]]) -> int:
        """A new route to `targets` (tried in order); returns the port it listens on."""
        port = int(self._call(op="route", route=name, targets=targets)["port"])
        self.ports[name] = port
        return port

    def targets(self, name: str, targets: list[tuple[str, int]]) -> None:
        self._call(op="targets", route=name, targets=targets)

    def latency(self, name: str, seconds: float) -> None:
        self._call(op="latency", route=name, seconds=seconds)

    def partition(self, name: str, on: bool) -> None:
        self._call(op="partition", route=name, on=on)

    def reset(self, name: str) -> int:
        return int(self._call(op="reset", route=name)["connections"])

    def close(self, name: str) -> int:
        return int(self._call(op="close", route=name)["connections"])

    def stats(self) -> dict[str, dict[str, int]]:
        routes: dict[str, dict[str, int]] = self._call(op="stats")["routes"]
        return routes


if __name__ == "__main__":
    asyncio.run(_serve_commands())
