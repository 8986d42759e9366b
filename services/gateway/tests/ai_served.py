"""The ai service's REAL internal API (the knowledge base, the drafts suggested to staff) served
over HTTP on loopback for the gateway's tests, on the gateway's test database with the ai's own
schema migrated, as `messenger_served.py` serves the messenger.

Indexing is not woken by the server (its worker would run in the server's thread): a test that
needs a document indexed drains the ai's own indexing worker in its loop (`index_queued`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from crm_ai.config import AiSettings
from crm_ai.knowledge import api as knowledge_api
from crm_ai.knowledge.embeddings import create_embedder
from crm_ai.knowledge.indexing import IndexingWorker
from crm_ai.knowledge.retrieval import Retriever
from crm_ai.replies import api as replies_api
from crm_ai.tables import metadata
from crm_fakes import FakeServer
from crm_servicekit.db import create_sessionmaker
from crm_servicekit.runtime import build_runtime


class NotWoken:
    """The ai's indexing worker as its routes see it: told of new documents, which wait queued."""

    def wake(self) -> None:
        return None


def ai_app(database_url: str, token: str) -> FastAPI:
    """The ai's internal routers as it serves them, for a server in its own thread."""
    settings = AiSettings(database_url=database_url, crm_internal_token=SecretStr(token))
    runtime = build_runtime(settings, metadata, emits=[])
    # The server's event loop lives in its thread: each request opens and closes its connection.
    engine = create_async_engine(settings.async_database_url, poolclass=NullPool)
    runtime = dataclasses.replace(runtime, engine=engine, sessionmaker=create_sessionmaker(engine))
    app = FastAPI()
    retriever = Retriever.create(runtime.sessionmaker, create_embedder(settings), settings)
    app.include_router(knowledge_api.router(runtime, settings, cast(IndexingWorker, NotWoken()), retriever))
    app.include_router(replies_api.router(runtime, settings))
    return app


@contextmanager
def served_ai(database_url: str, token: str) -> Iterator[str]:
    with FakeServer(ai_app(database_url, token)) as server:
        yield server.url


async def index_queued(database_url: str) -> int:
    """Index every queued document with the ai's own worker and its default (local) embedder."""
    settings = AiSettings(database_url=database_url)
    engine = create_async_engine(settings.async_database_url, poolclass=NullPool)
    embedder = create_embedder(settings)
    try:
        return await IndexingWorker(create_sessionmaker(engine), embedder, settings).drain()
    finally:
        await embedder.aclose()
        await engine.dispose()
