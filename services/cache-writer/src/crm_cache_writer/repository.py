from __future__ import annotations

from sqlalchemy import desc, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts.snapshots import CustomerSnapshot

from .models import customer_snapshots as t

# Serialises rebuilding the shared list file across replicas (pg_advisory_xact_lock key).
LATEST_LOCK_KEY = 0x43524D01


async def upsert_customer(session: AsyncSession, snapshot: CustomerSnapshot) -> bool:
    """Store the snapshot unless a newer one is already stored. True if it was stored."""
    stmt = insert(t).values(
        customer_id=snapshot.customer_id,
        created_at=snapshot.created_at,
        updated_at=snapshot.updated_at,
        snapshot=snapshot.model_dump(mode="json"),
    )
    upsert = stmt.on_conflict_do_update(
        index_elements=[t.c.customer_id],
        set_={"updated_at": stmt.excluded.updated_at, "snapshot": stmt.excluded.snapshot},
        where=t.c.updated_at <= stmt.excluded.updated_at,
    ).returning(t.c.customer_id)
    return (await session.execute(upsert)).first() is not None


async def latest_customers(session: AsyncSession, limit: int) -> list[CustomerSnapshot]:
    await session.execute(select(func.pg_advisory_xact_lock(LATEST_LOCK_KEY)))
    rows = await session.execute(
        select(t.c.snapshot).order_by(desc(t.c.created_at), desc(t.c.customer_id)).limit(limit)
    )
    return [CustomerSnapshot.model_validate(r.snapshot) for r in rows]
