"""Every SQL statement of the import (the rest of the gateway's are in `crm_gateway.repository`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import ChannelIdentity
from crm_gateway.audit.models import audit_log
from crm_gateway.catalog.models import products
from crm_gateway.customers.models import customer_id_sequences as seq
from crm_gateway.customers.models import (
    customer_identities,
    customer_notes,
    customer_stage_changes,
    customers,
)

IMPORT_ACTION = "customer.import"
PRODUCT_IMPORT_ACTION = "product.import"


async def reserve_numbers(session: AsyncSession, highest: Mapping[tuple[str, int], int]) -> None:
    """Raise each (channel, year) counter to at least the highest imported number, never lower it,
    so the CRM's next customer of that channel and year gets a number no old customer has."""
    for (channel, year), number in sorted(highest.items()):
        stmt = upsert(seq).values(channel=channel, year=year, last_value=number)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[seq.c.channel, seq.c.year],
                set_={"last_value": func.greatest(seq.c.last_value, stmt.excluded.last_value)},
            )
        )


async def lock_customer(session: AsyncSession, customer_id: str) -> Any:
    """The customer's row, locked until the transaction ends; None if there is none."""
    return (
        await session.execute(select(customers).where(customers.c.id == customer_id).with_for_update())
    ).first()


async def last_import(session: AsyncSession, entity_type: str, entity_id: str, action: str) -> str | None:
    """The digest of the record the last import of this entity wrote; None if never imported.

    An entity that exists without any import entry was made in the CRM: an import must not
    overwrite it. An import that wrote a record also wrote its digest, so an unchanged record
    is skipped without touching what staff changed since.
    """
    digest = audit_log.c.changes["import_digest"]["after"].astext
    row = (
        await session.execute(
            select(func.coalesce(digest, ""))
            .where(
                audit_log.c.entity_type == entity_type,
                audit_log.c.entity_id == entity_id,
                audit_log.c.action == action,
            )
            .order_by(audit_log.c.at.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else str(row[0])


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
    await session.execute(
        insert(customer_stage_changes).values(
            customer_id=customer_id, from_stage=from_stage, to_stage=to_stage, changed_at=at, changed_by=None
        )
    )


async def lock_product(session: AsyncSession, legacy_id: str | None, name_th: str) -> Any:
    """By the old system's id; a product without one by its Thai name (among those without one)."""
    where = (
        products.c.legacy_id == legacy_id
        if legacy_id is not None
        else (products.c.legacy_id.is_(None)) & (products.c.name_th == name_th)
    )
    return (
        await session.execute(
            select(products).where(where).order_by(products.c.created_at).limit(1).with_for_update()
        )
    ).first()


async def insert_product(session: AsyncSession, values: Mapping[str, Any], now: datetime) -> Any:
    return (
        await session.execute(
            insert(products).values(**values, created_at=now, updated_at=now).returning(products)
        )
    ).one()


async def update_product(
    session: AsyncSession, product_id: uuid.UUID, values: Mapping[str, Any], now: datetime
) -> Any:
    return (
        await session.execute(
            update(products)
            .where(products.c.id == product_id)
            .values(**values, version=products.c.version + 1, updated_at=now)
            .returning(products)
        )
    ).one()
