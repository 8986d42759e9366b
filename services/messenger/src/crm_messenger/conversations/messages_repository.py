"""Every SQL statement on a conversation's thread: customer messages and the Page's echoes stored
once per mid, the thread paged for staff, delivery and read receipts, and reactions.
(The outgoing parts waiting to be sent are in `outgoing_repository`.)"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, literal, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_messenger.conversations.models import conversations, messages, reactions
from crm_servicekit.sqlcache import bound, frozen

c, m = conversations.c, messages.c


@functools.cache
def _once_per_mid(columns: frozenset[str]) -> Any:
    """A message inserted unless its (page, mid) is stored, with exactly these columns: frozen
    (`sqlcache`), built once per set of columns (inbound messages and echoes have one each)."""
    return frozen(
        pg_insert(messages)
        .values(bound(*sorted(columns)))
        .on_conflict_do_nothing(index_elements=["page_id", "mid"])
        .returning(m.id)
    )


_INBOUND = {"direction": "in", "status": "received", "sent_by": "customer"}
_ECHO = {"direction": "out", "status": "sent", "sent_by": "page_inbox"}


async def insert_inbound_many(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> set[uuid.UUID]:
    """Many inbound messages in one statement; returns the ids of those that were new."""
    if not rows:
        return set()
    values = [{**_INBOUND, **row} for row in rows]
    if len(values) == 1:
        # The usual run: one message, by the statement compiled once (a frozen statement cannot
        # return rows from an executemany, so longer runs take the statement below).
        [one] = values
        return set((await session.execute(_once_per_mid(frozenset(one)), one)).scalars())
    result = await session.execute(
        pg_insert(messages).on_conflict_do_nothing(index_elements=["page_id", "mid"]).returning(m.id), values
    )
    return set(result.scalars())


async def insert_echo(session: AsyncSession, values: dict[str, Any]) -> uuid.UUID | None:
    """A message the Page sent from somewhere else (the Page inbox, another app); once per mid.
    `values`: conversation_id, page_id, mid, kind, text, attachments, sent_at."""
    message_id = uuid.uuid4()
    row_values = {**values, **_ECHO, "id": message_id}
    row = (await session.execute(_once_per_mid(frozenset(row_values)), row_values)).first()
    return None if row is None else message_id


async def inbound_sent_at(session: AsyncSession, page_id: str, mid: str) -> datetime | None:
    row = await session.execute(
        select(m.sent_at).where(m.page_id == page_id, m.mid == mid, m.direction == "in")
    )
    return row.scalar()


async def message(session: AsyncSession, message_id: uuid.UUID) -> Row[Any]:
    return (await session.execute(select(messages).where(m.id == message_id))).one()


async def is_our_outbound(session: AsyncSession, page_id: str, mid: str) -> bool:
    row = await session.execute(select(m.id).where(m.page_id == page_id, m.mid == mid, m.direction == "out"))
    return row.first() is not None


async def messages_page(
    session: AsyncSession,
    conversation_id: uuid.UUID,
    *,
    limit: int,
    before: tuple[datetime, uuid.UUID] | None,
) -> list[Row[Any]]:
    """Newest first (the caller shows them oldest first); keyset (created_at, id)."""
    query = (
        select(messages)
        .where(m.conversation_id == conversation_id)
        .order_by(m.created_at.desc(), m.part.desc(), m.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(tuple_(m.created_at, m.id) < tuple_(literal(before[0]), literal(before[1])))
    return list((await session.execute(query)).all())


# --- receipts and reactions ---------------------------------------------------------------------


async def apply_delivery(
    session: AsyncSession, conversation_id: uuid.UUID, mids: list[str], watermark: datetime | None
) -> int:
    """Our messages named by `mids`, and everything we sent up to the watermark, were delivered."""
    conditions: list[ColumnElement[bool]] = []
    if mids:
        conditions.append(m.mid.in_(mids))
    if watermark is not None:
        conditions.append(m.sent_at <= watermark)
        await session.execute(
            update(conversations)
            .where(c.id == conversation_id)
            .values(
                delivered_watermark=func.greatest(func.coalesce(c.delivered_watermark, watermark), watermark)
            )
        )
    if not conditions:
        return 0
    result = await session.execute(
        update(messages)
        .where(
            m.conversation_id == conversation_id,
            m.direction == "out",
            m.status.in_(("sent", "delivered")),
            m.delivered_at.is_(None),
            or_(*conditions),
        )
        .values(status="delivered", delivered_at=func.coalesce(watermark, func.now()), updated_at=func.now())
        .returning(m.id)
    )
    return len(result.all())


async def apply_read(session: AsyncSession, conversation_id: uuid.UUID, watermark: datetime) -> int:
    """Everything we sent up to the watermark was read (and so delivered)."""
    await session.execute(
        update(conversations)
        .where(c.id == conversation_id)
        .values(read_watermark=func.greatest(func.coalesce(c.read_watermark, watermark), watermark))
    )
    result = await session.execute(
        update(messages)
        .where(
            m.conversation_id == conversation_id,
            m.direction == "out",
            m.status.in_(("sent", "delivered")),
            m.sent_at <= watermark,
        )
        .values(
            status="read",
            read_at=watermark,
            delivered_at=func.coalesce(m.delivered_at, watermark),
            updated_at=func.now(),
        )
        .returning(m.id)
    )
    return len(result.all())


async def react(
    session: AsyncSession, page_id: str, mid: str, psid: str, reaction: str, emoji: str | None, at: datetime
) -> None:
    stmt = pg_insert(reactions).values(
        page_id=page_id, mid=mid, psid=psid, reaction=reaction, emoji=emoji, reacted_at=at
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["page_id", "mid", "psid"],
            set_={
                "reaction": stmt.excluded.reaction,
                "emoji": stmt.excluded.emoji,
                "reacted_at": stmt.excluded.reacted_at,
            },
            where=reactions.c.reacted_at <= stmt.excluded.reacted_at,
        )
    )


async def unreact(session: AsyncSession, page_id: str, mid: str, psid: str, at: datetime) -> None:
    r = reactions.c
    await session.execute(
        delete(reactions).where(r.page_id == page_id, r.mid == mid, r.psid == psid, r.reacted_at <= at)
    )


async def reactions_for(session: AsyncSession, page_id: str, mids: list[str]) -> dict[str, list[Row[Any]]]:
    if not mids:
        return {}
    r = reactions.c
    rows = await session.execute(select(reactions).where(r.page_id == page_id, r.mid.in_(mids)))
    found: dict[str, list[Row[Any]]] = {}
    for row in rows:
        found.setdefault(row.mid, []).append(row)
    return found
