"""Every SQL statement of `webhooks.privacy`: the ad referrals, opt-ins, quarantined items and
stored webhook bodies held on a customer's Messenger identities, read for an export or deleted."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_messenger.identities import Identity, mentions, of_identities
from crm_messenger.webhooks.models import optins, quarantined_events, referrals, webhook_inbox


async def _delete(session: AsyncSession, table: Any, condition: ColumnElement[bool]) -> int:
    key = next(iter(table.primary_key.columns))
    return len((await session.execute(delete(table).where(condition).returning(key))).all())


async def delete_referrals(
    session: AsyncSession, conversation_ids: Sequence[uuid.UUID], identities: Sequence[Identity]
) -> int:
    r = referrals.c
    condition = or_(r.conversation_id.in_(conversation_ids), of_identities(r.page_id, r.psid, identities))
    return await _delete(session, referrals, condition)


async def delete_optins(session: AsyncSession, identities: Sequence[Identity]) -> int:
    o = optins.c
    return await _delete(session, optins, of_identities(o.page_id, o.psid, identities))


async def delete_quarantined(session: AsyncSession, psids: Sequence[str]) -> int:
    return await _delete(session, quarantined_events, mentions(quarantined_events.c.payload, psids))


async def stored_webhooks_mentioning(session: AsyncSession, psids: Sequence[str]) -> list[Row[Any]]:
    """Stored, unprocessed webhook bodies that mention the PSIDs, locked until the transaction ends."""
    w = webhook_inbox.c
    query = select(w.id, w.body).where(mentions(w.body, psids)).order_by(w.id).with_for_update()
    return list((await session.execute(query)).all())


async def delete_stored_webhook(session: AsyncSession, webhook_id: int) -> None:
    await session.execute(delete(webhook_inbox).where(webhook_inbox.c.id == webhook_id))


async def replace_stored_webhook(session: AsyncSession, webhook_id: int, body: Any) -> None:
    await session.execute(update(webhook_inbox).where(webhook_inbox.c.id == webhook_id).values(body=body))


async def referrals_of(session: AsyncSession, conversation_ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
    r = referrals.c
    query = select(referrals).where(r.conversation_id.in_(conversation_ids)).order_by(r.occurred_at, r.id)
    return list((await session.execute(query)).all())


async def optins_of(session: AsyncSession, identities: Sequence[Identity]) -> list[Row[Any]]:
    o = optins.c
    query = select(optins).where(of_identities(o.page_id, o.psid, identities)).order_by(o.occurred_at, o.id)
    return list((await session.execute(query)).all())


async def quarantined_mentioning(session: AsyncSession, psids: Sequence[str]) -> list[Row[Any]]:
    q = quarantined_events.c
    query = select(quarantined_events).where(mentions(q.payload, psids)).order_by(q.id)
    return list((await session.execute(query)).all())
