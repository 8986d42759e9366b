"""Every SQL statement of duplicates and merges: candidates that look like the same person, the
pair locked in id order, and what moves from one customer to the other (and back on an undo)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import desc, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import ChannelIdentity
from crm_contracts.snapshots import CustomerSnapshot

from .models import customer_identities as ident
from .models import customer_notes as notes_t
from .models import customer_timeline as tl
from .models import customers as cust
from .repository import with_identities


@dataclass(frozen=True)
class Candidate:
    snapshot: CustomerSnapshot
    same_phone: bool
    same_email: bool
    name_similarity: float


async def duplicate_candidates(
    session: AsyncSession, customer_id: str, *, limit: int = 20
) -> list[Candidate]:
    """Active customers sharing the phone or e-mail of `customer_id`, or with a similar name
    (pg_trgm similarity above its threshold, 0.3), most likely first."""
    me = (
        await session.execute(
            select(cust.c.phone, cust.c.email, cust.c.search_names).where(cust.c.id == customer_id)
        )
    ).one()
    names = (me.search_names or "").strip()
    # Plain equalities find (by index); IS TRUE ranks, since a NULL would sort first descending.
    phone_match = cust.c.phone == me.phone if me.phone else literal(False)
    email_match = cust.c.email == me.email if me.email else literal(False)
    same_phone, same_email = phone_match.is_(True), email_match.is_(True)
    similar = cust.c.search_names.op("%")(names) if names else literal(False)
    score = func.similarity(cust.c.search_names, names) if names else literal(0.0)
    rows = (
        await session.execute(
            select(
                cust,
                same_phone.label("same_phone"),
                same_email.label("same_email"),
                score.label("name_similarity"),
            )
            .where(cust.c.state == "active", cust.c.id != customer_id, or_(phone_match, email_match, similar))
            .order_by(desc("same_phone"), desc("same_email"), desc("name_similarity"), cust.c.id)
            .limit(limit)
        )
    ).all()
    snapshots = await with_identities(session, rows)
    return [
        Candidate(s, bool(r.same_phone), bool(r.same_email), round(float(r.name_similarity), 3))
        for s, r in zip(snapshots, rows, strict=True)
    ]


async def lock_pair(session: AsyncSession, a: str, b: str) -> dict[str, Any]:
    """Both customers' rows, locked in id order (two merges of the same pair never deadlock)."""
    rows = (
        await session.execute(select(cust).where(cust.c.id.in_([a, b])).order_by(cust.c.id).with_for_update())
    ).all()
    return {r.id: r for r in rows}


async def move_children(
    session: AsyncSession, source: str, target: str, only: MovedIds | None = None
) -> MovedIds:
    """Move identities, notes and timeline entries from `source` to `target` (all of them, or only
    the ids in `only`, for an undo); the ids moved."""

    async def move(table: Any, ids: Sequence[Any] | None) -> list[Any]:
        stmt = update(table).where(table.c.customer_id == source).values(customer_id=target)
        if ids is not None:
            stmt = stmt.where(table.c.id.in_(ids))
        return [r.id for r in await session.execute(stmt.returning(table.c.id))]

    return MovedIds(
        identities=await move(ident, only.identities if only else None),
        orders=[],  # the orders capability moves its own rows (`merges._move_everything`)
        notes=await move(notes_t, only.notes if only else None),
        timeline=await move(tl, only.timeline if only else None),
    )


async def set_merged_into(
    session: AsyncSession, customer_id: str, survivor_id: str | None, now: datetime
) -> None:
    """Mark the customer merged into `survivor_id`, or active again (None) after an undo."""
    await session.execute(
        update(cust)
        .where(cust.c.id == customer_id)
        .values(
            state="merged" if survivor_id else "active",
            merged_into=survivor_id,
            version=cust.c.version + 1,
            updated_at=now,
        )
    )


@dataclass(frozen=True)
class MovedIds:
    identities: list[int]
    orders: list[uuid.UUID]
    notes: list[uuid.UUID]
    timeline: list[int]

    def as_json(self) -> dict[str, list[Any]]:
        return {
            "identities": self.identities,
            "orders": [str(i) for i in self.orders],
            "notes": [str(i) for i in self.notes],
            "timeline": self.timeline,
        }

    @classmethod
    def from_json(cls, data: dict[str, list[Any]]) -> MovedIds:
        return cls(
            identities=[int(i) for i in data.get("identities", [])],
            orders=[uuid.UUID(i) for i in data.get("orders", [])],
            notes=[uuid.UUID(i) for i in data.get("notes", [])],
            timeline=[int(i) for i in data.get("timeline", [])],
        )


async def identities_by_id(session: AsyncSession, ids: Sequence[int]) -> list[ChannelIdentity]:
    if not ids:
        return []
    rows = await session.execute(
        select(ident.c.channel, ident.c.page_id, ident.c.external_id)
        .where(ident.c.id.in_(ids))
        .order_by(ident.c.id)
    )
    return [ChannelIdentity(channel=r.channel, page_id=r.page_id, external_id=r.external_id) for r in rows]
