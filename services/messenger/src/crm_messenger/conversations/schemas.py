"""The internal API's bodies for conversations: a conversation with its reply window, its
messages with their reactions, the inbox page and the detail, and what staff send to assign and
hand back: who acts, and whether they may act on every conversation (ADR 10)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from crm_messenger.conversations.rules import Actor, reply_window


class ReplyWindowView(BaseModel):
    can_reply: bool
    messaging_type: Literal["RESPONSE", "MESSAGE_TAG"] | None
    tag: Literal["HUMAN_AGENT"] | None
    closes_at: datetime | None


class ConversationView(BaseModel):
    id: uuid.UUID
    page_id: str
    psid: str
    status: str
    mode: Literal["ai", "human"]
    needs_human: bool
    handover_reason: str | None
    assigned_staff_id: uuid.UUID | None
    first_name: str | None
    last_name: str | None
    profile_pic: str | None
    last_customer_message_at: datetime | None
    last_message_at: datetime | None
    unread_count: int
    reply_window: ReplyWindowView
    created_at: datetime


class ReactionView(BaseModel):
    reaction: str
    emoji: str | None


class SourceView(BaseModel):
    document_id: uuid.UUID
    title: str
    heading_path: list[str] = Field(default_factory=list)
    score: float


class MessageView(BaseModel):
    id: uuid.UUID
    direction: Literal["in", "out"]
    kind: str
    text: str | None
    attachments: list[dict[str, Any]]
    quick_reply_payload: str | None
    postback_payload: str | None
    sent_by: str | None
    staff_id: uuid.UUID | None
    status: str
    error_reason: str | None
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    created_at: datetime
    reactions: list[ReactionView] = Field(default_factory=list)
    sources: list[SourceView] = Field(default_factory=list)


class ConversationPage(BaseModel):
    items: list[ConversationView]
    next_cursor: str | None


class ConversationDetail(BaseModel):
    conversation: ConversationView
    messages: list[MessageView]
    next_cursor: str | None


class AssignRequest(BaseModel):
    staff_id: uuid.UUID | None = Field(description="The staff member to assign; null unassigns.")
    acting_staff_id: uuid.UUID = Field(description="Who assigns (the signed-in staff member).")
    acts_on_any: bool = Field(
        default=False, description="The gateway's word that they may act on every conversation (a manager)."
    )

    def actor(self) -> Actor:
        return Actor(self.acting_staff_id, self.acts_on_any)


class HandbackRequest(BaseModel):
    staff_id: uuid.UUID = Field(description="Who hands back (the signed-in staff member).")
    acts_on_any: bool = False

    def actor(self) -> Actor:
        return Actor(self.staff_id, self.acts_on_any)


def conversation_view(row: Any, now: datetime | None = None) -> ConversationView:
    window = reply_window(row.last_customer_message_at, now or datetime.now(UTC), sender="staff")
    return ConversationView(
        **{k: getattr(row, k) for k in ConversationView.model_fields if k != "reply_window"},
        reply_window=ReplyWindowView(
            can_reply=window.can_reply,
            messaging_type=window.messaging_type,
            tag=window.tag,
            closes_at=window.closes_at,
        ),
    )


def message_view(row: Any, reactions: list[Any] | None = None) -> MessageView:
    return MessageView(
        **{k: getattr(row, k) for k in MessageView.model_fields if k != "reactions"},
        reactions=[ReactionView(reaction=r.reaction, emoji=r.emoji) for r in reactions or []],
    )
