"""The customers' subscribers: Messenger contacts become customers and take their profiles; the
ai's lead scores and insights land on them."""

from __future__ import annotations

from crm_contracts import ContactProfileUpdated, ContactSeen, CustomerInsightsUpdated, LeadScored
from crm_gateway.customers import leads, service
from crm_servicekit.broker import subscribe
from crm_servicekit.runtime import Runtime


def register(runtime: Runtime) -> None:
    @subscribe(runtime.broker, runtime.topology, "contacts", ContactSeen)
    async def on_contact_seen(event: ContactSeen) -> None:
        """Create the customer of a new Messenger contact; record a returning one's ad touch."""
        async with runtime.uow() as uow:
            await service.contact_seen(uow, event)

    @subscribe(runtime.broker, runtime.topology, "profiles", ContactProfileUpdated)
    async def on_contact_profile_updated(event: ContactProfileUpdated) -> None:
        """Store a customer's Messenger profile and name them after it; retried until the
        customer exists (the profile can overtake the `contact.seen` that creates it)."""
        async with runtime.uow() as uow:
            await service.profile_updated(uow, event)

    # One customer's events arrive a few at a time (one per message): a small prefetch keeps a
    # burst from holding many row locks at once.
    @subscribe(runtime.broker, runtime.topology, "leads", LeadScored, prefetch=8)
    async def on_lead_scored(event: LeadScored) -> None:
        """Store the ai's latest lead score on the customer; a big change goes on the timeline.
        Retried while the customer does not exist yet, dropped (logged) once it is not coming."""
        async with runtime.uow() as uow:
            await leads.lead_scored(uow, event)

    @subscribe(runtime.broker, runtime.topology, "insights", CustomerInsightsUpdated, prefetch=8)
    async def on_insights_updated(event: CustomerInsightsUpdated) -> None:
        """Store the ai's latest insights on the customer and note them on the timeline; retried
        while the customer does not exist yet, dropped (logged) once it is not coming."""
        async with runtime.uow() as uow:
            await leads.insights_updated(uow, event)
