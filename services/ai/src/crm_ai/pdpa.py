"""PDPA in the ai service: erase the replies composed for a customer, and export them.

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
    conversation_ids = await repository.delete_replies(uow.session, psids)
    needles = psids + sorted({str(c) for c in conversation_ids})
    await complete_erasure(
        uow,
        event,
        service=SERVICE,
        erased={"replies": len(conversation_ids)},
        outbox=outbox,
        needles=needles,
        rabbitmq_url=rabbitmq_url,
        parked_queues=parked_queues,
    )


class ExportRequest(BaseModel):
    identities: list[ChannelIdentity] = Field(
        description="The customer's channel identities; only `messenger` ones concern this service."
    )


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


class AiExport(BaseModel):
    service: Literal["ai"] = "ai"
    replies: list[ExportedReply]


async def export(runtime: Runtime, identities: Sequence[ChannelIdentity]) -> AiExport:
    async with runtime.sessionmaker() as session:
        rows = await repository.replies_for(session, psids_of(identities))
    return AiExport(replies=[ExportedReply.model_validate(r, from_attributes=True) for r in rows])
