"""Test plumbing: a TCP proxy on loopback that plays outages in front of a real server.

Tests use it to see what a service does when PostgreSQL restarts, RabbitMQ goes away or a
connection to Gemini drops mid-request, without touching the machine's real servers (other
test runs use them):

- `cut()`: every open connection is reset and new ones are refused, like a server going down;
- `restore()`: connections are accepted again on the same port, like the server coming back;
- `drop_next(n)`: the next `n` connections are accepted, their first bytes (the request) read,
  and then reset (`reset=True`: the client's read fails, httpx's `ReadError`) or closed with
  no answer (`reset=False`: httpx's `RemoteProtocolError`);
- `freeze()`: connections stay open but no byte goes through either way, like a node that is
  gone without a word (a partition), until `thaw()`.

It runs its own event loop in a thread, so sync and async tests can use it alike.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from collections.abc import Coroutine
from typing import Any, Self, TypeVar
from urllib.parse import urlsplit, urlunsplit

T = TypeVar("T")
_LINGER_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST, not FIN


class TcpProxy:
    """Forwards 127.0.0.1:`port` (0: a free one) to `target_host`:`target_port`."""

    def __init__(self, target_host: str, target_port: int, *, port: int = 0, timeout: float = 10.0) -> None:
        self.target = (target_host, target_port)
        self.port = port
        self.timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="TcpProxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._drops: list[bool] = []
        self._flowing = asyncio.Event()
        self._flowing.set()
        self.accepted = 0

    @classmethod
    def for_url(cls, url: str, **options: Any) -> TcpProxy:
        """A proxy for the server of `url` (`postgresql://`, `amqp://`, `http://`)."""
        parts = urlsplit(url)
        default = {"postgresql": 5432, "amqp": 5672, "http": 80}.get(parts.scheme.split("+")[0], 0)
        return cls(parts.hostname or "127.0.0.1", parts.port or default, **options)

    def url(self, url: str) -> str:
        """`url` with its host and port replaced by the proxy's."""
        parts = urlsplit(url)
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@127.0.0.1:{self.port}" if credentials else f"127.0.0.1:{self.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    def start(self) -> Self:
        self._thread.start()
        self._call(self._listen())
        return self

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self._call(self._cut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(self.timeout)
        self._loop.close()

    def cut(self) -> None:
        """Reset every open connection and refuse new ones, until `restore()`."""
        self._call(self._cut())

    def restore(self) -> None:
        """Accept connections again, on the same port."""
        self._call(self._listen())

    def freeze(self) -> None:
        """Hold every byte in both directions, connections left open, until `thaw()`."""
        self._loop.call_soon_threadsafe(self._flowing.clear)

    def thaw(self) -> None:
        self._loop.call_soon_threadsafe(self._flowing.set)

    def drop_next(self, times: int = 1, *, reset: bool = True) -> None:
        """Accept the next `times` connections, read the request, then drop them."""
        self._loop.call_soon_threadsafe(self._drops.extend, [reset] * times)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- in the proxy's loop ---------------------------------------------------------------
    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(self.timeout)

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)
            self.port = int(self._server.sockets[0].getsockname()[1])

    async def _cut(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._open):
            _reset(writer)
        self._open.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self._drops:
            reset = self._drops.pop(0)
            await reader.read(65536)
            if reset:
                _reset(writer)
            else:
                writer.close()
            return
        try:
            upstream_reader, upstream = await asyncio.open_connection(*self.target)
        except OSError:
            _reset(writer)
            return
        self._open.update((writer, upstream))
        await asyncio.gather(
            _pipe(reader, upstream, self._flowing), _pipe(upstream_reader, writer, self._flowing)
        )
        self._open.difference_update((writer, upstream))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, flowing: asyncio.Event) -> None:
    try:
        while data := await reader.read(65536):
            await flowing.wait()
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


def _reset(writer: asyncio.StreamWriter) -> None:
    if writer.transport.is_closing():
        return
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    writer.transport.abort()
