"""The internal API's bodies for the PDPA export: the identities asked about, and everything the
messenger holds on them (conversations with their messages, reactions, ad referrals and opt-ins,
and the quarantined items that mention the PSIDs)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from crm_contracts import ChannelIdentity


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
