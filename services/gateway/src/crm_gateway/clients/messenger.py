"""The messenger's internal HTTP API (`/internal/v1`), as the gateway calls it.

Conversations and messages belong to the messenger; the gateway never reads its tables nor
imports its code. The models below are the gateway's own copies of the shapes the messenger
answers with (extra fields are ignored, so the messenger may add some), and they are also what
the staff API returns. The messenger's errors become the gateway's problems:

    2xx                       the model
    404 (on a conversation)   ConversationNotFound         404
    403 with a `detail`       ConversationForbidden        403, with the messenger's `detail`
    409                       ConversationConflict         409, with the messenger's `detail`
    400, 422                  MessengerRejected            422
    no answer, or 503         MessengerUnavailable         503
    anything else             ServiceFailed                502 (logged: a 401 is a token mismatch)
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from crm_contracts import ChannelIdentity
from crm_gateway.clients.base import InternalApiClient, query
from crm_gateway.clients.errors import (
    ConversationConflict,
    ConversationForbidden,
    ConversationNotFound,
    MessengerRejected,
    MessengerUnavailable,
)
from crm_gateway.errors import Problem

ConversationMode = Literal["ai", "human"]

# --- the shapes, with the examples the OpenAPI document shows ---------------------------------

_CONVERSATION_ID = "0b8f5a52-2c1e-4c55-9a3e-5d8f0e7b2a10"
_STAFF_ID = "7d2c9a4e-1b3f-4e8a-9c6d-2f1e0a9b8c7d"
_REPLY_WINDOW_EXAMPLE = {
    "can_reply": True,
    "messaging_type": "RESPONSE",
    "tag": None,
    "closes_at": "2026-05-02T03:15:00Z",
}
CONVERSATION_EXAMPLE: dict[str, Any] = {
    "id": _CONVERSATION_ID,
    "page_id": "1029384756",
    "psid": "6543210987654321",
    "status": "open",
    "mode": "human",
    "needs_human": True,
    "handover_reason": "customer_requested",
    "assigned_staff_id": _STAFF_ID,
    "first_name": "Somchai",
    "last_name": "Jaidee",
    "profile_pic": "https://platform-lookaside.fbsbx.com/platform/profilepic/?psid=6543210987654321",
    "last_customer_message_at": "2026-05-01T03:15:00Z",
    "last_message_at": "2026-05-01T03:15:00Z",
    "unread_count": 2,
    "reply_window": _REPLY_WINDOW_EXAMPLE,
    "created_at": "2026-04-28T09:00:00Z",
}
MESSAGE_EXAMPLE: dict[str, Any] = {
    "id": "5e1d7c3b-8a2f-4b6e-9d0c-1a2b3c4d5e6f",
    "direction": "in",
    "kind": "text",
    "text": "สวัสดีค่ะ คอร์สซูชิรอบเดือนพฤษภาคมยังว่างไหมคะ",
    "attachments": [],
    "quick_reply_payload": None,
    "postback_payload": None,
    "sent_by": "customer",
    "staff_id": None,
    "status": "received",
    "error_reason": None,
    "sent_at": "2026-05-01T03:15:00Z",
    "delivered_at": None,
    "read_at": None,
    "created_at": "2026-05-01T03:15:01Z",
    "reactions": [{"reaction": "love", "emoji": "❤️"}],
}
STAFF_REPLY_EXAMPLE: dict[str, Any] = {
    **MESSAGE_EXAMPLE,
    "id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    "direction": "out",
    "text": "ยังว่างค่ะ เรียนทุกวันเสาร์ 10:00-15:00 ค่ะ",
    "sent_by": "staff",
    "staff_id": _STAFF_ID,
    "status": "pending",
    "sent_at": None,
    "created_at": "2026-05-01T03:20:00Z",
    "reactions": [],
}
QUARANTINED_EXAMPLE: dict[str, Any] = {
    "id": 42,
    "received_at": "2026-05-01T03:15:00Z",
    "page_id": "1029384756",
    "kind": "unknown_event",
    "reason": "no handler for messaging event with 'game_play'",
    "payload": {"sender": {"id": "6543210987654321"}, "game_play": {"game_id": "1"}},
}


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


class ReplyWindow(BaseModel):
    """Whether staff can reply now, and how Meta's messaging window is used for it."""

    model_config = _examples(_REPLY_WINDOW_EXAMPLE)

    can_reply: bool
    messaging_type: Literal["RESPONSE", "MESSAGE_TAG"] | None = Field(
        default=None, description="`RESPONSE` within 24 hours; `MESSAGE_TAG` up to 7 days."
    )
    tag: Literal["HUMAN_AGENT"] | None = None
    closes_at: datetime | None = Field(default=None, description="When replying stops being possible.")


class Conversation(BaseModel):
    """One customer's Messenger thread with the Page."""

    model_config = _examples(CONVERSATION_EXAMPLE)

    id: uuid.UUID
    page_id: str
    psid: str = Field(description="The customer's Page-scoped id.")
    status: Literal["open", "closed"]
    mode: ConversationMode = Field(description="Who answers now: the AI, or staff (`human`).")
    needs_human: bool = Field(description="Waiting for staff (the customer or the AI asked).")
    handover_reason: str | None = None
    assigned_staff_id: uuid.UUID | None = None
    first_name: str | None = None
    last_name: str | None = None
    profile_pic: str | None = None
    last_customer_message_at: datetime | None = None
    last_message_at: datetime | None = None
    unread_count: int = Field(ge=0)
    reply_window: ReplyWindow
    created_at: datetime


class MessageAttachment(BaseModel):
    type: str = Field(description="image, video, audio, file, sticker, fallback, template, ...")
    url: str | None = None


class Reaction(BaseModel):
    reaction: str
    emoji: str | None = None


class MessageSource(BaseModel):
    """A knowledge passage an AI reply was grounded on: where it came from, not its text."""

    document_id: uuid.UUID
    title: str
    heading_path: list[str] = Field(default_factory=list, description="The headings above the passage.")
    score: float = Field(description="Its retrieval score (fused rank score).")


class Message(BaseModel):
    """One message of a conversation, in either direction."""

    model_config = _examples(MESSAGE_EXAMPLE, STAFF_REPLY_EXAMPLE)

    id: uuid.UUID
    direction: Literal["in", "out"]
    kind: str = Field(description="text, attachment, quick_reply, postback, ...")
    text: str | None = None
    attachments: list[MessageAttachment] = Field(default_factory=list)
    quick_reply_payload: str | None = None
    postback_payload: str | None = None
    sent_by: Literal["customer", "ai", "staff", "page_inbox"] | None = None
    staff_id: uuid.UUID | None = None
    status: str = Field(description="received, pending, sent, delivered, read, failed, ...")
    error_reason: str | None = Field(default=None, description="Why sending failed, for staff to read.")
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    read_at: datetime | None = None
    created_at: datetime
    reactions: list[Reaction] = Field(default_factory=list)
    sources: list[MessageSource] = Field(
        default_factory=list,
        description="An AI reply's knowledge passages, best first (on the last part of a long reply).",
    )


class ConversationPage(BaseModel):
    model_config = _examples({"items": [CONVERSATION_EXAMPLE], "next_cursor": "eyJsYXN0IjoiMjAyNi0wNS0wMSJ9"})

    items: list[Conversation]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


class ConversationThread(BaseModel):
    model_config = _examples(
        {"conversation": CONVERSATION_EXAMPLE, "messages": [MESSAGE_EXAMPLE], "next_cursor": None}
    )

    conversation: Conversation
    messages: list[Message] = Field(description="Oldest first.")
    next_cursor: str | None = Field(description="Pass as `before` for older messages; null at the start.")


class SentMessage(BaseModel):
    model_config = _examples({"message": STAFF_REPLY_EXAMPLE})

    message: Message = Field(description="The reply as stored; Meta is called after this answer.")


class QuarantinedItem(BaseModel):
    """A webhook item the messenger could not handle, kept for inspection."""

    model_config = _examples(QUARANTINED_EXAMPLE)

    id: int
    received_at: datetime
    page_id: str | None = None
    kind: str
    reason: str
    payload: JsonValue = Field(description="The item as Meta sent it.")


class QuarantinePage(BaseModel):
    model_config = _examples({"items": [QUARANTINED_EXAMPLE]})

    items: list[QuarantinedItem]


class MessengerExport(BaseModel):
    """Everything the messenger holds on some identities (PDPA access), as it answers: kept whole,
    sections the gateway does not know included, so an export never leaves out what it holds."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "service": "messenger",
                    "conversations": [{**CONVERSATION_EXAMPLE, "messages": [MESSAGE_EXAMPLE]}],
                }
            ]
        },
    )

    service: str = "messenger"
    conversations: list[dict[str, JsonValue]] = Field(description="Each with its `messages`, oldest first.")


# --- the client ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Who acts on a conversation, and whether their role may act on every one
    (`conversation:manage`); the messenger checks the conversation's assignment against it."""

    staff_id: uuid.UUID
    on_any: bool


@dataclass(frozen=True)
class ConversationFilters:
    mode: ConversationMode | None = None
    # A staff id, "unassigned", or None for anyone.
    assigned_staff_id: uuid.UUID | Literal["unassigned"] | None = None
    unread: bool | None = None
    needs_human: bool | None = None


class MessengerClient(InternalApiClient):
    """Typed calls to the messenger's internal API."""

    service = "messenger"

    def unavailable(self) -> Problem:
        return MessengerUnavailable()

    def conflict(self, detail: str | None) -> Problem:
        return ConversationConflict(detail or "The messenger refused this action.")

    def rejected(self, detail: str | None) -> Problem:
        return MessengerRejected(detail or "The messenger did not accept this request.")

    def forbidden(self, detail: str | None) -> Problem | None:
        # The token check answers 401; a 403 with a sentence is the messenger's ADR 10 refusal.
        return ConversationForbidden(detail) if detail else None

    async def conversations(
        self, filters: ConversationFilters, *, limit: int, cursor: str | None
    ) -> ConversationPage:
        params = query(
            limit=limit,
            cursor=cursor,
            mode=filters.mode,
            assigned_staff_id=filters.assigned_staff_id,
            unread=filters.unread,
            needs_human=filters.needs_human,
        )
        return await self._call("GET", "/conversations", ConversationPage, params=params)

    async def conversation(
        self, conversation_id: uuid.UUID, *, messages_limit: int, before: str | None
    ) -> ConversationThread:
        return await self._call(
            "GET",
            f"/conversations/{conversation_id}",
            ConversationThread,
            not_found=lambda: ConversationNotFound(conversation_id),
            params=query(messages_limit=messages_limit, before=before),
        )

    async def assign(
        self, conversation_id: uuid.UUID, staff_id: uuid.UUID | None, actor: Actor
    ) -> Conversation:
        body = {
            "staff_id": _str(staff_id),
            "acting_staff_id": str(actor.staff_id),
            "acts_on_any": actor.on_any,
        }
        return await self._action(conversation_id, "assign", body)

    async def hand_back(self, conversation_id: uuid.UUID, actor: Actor) -> Conversation:
        body = {"staff_id": str(actor.staff_id), "acts_on_any": actor.on_any}
        return await self._action(conversation_id, "handback", body)

    async def mark_read(self, conversation_id: uuid.UUID) -> Conversation:
        return await self._action(conversation_id, "read", None)

    async def send_reply(
        self, conversation_id: uuid.UUID, *, text: str, actor: Actor, idempotency_key: str | None
    ) -> SentMessage:
        body = {
            "text": text,
            "staff_id": str(actor.staff_id),
            "idempotency_key": idempotency_key,
            "acts_on_any": actor.on_any,
        }
        return await self._call(
            "POST",
            f"/conversations/{conversation_id}/messages",
            SentMessage,
            not_found=lambda: ConversationNotFound(conversation_id),
            json=body,
        )

    async def export(self, identities: Sequence[ChannelIdentity]) -> MessengerExport:
        """What the messenger holds on these identities, for a customer's PDPA export."""
        body = {"identities": [i.model_dump(mode="json") for i in identities]}
        return await self._call("POST", "/pdpa/export", MessengerExport, json=body)

    async def quarantine(self, *, limit: int) -> QuarantinePage:
        return await self._call("GET", "/quarantine", QuarantinePage, params=query(limit=limit))

    async def _action(
        self, conversation_id: uuid.UUID, action: str, body: dict[str, Any] | None
    ) -> Conversation:
        return await self._call(
            "POST",
            f"/conversations/{conversation_id}/{action}",
            Conversation,
            not_found=lambda: ConversationNotFound(conversation_id),
            json=body,
        )


def _str(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)
