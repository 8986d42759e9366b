"""Drafts for staff: while a person handles a conversation (`human` mode), each new customer
message gets a suggested answer with the same grounding as a reply. Nothing is sent; no guard
blocks a draft, but what the guards found travels with it as warnings for the person to weigh.
One draft per conversation: the draft for the newest message wins.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from crm_contracts import MessageReceived
from crm_servicekit.logging import get_logger
from crm_servicekit.outbox import UnitOfWork

from . import repository
from .compose import compose
from .grounding import Retriever
from .responder import Responder

log = get_logger(__name__)


class SuggestionSource(BaseModel):
    chunk_id: uuid.UUID
    document_id: uuid.UUID
    title: str
    heading_path: list[str]
    score: float


class SuggestionWarning(BaseModel):
    reason: str = Field(description="A guard's code, e.g. `unsupported_amount`, `no_relevant_knowledge`.")
    detail: str | None = None


class Suggestion(BaseModel):
    conversation_id: uuid.UUID
    source_event_id: uuid.UUID = Field(description="The `message.received` event it answers.")
    text: str
    language: str
    sources: list[SuggestionSource]
    warnings: list[SuggestionWarning]
    created_at: datetime


async def suggest(
    uow_factory: Callable[[], UnitOfWork],
    responder: Responder,
    retriever: Retriever,
    event: MessageReceived,
    consumer: str,
) -> None:
    d = event.data
    text = (d.text or "").strip()
    composed = await compose(
        uow_factory,
        responder,
        retriever,
        conversation_id=d.conversation_id,
        text=text,
        event_id=event.event_id,
        draft=True,
    )
    answer = composed.generated.answer if composed.generated else None
    async with uow_factory() as uow:
        if not await uow.claim(event.event_id, consumer):
            return
        if answer is not None and answer.answer.strip():
            sources: list[dict[str, Any]] = [
                SuggestionSource(
                    chunk_id=p.chunk_id,
                    document_id=p.document_id,
                    title=p.document_title,
                    heading_path=list(p.heading_path),
                    score=float(p.score),
                ).model_dump(mode="json")
                for p in composed.used
            ]
            await repository.put_suggestion(
                uow.session,
                {
                    "conversation_id": d.conversation_id,
                    "psid": d.psid,
                    "source_event_id": event.event_id,
                    "message_at": d.sent_at,
                    "text": answer.answer.strip(),
                    "language": composed.language,
                    "sources": sources,
                    "warnings": [{"reason": f.reason, "detail": f.detail} for f in composed.findings],
                },
            )
        await uow.commit()
    log.info(
        "suggestion drafted" if answer is not None else "no suggestion: the model gave no usable answer",
        conversation_id=str(d.conversation_id),
        warnings=len(composed.findings),
    )


async def latest(uow_factory: Callable[[], UnitOfWork], conversation_id: uuid.UUID) -> Suggestion | None:
    async with uow_factory() as uow:
        row = await repository.suggestion(uow.session, conversation_id)
    return None if row is None else Suggestion.model_validate(row, from_attributes=True)
