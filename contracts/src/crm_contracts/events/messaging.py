"""Messaging events: contacts met, messages received and sent, who answers, and AI replies.

The messenger publishes what happens in a Page's conversations: a contact seen for the first time
(or again through an ad), its public profile fetched, every inbound message stored once per `mid`,
every outbound message Meta accepted or refused for good, and each change of who answers (AI or
staff). The ai service answers `message.received` with `reply.generated`, which the messenger sends.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from crm_contracts.envelope import Event, EventData

from .attribution import AdReferral


class Attachment(EventData):
    type: str = Field(description="image, video, audio, file, sticker, fallback, template, ...")
    url: str | None = None


# --- messenger ------------------------------------------------------------------------------


class ContactSeenData(EventData):
    page_id: str
    psid: str = Field(description="The customer's Page-scoped id.")
    conversation_id: uuid.UUID
    first_seen_at: datetime
    referral: AdReferral | None = None


class ContactSeen(Event):
    """The messenger met a Page-scoped user for the first time (or again through an ad)."""

    type: Literal["contact.seen"] = "contact.seen"
    producer: str = "messenger"
    data: ContactSeenData


class MessageReceivedData(EventData):
    message_id: uuid.UUID = Field(description="The messenger's id for the stored message.")
    conversation_id: uuid.UUID
    page_id: str
    psid: str
    mid: str = Field(description="Meta's message id; unique per page.")
    text: str | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    quick_reply_payload: str | None = None
    referral: AdReferral | None = None
    sent_at: datetime = Field(description="Meta's timestamp of the message.")
    conversation_mode: Literal["ai", "human"] = Field(
        description="Who answers this conversation right now; the AI stays quiet in `human`."
    )
    kind: Literal["text", "attachment", "quick_reply", "postback"] = "text"
    postback_payload: str | None = Field(default=None, description="Button payload of a postback.")
    handover_requested: bool = Field(
        default=False, description="The customer asked for a person ('talk to staff', 'ขอคุยกับเจ้าหน้าที่')."
    )
    standby: bool = Field(
        default=False, description="Arrived under `standby`: another app controls the thread; do not answer."
    )


class MessageReceived(Event):
    """A customer's message was stored (once per `mid`)."""

    type: Literal["message.received"] = "message.received"
    producer: str = "messenger"
    data: MessageReceivedData


class MessageSentData(EventData):
    message_id: uuid.UUID
    conversation_id: uuid.UUID
    page_id: str
    psid: str
    meta_message_id: str
    text: str
    sent_by: Literal["ai", "staff"]
    staff_id: uuid.UUID | None = None
    messaging_type: Literal["RESPONSE", "MESSAGE_TAG", "UPDATE"] = "RESPONSE"
    tag: str | None = Field(default=None, description="`HUMAN_AGENT` for a staff reply after 24 hours.")
    in_reply_to_event_id: uuid.UUID | None = None
    sent_at: datetime


class MessageSent(Event):
    """Meta accepted an outbound message (it carries Meta's `message_id`)."""

    type: Literal["message.sent"] = "message.sent"
    producer: str = "messenger"
    data: MessageSentData


class MessageSendFailedData(EventData):
    message_id: uuid.UUID
    conversation_id: uuid.UUID
    page_id: str
    psid: str
    error_code: int | None = None
    error_subcode: int | None = None
    reason: str = Field(description="A sentence staff can read, e.g. 'outside the 24-hour window'.")
    failed_at: datetime


class MessageSendFailed(Event):
    """An outbound message could not be delivered and will not be retried."""

    type: Literal["message.send_failed"] = "message.send_failed"
    producer: str = "messenger"
    data: MessageSendFailedData


class ContactProfileUpdatedData(EventData):
    page_id: str
    psid: str
    conversation_id: uuid.UUID
    first_name: str | None = None
    last_name: str | None = None
    profile_pic: str | None = None
    fetched_at: datetime


class ContactProfileUpdated(Event):
    """The customer's public Messenger profile (names, picture) was fetched from the Graph API."""

    type: Literal["contact.profile_updated"] = "contact.profile_updated"
    producer: str = "messenger"
    data: ContactProfileUpdatedData


class ConversationModeChangedData(EventData):
    conversation_id: uuid.UUID
    page_id: str
    psid: str
    mode: Literal["ai", "human"]
    needs_human: bool
    reason: str = Field(
        description="staff_replied, page_inbox_reply, customer_requested, ai_unavailable, handed_back, "
        "idle_timeout, ..."
    )
    staff_id: uuid.UUID | None = None
    changed_at: datetime


class ConversationModeChanged(Event):
    """Who answers a conversation changed (AI to staff, or back)."""

    type: Literal["conversation.mode_changed"] = "conversation.mode_changed"
    producer: str = "messenger"
    data: ConversationModeChangedData


# --- replies (the ai service) -----------------------------------------------------------------


class ReplySource(EventData):
    """A knowledge passage a reply was grounded on (where it came from, never its text)."""

    document_id: uuid.UUID
    title: str
    heading_path: list[str] = Field(default_factory=list)
    score: float = Field(description="The retrieval score of the passage (fused rank score).")


class ReplyGeneratedData(EventData):
    conversation_id: uuid.UUID
    page_id: str
    psid: str
    in_reply_to_event_id: uuid.UUID = Field(description="The `message.received` event answered.")
    in_reply_to_mid: str
    text: str
    language: str = Field(description="BCP 47 code of the reply, e.g. `th`, `en`, `ja`.")
    generated_by: Literal["gemini", "offline"]
    model: str | None = None
    handover: bool = Field(description="True when a person must follow up (AI off, failing or unsure).")
    handover_reason: str | None = None
    quick_replies: list[str] = Field(
        default_factory=list, description="Choices offered to the customer as Messenger quick replies."
    )
    sources: list[ReplySource] = Field(
        default_factory=list, description="The knowledge passages the reply was grounded on, best first."
    )


class ReplyGenerated(Event):
    """The AI composed a reply to a customer's message."""

    type: Literal["reply.generated"] = "reply.generated"
    producer: str = "ai"
    data: ReplyGeneratedData
