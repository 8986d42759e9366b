"""Turn customer events into the JSON snapshots the gateway reads first."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from crm_contracts import CustomerCreated, CustomerUpdated
from crm_contracts.snapshots import (
    LATEST_CUSTOMERS_PATH,
    LATEST_CUSTOMERS_SIZE,
    CustomerListSnapshot,
    CustomerSnapshot,
    customer_path,
)
from crm_servicekit.logging import get_logger
from crm_servicekit.outbox import UnitOfWork

from . import repository
from .files import write_model

log = get_logger(__name__)

CONSUMER = "cache-writer.customers"


def snapshot_of(event: CustomerCreated | CustomerUpdated) -> CustomerSnapshot:
    if isinstance(event, CustomerUpdated):
        return CustomerSnapshot.model_validate(event.data.model_dump())
    return CustomerSnapshot.model_validate({**event.data.model_dump(), "updated_at": event.data.created_at})


async def customer_changed(
    uow: UnitOfWork, cache_dir: Path, event: CustomerCreated | CustomerUpdated
) -> None:
    """Files are written before the commit: a crash in between only means a rewrite on redelivery.

    An event older than the stored snapshot (events of one customer may arrive out of order)
    changes nothing.
    """
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
        log.info("customer snapshot written", customer_id=snapshot.customer_id, event_type=event.type)
    else:
        log.info("older customer event ignored", customer_id=snapshot.customer_id, event_type=event.type)
    await uow.commit()
