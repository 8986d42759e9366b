"""Turn customer events into the JSON snapshots the gateway reads first."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from crm_contracts import CustomerCreated
from crm_contracts.snapshots import (
    LATEST_CUSTOMERS_PATH,
    LATEST_CUSTOMERS_SIZE,
    CustomerListSnapshot,
    CustomerSnapshot,
    customer_path,
)
from crm_servicekit.outbox import UnitOfWork

from . import repository
from .files import write_model

CONSUMER = "cache-writer.customers"


def snapshot_of(event: CustomerCreated) -> CustomerSnapshot:
    d = event.data
    return CustomerSnapshot(
        customer_id=d.customer_id,
        channel=d.channel,
        display_name=d.display_name,
        lifecycle_stage=d.lifecycle_stage,
        identities=d.identities,
        first_touch=d.first_touch,
        latest_touch=d.latest_touch,
        created_at=d.created_at,
        updated_at=event.occurred_at,
    )


async def customer_created(uow: UnitOfWork, cache_dir: Path, event: CustomerCreated) -> None:
    """Files are written before the commit: a crash in between only means a rewrite on redelivery."""
    if not await uow.claim(event.event_id, CONSUMER):
        return
    snapshot = snapshot_of(event)
    if await repository.upsert_customer(uow.session, snapshot):
        await write_model(cache_dir, customer_path(snapshot.customer_id), snapshot)
        latest = await repository.latest_customers(uow.session, LATEST_CUSTOMERS_SIZE)
        await write_model(
            cache_dir,
            LATEST_CUSTOMERS_PATH,
            CustomerListSnapshot(generated_at=datetime.now(UTC), items=latest),
        )
    await uow.commit()
