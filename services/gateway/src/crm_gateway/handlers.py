from __future__ import annotations

from crm_contracts import ContactSeen
from crm_servicekit.broker import subscribe
from crm_servicekit.runtime import Runtime

from . import service


def register(runtime: Runtime) -> None:
    @subscribe(runtime.broker, runtime.topology, "contacts", ContactSeen)
    async def on_contact_seen(event: ContactSeen) -> None:
        """Create the customer of a new Messenger contact; record a returning one's ad touch."""
        async with runtime.uow() as uow:
            await service.contact_seen(uow, event)
