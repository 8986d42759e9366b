"""FastAPI dependencies shared by the routers: the runtime, settings, one session per request,
the clients of the messenger, marketing and ai internal APIs, and the check that every string a
request carries can be stored (`storable_input`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Header, Request, params
from fastapi.exceptions import RequestValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.clients.ai import AiClient
from crm_gateway.clients.marketing import MarketingClient
from crm_gateway.clients.messenger import MessengerClient
from crm_gateway.reads import HotReads
from crm_servicekit.outbox import UnitOfWork
from crm_servicekit.runtime import Runtime
from crm_servicekit.storable import Location, unstorable_in

from .config import GatewaySettings


async def get_runtime(request: Request) -> Runtime:
    runtime = request.app.state.runtime
    if not isinstance(runtime, Runtime):
        raise TypeError("app.state.runtime is set by create_service_app()")
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def idempotency_key_header(description: str) -> Any:
    """The `Idempotency-Key` header of a call a client may retry: 1 to 200 visible ASCII
    characters (an empty key would be one key shared by every client that sends it)."""
    return Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        # Visible ASCII only: a key may travel on as a header of an internal API.
        pattern=r"^[\x21-\x7e]+$",
        description=f"{description} 1 to 200 visible ASCII characters.",
    )


async def get_settings(runtime: RuntimeDep) -> GatewaySettings:
    settings = runtime.settings
    if not isinstance(settings, GatewaySettings):
        raise TypeError("the gateway runtime is built from GatewaySettings")
    return settings


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """One session per request; read-only routes never commit, so closing rolls back."""
    async with runtime.sessionmaker() as session:
        yield session


async def get_uow(runtime: RuntimeDep) -> UnitOfWork:
    """A unit of work for a route that writes: enter it, commit once (events after commit)."""
    return runtime.uow()


async def get_messenger(request: Request) -> MessengerClient:
    messenger = request.app.state.messenger
    if not isinstance(messenger, MessengerClient):
        raise TypeError("app.state.messenger is set by create_app()")
    return messenger


async def get_marketing(request: Request) -> MarketingClient:
    marketing = request.app.state.marketing
    if not isinstance(marketing, MarketingClient):
        raise TypeError("app.state.marketing is set by create_app()")
    return marketing


async def get_ai(request: Request) -> AiClient:
    ai = request.app.state.ai
    if not isinstance(ai, AiClient):
        raise TypeError("app.state.ai is set by create_app()")
    return ai


async def get_reads(request: Request) -> HotReads:
    reads = request.app.state.reads
    if not isinstance(reads, HotReads):
        raise TypeError("app.state.reads is set by create_app()")
    return reads


async def storable_input(request: Request) -> None:
    """Refuse a request any of whose strings PostgreSQL cannot store (U+0000, lone surrogates):
    path and query parameters and the JSON or form body the route reads, names included. The 422
    problem names each such field as a validation error does, and nothing is looked up or stored.

    Declared once on the routers `app.routers()` builds, so every route, present and future, is
    covered without a rule per field (a test walks the served routes to keep it so)."""
    found = [
        *_located("path", request.path_params.items()),
        *_located("query", request.query_params.multi_items()),
        *await _body(request),
    ]
    if found:
        errors = [{"type": "string_unstorable", "loc": loc, "msg": why, "input": None} for loc, why in found]
        raise RequestValidationError(errors)


def _located(location: str, pairs: Iterable[tuple[str, Any]]) -> Iterator[tuple[Location, str]]:
    """Path, query and form values are name-value pairs (a name may repeat: `tag=a&tag=b`)."""
    for name, value in pairs:
        for at, why in unstorable_in({name: value}):
            yield (location, *at), why


async def _body(request: Request) -> list[tuple[Location, str]]:
    """The body as the route reads it; Starlette keeps what FastAPI parsed, so it is parsed once."""
    body_field = getattr(request.scope.get("route"), "body_field", None)
    if body_field is None:
        return []
    if isinstance(body_field.field_info, params.Form):
        form = await request.form()
        return list(_located("body", ((k, v) for k, v in form.multi_items() if isinstance(v, str))))
    try:
        body = await request.json()
    except ValueError:  # not JSON: FastAPI's own validation answers
        return []
    return [(("body", *at), why) for at, why in unstorable_in(body)]


SettingsDep = Annotated[GatewaySettings, Depends(get_settings)]
ReadsDep = Annotated[HotReads, Depends(get_reads)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
UowDep = Annotated[UnitOfWork, Depends(get_uow)]
MessengerDep = Annotated[MessengerClient, Depends(get_messenger)]
MarketingDep = Annotated[MarketingClient, Depends(get_marketing)]
AiDep = Annotated[AiClient, Depends(get_ai)]
