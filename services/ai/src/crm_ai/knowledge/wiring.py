"""The knowledge base inside the running service: one embedder, one in-memory index with its
retriever, and one indexing worker per replica, started and stopped with the app. Replies reach
the retriever as `runtime.extras["knowledge"].retriever`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from crm_ai.config import AiSettings
from crm_ai.knowledge import segment
from crm_ai.knowledge.embeddings import Embedder, LocalEmbedder, create_embedder
from crm_ai.knowledge.indexing import IndexingWorker
from crm_ai.knowledge.retrieval import Retriever
from crm_servicekit.logging import get_logger
from crm_servicekit.runtime import Runtime

log = get_logger(__name__)


@dataclass(frozen=True)
class Knowledge:
    embedder: Embedder
    retriever: Retriever
    worker: IndexingWorker

    async def start(self) -> None:
        # The Thai dictionary and the index are loaded now, not by the first customer's question.
        await asyncio.to_thread(segment.warm)
        if isinstance(self.embedder, LocalEmbedder):
            await asyncio.to_thread(self.embedder.warm)
        try:
            await self.retriever.refresh()
        except Exception as exc:  # the database is not there yet: the first search loads it
            log.warning("knowledge index not loaded at start", error=type(exc).__name__)
        await self.worker.start()


def install(runtime: Runtime, settings: AiSettings) -> Knowledge:
    embedder = create_embedder(settings)
    knowledge = Knowledge(
        embedder=embedder,
        retriever=Retriever.create(runtime.sessionmaker, embedder, settings),
        worker=IndexingWorker(runtime.sessionmaker, embedder, settings),
    )
    runtime.extras["knowledge"] = knowledge
    runtime.on_startup.append(knowledge.start)
    runtime.on_shutdown.append(embedder.aclose)
    runtime.on_shutdown.append(knowledge.worker.stop)
    return knowledge
