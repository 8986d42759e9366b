from __future__ import annotations

from crm_contracts import ContactProfileUpdated, ContactSeen, CustomerErasureProgress
from crm_gateway.customers import service
from crm_gateway.pdpa import service as pdpa
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

    @subscribe(runtime.broker, runtime.topology, pdpa.PROGRESS_PURPOSE, CustomerErasureProgress)
    async def on_erasure_progress(event: CustomerErasureProgress) -> None:
        """A service's report on its part of an erasure: its step, and the request once all are done."""
        async with runtime.uow() as uow:
            await pdpa.record_progress(uow, event)
