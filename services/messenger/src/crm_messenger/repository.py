"""Every SQL statement of the messenger."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from .models import conversations, messages, quarantined_events


async def get_or_create_conversation(session: AsyncSession, page_id: str, psid: str) -> tuple[Row[Any], bool]:
    """The conversation for (page, PSID) and whether this call created it."""
    created = (
        await session.execute(
            insert(conversations)
            .values(id=uuid.uuid4(), page_id=page_id, psid=psid)
            .on_conflict_do_nothing(index_elements=["page_id", "psid"])
            .returning(conversations)
        )
    ).first()
    if created is not None:
        return created, True
    row = (
        await session.execute(
            select(conversations).where(conversations.c.page_id == page_id, conversations.c.psid == psid)
        )
    ).one()
    return row, False


async def get_conversation(session: AsyncSession, conversation_id: uuid.UUID) -> Row[Any] | None:
    return (await session.execute(select(conversations).where(conversations.c.id == conversation_id))).first()


async def insert_inbound(session: AsyncSession, values: dict[str, Any]) -> uuid.UUID | None:
    """Store an inbound message once per (page, mid); None if it was already stored."""
    message_id = uuid.uuid4()
    row = (
        await session.execute(
            insert(messages)
            .values(id=message_id, direction="in", status="received", **values)
            .on_conflict_do_nothing(index_elements=["page_id", "mid"])
            .returning(messages.c.id)
        )
    ).first()
    return None if row is None else message_id


async def note_customer_message(session: AsyncSession, conversation_id: uuid.UUID, at: datetime) -> None:
    c = conversations.c
    await session.execute(
        update(conversations)
        .where(c.id == conversation_id)
        .values(
            last_customer_message_at=func.greatest(func.coalesce(c.last_customer_message_at, at), at),
            unread_count=c.unread_count + 1,
            updated_at=func.now(),
        )
    )


async def flag_for_human(session: AsyncSession, conversation_id: uuid.UUID, reason: str) -> None:
    await session.execute(
        update(conversations)
        .where(conversations.c.id == conversation_id)
        .values(needs_human=True, handover_reason=reason, updated_at=func.now())
    )


async def insert_outbound(session: AsyncSession, values: dict[str, Any]) -> uuid.UUID | None:
    """A pending outbound message, once per causing event; None if that event already has one."""
    message_id = uuid.uuid4()
    row = (
        await session.execute(
            insert(messages)
            .values(id=message_id, direction="out", status="pending", **values)
            .on_conflict_do_nothing(index_elements=["source_event_id"])
            .returning(messages.c.id)
        )
    ).first()
    return None if row is None else message_id


async def claim_for_sending(session: AsyncSession, message_id: uuid.UUID) -> Row[Any] | None:
    """pending -> sending, atomically: only one process ever sends a given message."""
    m, c = messages.c, conversations.c
    stmt = (
        update(messages)
        .where(m.id == message_id, m.status == "pending", m.conversation_id == c.id)
        .values(status="sending", attempts=m.attempts + 1, updated_at=func.now())
        .returning(m.id, m.conversation_id, m.page_id, m.text, m.sent_by, m.source_event_id, c.psid)
    )
    return (await session.execute(stmt)).first()


async def mark_sent(session: AsyncSession, message_id: uuid.UUID, mid: str, at: datetime) -> None:
    await session.execute(
        update(messages)
        .where(messages.c.id == message_id)
        .values(status="sent", mid=mid, sent_at=at, updated_at=func.now())
    )


async def mark_failed(
    session: AsyncSession, message_id: uuid.UUID, code: int | None, subcode: int | None, reason: str
) -> None:
    await session.execute(
        update(messages)
        .where(messages.c.id == message_id)
        .values(
            status="failed",
            error_code=code,
            error_subcode=subcode,
            error_reason=reason,
            updated_at=func.now(),
        )
    )


async def stale_pending(session: AsyncSession, older_than: timedelta, limit: int = 50) -> list[uuid.UUID]:
    m = messages.c
    rows = await session.execute(
        select(m.id)
        .where(m.direction == "out", m.status == "pending", m.created_at < func.now() - older_than)
        .order_by(m.created_at)
        .limit(limit)
    )
    return list(rows.scalars())


async def is_our_outbound(session: AsyncSession, page_id: str, mid: str) -> bool:
    m = messages.c
    row = await session.execute(select(m.id).where(m.page_id == page_id, m.mid == mid, m.direction == "out"))
    return row.first() is not None


async def quarantine(
    session: AsyncSession, page_id: str | None, kind: str, reason: str, payload: dict[str, Any]
) -> None:
    await session.execute(
        insert(quarantined_events).values(page_id=page_id, kind=kind, reason=reason, payload=payload)
    )


async def list_quarantined(session: AsyncSession, limit: int) -> list[Row[Any]]:
    q = quarantined_events.c
    return list((await session.execute(select(quarantined_events).order_by(q.id.desc()).limit(limit))).all())
