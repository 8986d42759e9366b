"""The ai's view of a customer as a lead: its score (`lead.scored`) and its insights from the
conversation (`customer.insights_updated`), kept on the customer's row and shown with it.

1. The ai knows a lead by its Messenger identity (Page, PSID); the customer holding that identity
   gets the event (after a merge, the survivor).
2. An identity no customer has yet is almost always the `contact.seen` that creates the customer
   still on its way (both leave the messenger together): the event is retried through the
   broker's delays. Once it is older than `GIVE_UP_AFTER` (the retries take about 2.5 minutes) it
   is dropped with a log line saying why: the contact was erased (PDPA) or never became a
   customer, and the ai scores again on the customer's next message. Nothing about the person is
   parked.
3. The newest wins: a score or insights older than the ones stored (a redelivery, a retry
   overtaken) change nothing. Each event is handled once (the inbox).
4. A big change goes on the timeline: the first score, a new temperature, or the score moving by
   `BIG_CHANGE` points or more; so do new insights. Entries hold numbers, temperatures and ids,
   never what the customer said.

Neither is part of the profile: no version bump (an edit in progress is not refused with 412
because the ai rescored) and no `customer.updated` (the snapshots stay what the profile is); reads
add the lead from the database, the 360 the insights too.

5. What was stored is announced with `customer.lead_updated` (customer id and score, published
   after the commit): staff's screens refetch on it, never on the ai's own events, which reach them
   before this handler has stored anything.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from crm_contracts import (
    ChannelIdentity,
    CustomerInsightsUpdated,
    CustomerLeadUpdated,
    CustomerLeadUpdatedData,
    LeadScored,
    Temperature,
)
from crm_contracts.envelope import Event
from crm_contracts.snapshots import CustomerSnapshot
from crm_gateway.customers import leads_repository, repository, timeline
from crm_servicekit.logging import get_logger
from crm_servicekit.outbox import UnitOfWork

log = get_logger(__name__)

SCORES_CONSUMER = "gateway.leads"
INSIGHTS_CONSUMER = "gateway.insights"
BIG_CHANGE = 20
# Past the broker's last retry (1 + 5 + 30 + 120 s): the customer is not coming.
GIVE_UP_AFTER = timedelta(minutes=2)

# All nullable: an erasure clears them with the profile, an export has them (`customers.privacy`).
LEAD_AND_INSIGHT_COLUMNS = (
    "lead_score",
    "lead_temperature",
    "lead_reasons",
    "lead_scored_at",
    "insights",
    "insights_at",
)


class LeadReason(BaseModel):
    signal: str = Field(description="A stable code, e.g. `asked_price`.")
    label: str = Field(description="What staff read, e.g. 'asked about the price'.")
    points: int


class Lead(BaseModel):
    """The ai's latest score of the customer as a lead."""

    score: int = Field(ge=0, le=100)
    temperature: Temperature
    reasons: list[LeadReason] = Field(description="Why, biggest contribution first.")
    scored_at: datetime


class Insights(BaseModel):
    """What the ai gathered from the customer's conversation, for staff to act on."""

    conversation_id: uuid.UUID
    intent: str | None = None
    interested_product_ids: list[uuid.UUID] = Field(default_factory=list)
    preferred_schedule: str | None = None
    budget: str | None = None
    objections: list[str] = Field(default_factory=list)
    language: str | None = None
    next_best_action: str | None = None
    summary: str
    source: Literal["gemini", "rules"] = Field(description="`rules` when no model was available.")
    generated_at: datetime


class CustomerView(CustomerSnapshot):
    """A customer as staff read it: the profile, and the ai's latest lead score."""

    lead: Lead | None = Field(default=None, description="None until the ai has scored the customer.")


def lead_of(row: Mapping[str, Any]) -> Lead | None:
    """The lead columns of a `customers` row (or of a statement that selects them)."""
    if row.get("lead_score") is None or row.get("lead_scored_at") is None:
        return None
    return Lead(
        score=row["lead_score"],
        temperature=row["lead_temperature"],
        reasons=[LeadReason(**r) for r in row.get("lead_reasons") or []],
        scored_at=row["lead_scored_at"],
    )


def insights_of(row: Mapping[str, Any]) -> Insights | None:
    found = row.get("insights")
    return Insights.model_validate(found) if found else None


def view(snapshot: CustomerSnapshot, lead: Lead | None) -> CustomerView:
    return CustomerView(**dict(snapshot), lead=lead)


class CustomerNotYetKnown(Exception):
    """The event's contact is no customer yet: retried (its `contact.seen` is on its way)."""


async def lead_scored(uow: UnitOfWork, event: LeadScored, *, now: datetime | None = None) -> bool | None:
    """Store the score on its customer; whether it changed what is stored (None: handled before)."""
    if not await uow.claim(event.event_id, SCORES_CONSUMER):
        return None
    data = event.data
    customer_id = await _customer(uow, event, data.page_id, data.psid, now)
    if customer_id is None:
        return False
    stored = await leads_repository.lock_lead(uow.session, customer_id)
    assert stored is not None, "an identity's customer exists (foreign key)"
    if stored.lead_scored_at is not None and data.scored_at <= stored.lead_scored_at:
        await uow.commit()
        log.info("older lead score ignored", customer_id=customer_id, event_id=str(event.event_id))
        return False
    await leads_repository.set_lead(
        uow.session,
        customer_id,
        score=data.score,
        temperature=data.temperature,
        reasons=[r.model_dump(mode="json") for r in data.reasons],
        scored_at=data.scored_at,
    )
    if is_big_change(stored.lead_score, stored.lead_temperature, data.score, data.temperature):
        detail = {
            "score": data.score,
            "previous_score": stored.lead_score,
            "temperature": data.temperature,
            "previous_temperature": stored.lead_temperature,
            "conversation_id": str(data.conversation_id) if data.conversation_id else None,
        }
        await timeline.add(
            uow.session,
            customer_id,
            "lead_scored",
            data.scored_at,
            detail,
            source_id=f"lead.scored:{event.event_id}",
        )
    _announce(uow, event, customer_id, "score", data.score, data.temperature)
    await uow.commit()
    log.info("lead score stored", customer_id=customer_id, score=data.score, temperature=data.temperature)
    return True


def _announce(
    uow: UnitOfWork,
    cause: Event,
    customer_id: str,
    changed: Literal["score", "insights"],
    score: int | None,
    temperature: Temperature | None,
) -> None:
    data = CustomerLeadUpdatedData(
        customer_id=customer_id,
        changed=[changed],
        score=score,
        temperature=temperature,
        updated_at=datetime.now(UTC),
    )
    uow.emit(CustomerLeadUpdated(correlation_id=cause.correlation_id, data=data))


def is_big_change(before: int | None, before_temperature: str | None, after: int, temperature: str) -> bool:
    """Worth a timeline entry: the first score, a new temperature, or `BIG_CHANGE` points or more."""
    return before is None or before_temperature != temperature or abs(after - before) >= BIG_CHANGE


async def insights_updated(
    uow: UnitOfWork, event: CustomerInsightsUpdated, *, now: datetime | None = None
) -> bool | None:
    """Store the insights on their customer; whether they replaced what was stored (None: handled
    before)."""
    if not await uow.claim(event.event_id, INSIGHTS_CONSUMER):
        return None
    data = event.data
    customer_id = await _customer(uow, event, data.page_id, data.psid, now)
    if customer_id is None:
        return False
    stored = await leads_repository.lock_lead(uow.session, customer_id)
    assert stored is not None, "an identity's customer exists (foreign key)"
    if stored.insights_at is not None and data.generated_at <= stored.insights_at:
        await uow.commit()
        log.info("older insights ignored", customer_id=customer_id, event_id=str(event.event_id))
        return False
    insights = Insights.model_validate(data.model_dump(exclude={"page_id", "psid"}))
    await leads_repository.set_insights(
        uow.session, customer_id, insights.model_dump(mode="json"), data.generated_at
    )
    detail = {
        "conversation_id": str(data.conversation_id),
        "source": data.source,
        "interested_product_ids": [str(p) for p in data.interested_product_ids],
    }
    await timeline.add(
        uow.session,
        customer_id,
        "ai_insight",
        data.generated_at,
        detail,
        source_id=f"customer.insights_updated:{event.event_id}",
    )
    _announce(uow, event, customer_id, "insights", stored.lead_score, stored.lead_temperature)
    await uow.commit()
    log.info("insights stored", customer_id=customer_id, source=data.source)
    return True


async def _customer(
    uow: UnitOfWork, event: Event, page_id: str, psid: str, now: datetime | None
) -> str | None:
    """The customer holding the identity; None (the event dropped, committed) once it is too old
    to wait for; `CustomerNotYetKnown` (rolled back, retried) while it may still come."""
    identity = ChannelIdentity(channel="messenger", page_id=page_id, external_id=psid)
    customer_id = await repository.customer_for_identity(uow.session, identity)
    if customer_id is not None:
        return customer_id
    if (now or datetime.now(UTC)) - event.occurred_at < GIVE_UP_AFTER:
        raise CustomerNotYetKnown(f"no customer yet for event {event.event_id}")
    await uow.commit()
    log.warning(
        "lead event dropped: no customer has its Messenger identity (erased, or never a customer)",
        event_id=str(event.event_id),
        type=event.type,
    )
    return None
