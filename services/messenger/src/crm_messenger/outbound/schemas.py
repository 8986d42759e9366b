"""The internal API's bodies for a staff reply: what staff send, and the message accepted."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from crm_messenger.conversations.schemas import MessageView


class StaffReplyRequest(BaseModel):
    text: str = Field(min_length=1, max_length=8000)
    staff_id: uuid.UUID
    idempotency_key: str | None = Field(default=None, max_length=200)


class StaffReplyAccepted(BaseModel):
    message: MessageView
