"""`POST /internal/v1/pdpa/export`: everything the messenger holds on some Messenger identities,
for the gateway's PDPA data export (the customer's right of access)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from crm_contracts import ChannelIdentity
from crm_servicekit.runtime import Runtime

from . import repository
from .service import messenger_identities


class ExportRequest(BaseModel):
    identities: list[ChannelIdentity] = Field(
        description="The customer's channel identities; only `messenger` ones concern this service."
    )


class ExportedReaction(BaseModel):
    mid: str
    reaction: str
    emoji: str | None
    reacted_at: datetime


class ExportedMessage(BaseModel):
    id: uuid.UUID
    direction: Literal["in", "out"]
    kind: str
    mid: str | None
    text: str | None
    attachments: list[dict[str, Any]]
    quick_reply_payload: str | None
    postback_payload: str | None
    quick_replies: list[Any]
    referral: dict[str, Any] | None
    standby: bool
    sent_by: str | None
    staff_id: uuid.UUID | None
    status: str
    error_reason: str | None
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    created_at: datetime
    reactions: list[ExportedReaction] = Field(default_factory=list)


class ExportedReferral(BaseModel):
    source: str | None
    type: str | None
    ad_id: str | None
    ref: str | None
    ads_context_data: dict[str, Any] | None
    via: str
    occurred_at: datetime


class ExportedOptin(BaseModel):
    type: str | None
    ref: str | None
    user_ref: str | None
    payload: dict[str, Any]
    occurred_at: datetime


class ExportedConversation(BaseModel):
    id: uuid.UUID
    page_id: str
    psid: str
    status: str
    mode: str
    needs_human: bool
    handover_reason: str | None
    assigned_staff_id: uuid.UUID | None
    first_name: str | None
    last_name: str | None
    profile_pic: str | None
    profile_fetched_at: datetime | None
    last_customer_message_at: datetime | None
    last_message_at: datetime | None
    created_at: datetime
    updated_at: datetime
    messages: list[ExportedMessage]
    referrals: list[ExportedReferral]
    optins: list[ExportedOptin]


class ExportedQuarantined(BaseModel):
    id: int
    received_at: datetime
    page_id: str | None
    kind: str
    reason: str
    payload: Any


class MessengerExport(BaseModel):
    service: Literal["messenger"] = "messenger"
    conversations: list[ExportedConversation]
    quarantined: list[ExportedQuarantined] = Field(
        description="Webhook items that could not be processed and mention the PSIDs."
    )


def _fields(model: type[BaseModel], row: Any, **extra: Any) -> dict[str, Any]:
    return {**{k: getattr(row, k) for k in model.model_fields if k not in extra}, **extra}


async def export(runtime: Runtime, identities: list[ChannelIdentity]) -> MessengerExport:
    wanted = messenger_identities(identities)
    async with runtime.sessionmaker() as session:
        rows = await repository.conversations_of(session, wanted)
        ids = [r.id for r in rows]
        messages = await repository.messages_of(session, ids)
        referrals = await repository.referrals_of(session, ids)
        reactions = await repository.reactions_of(session, wanted)
        optins = await repository.optins_of(session, wanted)
        quarantined = await repository.quarantined_mentioning(session, [psid for _, psid in wanted])
    conversations = []
    for row in rows:
        mine = [m for m in messages if m.conversation_id == row.id]
        reacted = [ExportedReaction.model_validate(r, from_attributes=True) for r in reactions]
        conversations.append(
            ExportedConversation(
                **_fields(
                    ExportedConversation,
                    row,
                    messages=[
                        ExportedMessage(
                            **_fields(ExportedMessage, m, reactions=[r for r in reacted if r.mid == m.mid])
                        )
                        for m in mine
                    ],
                    referrals=[
                        ExportedReferral.model_validate(r, from_attributes=True)
                        for r in referrals
                        if r.conversation_id == row.id
                    ],
                    optins=[
                        ExportedOptin.model_validate(o, from_attributes=True)
                        for o in optins
                        if (o.page_id, o.psid) == (row.page_id, row.psid)
                    ],
                )
            )
        )
    return MessengerExport(
        conversations=conversations,
        quarantined=[ExportedQuarantined.model_validate(q, from_attributes=True) for q in quarantined],
    )


def register(api: APIRouter, runtime: Runtime) -> None:
    """Add the export route to the messenger's token-checked internal router."""

    @api.post("/pdpa/export", response_model=MessengerExport)
    async def pdpa_export(body: ExportRequest) -> MessengerExport:
        """Everything the messenger holds on these identities: conversations with profile names,
        every message in both directions, reactions, ad referrals, opt-ins, quarantined items."""
        return await export(runtime, body.identities)
