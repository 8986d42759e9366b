"""The knowledge base under test: a throwaway database per test module, migrated, and the same
indexing worker and retriever the service runs (local embedder, the default)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_ai.config import AiSettings
from crm_ai.knowledge import service
from crm_ai.knowledge.embeddings import create_embedder
from crm_ai.knowledge.indexing import IndexingWorker
from crm_ai.knowledge.retrieval import Retriever
from crm_servicekit.db import create_engine, create_sessionmaker
from crm_servicekit.migrations import upgrade
from crm_servicekit.testing import create_database, drop_database


@pytest.fixture(scope="module")
async def kb_database_url() -> AsyncIterator[str]:
    """A fresh database with the ai's migrations applied, dropped after the module."""
    url = await create_database("crm_kb")
    await asyncio.to_thread(upgrade, "crm_ai", url.replace("postgresql://", "postgresql+asyncpg://", 1))
    yield url
    await drop_database(url)


@dataclass
class Kb:
    settings: AiSettings
    sessionmaker: async_sessionmaker[AsyncSession]
    worker: IndexingWorker
    retriever: Retriever

    async def upload(self, name: str, content: bytes, **extra: str) -> service.Uploaded:
        upload = service.Upload(
            content=content, filename=name, media_type=service.media_type_of(name), **extra
        )
        async with self.sessionmaker() as session:
            uploaded = await service.upload(session, upload)
            await session.commit()
        return uploaded

    async def document(self, document_id: uuid.UUID) -> Any:
        async with self.sessionmaker() as session:
            return await service.get(session, document_id)


@pytest.fixture(scope="module")
async def kb(kb_database_url: str) -> AsyncIterator[Kb]:
    settings = AiSettings(database_url=kb_database_url, knowledge_embed_batch=4)
    engine = create_engine(settings.async_database_url, pool_size=4)
    sessionmaker: async_sessionmaker[AsyncSession] = create_sessionmaker(engine)
    embedder = create_embedder(settings)
    yield Kb(
        settings,
        sessionmaker,
        IndexingWorker(sessionmaker, embedder, settings),
        Retriever.create(sessionmaker, embedder, settings),
    )
    await engine.dispose()
