"""Every SQL statement of the audit log: an entry written, a page read newest first, a merge's
entry locked and marked undone, an import's last digest, and what a PDPA export reads and an
erasure scrubs (entries about a customer or their orders, or mentioning the person)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, desc, func, insert, literal, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.audit.models import audit_log as t
from crm_gateway.db import json_mentions


async def insert_entry(session: AsyncSession, values: Mapping[str, Any]) -> uuid.UUID:
    entry_id: uuid.UUID = (await session.execute(insert(t).values(**values).returning(t.c.id))).scalar_one()
    return entry_id


async def page(
    session: AsyncSession,
    *,
    equal: Mapping[str, Any],
    since: datetime | None,
    until: datetime | None,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> Sequence[Row[Any]]:
    """Up to `limit` entries, newest first: those whose columns in `equal` have the given value
    (None: any), at or after `since`, before `until`, and after the keyset `before` in that order."""
    query = select(t).order_by(desc(t.c.at), desc(t.c.id)).limit(limit)
    for name, value in equal.items():
        if value is not None:
            query = query.where(t.c[name] == value)
    if since is not None:
        query = query.where(t.c.at >= since)
    if until is not None:
        query = query.where(t.c.at < until)
    if before is not None:
        at, entry_id = before
        query = query.where(
            tuple_(t.c.at, t.c.id) < tuple_(literal(at, t.c.at.type), literal(entry_id, t.c.id.type))
        )
    return (await session.execute(query)).all()


async def lock_entry(session: AsyncSession, entry_id: uuid.UUID) -> Row[Any] | None:
    """The entry, locked until the transaction ends; None if there is none."""
    return (await session.execute(select(t).where(t.c.id == entry_id).with_for_update())).first()


async def mark_undone(session: AsyncSession, entry_id: uuid.UUID, *, by: uuid.UUID, at: datetime) -> None:
    await session.execute(update(t).where(t.c.id == entry_id).values(undone_at=at, undone_by=by))


async def last_import(session: AsyncSession, entity_type: str, entity_id: str, action: str) -> str | None:
    """The `import_digest` written by the newest `action` entry of the entity ("" when that entry
    has none); None when there is no such entry."""
    digest = t.c.changes["import_digest"]["after"].astext
    row = (
        await session.execute(
            select(func.coalesce(digest, ""))
            .where(t.c.entity_type == entity_type, t.c.entity_id == entity_id, t.c.action == action)
            .order_by(t.c.at.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else str(row[0])


async def about(
    session: AsyncSession, customer_ids: Sequence[str], order_ids: Sequence[str]
) -> list[Row[Any]]:
    """Every entry about these customers or these orders, oldest first (whole rows)."""
    return list(
        (
            await session.execute(
                select(t)
                .where(
                    ((t.c.entity_type == "customer") & t.c.entity_id.in_(customer_ids))
                    | ((t.c.entity_type == "order") & t.c.entity_id.in_(order_ids))
                )
                .order_by(t.c.at, t.c.id)
            )
        ).all()
    )


async def about_or_mentioning(
    session: AsyncSession, customer_ids: Sequence[str], order_ids: Sequence[str], needles: Sequence[str]
) -> list[Row[Any]]:
    """(id, changes, undo) of the entries about these customers or orders, or whose `changes` or
    `undo` mention one of the needles (as JSON writes them)."""
    about_them = or_(
        (t.c.entity_type == "customer") & t.c.entity_id.in_(customer_ids),
        (t.c.entity_type == "order") & t.c.entity_id.in_(order_ids),
        json_mentions(t.c.changes, needles),
        json_mentions(t.c.undo, needles),
    )
    return list((await session.execute(select(t.c.id, t.c.changes, t.c.undo).where(about_them))).all())


async def set_scrubbed(session: AsyncSession, entry_id: uuid.UUID, changes: dict[str, Any]) -> None:
    """Replace the entry's `changes` and drop its `undo`."""
    await session.execute(update(t).where(t.c.id == entry_id).values(changes=changes, undo=None))
