from __future__ import annotations

from crm_contracts import (
    CustomerCreated,
    CustomerErasureRequested,
    CustomerMerged,
    CustomerMergeUndone,
    CustomerUpdated,
)
from crm_servicekit.broker import subscribe
from crm_servicekit.runtime import Runtime

from . import service
from .config import CacheWriterSettings
from .latest import LatestList


def register(runtime: Runtime, settings: CacheWriterSettings) -> None:
    latest = LatestList(runtime.sessionmaker, settings.crm_cache_dir)
    runtime.extras["latest"] = latest
    # A process that stopped with the list stale (killed before its rebuild) rebuilds it now.
    runtime.on_startup.append(latest.start)
    runtime.on_shutdown.append(latest.close)

    @subscribe(runtime.broker, runtime.topology, "customers", CustomerCreated)
    async def on_customer_created(event: CustomerCreated) -> None:
        """Write customer/<id>.json; customers/latest.json follows a moment later."""
        async with runtime.uow() as uow:
            if await service.customer_changed(uow, settings.crm_cache_dir, event):
                latest.stale()

    @subscribe(runtime.broker, runtime.topology, "customer-updates", CustomerUpdated)
    async def on_customer_updated(event: CustomerUpdated) -> None:
        """Rewrite customer/<id>.json (and, a moment later, the list) with the customer as it is now."""
        async with runtime.uow() as uow:
            if await service.customer_changed(uow, settings.crm_cache_dir, event):
                latest.stale()

    @subscribe(runtime.broker, runtime.topology, "merges", CustomerMerged)
    async def on_customer_merged(event: CustomerMerged) -> None:
        """Remove the merged customer's file (and from the list); later events about it are ignored."""
        async with runtime.uow() as uow:
            await service.merged(uow, settings.crm_cache_dir, event)

    @subscribe(runtime.broker, runtime.topology, "merge-undos", CustomerMergeUndone)
    async def on_customer_merge_undone(event: CustomerMergeUndone) -> None:
        """Let the restored customer's file be written again."""
        async with runtime.uow() as uow:
            await service.merge_undone(uow, event)

    erasure_queue = runtime.topology.queue_name("erasure")

    @subscribe(runtime.broker, runtime.topology, "erasure", CustomerErasureRequested, prefetch=1)
    async def on_erasure_requested(event: CustomerErasureRequested) -> None:
        """PDPA erasure: delete the customer's snapshot files and row, report once."""
        # Every parking queue but this one: a parked erasure request is replayed, never dropped.
        parked = [queue for queue in runtime.topology.policies if queue != erasure_queue]
        async with runtime.uow() as uow:
            await service.erase(
                uow,
                settings.crm_cache_dir,
                event,
                rabbitmq_url=runtime.settings.rabbitmq_url,
                parked_queues=parked,
            )
