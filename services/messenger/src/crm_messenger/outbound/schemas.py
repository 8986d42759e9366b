"""The internal API's bodies for a staff reply: what staff send, and the message accepted."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from crm_messenger.conversations.rules import Actor
from crm_messenger.conversations.schemas import MessageView


class StaffReplyRequest(BaseModel):
    text: str = Field(min_length=1, max_length=8000)
    staff_id: uuid.UUID = Field(description="Who replies (the signed-in staff member).")
    idempotency_key: str | None = Field(default=None, max_length=200)
    acts_on_any: bool = Field(
        default=False, description="The gateway's word that they may act on every conversation (a manager)."
    )

    def actor(self) -> Actor:
        return Actor(self.staff_id, self.acts_on_any)


class StaffReplyAccepted(BaseModel):
    message: MessageView
