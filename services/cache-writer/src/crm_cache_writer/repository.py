from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts.snapshots import CustomerSnapshot
from crm_servicekit.sqlcache import bound, frozen

from .models import customer_snapshots as t
from .models import customer_tombstones as tomb

# With a hash of the customer id: one handler at a time per customer (created, updated, erased,
# merged), so an erasure never interleaves with a write of the same customer's file.
CUSTOMER_LOCK_CLASS = 0x43524D02


async def lock_customer(session: AsyncSession, customer_id: str) -> None:
    await session.execute(select(func.pg_advisory_xact_lock(CUSTOMER_LOCK_CLASS, func.hashtext(customer_id))))


def _upsert_snapshot() -> Any:
    """Built once, frozen: SQLAlchemy compiles an ON CONFLICT statement again on every execution
    (`crm_servicekit.sqlcache`), and every customer event stores a snapshot."""
    stmt = insert(t).values(bound("customer_id", "created_at", "updated_at", "snapshot"))
    return frozen(
        stmt.on_conflict_do_update(
            index_elements=[t.c.customer_id],
            set_={"updated_at": stmt.excluded.updated_at, "snapshot": stmt.excluded.snapshot},
            where=t.c.updated_at <= stmt.excluded.updated_at,
        ).returning(t.c.customer_id)
    )


_UPSERT_SNAPSHOT = _upsert_snapshot()


async def upsert_customer(session: AsyncSession, snapshot: CustomerSnapshot) -> bool:
    """Store the snapshot unless a newer one is already stored. True if it was stored."""
    params = {
        "customer_id": snapshot.customer_id,
        "created_at": snapshot.created_at,
        "updated_at": snapshot.updated_at,
        "snapshot": snapshot.model_dump(mode="json"),
    }
    return (await session.execute(_UPSERT_SNAPSHOT, params)).first() is not None


async def delete_customer(session: AsyncSession, customer_id: str) -> int:
    result = await session.execute(delete(t).where(t.c.customer_id == customer_id).returning(t.c.customer_id))
    return len(result.all())


# --- tombstones -----------------------------------------------------------------------------------


async def tombstoned(session: AsyncSession, customer_id: str, at: datetime) -> str | None:
    """Why an event about the customer as of `at` must not be written (erased, merged), if so."""
    query = select(tomb.c.reason).where(
        tomb.c.customer_id == customer_id, tomb.c.lifted_at.is_(None), tomb.c.at >= at
    )
    return (await session.execute(query)).scalar()


async def tombstone_erased(session: AsyncSession, customer_id: str, at: datetime) -> None:
    """Erased for good: nothing lifts it, and it replaces a merge tombstone."""
    stmt = insert(tomb).values(customer_id=customer_id, reason="erased", at=at)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[tomb.c.customer_id],
            set_={
                "reason": "erased",
                "at": func.greatest(tomb.c.at, stmt.excluded.at),
                "merged_into": None,
                "merge_id": None,
                "lifted_at": None,
            },
        )
    )


async def tombstone_merged(
    session: AsyncSession, customer_id: str, survivor_id: str, merge_id: uuid.UUID, at: datetime
) -> bool:
    """Record the merge unless the customer was erased, a newer merge is recorded, or this merge
    was already undone (the undo arrived first). True if the merge is in force now."""
    stmt = insert(tomb).values(
        customer_id=customer_id, reason="merged", merged_into=survivor_id, merge_id=merge_id, at=at
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[tomb.c.customer_id],
            set_={
                "merged_into": stmt.excluded.merged_into,
                "merge_id": stmt.excluded.merge_id,
                "at": stmt.excluded.at,
                "lifted_at": None,
            },
            where=(tomb.c.reason == "merged")
            & (tomb.c.merge_id != stmt.excluded.merge_id)
            & (tomb.c.at < stmt.excluded.at),
        )
    )
    row = (await session.execute(select(tomb).where(tomb.c.customer_id == customer_id))).one()
    return row.reason == "merged" and row.merge_id == merge_id and row.lifted_at is None


async def lift_merge(
    session: AsyncSession, customer_id: str, survivor_id: str, merge_id: uuid.UUID, at: datetime
) -> bool:
    """The merge was undone: the customer's events are written again. Recorded even before the
    merge itself is seen, so that a merge arriving after its undo changes nothing."""
    stmt = insert(tomb).values(
        customer_id=customer_id,
        reason="merged",
        merged_into=survivor_id,
        merge_id=merge_id,
        at=at,
        lifted_at=at,
    )
    result = await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[tomb.c.customer_id],
            set_={"lifted_at": stmt.excluded.lifted_at},
            where=(tomb.c.reason == "merged") & (tomb.c.merge_id == stmt.excluded.merge_id),
        ).returning(tomb.c.customer_id)
    )
    return result.first() is not None
