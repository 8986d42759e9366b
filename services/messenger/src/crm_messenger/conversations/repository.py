"""Every SQL statement on the conversation rows: found or created per (Page, PSID), paged for the
inbox, and their state: who answers (handover), assignment, read state, the customer's profile."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, literal, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_messenger.conversations.models import conversations
from crm_servicekit.sqlcache import frozen

c = conversations.c

# Every message of a customer finds its conversation: frozen, compiled once (`sqlcache`).
_CREATE = frozen(
    pg_insert(conversations)
    .values(id=bindparam("id"), page_id=bindparam("page_id"), psid=bindparam("psid"))
    .on_conflict_do_nothing(index_elements=["page_id", "psid"])
    .returning(*c)
)


async def get_or_create_conversation(session: AsyncSession, page_id: str, psid: str) -> tuple[Row[Any], bool]:
    """The conversation for (page, PSID) and whether this call created it."""
    params = {"id": uuid.uuid4(), "page_id": page_id, "psid": psid}
    created = (await session.execute(_CREATE, params)).first()
    if created is not None:
        return created, True
    row = (await session.execute(select(conversations).where(c.page_id == page_id, c.psid == psid))).one()
    return row, False


async def ensure_conversations(
    session: AsyncSession, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], tuple[Row[Any], bool]]:
    """The conversations for many (page, PSID) at once, creating the missing ones; with
    whether this call created each. Two statements whatever the number."""
    if len(keys) == 1:  # the usual run: the frozen statement (one cannot return rows from many)
        return {keys[0]: await get_or_create_conversation(session, *keys[0])}
    # executemany with RETURNING: one statement, whatever the number of rows.
    created = (
        await session.execute(
            pg_insert(conversations)
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


# --- the customer's profile ---------------------------------------------------------------------


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
