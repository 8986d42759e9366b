"""Lead events: the ai's score of a customer as a lead, and its insights from their conversation.

The ai keys a lead by the channel identity it knows (Page and PSID); the gateway finds the
customer that identity belongs to, stores the latest score and insights on them, and shows them in
the customer 360, the customer list (sortable and filterable) and, for big changes, the timeline.
Neither event carries message text: reasons and insights are short labels and a summary written
for staff. Once the gateway has stored either on its customer it publishes `customer.lead_updated`
(ids and the score only): what staff's screens follow, because a screen that refetched on the
ai's own event could read the customer before the gateway stored what the event brought.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from crm_contracts.envelope import Event, EventData

from .customers import CustomerId

Temperature = Literal["hot", "warm", "cold"]


class ScoreReason(EventData):
    signal: str = Field(description="A stable code, e.g. `asked_price`, `gave_phone`, `from_ad`.")
    label: str = Field(description="What staff read, e.g. 'asked about the price'.")
    points: int = Field(description="What the signal added (negative for decay).")


class LeadScoredData(EventData):
    page_id: str
    psid: str
    conversation_id: uuid.UUID | None = None
    score: int = Field(ge=0, le=100)
    temperature: Temperature
    previous_score: int | None = Field(default=None, ge=0, le=100)
    reasons: list[ScoreReason] = Field(default_factory=list, description="Why, biggest contribution first.")
    scored_at: datetime


class LeadScored(Event):
    """A customer's lead score changed (on a message, or as a quiet lead decays)."""

    type: Literal["lead.scored"] = "lead.scored"
    producer: str = "ai"
    data: LeadScoredData


class CustomerInsightsData(EventData):
    page_id: str
    psid: str
    conversation_id: uuid.UUID
    intent: str | None = Field(default=None, description="e.g. 'enrol', 'compare prices', 'just browsing'.")
    interested_product_ids: list[uuid.UUID] = Field(
        default_factory=list, description="Catalog products the customer is interested in."
    )
    preferred_schedule: str | None = None
    budget: str | None = Field(default=None, description="Budget signals, e.g. 'asked about installments'.")
    objections: list[str] = Field(default_factory=list)
    language: str | None = Field(default=None, description="`th`, `en` or `ja`.")
    next_best_action: str | None = None
    summary: str = Field(description="Two or three sentences for staff.")
    source: Literal["gemini", "rules"] = Field(description="`rules` when no model was available.")
    generated_at: datetime


class CustomerInsightsUpdated(Event):
    """The ai summarised a customer's conversation into insights staff can act on."""

    type: Literal["customer.insights_updated"] = "customer.insights_updated"
    producer: str = "ai"
    data: CustomerInsightsData


class CustomerLeadUpdatedData(EventData):
    customer_id: CustomerId
    changed: list[Literal["score", "insights"]] = Field(description="What the gateway stored.")
    score: int | None = Field(default=None, ge=0, le=100, description="The score now stored, if any.")
    temperature: Temperature | None = None
    updated_at: datetime = Field(description="When the gateway stored it.")


class CustomerLeadUpdated(Event):
    """The gateway stored a new lead score or new insights on a customer (readable from now on)."""

    type: Literal["customer.lead_updated"] = "customer.lead_updated"
    producer: str = "gateway"
    data: CustomerLeadUpdatedData
