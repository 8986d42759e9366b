"""Run an ASGI app with uvicorn in a background thread on loopback."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from types import TracebackType
from typing import Self

import uvicorn
from starlette.types import ASGIApp


class _Server(uvicorn.Server):
    """uvicorn server that signals readiness through a threading.Event."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.ready.set()


def _run(server: _Server) -> None:
    # uvicorn calls sys.exit() when it cannot bind; start() reports that instead.
    with contextlib.suppress(SystemExit):
        server.run()


class FakeServer:
    """A real HTTP server for `app` on `host`; port 0 picks a free ephemeral port.

    >>> with FakeServer(create_meta_app(state)) as fake:
    ...     httpx.post(f"{fake.url}/v23.0/me/messages", ...)
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        startup_timeout: float = 10.0,
        log_level: str = "warning",
    ) -> None:
        self._app = app
        self._host = host
        self._requested_port = port
        self._startup_timeout = startup_timeout
        self._log_level = log_level
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeServer is not running; call start() first")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def start(self) -> Self:
        """Start serving; returns once the server accepts TCP connections."""
        if self._thread is not None:
            raise RuntimeError("FakeServer already started")
        config = uvicorn.Config(
            self._app,
            host=self._host,
            port=self._requested_port,
            log_config=None,
            log_level=self._log_level,
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=3,
        )
        server = _Server(config)
        thread = threading.Thread(target=_run, args=(server,), name="FakeServer", daemon=True)
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + self._startup_timeout
        while not server.ready.wait(0.01):
            if not thread.is_alive():
                self._server = self._thread = None
                raise RuntimeError(f"FakeServer failed to start on {self._host}:{self._requested_port}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError("FakeServer did not start in time")
        self._port = int(server.servers[0].sockets[0].getsockname()[1])
        self._wait_accepting(deadline)
        return self

    def _wait_accepting(self, deadline: float) -> None:
        while True:
            try:
                with socket.create_connection((self._host, self.port), timeout=0.5):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise TimeoutError("FakeServer does not accept connections") from None
                time.sleep(0.01)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and join the thread; safe to call more than once."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(timeout)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout)
        self._server = self._thread = None
        self._port = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
