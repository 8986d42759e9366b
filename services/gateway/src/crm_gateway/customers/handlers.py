"""The customers' subscribers: Messenger contacts become customers and take their profiles."""

from __future__ import annotations

from crm_contracts import ContactProfileUpdated, ContactSeen
from crm_gateway.customers import service
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
