"""Every SQL statement of the messenger."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    bindparam,
    delete,
    func,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from .models import conversations, messages, optins, quarantined_events, reactions, referrals

c, m = conversations.c, messages.c

# --- conversations ------------------------------------------------------------------------------


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
    row = (await session.execute(select(conversations).where(c.page_id == page_id, c.psid == psid))).one()
    return row, False


async def ensure_conversations(
    session: AsyncSession, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], tuple[Row[Any], bool]]:
    """The conversations for many (page, PSID) at once, creating the missing ones; with
    whether this call created each. Two statements whatever the number."""
    # executemany with RETURNING: compiled once and cached, whatever the number of rows.
    created = (
        await session.execute(
            insert(conversations)
            .on_conflict_do_nothing(index_elements=["page_id", "psid"])
            .returning(conversations),
            [{"id": uuid.uuid4(), "page_id": p, "psid": s} for p, s in keys],
        )
    ).all()
    found: dict[tuple[str, str], tuple[Row[Any], bool]] = {(r.page_id, r.psid): (r, True) for r in created}
    missing = [k for k in keys if k not in found]
    if missing:
        rows = await session.execute(select(conversations).where(tuple_(c.page_id, c.psid).in_(missing)))
        found.update({(r.page_id, r.psid): (r, False) for r in rows})
    return found


async def get_conversation(
    session: AsyncSession, conversation_id: uuid.UUID, *, for_update: bool = False
) -> Row[Any] | None:
    query = select(conversations).where(c.id == conversation_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).first()


async def find_conversation(session: AsyncSession, page_id: str, psid: str) -> Row[Any] | None:
    return (await session.execute(select(conversations).where(c.page_id == page_id, c.psid == psid))).first()


async def note_customer_messages(
    session: AsyncSession, updates: Sequence[tuple[uuid.UUID, datetime, int]]
) -> None:
    """(conversation, newest message time, how many new) for many conversations: one round trip."""
    if not updates:
        return
    at: Any = bindparam("at")
    await session.execute(
        update(conversations)
        .where(c.id == bindparam("cid"))
        .values(
            last_customer_message_at=func.greatest(func.coalesce(c.last_customer_message_at, at), at),
            last_message_at=func.greatest(func.coalesce(c.last_message_at, at), at),
            unread_count=c.unread_count + bindparam("n"),
            status="open",
            updated_at=func.now(),
        ),
        [{"cid": cid, "at": when, "n": n} for cid, when, n in updates],
    )


async def note_staff_activity(session: AsyncSession, conversation_id: uuid.UUID, at: datetime) -> None:
    await session.execute(
        update(conversations)
        .where(c.id == conversation_id)
        .values(
            last_staff_activity_at=at,
            last_message_at=func.greatest(func.coalesce(c.last_message_at, at), at),
            unread_count=0,
            updated_at=func.now(),
        )
    )


async def set_mode(
    session: AsyncSession,
    conversation_id: uuid.UUID,
    *,
    mode: str,
    needs_human: bool,
    reason: str | None,
    at: datetime,
) -> None:
    values: dict[str, Any] = {"mode": mode, "needs_human": needs_human, "updated_at": func.now()}
    if mode == "human":
        values["human_since"] = at
        values["handover_reason"] = reason
    else:
        values["human_since"] = None
        if not needs_human:
            values["handover_reason"] = None
    await session.execute(update(conversations).where(c.id == conversation_id).values(**values))


async def flag_for_human(session: AsyncSession, conversation_id: uuid.UUID, reason: str) -> None:
    await session.execute(
        update(conversations)
        .where(c.id == conversation_id)
        .values(needs_human=True, handover_reason=reason, updated_at=func.now())
    )


async def assign(session: AsyncSession, conversation_id: uuid.UUID, staff_id: uuid.UUID | None) -> None:
    await session.execute(
        update(conversations)
        .where(c.id == conversation_id)
        .values(assigned_staff_id=staff_id, updated_at=func.now())
    )


async def mark_conversation_read(session: AsyncSession, conversation_id: uuid.UUID) -> None:
    await session.execute(
        update(conversations).where(c.id == conversation_id).values(unread_count=0, updated_at=func.now())
    )


async def conversations_page(
    session: AsyncSession,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
    mode: str | None,
    assigned: uuid.UUID | str | None,
    unread: bool | None,
    needs_human: bool | None,
) -> list[Row[Any]]:
    """Inbox order: the most recent activity first; keyset (last activity, id)."""
    activity = func.coalesce(c.last_message_at, c.created_at).label("activity")
    query = select(conversations, activity).order_by(activity.desc(), c.id.desc()).limit(limit)
    if mode is not None:
        query = query.where(c.mode == mode)
    if assigned == "unassigned":
        query = query.where(c.assigned_staff_id.is_(None))
    elif assigned is not None:
        query = query.where(c.assigned_staff_id == assigned)
    if unread is not None:
        query = query.where(c.unread_count > 0 if unread else c.unread_count == 0)
    if needs_human is not None:
        query = query.where(c.needs_human.is_(needs_human))
    if after is not None:
        query = query.where(
            tuple_(func.coalesce(c.last_message_at, c.created_at), c.id)
            < tuple_(literal(after[0]), literal(after[1]))
        )
    return list((await session.execute(query)).all())


# --- messages -------------------------------------------------------------------------------------


async def insert_inbound_many(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> set[uuid.UUID]:
    """Many inbound messages in one statement; returns the ids of those that were new."""
    if not rows:
        return set()
    values = [{"direction": "in", "status": "received", "sent_by": "customer", **row} for row in rows]
    result = await session.execute(
        insert(messages).on_conflict_do_nothing(index_elements=["page_id", "mid"]).returning(m.id), values
    )
    return set(result.scalars())


async def insert_echo(session: AsyncSession, values: dict[str, Any]) -> uuid.UUID | None:
    """A message the Page sent from somewhere else (the Page inbox, another app); once per mid."""
    message_id = uuid.uuid4()
    row = (
        await session.execute(
            insert(messages)
            .values(id=message_id, direction="out", status="sent", sent_by="page_inbox", **values)
            .on_conflict_do_nothing(index_elements=["page_id", "mid"])
            .returning(m.id)
        )
    ).first()
    return None if row is None else message_id


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


async def inbound_sent_at(session: AsyncSession, page_id: str, mid: str) -> datetime | None:
    row = await session.execute(
        select(m.sent_at).where(m.page_id == page_id, m.mid == mid, m.direction == "in")
    )
    return row.scalar()


async def message(session: AsyncSession, message_id: uuid.UUID) -> Row[Any]:
    return (await session.execute(select(messages).where(m.id == message_id))).one()


async def outbound_by_source(session: AsyncSession, source_event_id: uuid.UUID) -> list[Row[Any]]:
    return list(
        (
            await session.execute(
                select(messages).where(m.source_event_id == source_event_id).order_by(m.part)
            )
        ).all()
    )


async def claim_next_pending(session: AsyncSession, conversation_id: uuid.UUID) -> Row[Any] | None:
    """pending -> sending for the conversation's oldest pending part: only one process ever
    sends a given part, and parts leave in the order they were written."""
    oldest = (
        select(m.id)
        .where(m.conversation_id == conversation_id, m.direction == "out", m.status == "pending")
        .order_by(m.created_at, m.part)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    stmt = (
        update(messages)
        .where(m.id == oldest, m.conversation_id == c.id)
        .values(status="sending", attempts=m.attempts + 1, updated_at=func.now())
        .returning(
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
            c.psid,
        )
    )
    return (await session.execute(stmt)).first()


async def has_pending(session: AsyncSession, conversation_id: uuid.UUID) -> bool:
    row = await session.execute(
        select(m.id)
        .where(m.conversation_id == conversation_id, m.direction == "out", m.status == "pending")
        .limit(1)
    )
    return row.first() is not None


async def mark_sent(session: AsyncSession, message_id: uuid.UUID, mid: str, at: datetime) -> None:
    await session.execute(
        update(messages)
        .where(m.id == message_id)
        .values(status="sent", mid=mid, sent_at=at, updated_at=func.now())
    )


async def mark_failed(
    session: AsyncSession, message_id: uuid.UUID, code: int | None, subcode: int | None, reason: str
) -> None:
    await session.execute(
        update(messages)
        .where(m.id == message_id)
        .values(
            status="failed",
            error_code=code,
            error_subcode=subcode,
            error_reason=reason,
            updated_at=func.now(),
        )
    )


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
    stmt = insert(reactions).values(
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


# --- referrals, opt-ins, quarantine --------------------------------------------------------------


async def _insert_once(session: AsyncSession, table: Table, values: dict[str, Any], keys: list[str]) -> bool:
    """Insert unless a row with the same `keys` exists (Meta delivers at least once): True if new."""
    returning = next(iter(table.primary_key.columns))
    row = await session.execute(
        insert(table).values(**values).on_conflict_do_nothing(index_elements=keys).returning(returning)
    )
    return row.first() is not None


async def insert_referral(session: AsyncSession, values: dict[str, Any]) -> bool:
    return await _insert_once(session, referrals, values, ["page_id", "psid", "occurred_at", "via"])


async def insert_optin(session: AsyncSession, values: dict[str, Any]) -> bool:
    return await _insert_once(session, optins, values, ["page_id", "psid", "user_ref", "occurred_at"])


async def quarantine(
    session: AsyncSession, page_id: str | None, kind: str, reason: str, payload: dict[str, Any]
) -> None:
    await session.execute(
        insert(quarantined_events).values(page_id=page_id, kind=kind, reason=reason, payload=payload)
    )


async def list_quarantined(session: AsyncSession, limit: int) -> list[Row[Any]]:
    q = quarantined_events.c
    return list((await session.execute(select(quarantined_events).order_by(q.id.desc()).limit(limit))).all())


# --- profiles -----------------------------------------------------------------------------------


async def profiles_due(session: AsyncSession, *, refresh_after: timedelta, limit: int) -> list[Row[Any]]:
    """Conversations whose profile was never fetched, or is old and the customer wrote since."""
    query = (
        select(c.id, c.page_id, c.psid, c.profile_attempts)
        .where(
            c.profile_next_attempt_at <= func.now(),
            or_(
                c.profile_fetched_at.is_(None),
                and_(
                    c.profile_fetched_at < func.now() - refresh_after,
                    c.last_customer_message_at > c.profile_fetched_at,
                ),
            ),
        )
        .order_by(c.profile_next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(query)).all())


async def set_profile(
    session: AsyncSession, conversation_id: uuid.UUID, profile: dict[str, str | None], at: datetime
) -> None:
    await session.execute(
        update(conversations)
        .where(c.id == conversation_id)
        .values(**profile, profile_fetched_at=at, profile_attempts=0, profile_next_attempt_at=at)
    )


async def profile_failed(session: AsyncSession, conversation_id: uuid.UUID, retry_at: datetime) -> None:
    await session.execute(
        update(conversations)
        .where(c.id == conversation_id)
        .values(profile_attempts=c.profile_attempts + 1, profile_next_attempt_at=retry_at)
    )


# --- per-conversation send lock -----------------------------------------------------------------


def _lock_key(conversation_id: uuid.UUID) -> int:
    return int.from_bytes(conversation_id.bytes[:8], "big", signed=True)


async def try_lock_conversation(conn: AsyncConnection, conversation_id: uuid.UUID) -> bool:
    """A session-level advisory lock: one sender per conversation across all replicas."""
    return bool((await conn.execute(select(func.pg_try_advisory_lock(_lock_key(conversation_id))))).scalar())


async def unlock_conversation(conn: AsyncConnection, conversation_id: uuid.UUID) -> None:
    await conn.execute(select(func.pg_advisory_unlock(_lock_key(conversation_id))))
