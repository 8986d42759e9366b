"""Customer events: a customer created, changed, merged into another, or a merge undone.

The gateway owns customers and publishes the whole customer on every change; a service that keeps
a copy (the cache writer) re-keys its data when two records of one person are merged, or unmerged.
Erasure requests are privacy events (see `privacy`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from crm_contracts.envelope import Event, EventData

from .attribution import AdReferral

# What the gateway gives out (`TVS-CUS-<channel>-<yy>-<seq:04d>`), and nothing else: consumers
# build file names and keys from it (the cache-writer's `customer/<id>.json`), so an event whose
# id could name another path (`../../etc/x`) fails validation and is parked, never used.
CUSTOMER_ID_PATTERN = r"^TVS-CUS-(?:FB|LINE|WEB|WALKIN)-[0-9]{2}-[0-9]{4,9}$"


CustomerId = Annotated[str, Field(pattern=CUSTOMER_ID_PATTERN, max_length=40)]


class ChannelIdentity(EventData):
    channel: Literal["messenger", "line", "web", "walkin"]
    page_id: str | None = None
    external_id: str = Field(description="PSID for Messenger.")


LifecycleStage = Literal["lead", "contacted", "qualified", "enrolled", "alumni", "lost"]


class MarketingConsent(EventData):
    """Whether the customer agreed to marketing messages, when, and how it was recorded."""

    status: Literal["granted", "withdrawn"]
    at: datetime
    method: str = Field(
        description="How it was given or withdrawn, e.g. `messenger`, `form`, `phone`, `in_person`."
    )


class CustomerCreatedData(EventData):
    customer_id: CustomerId = Field(
        description="`TVS-CUS-<channel>-<yy>-<seq:04d>`, e.g. `TVS-CUS-FB-26-0001`."
    )
    channel: Literal["FB", "LINE", "WEB", "WALKIN"]
    display_name: str | None = None
    lifecycle_stage: str
    identities: list[ChannelIdentity]
    first_touch: AdReferral | None = None
    latest_touch: AdReferral | None = None
    created_at: datetime
    # The profile staff keep (all optional, so older events and snapshots still read).
    name_th: str | None = Field(default=None, description="Name in Thai script.")
    name_latin: str | None = Field(default=None, description="Name in Latin letters.")
    nickname: str | None = None
    phone: str | None = Field(default=None, description="E.164, e.g. `+66812345678`.")
    email: str | None = None
    tags: list[str] = Field(default_factory=list)
    assigned_staff_id: uuid.UUID | None = None
    consent: MarketingConsent | None = None
    version: int = Field(default=1, description="Grows by one with every change; the ETag of the customer.")


class CustomerCreated(Event):
    """A customer record exists (created by the gateway, which owns customers)."""

    type: Literal["customer.created"] = "customer.created"
    producer: str = "gateway"
    data: CustomerCreatedData


class CustomerUpdatedData(CustomerCreatedData):
    """The whole customer as it is now (the shape of `crm_contracts.snapshots.CustomerSnapshot`)."""

    updated_at: datetime
    changed: list[str] = Field(description="Names of the fields that changed, e.g. `latest_touch`.")


class CustomerUpdated(Event):
    """A customer record changed; `data` is the whole customer as it is now."""

    type: Literal["customer.updated"] = "customer.updated"
    producer: str = "gateway"
    data: CustomerUpdatedData


class CustomerMergedData(EventData):
    merge_id: uuid.UUID = Field(description="The audit entry of the merge; an admin undoes it through it.")
    survivor_id: CustomerId = Field(description="The customer that remains.")
    merged_id: CustomerId = Field(
        description="The customer merged into the survivor; it no longer exists on its own."
    )
    identities: list[ChannelIdentity] = Field(description="The channel identities moved to the survivor.")
    merged_at: datetime


class CustomerMerged(Event):
    """Two records of one person became one: every service re-keys `merged_id`'s data to `survivor_id`."""

    type: Literal["customer.merged"] = "customer.merged"
    producer: str = "gateway"
    data: CustomerMergedData


class CustomerMergeUndoneData(EventData):
    merge_id: uuid.UUID
    survivor_id: CustomerId
    restored_id: CustomerId = Field(description="The customer that exists on its own again.")
    identities: list[ChannelIdentity] = Field(description="The channel identities given back to it.")
    undone_at: datetime


class CustomerMergeUndone(Event):
    """An admin undid a merge: `restored_id` owns its data again."""

    type: Literal["customer.merge_undone"] = "customer.merge_undone"
    producer: str = "gateway"
    data: CustomerMergeUndoneData
