"""Every SQL statement of PDPA erasure and export: what the messenger holds on a (Page, PSID)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, cast, delete, false, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_messenger.models import (
    conversations,
    messages,
    optins,
    quarantined_events,
    reactions,
    referrals,
    webhook_inbox,
)
from crm_servicekit.pdpa import needle_forms

from .webhooks import without_customers

# (page_id, psid); a page_id of None matches the PSID on every Page.
Identity = tuple[str | None, str]


def _of(page_id: Any, psid: Any, identities: Sequence[Identity]) -> ColumnElement[bool]:
    if not identities:
        return false()
    return or_(
        *(
            and_(psid == external_id, page_id == page) if page else psid == external_id
            for page, external_id in identities
        )
    )


def _mentions(column: Any, psids: Sequence[str]) -> ColumnElement[bool]:
    """A JSON column whose text contains any of the PSIDs (in any JSON spelling)."""
    text = cast(column, Text)
    forms = needle_forms(psids)
    if not forms:
        return false()
    return or_(*(text.contains(form, autoescape=True) for form in forms))


async def conversations_of(session: AsyncSession, identities: Sequence[Identity]) -> list[Row[Any]]:
    c = conversations.c
    query = select(conversations).where(_of(c.page_id, c.psid, identities)).order_by(c.created_at)
    return list((await session.execute(query)).all())


async def _delete(session: AsyncSession, table: Any, condition: ColumnElement[bool]) -> int:
    key = next(iter(table.primary_key.columns))
    return len((await session.execute(delete(table).where(condition).returning(key))).all())


async def erase(
    session: AsyncSession, identities: Sequence[Identity]
) -> tuple[dict[str, int], list[uuid.UUID]]:
    """Delete everything stored on these identities. Returns counts by kind and the ids of the
    conversations deleted (other copies, e.g. events, name them instead of the PSID)."""
    ids = [
        r.id
        for r in await session.execute(
            select(conversations.c.id)
            .where(_of(conversations.c.page_id, conversations.c.psid, identities))
            .with_for_update()
        )
    ]
    psids = sorted({psid for _, psid in identities})
    r, f, o = referrals.c, reactions.c, optins.c
    erased = {
        "reactions": await _delete(session, reactions, _of(f.page_id, f.psid, identities)),
        "referrals": await _delete(
            session, referrals, or_(r.conversation_id.in_(ids), _of(r.page_id, r.psid, identities))
        ),
        "optins": await _delete(session, optins, _of(o.page_id, o.psid, identities)),
        "messages": await _delete(session, messages, messages.c.conversation_id.in_(ids)),
        "conversations": await _delete(session, conversations, conversations.c.id.in_(ids)),
        "quarantined_events": await _delete(
            session, quarantined_events, _mentions(quarantined_events.c.payload, psids)
        ),
        "webhook_items": await _erase_stored_webhooks(session, psids),
    }
    return erased, ids


async def _erase_stored_webhooks(session: AsyncSession, psids: Sequence[str]) -> int:
    """Webhooks stored but not processed yet: a body may hold several customers' events, so only
    this customer's items leave it (the body goes once nothing else is left)."""
    w = webhook_inbox.c
    rows = await session.execute(
        select(w.id, w.body).where(_mentions(w.body, psids)).order_by(w.id).with_for_update()
    )
    changed = 0
    for row in rows.all():
        body, removed = without_customers(row.body, set(psids))
        changed += max(removed, 1)
        if body is None:
            await session.execute(delete(webhook_inbox).where(w.id == row.id))
        else:
            await session.execute(update(webhook_inbox).where(w.id == row.id).values(body=body))
    return changed


# --- export ---------------------------------------------------------------------------------------


async def messages_of(session: AsyncSession, conversation_ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
    m = messages.c
    query = (
        select(messages).where(m.conversation_id.in_(conversation_ids)).order_by(m.created_at, m.part, m.id)
    )
    return list((await session.execute(query)).all())


async def referrals_of(session: AsyncSession, conversation_ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
    r = referrals.c
    query = select(referrals).where(r.conversation_id.in_(conversation_ids)).order_by(r.occurred_at, r.id)
    return list((await session.execute(query)).all())


async def reactions_of(session: AsyncSession, identities: Sequence[Identity]) -> list[Row[Any]]:
    f = reactions.c
    query = select(reactions).where(_of(f.page_id, f.psid, identities)).order_by(f.reacted_at)
    return list((await session.execute(query)).all())


async def optins_of(session: AsyncSession, identities: Sequence[Identity]) -> list[Row[Any]]:
    o = optins.c
    query = select(optins).where(_of(o.page_id, o.psid, identities)).order_by(o.occurred_at, o.id)
    return list((await session.execute(query)).all())


async def quarantined_mentioning(session: AsyncSession, psids: Sequence[str]) -> list[Row[Any]]:
    q = quarantined_events.c
    query = select(quarantined_events).where(_mentions(q.payload, psids)).order_by(q.id)
    return list((await session.execute(query)).all())
