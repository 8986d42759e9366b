"""Every SQL statement on a conversation's outgoing parts: written pending once per (cause, part),
claimed one at a time in the order they were written, then marked sent or failed, or put back
pending. Every mark after the claim is conditional on the part still being `sending`, so a part
is resolved once, whoever (the sender, or a sweeper in any replica) gets there first."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_messenger.conversations.models import conversations, messages

c, m = conversations.c, messages.c


async def insert_outbound(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[uuid.UUID]:
    """Pending parts of one outbound message, once per (cause, part). Returns the new ids."""
    values = [{"id": uuid.uuid4(), "direction": "out", **row} for row in rows]
    result = await session.execute(
        insert(messages)
        .on_conflict_do_nothing(index_elements=["source_event_id", "part"])
        .returning(m.id, sort_by_parameter_order=True),
        values,
    )
    return list(result.scalars())


async def outbound_by_source(session: AsyncSession, source_event_id: uuid.UUID) -> list[Row[Any]]:
    return list(
        (
            await session.execute(
                select(messages).where(m.source_event_id == source_event_id).order_by(m.part)
            )
        ).all()
    )


# What the sender needs of a part to send it and announce the outcome, with the customer's PSID.
_PART = (
    m.id,
    m.conversation_id,
    m.page_id,
    m.text,
    m.sent_by,
    m.staff_id,
    m.source_event_id,
    m.part,
    m.typing,
    m.quick_replies,
    m.messaging_type,
    m.tag,
    m.attempts,
    c.psid,
)


async def next_ready(session: AsyncSession, conversation_id: uuid.UUID) -> Row[Any] | None:
    """The conversation's oldest pending part, while none of its parts is `sending` (one a
    stopped process left, until it is resolved): a later part never overtakes one whose delivery
    is not known. Read only; the sender holding the conversation's lock claims it with `claim`."""
    stmt = (
        select(*_PART)
        .join(conversations, c.id == m.conversation_id)
        .where(*_ready_to_send(conversation_id))
        .order_by(m.created_at, m.part)
        .limit(1)
    )
    return (await session.execute(stmt)).first()


async def claim(session: AsyncSession, message_id: uuid.UUID, attempts: int) -> bool:
    """pending -> sending, just before Meta is asked for the part: only one process ever sends a
    given part. `attempts` is what the part had when it was read: a claim repeated because its
    commit's answer was lost finds its own claim and succeeds again. False if it is no longer
    pending (erased, or failed with an earlier part)."""
    mine = (m.status == "pending") | ((m.status == "sending") & (m.attempts == attempts + 1))
    result = await session.execute(
        update(messages)
        .where(m.id == message_id, m.attempts.in_([attempts, attempts + 1]), mine)
        .values(status="sending", attempts=attempts + 1, updated_at=func.now())
        .returning(m.id)
    )
    return result.first() is not None


async def confirm_by_echo(
    session: AsyncSession, message_id: uuid.UUID, page_id: str, mid: str, at: datetime
) -> Row[Any] | None:
    """Meta echoed our part (its metadata names it): it was delivered. A part still `sending`
    (its sender has not recorded Meta's answer, or never will) or failed without an answer from
    Meta ("delivery unknown") becomes `sent` with Meta's id; returns it, or None if it was
    recorded as sent already (or is not ours, or was erased)."""
    stmt = (
        update(messages)
        .where(
            m.id == message_id,
            m.page_id == page_id,
            m.direction == "out",
            m.conversation_id == c.id,
            (m.status == "sending") | ((m.status == "failed") & m.error_code.is_(None)),
        )
        .values(
            status="sent",
            mid=mid,
            sent_at=at,
            echoed_at=func.now(),
            error_reason=None,
            error_subcode=None,
            updated_at=func.now(),
        )
        .returning(*_PART)
    )
    return (await session.execute(stmt)).first()


async def mark_echoed(session: AsyncSession, message_id: uuid.UUID, page_id: str) -> bool:
    """Note that Meta echoed a part recorded as sent; False if it was noted already (a retry)."""
    result = await session.execute(
        update(messages)
        .where(m.id == message_id, m.page_id == page_id, m.direction == "out", m.echoed_at.is_(None))
        .values(echoed_at=func.now())
        .returning(m.id)
    )
    return result.first() is not None


async def has_pending(session: AsyncSession, conversation_id: uuid.UUID) -> bool:
    """Is a part of the conversation ready to be claimed?"""
    row = await session.execute(select(m.id).where(*_ready_to_send(conversation_id)).limit(1))
    return row.first() is not None


def _ready_to_send(conversation_id: uuid.UUID) -> list[ColumnElement[bool]]:
    """The conversation's pending parts, while none of its parts is `sending`."""
    in_flight = messages.alias("in_flight")
    return [
        m.conversation_id == conversation_id,
        m.direction == "out",
        m.status == "pending",
        ~exists().where(
            in_flight.c.conversation_id == conversation_id,
            in_flight.c.direction == "out",
            in_flight.c.status == "sending",
        ),
    ]


async def mark_sent(session: AsyncSession, message_id: uuid.UUID, mid: str, at: datetime) -> bool:
    return await _resolve(session, message_id, status="sent", mid=mid, sent_at=at)


async def mark_failed(
    session: AsyncSession, message_id: uuid.UUID, code: int | None, subcode: int | None, reason: str
) -> bool:
    return await _resolve(
        session, message_id, status="failed", error_code=code, error_subcode=subcode, error_reason=reason
    )


async def release(session: AsyncSession, message_id: uuid.UUID) -> bool:
    """sending -> pending: Meta was never asked for the part (or the sweeper found it never
    delivered)."""
    return await _resolve(session, message_id, status="pending")


async def revive_later_parts(
    session: AsyncSession, source_event_id: uuid.UUID, after_part: int, reason_prefix: str
) -> int:
    """The parts after `after_part` of the same cause that failed only because an earlier part's
    delivery was unknown (their reason starts with `reason_prefix`) go back to `pending`."""
    result = await session.execute(
        update(messages)
        .where(
            m.source_event_id == source_event_id,
            m.part > after_part,
            m.status == "failed",
            m.error_code.is_(None),
            m.error_reason.startswith(reason_prefix, autoescape=True),
        )
        .values(status="pending", error_reason=None, updated_at=func.now())
        .returning(m.id)
    )
    return len(result.all())


async def _resolve(session: AsyncSession, message_id: uuid.UUID, **values: Any) -> bool:
    """Move a `sending` part on; False if it is no longer `sending` (resolved already, or erased)."""
    result = await session.execute(
        update(messages)
        .where(m.id == message_id, m.status == "sending")
        .values(**values, updated_at=func.now())
        .returning(m.id)
    )
    return result.first() is not None


async def fail_later_parts(
    session: AsyncSession, source_event_id: uuid.UUID, after_part: int, reason: str
) -> list[Row[Any]]:
    result = await session.execute(
        update(messages)
        .where(m.source_event_id == source_event_id, m.part > after_part, m.status == "pending")
        .values(status="failed", error_reason=reason, updated_at=func.now())
        .returning(m.id, m.conversation_id, m.page_id)
    )
    return list(result.all())


async def conversations_with_stale_pending(session: AsyncSession, older_than: timedelta) -> list[uuid.UUID]:
    rows = await session.execute(
        select(m.conversation_id)
        .where(m.direction == "out", m.status == "pending", m.created_at < func.now() - older_than)
        .group_by(m.conversation_id)
        .limit(50)
    )
    return list(rows.scalars())


async def conversations_with_stuck_sending(session: AsyncSession, older_than: timedelta) -> list[uuid.UUID]:
    rows = await session.execute(
        select(m.conversation_id)
        .where(m.direction == "out", m.status == "sending", m.updated_at < func.now() - older_than)
        .group_by(m.conversation_id)
        .limit(50)
    )
    return list(rows.scalars())


async def stuck_sending(
    session: AsyncSession, conversation_id: uuid.UUID, older_than: timedelta, fail_after: timedelta
) -> list[Row[Any]]:
    """The conversation's parts claimed longer ago than `older_than` and still `sending`, with the
    customer's PSID, whether they are past `fail_after` (`overdue`) and whether Meta has echoed a
    part of ours sent after they were claimed (`echoes_passed`); locked, skipping any another
    transaction holds."""
    # Meta echoed a part of ours on the same Page that was sent after this one was claimed.
    later = messages.alias("later")
    echoes_passed = exists().where(
        later.c.page_id == m.page_id,
        later.c.direction == "out",
        later.c.echoed_at.is_not(None),
        later.c.sent_at > m.updated_at,
    )
    rows = await session.execute(
        select(
            m.id,
            m.conversation_id,
            m.page_id,
            m.source_event_id,
            m.part,
            m.attempts,
            (m.updated_at < func.now() - fail_after).label("overdue"),
            echoes_passed.label("echoes_passed"),
            c.psid,
        )
        .join(conversations, c.id == m.conversation_id)
        .where(
            m.conversation_id == conversation_id,
            m.direction == "out",
            m.status == "sending",
            m.updated_at < func.now() - older_than,
        )
        .order_by(m.created_at, m.part)
        .with_for_update(of=messages, skip_locked=True)
    )
    return list(rows.all())
