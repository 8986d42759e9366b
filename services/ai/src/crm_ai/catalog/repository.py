"""Every SQL statement of the ai's catalog copy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .models import catalog_products


async def upsert_if_newer(session: AsyncSession, values: Mapping[str, Any]) -> bool:
    """Insert the product, or replace it when `changed_at` is newer than the stored one (an older
    event arriving late changes nothing). True when the row was written."""
    statement = insert(catalog_products).values(**values)
    upsert = statement.on_conflict_do_update(
        index_elements=[catalog_products.c.product_id],
        set_={k: statement.excluded[k] for k in values if k != "product_id"},
        where=statement.excluded.changed_at > catalog_products.c.changed_at,
    ).returning(catalog_products.c.product_id)
    return (await session.execute(upsert)).first() is not None


async def active_products(session: AsyncSession) -> list[Row[Any]]:
    """Every product sold now (a school's catalog: tens to a few hundred rows)."""
    query = select(catalog_products).where(catalog_products.c.active).order_by(catalog_products.c.name_th)
    return list((await session.execute(query)).all())
