"""Every SQL statement of `customers.privacy`: a customer's state (locked for an erasure), the
customers merged into one, every row held on a set of customers (whole rows, for an export), and
the erasure's deletes and the update that leaves a customer as an anonymous stub."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Text, case, delete, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.customers.models import customer_identities as ident
from crm_gateway.customers.models import customer_notes as notes
from crm_gateway.customers.models import customer_stage_changes as stages
from crm_gateway.customers.models import customer_timeline as timeline
from crm_gateway.customers.models import customers as cust
from crm_gateway.db import json_mentions
from crm_servicekit.pdpa import needle_forms

# Timeline entries about the person rather than what the school did: gone with an erasure.
PERSONAL_TIMELINE_KINDS = ("note_added", "lead_scored", "ai_insight")


async def state(session: AsyncSession, customer_id: str, *, lock: bool) -> Row[Any] | None:
    """(state, merged_into) of the customer, its row locked until the transaction ends if `lock`."""
    query = select(cust.c.state, cust.c.merged_into).where(cust.c.id == customer_id)
    return (await session.execute(query.with_for_update() if lock else query)).first()


async def merged_into(session: AsyncSession, customer_id: str) -> list[str]:
    """The customers merged into this one, directly or through another merged one, sorted."""
    tree = select(cust.c.id).where(cust.c.merged_into == customer_id).cte("merged", recursive=True)
    tree = tree.union(select(cust.c.id).where(cust.c.merged_into == tree.c.id))
    return sorted((await session.execute(select(tree.c.id))).scalars())


async def customers(session: AsyncSession, customer_ids: Sequence[str]) -> list[Row[Any]]:
    return list((await session.execute(select(cust).where(cust.c.id.in_(customer_ids)))).all())


async def identities(session: AsyncSession, customer_ids: Sequence[str]) -> list[Row[Any]]:
    query = select(ident).where(ident.c.customer_id.in_(customer_ids)).order_by(ident.c.id)
    return list((await session.execute(query)).all())


async def stage_changes(session: AsyncSession, customer_ids: Sequence[str]) -> list[Row[Any]]:
    query = (
        select(stages)
        .where(stages.c.customer_id.in_(customer_ids))
        .order_by(stages.c.changed_at, stages.c.id)
    )
    return list((await session.execute(query)).all())


async def notes_of(session: AsyncSession, customer_ids: Sequence[str]) -> list[Row[Any]]:
    query = select(notes).where(notes.c.customer_id.in_(customer_ids)).order_by(notes.c.created_at)
    return list((await session.execute(query)).all())


async def timeline_of(session: AsyncSession, customer_ids: Sequence[str]) -> list[Row[Any]]:
    query = (
        select(timeline)
        .where(timeline.c.customer_id.in_(customer_ids))
        .order_by(timeline.c.occurred_at, timeline.c.id)
    )
    return list((await session.execute(query)).all())


async def note_bodies(session: AsyncSession, customer_ids: Sequence[str]) -> list[str]:
    bodies = await session.execute(select(notes.c.body).where(notes.c.customer_id.in_(customer_ids)))
    return list(bodies.scalars())


async def delete_identities(session: AsyncSession, customer_ids: Sequence[str]) -> list[Row[Any]]:
    """Delete the customers' identities; (channel, page_id, external_id) of each."""
    found = await session.execute(
        delete(ident)
        .where(ident.c.customer_id.in_(customer_ids))
        .returning(ident.c.channel, ident.c.page_id, ident.c.external_id)
    )
    return list(found.all())


async def delete_notes(session: AsyncSession, customer_ids: Sequence[str]) -> int:
    return await _rowcount(session.execute(delete(notes).where(notes.c.customer_id.in_(customer_ids))))


async def delete_personal_timeline(
    session: AsyncSession, customer_ids: Sequence[str], needles: Sequence[str]
) -> int:
    """Delete the customers' entries about notes and the ai's profile of them (`note_added`,
    `lead_scored`, `ai_insight`) and those whose detail mentions a needle."""
    personal: ColumnElement[bool] = timeline.c.kind.in_(PERSONAL_TIMELINE_KINDS)
    if needle_forms(needles):
        personal = or_(personal, json_mentions(timeline.c.detail, needles))
    return await _rowcount(
        session.execute(delete(timeline).where(timeline.c.customer_id.in_(customer_ids), personal))
    )


async def make_stubs(
    session: AsyncSession, customer_ids: Sequence[str], cleared: Mapping[str, Any], now: datetime
) -> int:
    """Set `cleared` on the customers, drop the free-form `ref` of their ad touches, mark them
    erased (merged into no one), bump the version; how many there were."""
    return await _rowcount(
        session.execute(
            update(cust)
            .where(cust.c.id.in_(customer_ids))
            .values(
                **cleared,
                first_touch=_without_ref(cust.c.first_touch),
                latest_touch=_without_ref(cust.c.latest_touch),
                state="erased",
                merged_into=None,
                version=cust.c.version + 1,
                updated_at=now,
            )
        )
    )


def _without_ref(touch: Any) -> Any:
    """SQL: an ad touch without its free-form `ref` (a touch can be JSON null: no ad)."""
    return case((func.jsonb_typeof(touch) == "object", touch.op("-")(literal("ref", Text))), else_=touch)


async def _rowcount(result: Any) -> int:
    rowcount: int = (await result).rowcount
    return rowcount
