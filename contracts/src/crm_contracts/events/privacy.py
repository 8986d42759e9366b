"""Privacy (PDPA) events: a customer's erasure requested, and each service's report on it.

The gateway asks once with every channel identity the customer had; each service deletes or
anonymises its copy and answers with `customer.erasure_progress`, which carries counts, never data.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from crm_contracts.envelope import Event, EventData

from .customers import ChannelIdentity, CustomerId


class CustomerErasureRequestedData(EventData):
    request_id: uuid.UUID
    customer_id: CustomerId
    identities: list[ChannelIdentity] = Field(
        description="Every channel identity the customer had, so services keyed by them find their copies."
    )
    requested_at: datetime


class CustomerErasureRequested(Event):
    """PDPA erasure: every service deletes or anonymises its copy, then reports its progress."""

    type: Literal["customer.erasure_requested"] = "customer.erasure_requested"
    producer: str = "gateway"
    data: CustomerErasureRequestedData


class CustomerErasureProgressData(EventData):
    request_id: uuid.UUID
    service: str = Field(description="The reporting service, e.g. `messenger`.")
    status: Literal["completed", "failed"]
    erased: dict[str, int] = Field(
        default_factory=dict, description="What was deleted or anonymised, by kind (counts, no data)."
    )
    detail: str | None = Field(default=None, description="Why it failed; never personal data.")
    finished_at: datetime


class CustomerErasureProgress(Event):
    """One service's report on an erasure request (no personal data)."""

    type: Literal["customer.erasure_progress"] = "customer.erasure_progress"
    producer: str = "any"
    data: CustomerErasureProgressData
