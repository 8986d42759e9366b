"""What a reply asks of the knowledge base: the passages closest to a customer's message.

`Retriever.search` brings this replica's index up to date (one SELECT when nothing changed),
embeds the query, segments it the way the chunks were segmented, and fuses the vector and the
keyword rankings (`index.py`). Each passage says whether it is `relevant`: close enough in meaning,
or in meaning and words together, or in words alone, by thresholds calibrated on the eval set
(settings `KNOWLEDGE_RELEVANT_*`), so the reply guard can say "nothing relevant enough" honestly.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_ai.config import AiSettings
from crm_ai.knowledge import segment
from crm_ai.knowledge.embeddings import Embedder, EmbeddingUnavailable
from crm_ai.knowledge.index import KnowledgeIndex, Match
from crm_servicekit.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class Passage:
    chunk_id: uuid.UUID
    document_id: uuid.UUID
    document_title: str
    heading_path: tuple[str, ...]
    text: str
    score: float  # fused (reciprocal rank fusion)
    vector_score: float  # cosine similarity
    keyword_score: float  # BM25, with typo/transliteration expansions
    relevant: bool


@dataclass(frozen=True)
class Thresholds:
    vector: float
    vector_with_keywords: float
    keyword_support: float
    keyword: float

    @classmethod
    def from_settings(cls, settings: AiSettings) -> Thresholds:
        return cls(
            vector=settings.knowledge_relevant_vector,
            vector_with_keywords=settings.knowledge_relevant_vector_with_keywords,
            keyword_support=settings.knowledge_relevant_keyword_support,
            keyword=settings.knowledge_relevant_keyword,
        )

    def relevant(self, match: Match) -> bool:
        return (
            match.vector_score >= self.vector
            or match.keyword_score >= self.keyword
            or (
                match.vector_score >= self.vector_with_keywords
                and match.keyword_score >= self.keyword_support
            )
        )


class Retriever:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        embedder: Embedder,
        index: KnowledgeIndex,
        thresholds: Thresholds,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.embedder = embedder
        self.index = index
        self.thresholds = thresholds

    @classmethod
    def create(
        cls, sessionmaker: async_sessionmaker[AsyncSession], embedder: Embedder, settings: AiSettings
    ) -> Retriever:
        index = KnowledgeIndex(embedder.name, embedder.dimension)
        return cls(sessionmaker, embedder, index, Thresholds.from_settings(settings))

    async def refresh(self) -> bool:
        async with self.sessionmaker() as session:
            return await self.index.refresh(session)

    async def search(self, query: str, *, limit: int = 5) -> list[Passage]:
        """The `limit` passages best matching `query`, best first (none when nothing is indexed)."""
        await self.refresh()
        snapshot = self.index.snapshot
        if not snapshot.size or not query.strip():
            return []
        vector, tokens = await asyncio.gather(self._embed(query), asyncio.to_thread(segment.tokens, query))
        return [self._passage(m) for m in snapshot.search(vector, tokens, limit)]

    async def _embed(self, query: str) -> np.ndarray | None:
        """The query's vector; None (keywords alone) while the embedding provider is down."""
        try:
            return await self.embedder.query(query)
        except EmbeddingUnavailable:
            log.warning("embedder unavailable; searching by keywords alone")
            return None

    def _passage(self, match: Match) -> Passage:
        return Passage(
            chunk_id=match.chunk_id,
            document_id=match.document_id,
            document_title=match.document_title,
            heading_path=match.heading_path,
            text=match.text,
            score=match.score,
            vector_score=match.vector_score,
            keyword_score=match.keyword_score,
            relevant=self.thresholds.relevant(match),
        )
