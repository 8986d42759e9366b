"""Every SQL statement of the intake: a webhook body stored before the 200 (one INSERT on its own
asyncpg pool), the oldest stored bodies taken for processing, items kept in quarantine, and the
ad referrals and opt-ins Meta reported, each stored once."""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_messenger.webhooks.models import optins, quarantined_events, referrals, webhook_inbox

INSERT = "INSERT INTO messenger.webhook_inbox (body, trace) VALUES ($1::jsonb, $2::jsonb) RETURNING id"


async def store_webhook(pool: asyncpg.Pool, body: str, trace: str) -> int:
    """Store one webhook body (JSON text) with its trace context; returns its receipt id."""
    receipt: int = await pool.fetchval(INSERT, body, trace)
    return receipt


async def take_oldest_webhooks(session: AsyncSession, limit: int) -> list[Row[Any]]:
    """Delete and return the oldest stored webhooks, at most `limit`, skipping those another
    process holds (the caller's transaction decides whether they are gone)."""
    t = webhook_inbox.c
    oldest = select(t.id).order_by(t.id).limit(limit).with_for_update(skip_locked=True)
    result = await session.execute(
        delete(webhook_inbox)
        .where(t.id.in_(oldest.scalar_subquery()))
        .returning(
            t.id,
            t.body,
            t.trace,
            func.extract("epoch", func.now() - t.received_at).label("waited"),
        )
    )
    return list(result.all())


async def quarantine(
    session: AsyncSession, page_id: str | None, kind: str, reason: str, payload: dict[str, Any]
) -> None:
    await session.execute(
        insert(quarantined_events).values(page_id=page_id, kind=kind, reason=reason, payload=payload)
    )


async def list_quarantined(session: AsyncSession, limit: int) -> list[Row[Any]]:
    q = quarantined_events.c
    return list((await session.execute(select(quarantined_events).order_by(q.id.desc()).limit(limit))).all())


async def _insert_once(session: AsyncSession, table: Table, values: dict[str, Any], keys: list[str]) -> bool:
    """Insert unless a row with the same `keys` exists (Meta delivers at least once): True if new."""
    returning = next(iter(table.primary_key.columns))
    row = await session.execute(
        pg_insert(table).values(**values).on_conflict_do_nothing(index_elements=keys).returning(returning)
    )
    return row.first() is not None


async def insert_referral(session: AsyncSession, values: dict[str, Any]) -> bool:
    return await _insert_once(session, referrals, values, ["page_id", "psid", "occurred_at", "via"])


async def insert_optin(session: AsyncSession, values: dict[str, Any]) -> bool:
    return await _insert_once(session, optins, values, ["page_id", "psid", "user_ref", "occurred_at"])
