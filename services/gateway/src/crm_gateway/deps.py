"""FastAPI dependencies shared by the routers: the runtime, settings, one session per request
and the clients of the messenger, marketing and ai internal APIs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.clients.ai import AiClient
from crm_gateway.clients.marketing import MarketingClient
from crm_gateway.clients.messenger import MessengerClient
from crm_gateway.reads import HotReads
from crm_servicekit.outbox import UnitOfWork
from crm_servicekit.runtime import Runtime

from .config import GatewaySettings


def get_runtime(request: Request) -> Runtime:
    runtime = request.app.state.runtime
    if not isinstance(runtime, Runtime):
        raise TypeError("app.state.runtime is set by create_service_app()")
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_settings(runtime: RuntimeDep) -> GatewaySettings:
    settings = runtime.settings
    if not isinstance(settings, GatewaySettings):
        raise TypeError("the gateway runtime is built from GatewaySettings")
    return settings


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """One session per request; read-only routes never commit, so closing rolls back."""
    async with runtime.sessionmaker() as session:
        yield session


def get_uow(runtime: RuntimeDep) -> UnitOfWork:
    """A unit of work for a route that writes: enter it, commit once (events after commit)."""
    return runtime.uow()


def get_messenger(request: Request) -> MessengerClient:
    messenger = request.app.state.messenger
    if not isinstance(messenger, MessengerClient):
        raise TypeError("app.state.messenger is set by create_app()")
    return messenger


def get_marketing(request: Request) -> MarketingClient:
    marketing = request.app.state.marketing
    if not isinstance(marketing, MarketingClient):
        raise TypeError("app.state.marketing is set by create_app()")
    return marketing


def get_ai(request: Request) -> AiClient:
    ai = request.app.state.ai
    if not isinstance(ai, AiClient):
        raise TypeError("app.state.ai is set by create_app()")
    return ai


def get_reads(request: Request) -> HotReads:
    reads = request.app.state.reads
    if not isinstance(reads, HotReads):
        raise TypeError("app.state.reads is set by create_app()")
    return reads


SettingsDep = Annotated[GatewaySettings, Depends(get_settings)]
ReadsDep = Annotated[HotReads, Depends(get_reads)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
UowDep = Annotated[UnitOfWork, Depends(get_uow)]
MessengerDep = Annotated[MessengerClient, Depends(get_messenger)]
MarketingDep = Annotated[MarketingClient, Depends(get_marketing)]
AiDep = Annotated[AiClient, Depends(get_ai)]
