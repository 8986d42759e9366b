"""Every SQL statement of the catalog: products read, written and locked (by id for staff, by the
old system's id or Thai name for the legacy import), a package's courses replaced and read, course
sessions scheduled, and what orders ask of it: prices and names, seats booked with one conditional
UPDATE (never oversold), seats left, seats given back."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.catalog.models import course_sessions, package_items, products

# --- products -------------------------------------------------------------------------------------


async def product(session: AsyncSession, product_id: uuid.UUID) -> Row[Any] | None:
    return (await session.execute(select(products).where(products.c.id == product_id))).one_or_none()


async def lock_product(session: AsyncSession, product_id: uuid.UUID) -> Row[Any] | None:
    """The product row, locked until the transaction ends; None if there is none."""
    return (
        await session.execute(select(products).where(products.c.id == product_id).with_for_update())
    ).one_or_none()


async def list_products(
    session: AsyncSession,
    *,
    q: str | None,
    kind: str | None,
    category: str | None,
    active: bool | None,
    limit: int,
    offset: int,
) -> tuple[list[Row[Any]], int]:
    """A page of products by name (Thai, then English) and how many match in all. `q` matches
    a part of either name or the category, case-insensitively (`%`, `_` and `\\` match
    themselves)."""
    where: list[ColumnElement[bool]] = []
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(
            products.c.name_th.ilike(pattern)
            | products.c.name_en.ilike(pattern)
            | products.c.category.ilike(pattern)
        )
    if kind is not None:
        where.append(products.c.kind == kind)
    if category is not None:
        where.append(products.c.category == category)
    if active is not None:
        where.append(products.c.active.is_(active))
    total = (await session.execute(select(func.count()).select_from(products).where(*where))).scalar_one()
    rows = await session.execute(
        select(products).where(*where).order_by(products.c.name_th, products.c.id).limit(limit).offset(offset)
    )
    return list(rows), int(total)


async def insert_product(session: AsyncSession, values: Mapping[str, Any]) -> Row[Any]:
    return (await session.execute(insert(products).values(**values).returning(products))).one()


async def update_product(session: AsyncSession, product_id: uuid.UUID, values: Mapping[str, Any]) -> Row[Any]:
    """Change `values`; the version grows by one and `updated_at` is now."""
    return (
        await session.execute(
            update(products)
            .where(products.c.id == product_id)
            .values(**values, version=products.c.version + 1, updated_at=func.now())
            .returning(products)
        )
    ).one()


async def product_kind(session: AsyncSession, product_id: uuid.UUID) -> str | None:
    kind: str | None = await session.scalar(select(products.c.kind).where(products.c.id == product_id))
    return kind


async def kinds_and_active(session: AsyncSession, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Row[Any]]:
    """(id, kind, active) of the products among `ids` that exist, by id."""
    rows = await session.execute(
        select(products.c.id, products.c.kind, products.c.active).where(products.c.id.in_(ids))
    )
    return {r.id: r for r in rows}


# --- a package's courses --------------------------------------------------------------------------


async def replace_items(
    session: AsyncSession, package_id: uuid.UUID, items: Sequence[Mapping[str, Any]]
) -> None:
    """Delete the package's courses, then insert `items` (package_id, course_id, quantity)."""
    await session.execute(delete(package_items).where(package_items.c.package_id == package_id))
    await session.execute(insert(package_items), list(items))


async def items_of(session: AsyncSession, package_id: uuid.UUID) -> list[Row[Any]]:
    """A package's courses with their names, in name order (empty for any other product)."""
    rows = await session.execute(
        select(
            package_items.c.course_id,
            package_items.c.quantity,
            products.c.name_th,
            products.c.name_en,
        )
        .join(products, products.c.id == package_items.c.course_id)
        .where(package_items.c.package_id == package_id)
        .order_by(products.c.name_th, package_items.c.course_id)
    )
    return list(rows)


# --- course sessions ------------------------------------------------------------------------------


async def insert_session(session: AsyncSession, product_id: uuid.UUID, values: Mapping[str, Any]) -> Row[Any]:
    return (
        await session.execute(
            insert(course_sessions).values(product_id=product_id, **values).returning(course_sessions)
        )
    ).one()


async def sessions_of(
    session: AsyncSession, product_id: uuid.UUID, *, ending_after: datetime | None
) -> list[Row[Any]]:
    """A course's sessions by start time (those still running or to come after `ending_after`)."""
    query = select(course_sessions).where(course_sessions.c.product_id == product_id)
    if ending_after is not None:
        query = query.where(course_sessions.c.ends_at > ending_after)
    rows = await session.execute(query.order_by(course_sessions.c.starts_at, course_sessions.c.id))
    return list(rows)


# --- what orders ask ------------------------------------------------------------------------------


async def products_for_order(session: AsyncSession, ids: Collection[uuid.UUID]) -> list[Row[Any]]:
    """(id, name_th, price, active, kind) of the products among `ids` that exist."""
    rows = await session.execute(
        select(products.c.id, products.c.name_th, products.c.price, products.c.active, products.c.kind).where(
            products.c.id.in_(ids)
        )
    )
    return list(rows)


async def product_names(session: AsyncSession, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The Thai name of each product among `ids` that exists."""
    rows = await session.execute(select(products.c.id, products.c.name_th).where(products.c.id.in_(ids)))
    return {r.id: r.name_th for r in rows}


async def book_seats(
    session: AsyncSession, session_id: uuid.UUID, product_id: uuid.UUID, quantity: int
) -> bool:
    """One conditional UPDATE: the seats are taken only if that many are still free (so no two
    concurrent orders can oversell); False when they are not, or no such session of the product."""
    booked = (
        await session.execute(
            update(course_sessions)
            .where(
                course_sessions.c.id == session_id,
                course_sessions.c.product_id == product_id,
                course_sessions.c.seats_taken + quantity <= course_sessions.c.capacity,
            )
            .values(seats_taken=course_sessions.c.seats_taken + quantity)
            .returning(course_sessions.c.id)
        )
    ).first()
    return booked is not None


async def seats_left(session: AsyncSession, session_id: uuid.UUID, product_id: uuid.UUID) -> int | None:
    """The free seats of the product's session; None when the product has no such session."""
    left: int | None = (
        await session.execute(
            select(course_sessions.c.capacity - course_sessions.c.seats_taken).where(
                course_sessions.c.id == session_id, course_sessions.c.product_id == product_id
            )
        )
    ).scalar_one_or_none()
    return left


async def release_seats(session: AsyncSession, session_id: uuid.UUID, seats: int) -> None:
    await session.execute(
        update(course_sessions)
        .where(course_sessions.c.id == session_id)
        .values(seats_taken=course_sessions.c.seats_taken - seats)
    )


# --- the legacy import ----------------------------------------------------------------------------


async def lock_product_for_import(
    session: AsyncSession, legacy_id: str | None, name_th: str
) -> Row[Any] | None:
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


async def insert_imported_product(
    session: AsyncSession, values: Mapping[str, Any], now: datetime
) -> Row[Any]:
    return (
        await session.execute(
            insert(products).values(**values, created_at=now, updated_at=now).returning(products)
        )
    ).one()


async def update_imported_product(
    session: AsyncSession, product_id: uuid.UUID, values: Mapping[str, Any], now: datetime
) -> Row[Any]:
    return (
        await session.execute(
            update(products)
            .where(products.c.id == product_id)
            .values(**values, version=products.c.version + 1, updated_at=now)
            .returning(products)
        )
    ).one()
