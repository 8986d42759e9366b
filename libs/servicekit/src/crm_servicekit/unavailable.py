"""While the database cannot be reached, a request gets a 503 with `Retry-After` instead of a 500.

When PostgreSQL restarts, fails over or has no connection slot left, every statement fails with
a connection error. It can be the operating system's (`ConnectionRefusedError`), asyncpg's
(`ConnectionDoesNotExistError`, `CannotConnectNowError`, `TooManyConnectionsError`, its
`InterfaceError` "connection is closed"), or SQLAlchemy's wrapper around one of them (a
`DBAPIError` with `connection_invalidated`). No transaction committed, so the caller can try
again (Meta re-sends a webhook, the UI retries): the answer is 503 with `Retry-After`. One
warning line names the error's class. It never includes the error's text, which can quote SQL
parameters and so personal data. The pools reconnect by themselves (`db.create_engine`;
asyncpg's pool replaces closed connections), so the first request after the database is back
gets an answer.

`create_service_app` installs this with a plain JSON body (`{"detail": ...}`, like FastAPI's
own errors). A service with its own error format installs its own renderer (the gateway's
problem details).
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable, Iterator

import asyncpg
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from .logging import get_logger

log = get_logger(__name__)

RETRY_AFTER_SECONDS = 5
DETAIL = "The database is unavailable; try again shortly."

# The handler is registered for these classes and decides, with `database_unavailable`, which
# of them mean "cannot reach the database". Anything else is re-raised: a 500, as before.
CANDIDATES: tuple[type[Exception], ...] = (DBAPIError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError)

_POSTGRES_UNAVAILABLE = (
    asyncpg.exceptions.PostgresConnectionError,  # SQLSTATE class 08, e.g. ConnectionDoesNotExistError
    asyncpg.exceptions.CannotConnectNowError,  # 57P03: starting up, shutting down, in recovery
    asyncpg.exceptions.AdminShutdownError,  # 57P01: terminated (restart, pg_terminate_backend)
    asyncpg.exceptions.CrashShutdownError,  # 57P02
    asyncpg.exceptions.TooManyConnectionsError,  # 53300: no connection slot left
)
# A plain OSError from connecting: asyncio's "Multiple exceptions" (one per address of a host
# name, errno None) and the network errors that have no OSError subclass. Not ENOSPC or EIO: a
# plain OSError from writing a file stays a 500.
_NETWORK_ERRNOS = frozenset(
    {
        None,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.EHOSTUNREACH,
        errno.EHOSTDOWN,
        errno.EADDRNOTAVAIL,
        errno.ETIMEDOUT,
    }
)

Render = Callable[[Request], Response]


def database_unavailable(exc: BaseException) -> BaseException | None:
    """If `exc` means the database cannot be reached, the error at the root of it (the driver's
    or the operating system's, not SQLAlchemy's wrapper); otherwise None."""
    chain = list(_chain(exc))
    return chain[-1] if any(_unreachable(error) for error in chain) else None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, then what it wraps: SQLAlchemy's `orig` and explicit causes (`raise ... from`)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = current.orig if isinstance(current, DBAPIError) else None
        current = orig if isinstance(orig, BaseException) else current.__cause__


def _unreachable(error: BaseException) -> bool:
    if isinstance(error, DBAPIError):
        return bool(error.connection_invalidated)
    if isinstance(error, _POSTGRES_UNAVAILABLE):
        return True
    # Exactly asyncpg's InterfaceError ("connection is closed", "pool is closing"): its subclasses
    # (DataError, ClientConfigurationError, ...) are mistakes in the request or the code.
    if type(error) is asyncpg.InterfaceError:
        return True
    if isinstance(error, ConnectionError | socket.gaierror):
        return True
    return type(error) is OSError and error.errno in _NETWORK_ERRNOS


def plain_unavailable(_: Request) -> Response:
    """The answer of a service whose errors are FastAPI's plain `{"detail": ...}`."""
    return JSONResponse(
        {"detail": DETAIL}, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
    )


def install_unavailable_handler(app: FastAPI, render: Render = plain_unavailable) -> None:
    """Answer `render(request)` when a request fails because the database cannot be reached.

    Installing again replaces the renderer (the gateway's problem details over the plain one).
    """

    async def handle(request: Request, exc: Exception) -> Response:
        cause = database_unavailable(exc)
        if cause is None:
            raise exc  # not an outage: the app's 500 handling, as before
        log.warning(
            "database unavailable; answered 503",
            method=request.method,
            path=request.url.path,
            error=type(cause).__name__,
        )
        return render(request)

    for cls in CANDIDATES:
        app.add_exception_handler(cls, handle)
