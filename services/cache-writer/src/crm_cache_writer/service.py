"""Turn customer events into the JSON snapshots the gateway reads first, and take them away again
when a customer is erased (PDPA) or merged into another."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from crm_contracts import (
    CustomerCreated,
    CustomerErasureRequested,
    CustomerMerged,
    CustomerMergeUndone,
    CustomerUpdated,
)
from crm_contracts.snapshots import CustomerSnapshot, customer_path
from crm_servicekit.logging import get_logger
from crm_servicekit.outbox import UnitOfWork
from crm_servicekit.pdpa import complete_erasure

from . import repository
from .files import delete_file, write_model
from .latest import write_latest
from .models import outbox

log = get_logger(__name__)

SERVICE = "cache-writer"
CONSUMER = "cache-writer.customers"
CONSUMER_ERASURE = "cache-writer.erasure"
CONSUMER_MERGES = "cache-writer.merges"


def snapshot_of(event: CustomerCreated | CustomerUpdated) -> CustomerSnapshot:
    if isinstance(event, CustomerUpdated):
        return CustomerSnapshot.model_validate(event.data.model_dump())
    return CustomerSnapshot.model_validate({**event.data.model_dump(), "updated_at": event.data.created_at})


async def customer_changed(
    uow: UnitOfWork, cache_dir: Path, event: CustomerCreated | CustomerUpdated
) -> bool:
    """Files are written before the commit: a crash in between only means a rewrite on redelivery.
    True if the customer's snapshot changed (the list of the newest is then stale: `latest.py`).

    An event older than the stored snapshot (events of one customer may arrive out of order)
    changes nothing; nor does one about an erased or merged customer from before that happened.
    """
    if not await uow.claim(event.event_id, CONSUMER):
        return False
    written = False
    snapshot = snapshot_of(event)
    await repository.lock_customer(uow.session, snapshot.customer_id)
    gone = await repository.tombstoned(uow.session, snapshot.customer_id, snapshot.updated_at)
    if gone is not None:
        log.info("event for a customer no longer here ignored", customer_id=snapshot.customer_id, reason=gone)
    elif await repository.upsert_customer(uow.session, snapshot):
        await write_model(cache_dir, customer_path(snapshot.customer_id), snapshot)
        written = True
        log.info("customer snapshot written", customer_id=snapshot.customer_id, event_type=event.type)
    else:
        log.info("older customer event ignored", customer_id=snapshot.customer_id, event_type=event.type)
    await uow.commit()
    return written


async def _remove(uow: UnitOfWork, cache_dir: Path, customer_id: str) -> tuple[int, int]:
    """Delete the customer's snapshot row and file and rewrite the list without them."""
    rows = await repository.delete_customer(uow.session, customer_id)
    files = int(await delete_file(cache_dir, customer_path(customer_id)))
    await write_latest(uow.session, cache_dir)
    return rows, files


async def erase(
    uow: UnitOfWork,
    cache_dir: Path,
    event: CustomerErasureRequested,
    *,
    rabbitmq_url: str,
    parked_queues: Sequence[str],
) -> None:
    """PDPA erasure: the customer's snapshot row and file go, the list is rewritten without
    them, their events waiting in the outbox or parked are dropped, and a tombstone (the id and
    the time, nothing personal) keeps a late event from writing the file again. Reports once
    per request (claimed by request id)."""
    d = event.data
    if not await uow.claim(d.request_id, CONSUMER_ERASURE):
        return
    await repository.lock_customer(uow.session, d.customer_id)
    await repository.tombstone_erased(uow.session, d.customer_id, d.requested_at)
    rows, files = await _remove(uow, cache_dir, d.customer_id)
    # The id quoted as in JSON, so that TVS-CUS-FB-26-1000 never matches TVS-CUS-FB-26-10001.
    needles = [json.dumps(d.customer_id), *(i.external_id for i in d.identities if i.external_id)]
    await complete_erasure(
        uow,
        event,
        service=SERVICE,
        erased={"snapshots": rows, "snapshot_files": files},
        outbox=outbox,
        needles=needles,
        rabbitmq_url=rabbitmq_url,
        parked_queues=parked_queues,
    )


async def merged(uow: UnitOfWork, cache_dir: Path, event: CustomerMerged) -> None:
    """The merged customer's snapshot and file go (the list is rewritten), and a tombstone keeps
    late events about them from writing it again. The survivor's snapshot is rewritten by the
    `customer.updated` the gateway publishes with the merge.

    Only the cache-writer keys data by customer id: the messenger and the ai key theirs by PSID
    and conversation, and the gateway moves the identities, so a merge needs nothing from them.
    """
    d = event.data
    if not await uow.claim(event.event_id, CONSUMER_MERGES):
        return
    await repository.lock_customer(uow.session, d.merged_id)
    if await repository.tombstone_merged(uow.session, d.merged_id, d.survivor_id, d.merge_id, d.merged_at):
        await _remove(uow, cache_dir, d.merged_id)
        log.info("merged customer removed", customer_id=d.merged_id, survivor_id=d.survivor_id)
    else:
        log.info("merge not applied: undone or superseded", customer_id=d.merged_id)
    await uow.commit()


async def merge_undone(uow: UnitOfWork, event: CustomerMergeUndone) -> None:
    """Lift the merge's tombstone: the gateway's following `customer.updated` for the restored
    customer writes their file again."""
    d = event.data
    if not await uow.claim(event.event_id, CONSUMER_MERGES):
        return
    await repository.lock_customer(uow.session, d.restored_id)
    lifted = await repository.lift_merge(uow.session, d.restored_id, d.survivor_id, d.merge_id, d.undone_at)
    await uow.commit()
    log.info("merge undone", customer_id=d.restored_id, lifted=lifted)
