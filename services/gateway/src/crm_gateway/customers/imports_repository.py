"""Every SQL statement of `customers.imports` (the legacy import's writes to customers): the id
counters raised, a customer locked, inserted or updated, and its identities, notes and stage
changes added."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import ChannelIdentity
from crm_gateway.customers.models import customer_id_sequences as seq
from crm_gateway.customers.models import (
    customer_identities,
    customer_notes,
    customer_stage_changes,
    customers,
)


async def reserve_numbers(session: AsyncSession, highest: Mapping[tuple[str, int], int]) -> None:
    """Raise each (channel, year) counter to at least the given number, never lower it."""
    for (channel, year), number in sorted(highest.items()):
        stmt = upsert(seq).values(channel=channel, year=year, last_value=number)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[seq.c.channel, seq.c.year],
                set_={"last_value": func.greatest(seq.c.last_value, stmt.excluded.last_value)},
            )
        )


async def lock_customer(session: AsyncSession, customer_id: str) -> Row[Any] | None:
    """The customer's row, locked until the transaction ends; None if there is none."""
    return (
        await session.execute(select(customers).where(customers.c.id == customer_id).with_for_update())
    ).first()


async def insert_customer(session: AsyncSession, values: Mapping[str, Any]) -> None:
    await session.execute(insert(customers).values(**values))


async def update_customer(
    session: AsyncSession, customer_id: str, values: Mapping[str, Any], now: datetime
) -> None:
    """Set `values`, bump the version (the ETag) and `updated_at`."""
    await session.execute(
        update(customers)
        .where(customers.c.id == customer_id)
        .values(**values, version=customers.c.version + 1, updated_at=now)
    )


async def add_identity(session: AsyncSession, customer_id: str, identity: ChannelIdentity) -> None:
    await session.execute(
        insert(customer_identities).values(
            customer_id=customer_id,
            channel=identity.channel,
            page_id=identity.page_id,
            external_id=identity.external_id,
        )
    )


async def note_bodies(session: AsyncSession, customer_id: str) -> set[str]:
    rows = await session.execute(
        select(customer_notes.c.body).where(customer_notes.c.customer_id == customer_id)
    )
    return set(rows.scalars())


async def add_note(session: AsyncSession, customer_id: str, body: str, at: datetime) -> uuid.UUID:
    """A note with no author (the import wrote it); its id."""
    note_id: uuid.UUID = (
        await session.execute(
            insert(customer_notes)
            .values(customer_id=customer_id, body=body, author_id=None, created_at=at)
            .returning(customer_notes.c.id)
        )
    ).scalar_one()
    return note_id


async def add_stage_change(
    session: AsyncSession, customer_id: str, from_stage: str | None, to_stage: str, at: datetime
) -> None:
    """A stage change made by no one on staff (the import)."""
    await session.execute(
        insert(customer_stage_changes).values(
            customer_id=customer_id, from_stage=from_stage, to_stage=to_stage, changed_at=at, changed_by=None
        )
    )
