from __future__ import annotations

from crm_contracts import CustomerCreated, CustomerUpdated
from crm_servicekit.broker import subscribe
from crm_servicekit.runtime import Runtime

from . import service
from .config import CacheWriterSettings


def register(runtime: Runtime, settings: CacheWriterSettings) -> None:
    @subscribe(runtime.broker, runtime.topology, "customers", CustomerCreated)
    async def on_customer_created(event: CustomerCreated) -> None:
        """Write customer/<id>.json and refresh customers/latest.json."""
        async with runtime.uow() as uow:
            await service.customer_changed(uow, settings.crm_cache_dir, event)

    @subscribe(runtime.broker, runtime.topology, "customer-updates", CustomerUpdated)
    async def on_customer_updated(event: CustomerUpdated) -> None:
        """Rewrite customer/<id>.json (and the list) with the customer as it is now."""
        async with runtime.uow() as uow:
            await service.customer_changed(uow, settings.crm_cache_dir, event)
