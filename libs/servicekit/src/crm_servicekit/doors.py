"""Two doors into one service (ADR 17): one process, one app, one server listening on two
sockets. A request that arrived on `INTERNAL_PORT` reaches the whole app; on any other socket
(the public `PORT`), only the service's public routes: the probes and what the service declares
(the messenger's `/webhooks/meta`, the gateway's `/api/`). Everything else is a 404 there,
whatever the request carries: the internal APIs (`/internal/v1`), `/metrics`, `/docs` and the
OpenAPI document are not there to find from outside.

The door is told by the port of the socket the connection came in on (`scope["server"]`,
the local address uvicorn reads from the connection), never by anything the client sends.
"""

from __future__ import annotations

import functools
import json
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.supervisors import Multiprocess

from .headers import API_CSP, HARDENING
from .settings import ServiceSettings

PROBES = ("/healthz", "/readyz")
# Never on the public door, even under a public prefix (a web app at "/" one day).
INTERNAL_ONLY = ("/internal", "/metrics", "/docs", "/redoc", "/openapi.json")
S = TypeVar("S", bound=ServiceSettings)
_NOT_FOUND = json.dumps({"detail": "Not Found"}).encode()


def _under(path: str, prefix: str) -> bool:
    """`path` is `prefix` or below it, segment-wise (`/api/` covers `/api/v1/x`, not `/apix`)."""
    base = prefix.rstrip("/")
    return path == base or path.startswith(base + "/")


@dataclass(frozen=True)
class PublicRoutes:
    """What the public door lets through: the probes and `prefixes` (each with what is below it),
    except the internal-only paths and any path that is not plain (`//`, `.`, `..` segments)."""

    prefixes: tuple[str, ...] = ()

    def allows(self, path: str) -> bool:
        segments = path.split("/")[1:]
        if not path.startswith("/") or "" in segments[:-1] or {".", ".."} & set(segments):
            return False
        if any(_under(path, p) for p in INTERNAL_ONLY):
            return False
        return path in PROBES or any(_under(path, p) for p in self.prefixes)


class Doors:
    """ASGI: the whole `app` on `internal_port`; only `public` routes on every other port."""

    def __init__(self, app: ASGIApp, *, internal_port: int, public: PublicRoutes) -> None:
        self.app = app
        self.internal_port = internal_port
        self.public = public

    def internal(self, scope: Scope) -> bool:
        server = scope.get("server")
        return server is not None and server[1] == self.internal_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.internal(scope):
            await self.app(scope, receive, send)
            return
        if self.public.allows(scope["path"]):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 404,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(_NOT_FOUND)).encode()),
                    *HARDENING,
                    (b"content-security-policy", API_CSP),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": _NOT_FOUND})


def declare_public(app: FastAPI, *prefixes: str) -> None:
    """The paths (each with what is below it) `app` serves on its public door besides the probes.
    An app that declares none has only the probes there."""
    app.state.public_routes = PublicRoutes(prefixes)


def served(create_app: Callable[[S], FastAPI], settings: S, internal_port: int) -> Doors:
    """The app behind its two doors (module level: each worker process builds its own)."""
    app = create_app(settings)
    public = getattr(app.state, "public_routes", PublicRoutes())
    return Doors(app, internal_port=internal_port, public=public)


def listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def serve(settings: S, create_app: Callable[[S], FastAPI]) -> None:
    """One uvicorn server (one lifespan, one app) on two sockets: `PORT` and `INTERNAL_PORT`."""
    host = settings.crm_bind_host
    config = uvicorn.Config(
        functools.partial(served, create_app, settings, settings.internal_port),
        factory=True,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
        # One process per core on a single machine (the variable uvicorn and gunicorn deployments
        # use); in a cluster, run one process per container and scale replicas instead. Every
        # part of a service is safe to run in several processes at once.
        workers=int(os.environ.get("WEB_CONCURRENCY", "1")),
    )
    sockets = [listen(host, settings.port), listen(host, settings.internal_port)]
    server = uvicorn.Server(config)
    try:
        if config.workers > 1:
            Multiprocess(config, sockets=sockets).run()
        else:
            server.run(sockets=sockets)
    except KeyboardInterrupt:
        pass
    finally:
        for sock in sockets:
            sock.close()
    if config.workers == 1 and not server.started:
        raise SystemExit(3)  # uvicorn's STARTUP_FAILURE
