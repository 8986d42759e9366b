from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from crm_fakes import FakeServer, MetaState, create_meta_app
from crm_messenger.app import create_app
from crm_messenger.config import MessengerSettings
from crm_servicekit.migrations import upgrade
from crm_servicekit.settings import ServiceSettings
from crm_servicekit.testing import EventRecorder

APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
PAGE_TOKEN = "test-page-token"
PAGE_ID = "111222333"


@pytest.fixture(scope="session")
def meta() -> Iterator[tuple[str, MetaState]]:
    state = MetaState(page_id=PAGE_ID, access_token=PAGE_TOKEN)
    with FakeServer(create_meta_app(state)) as server:
        yield server.url, state


@pytest.fixture(scope="session")
async def migrated(database_url: str) -> str:
    await asyncio.to_thread(
        upgrade, "crm_messenger", ServiceSettings(database_url=database_url).async_database_url
    )
    return database_url


@dataclass
class Messenger:
    app: FastAPI
    http: httpx.AsyncClient
    meta: MetaState
    events: EventRecorder
    settings: MessengerSettings


@asynccontextmanager
async def running_messenger(
    database_url: str, rabbitmq_url: str, meta: tuple[str, MetaState], **overrides: Any
) -> AsyncIterator[Messenger]:
    """A messenger app with its lifespan running, against the fake Meta; `overrides` are settings."""
    url, state = meta
    state.reset()
    options: dict[str, Any] = {
        "database_url": database_url,
        "rabbitmq_url": rabbitmq_url,
        "meta_app_secret": SecretStr(APP_SECRET),
        "meta_verify_token": SecretStr(VERIFY_TOKEN),
        "meta_page_access_token": SecretStr(PAGE_TOKEN),
        "meta_graph_api_url": url,
        "send_backoff_initial_seconds": 0.01,
        "send_backoff_max_seconds": 0.05,
        "webhook_max_body_bytes": 64 * 1024,
        "crm_internal_token": SecretStr("test-internal-token"),
        "profile_poll_seconds": 0.2,
    }
    settings = MessengerSettings(**{**options, **overrides})
    app = create_app(settings)
    async with (
        EventRecorder(rabbitmq_url) as events,
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://messenger") as http,
    ):
        yield Messenger(app, http, state, events, settings)


@pytest.fixture
async def messenger(
    migrated: str, rabbitmq_url: str, meta: tuple[str, MetaState]
) -> AsyncIterator[Messenger]:
    async with running_messenger(migrated, rabbitmq_url, meta) as m:
        yield m


@pytest.fixture(scope="module")
def gated_meta() -> Iterator[tuple[str, MetaState, Any]]:
    """The fake Meta behind a gate (`interruptions.MetaGate`): text messages are held unanswered
    while it is closed."""
    from .interruptions import MetaGate  # it imports this module

    state = MetaState(page_id=PAGE_ID, access_token=PAGE_TOKEN)
    gate = MetaGate(create_meta_app(state))
    with FakeServer(gate) as server:
        yield server.url, state, gate
