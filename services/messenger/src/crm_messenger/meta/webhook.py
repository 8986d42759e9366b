"""The shapes Meta posts to a Page app's webhook (see shared/reference/meta-gemini-protocol.md).

Parsing is tolerant: unknown fields are ignored, and an item we cannot read is quarantined by
the service rather than failing the whole POST.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Party(_Model):
    id: str | None = None
    user_ref: str | None = None


class Referral(_Model):
    ref: str | None = None
    ad_id: str | None = None
    source: str | None = None
    type: str | None = None
    ads_context_data: dict[str, Any] | None = None


class AttachmentPayload(_Model):
    url: str | None = None


class Attachment(_Model):
    type: str
    payload: AttachmentPayload | None = None


class QuickReply(_Model):
    payload: str


class Message(_Model):
    mid: str
    text: str | None = None
    is_echo: bool = False
    app_id: int | None = None
    metadata: str | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    quick_reply: QuickReply | None = None
    referral: Referral | None = None


class Messaging(_Model):
    sender: Party
    recipient: Party
    timestamp: int = 0
    message: Message | None = None
    referral: Referral | None = None

    @property
    def sent_at(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp / 1000, UTC)

    @property
    def kind(self) -> str:
        if self.message is not None:
            return "echo" if self.message.is_echo else "message"
        return (self.referral and "referral") or "unknown"


class Entry(_Model):
    id: str
    time: int = 0
    messaging: list[dict[str, Any]] = Field(default_factory=list)
    standby: list[dict[str, Any]] = Field(default_factory=list)


class WebhookPayload(_Model):
    object: str
    entry: list[Entry] = Field(default_factory=list)


def item_kind(raw: dict[str, Any]) -> str:
    """Name of the event in a `messaging` item, by the key Meta uses for it."""
    for key in ("message", "postback", "referral", "read", "delivery", "reaction", "optin"):
        if key in raw:
            if key == "message" and isinstance(raw[key], dict) and raw[key].get("is_echo"):
                return "echo"
            return key
    return "unknown"
