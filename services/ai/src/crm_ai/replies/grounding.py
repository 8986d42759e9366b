"""What a reply may stand on: the recent turns, the knowledge passages relevant to the question,
and the catalog products the conversation names (with their current prices).

The knowledge base is reached through `Retriever` (what `crm_ai.knowledge` provides), so tests
can hand in passages of their own. Only passages marked `relevant` are shown to the model: a
weak match is worse than none, because the model would answer from it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from crm_ai.catalog import service as catalog
from crm_ai.catalog.service import Product
from crm_ai.memory import service as memory
from crm_ai.memory.service import Turn
from crm_servicekit.logging import get_logger

log = get_logger(__name__)

PASSAGES = 5
# A follow-up this short ("แล้ววันเสาร์ล่ะคะ") is searched together with the customer's last turn.
SHORT_QUESTION = 40


class Passage(Protocol):
    """A knowledge passage as `crm_ai.knowledge.retrieval` returns it."""

    @property
    def chunk_id(self) -> uuid.UUID: ...
    @property
    def document_id(self) -> uuid.UUID: ...
    @property
    def document_title(self) -> str: ...
    @property
    def heading_path(self) -> tuple[str, ...]: ...
    @property
    def text(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def relevant(self) -> bool: ...


class Retriever(Protocol):
    async def search(self, query: str, *, limit: int = 5) -> Sequence[Passage]: ...


class NoKnowledge:
    """No knowledge base wired: nothing is relevant (replies rest on the catalog alone)."""

    async def search(self, query: str, *, limit: int = 5) -> Sequence[Passage]:
        return []


@dataclass(frozen=True)
class Grounding:
    turns: tuple[Turn, ...] = ()
    passages: tuple[Passage, ...] = ()
    products: tuple[Product, ...] = ()
    # Passage id as the model sees it ("P1") -> the passage.
    ids: dict[str, Passage] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.passages and not self.products


def search_query(question: str, turns: Sequence[Turn]) -> str:
    if len(question) >= SHORT_QUESTION:
        return question
    earlier = [t.text for t in turns if t.author == "customer"]
    return f"{earlier[-1]}\n{question}" if earlier else question


async def ground(
    session: AsyncSession,
    retriever: Retriever,
    *,
    conversation_id: uuid.UUID,
    question: str,
    exclude_event_id: uuid.UUID | None,
) -> Grounding:
    turns = await memory.recent(session, conversation_id, exclude_event_id=exclude_event_id)
    try:
        found = await retriever.search(search_query(question, turns), limit=PASSAGES)
    except Exception as exc:  # the knowledge base failing must not cost the customer an answer
        log.warning("knowledge search failed; answering from the catalog alone", error=type(exc).__name__)
        found = []
    passages = tuple(p for p in found if p.relevant)
    texts = [question, *(t.text for t in turns), *(p.text for p in passages)]
    products = tuple(await catalog.mentioned(session, texts))
    return Grounding(
        turns=tuple(turns),
        passages=passages,
        products=products,
        ids={f"P{i}": p for i, p in enumerate(passages, start=1)},
    )
