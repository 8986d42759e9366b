"""The customers API's request and response bodies: profile fields (phone and e-mail normalised as
they arrive), notes, merges, and what the lists, the timeline, the 360 and duplicates return."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crm_contracts import ChannelIdentity, LifecycleStage, MarketingConsent
from crm_contracts.snapshots import CustomerSnapshot
from crm_servicekit.storable import StorableMoment

from . import profile
from .contact_points import normalise_email, normalise_phone
from .ids import CustomerChannel
from .leads import CustomerView, Insights

# --- request bodies -------------------------------------------------------------------------------


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["granted", "withdrawn"]
    method: str = Field(min_length=1, max_length=50, examples=["messenger", "form", "phone", "in_person"])
    at: StorableMoment | None = Field(default=None, description="When; now if left out.")


class ProfileIn(BaseModel):
    """Profile fields; on PATCH only the fields sent change, and `null` clears one."""

    model_config = ConfigDict(extra="forbid")

    name_th: str | None = Field(default=None, max_length=200)
    name_latin: str | None = Field(default=None, max_length=200)
    nickname: str | None = Field(default=None, max_length=100)
    display_name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40, description="Any local form; stored as E.164.")
    email: str | None = Field(default=None, max_length=320)
    tags: list[Annotated[str, Field(min_length=1, max_length=50)]] | None = Field(default=None, max_length=50)
    lifecycle_stage: LifecycleStage | None = None
    assigned_staff_id: uuid.UUID | None = None
    consent: ConsentIn | None = None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return _contact_point(normalise_phone, value)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return _contact_point(normalise_email, value)

    @field_validator("name_th", "name_latin", "nickname", "display_name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        return list(dict.fromkeys(tag.strip().lower() for tag in value if tag.strip()))

    def change(self) -> profile.ProfileChange:
        sent = self.model_fields_set
        values = {name: getattr(self, name) for name in profile.PROFILE_FIELDS if name in sent}
        if "tags" in values and values["tags"] is None:
            values["tags"] = []
        if values.get("lifecycle_stage", "") is None:
            del values["lifecycle_stage"]  # a stage cannot be cleared, only changed
        consent = (
            MarketingConsent(
                status=self.consent.status,
                method=self.consent.method,
                at=self.consent.at or datetime.now(UTC),
            )
            if self.consent is not None
            else None
        )
        return profile.ProfileChange(values=values, consent=consent, consent_set="consent" in sent)


class CustomerIn(ProfileIn):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "channel": "WALKIN",
                    "name_th": "สมชาย ใจดี",
                    "name_latin": "Somchai Jaidee",
                    "nickname": "ชาย",
                    "phone": "081-234-5678",
                    "email": "somchai@example.com",
                    "tags": ["sushi", "weekend"],
                    "consent": {"status": "granted", "method": "form"},
                }
            ]
        },
    )

    channel: CustomerChannel = Field(description="Where the customer came from; part of the id.")
    identities: list[ChannelIdentity] = Field(default_factory=list, max_length=10)


class CustomerPatch(ProfileIn):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"lifecycle_stage": "qualified", "phone": "+66 81 234 5678"}]},
    )


class NoteIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"body": "Asked about the May sushi intake."}]}
    )

    body: str = Field(min_length=1, max_length=10_000)


class MergeIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"merged_id": "TVS-CUS-WEB-26-0007"}]}
    )

    merged_id: str = Field(description="The customer merged into this one; it stops existing on its own.")


def _contact_point(normalise: Any, value: str | None) -> str | None:
    """Stored normalised; an empty string clears it. `InvalidContactPoint` is a ValueError, so
    pydantic reports it on the field with its message."""
    if value is None or not value.strip():
        return None
    result: str = normalise(value)
    return result


# --- responses ------------------------------------------------------------------------------------


class CustomerPageOut(BaseModel):
    items: list[CustomerView]
    next_cursor: str | None


class NoteOut(BaseModel):
    id: uuid.UUID
    body: str
    author_id: uuid.UUID | None
    created_at: datetime


class StageChangeOut(BaseModel):
    from_stage: str | None
    to_stage: str
    changed_at: datetime
    changed_by: uuid.UUID | None


class TimelineEntryOut(BaseModel):
    kind: str
    occurred_at: datetime
    detail: dict[str, Any]


class TimelinePageOut(BaseModel):
    items: list[TimelineEntryOut]
    next_cursor: str | None


class OrderSummaryOut(BaseModel):
    order_id: uuid.UUID
    status: str
    total: str = Field(examples=["12500.00"])
    paid: str = Field(examples=["12500.00"])
    created_at: datetime


class Customer360Out(BaseModel):
    """Everything staff see on one screen: profile (with the lead score), the ai's insights, stage
    history, latest notes, orders, timeline."""

    customer: CustomerView
    insights: Insights | None = Field(
        default=None, description="What the ai gathered from the conversation; None until it has."
    )
    stage_history: list[StageChangeOut]
    notes: list[NoteOut]
    orders: list[OrderSummaryOut]
    lifetime_value: str = Field(
        description="THB paid over all orders, net of refunds.", examples=["25000.00"]
    )
    timeline: list[TimelineEntryOut]


class DuplicateOut(BaseModel):
    customer: CustomerSnapshot
    same_phone: bool
    same_email: bool
    name_similarity: float = Field(description="0 to 1 (trigram similarity of the names).")


class MergeOut(BaseModel):
    merge_id: uuid.UUID = Field(description="The audit entry an admin undoes the merge through.")
    customer: CustomerSnapshot
