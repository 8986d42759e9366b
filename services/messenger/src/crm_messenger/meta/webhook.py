"""The shapes Meta posts to a Page app's webhook (see shared/reference/meta-gemini-protocol.md).

Parsing is tolerant: unknown fields are ignored, and an item we cannot read is quarantined by
the service rather than failing the whole POST.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


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

    @field_validator("ad_id", "ref", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        # The doc types ad_id as String but shows it unquoted: accept numbers too.
        return str(value) if isinstance(value, int) else value


class AttachmentPayload(_Model):
    url: str | None = None
    sticker_id: int | None = None


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


class Postback(_Model):
    mid: str | None = None
    title: str | None = None
    payload: str | None = None
    referral: Referral | None = None


class Read(_Model):
    watermark: int


class Delivery(_Model):
    mids: list[str] = Field(default_factory=list)
    watermark: int | None = None


class Reaction(_Model):
    reaction: str | None = None
    emoji: str | None = None
    action: str
    mid: str


class Optin(_Model):
    ref: str | None = None
    user_ref: str | None = None
    type: str | None = None
    payload: str | None = None
    notification_messages_token: str | None = None


def _ms(value: Any) -> int:
    """Epoch milliseconds; the current postback doc shows seconds as a string."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int | float):
        return int(value * 1000) if value < 10_000_000_000 else int(value)
    raise ValueError("timestamp is not an epoch number")


class Messaging(_Model):
    sender: Party
    recipient: Party
    timestamp: int = 0
    message: Message | None = None
    postback: Postback | None = None
    referral: Referral | None = None
    read: Read | None = None
    delivery: Delivery | None = None
    reaction: Reaction | None = None
    optin: Optin | None = None

    @field_validator("timestamp", mode="before")
    @classmethod
    def _timestamp(cls, value: Any) -> int:
        return _ms(value)

    @property
    def at(self) -> datetime:
        return ms_to_datetime(self.timestamp)


class Entry(BaseModel):
    # What else an entry holds is kept: an entry we do not handle is quarantined as Meta sent it.
    model_config = ConfigDict(extra="allow")

    id: str
    time: int = 0
    messaging: list[dict[str, Any]] = Field(default_factory=list)
    standby: list[dict[str, Any]] = Field(default_factory=list)
    # Page subscription fields (`feed`, `mention`, ...): none is handled, each is quarantined.
    changes: list[dict[str, Any]] = Field(default_factory=list)


class WebhookPayload(_Model):
    object: str
    entry: list[Entry] = Field(default_factory=list)


KINDS = ("message", "postback", "referral", "read", "delivery", "reaction", "optin")


def item_kind(raw: dict[str, Any]) -> str:
    """Name of the event in a `messaging` item, by the key Meta uses for it."""
    for key in KINDS:
        if key in raw:
            if key == "message" and isinstance(raw[key], dict) and raw[key].get("is_echo"):
                return "echo"
            return key
    return "unknown"


def ms_to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def sort_key(raw: dict[str, Any]) -> int:
    """Meta's `timestamp` (ms); items without one sort first and are quarantined later."""
    try:
        return _ms(raw.get("timestamp", 0))
    except ValueError:
        return 0
