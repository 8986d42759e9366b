"""PDPA in the ai service: erase what the ai keeps of a customer (replies and their sources, the
conversation turns it remembers, drafts for staff, lead scores), and export it.

The ai keys what it stores by PSID and conversation (from `message.received`), never by customer
id, so a customer merge needs nothing here; an erasure names the identities the customer had.
Replies carry no Page id, so a PSID is matched on every Page (PSIDs are Page-scoped numbers of
one length: one never matches another customer's).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from crm_contracts import (
    ChannelIdentity,
    CustomerErasureRequested,
)
from crm_servicekit.logging import get_logger
from crm_servicekit.outbox import UnitOfWork
from crm_servicekit.pdpa import complete_erasure
from crm_servicekit.runtime import Runtime

from .db import outbox
from .leads import service as leads
from .leads.schemas import ExportedInsights, ExportedLead
from .memory import repository as memory_repository
from .replies import repository

log = get_logger(__name__)

SERVICE = "ai"
CONSUMER = "ai.erasure"


def psids_of(identities: Sequence[ChannelIdentity]) -> list[str]:
    return sorted({i.external_id for i in identities if i.channel == "messenger" and i.external_id})


async def erase(
    uow: UnitOfWork, event: CustomerErasureRequested, *, rabbitmq_url: str, parked_queues: Sequence[str]
) -> None:
    """Delete the customer's replies and the copies in transit (outbox, parked messages), and
    report once. Claimed by request id: a redelivered or re-sent request does nothing twice."""
    d = event.data
    if not await uow.claim(d.request_id, CONSUMER):
        return
    psids = psids_of(d.identities)
    sources = await repository.delete_sources(uow.session, psids)
    conversation_ids = await repository.delete_replies(uow.session, psids)
    turn_conversations = await memory_repository.delete_for(uow.session, psids)
    suggested = await repository.delete_suggestions(uow.session, psids)
    lead_count, insight_conversations = await leads.erase(uow.session, psids)
    needles = psids + sorted(
        {str(c) for c in [*conversation_ids, *insight_conversations, *turn_conversations, *suggested]}
    )
    await complete_erasure(
        uow,
        event,
        service=SERVICE,
        erased={
            "replies": len(conversation_ids),
            "reply_sources": sources,
            "turns": len(turn_conversations),
            "suggestions": len(suggested),
            "lead_scores": lead_count,
            "customer_insights": len(insight_conversations),
        },
        outbox=outbox,
        needles=needles,
        rabbitmq_url=rabbitmq_url,
        parked_queues=parked_queues,
    )


class ExportRequest(BaseModel):
    identities: list[ChannelIdentity] = Field(
        description="The customer's channel identities; only `messenger` ones concern this service."
    )


class ExportedSource(BaseModel):
    document_id: uuid.UUID
    title: str
    heading_path: list[str]
    score: float


class ExportedReply(BaseModel):
    id: uuid.UUID
    conversation_id: uuid.UUID
    psid: str
    source_event_id: uuid.UUID = Field(description="The `message.received` event it answered.")
    text: str
    language: str
    generated_by: str
    model: str | None
    handover: bool
    handover_reason: str | None
    created_at: datetime
    sources: list[ExportedSource] = Field(
        default_factory=list, description="The passages it was grounded on."
    )


class ExportedTurn(BaseModel):
    conversation_id: uuid.UUID
    author: str = Field(description="customer, ai or staff")
    text: str
    at: datetime


class ExportedSuggestion(BaseModel):
    conversation_id: uuid.UUID
    source_event_id: uuid.UUID
    text: str
    language: str
    created_at: datetime


class AiExport(BaseModel):
    service: Literal["ai"] = "ai"
    replies: list[ExportedReply]
    turns: list[ExportedTurn] = Field(
        default_factory=list, description="The conversation as the ai remembers it."
    )
    suggestions: list[ExportedSuggestion] = Field(
        default_factory=list, description="Drafts offered to staff."
    )
    lead_scores: list[ExportedLead] = Field(default_factory=list)
    customer_insights: list[ExportedInsights] = Field(default_factory=list)


async def export(runtime: Runtime, identities: Sequence[ChannelIdentity]) -> AiExport:
    async with runtime.sessionmaker() as session:
        rows = await repository.replies_for(session, psids_of(identities))
        sources = await repository.sources_for(session, [r.id for r in rows])
        turns = await memory_repository.turns_for(session, psids_of(identities))
        suggestions = await repository.suggestions_for(session, psids_of(identities))
        lead_rows, insight_rows = await leads.export(session, psids_of(identities))
    by_reply: dict[uuid.UUID, list[ExportedSource]] = {}
    for source in sources:
        by_reply.setdefault(source.reply_id, []).append(
            ExportedSource.model_validate(source, from_attributes=True)
        )
    return AiExport(
        replies=[
            ExportedReply.model_validate(r, from_attributes=True).model_copy(
                update={"sources": by_reply.get(r.id, [])}
            )
            for r in rows
        ],
        turns=[ExportedTurn.model_validate(t, from_attributes=True) for t in turns],
        suggestions=[ExportedSuggestion.model_validate(x, from_attributes=True) for x in suggestions],
        lead_scores=[ExportedLead.model_validate(r, from_attributes=True) for r in lead_rows],
        customer_insights=[ExportedInsights.model_validate(r, from_attributes=True) for r in insight_rows],
    )
