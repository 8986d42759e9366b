"""Every SQL statement of leads: lead rows locked while they are re-scored, the sweeps' batches
(taken with SKIP LOCKED, so replicas share them), insights upserted newest-wins, erasure."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_servicekit.sqlcache import bound, frozen

from .models import customer_insights, lead_scores

_KEY = (lead_scores.c.page_id, lead_scores.c.psid)

# Every message scores its lead: frozen, compiled once (`sqlcache`).
_NEW_LEAD = ("page_id", "psid", "score", "temperature", "last_activity_at", "scored_at")
_CREATE_LEAD = frozen(
    pg_insert(lead_scores).values(bound(*_NEW_LEAD)).on_conflict_do_nothing().returning(lead_scores.c.psid)
)


async def lock_lead(session: AsyncSession, page_id: str, psid: str, now: datetime) -> tuple[Row[Any], bool]:
    """The lead's row, locked for this transaction; created (score 0, cold) when new. True if new."""
    new = {"page_id": page_id, "psid": psid, "score": 0, "temperature": "cold"}
    created = await session.execute(_CREATE_LEAD, {**new, "last_activity_at": now, "scored_at": now})
    is_new = created.first() is not None
    row = (
        await session.execute(
            select(lead_scores)
            .where(lead_scores.c.page_id == page_id, lead_scores.c.psid == psid)
            .with_for_update()
        )
    ).one()
    return row, is_new


async def save_lead(session: AsyncSession, page_id: str, psid: str, values: dict[str, Any]) -> None:
    await session.execute(
        update(lead_scores)
        .where(lead_scores.c.page_id == page_id, lead_scores.c.psid == psid)
        .values(**values)
    )


async def decay_batch(session: AsyncSession, now: datetime, limit: int) -> list[Row[Any]]:
    """Leads with points whose quiet days passed the ones already applied, locked."""
    next_quiet_day = lead_scores.c.last_activity_at + func.make_interval(
        0, 0, 0, lead_scores.c.quiet_days + 1
    )
    query = (
        select(lead_scores)
        .where(lead_scores.c.score > 0, next_quiet_day <= now)
        .order_by(lead_scores.c.last_activity_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(query)).all())


async def claim_quiet_insights(session: AsyncSession, quiet_since: datetime, limit: int) -> list[Row[Any]]:
    """Conversations quiet since `quiet_since` with messages newer than their last insights:
    marked as summarised up to now (the claim) and returned."""
    due = (
        select(*_KEY)
        .where(
            lead_scores.c.conversation_id.is_not(None),
            lead_scores.c.last_message_at < quiet_since,
            lead_scores.c.message_count > lead_scores.c.insight_message_count,
        )
        .order_by(lead_scores.c.last_message_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = await session.execute(
        update(lead_scores)
        .where(tuple_(*_KEY).in_(due))
        .values(insight_message_count=lead_scores.c.message_count)
        .returning(lead_scores)
    )
    return list(rows.all())


async def save_insights(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Keep the insights unless newer ones (from more messages) are already stored. True if kept."""
    stmt = pg_insert(customer_insights).values(**values)
    upsert = stmt.on_conflict_do_update(
        index_elements=[customer_insights.c.conversation_id],
        set_={c: stmt.excluded[c] for c in values if c != "conversation_id"},
        where=customer_insights.c.message_count <= stmt.excluded.message_count,
    ).returning(customer_insights.c.conversation_id)
    return (await session.execute(upsert)).first() is not None


async def delete_for(session: AsyncSession, psids: Sequence[str]) -> tuple[int, list[uuid.UUID]]:
    """Delete the leads and insights of these PSIDs (on every Page). The number of leads and
    the conversations whose insights were deleted."""
    if not psids:
        return 0, []
    leads = await session.execute(
        delete(lead_scores).where(lead_scores.c.psid.in_(psids)).returning(lead_scores.c.psid)
    )
    insights = await session.execute(
        delete(customer_insights)
        .where(customer_insights.c.psid.in_(psids))
        .returning(customer_insights.c.conversation_id)
    )
    return len(leads.all()), [r.conversation_id for r in insights]


async def leads_for(session: AsyncSession, psids: Sequence[str]) -> list[Row[Any]]:
    query = select(lead_scores).where(lead_scores.c.psid.in_(psids)).order_by(*_KEY)
    return list((await session.execute(query)).all())


async def insights_for(session: AsyncSession, psids: Sequence[str]) -> list[Row[Any]]:
    query = (
        select(customer_insights)
        .where(customer_insights.c.psid.in_(psids))
        .order_by(customer_insights.c.generated_at, customer_insights.c.conversation_id)
    )
    return list((await session.execute(query)).all())
