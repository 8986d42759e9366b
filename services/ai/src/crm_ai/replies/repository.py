"""Every SQL statement of the replies: replies, the passages each stood on, staff suggestions."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from .models import replies, reply_sources, suggestions


async def save_reply(session: AsyncSession, values: dict[str, Any]) -> uuid.UUID:
    reply_id = uuid.uuid4()
    await session.execute(replies.insert().values(id=reply_id, **values))
    return reply_id


async def save_sources(session: AsyncSession, reply_id: uuid.UUID, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        await session.execute(insert(reply_sources), [{"reply_id": reply_id, **r} for r in rows])


async def delete_replies(session: AsyncSession, psids: Sequence[str]) -> list[uuid.UUID]:
    """Delete the replies composed for these customers; returns the conversations they were in."""
    if not psids:
        return []
    rows = await session.execute(
        delete(replies).where(replies.c.psid.in_(psids)).returning(replies.c.conversation_id)
    )
    return [r.conversation_id for r in rows]


async def delete_sources(session: AsyncSession, psids: Sequence[str]) -> int:
    """Delete the sources of these customers' replies (before the replies: to count them)."""
    if not psids:
        return 0
    theirs = select(replies.c.id).where(replies.c.psid.in_(psids))
    rows = await session.execute(
        delete(reply_sources).where(reply_sources.c.reply_id.in_(theirs)).returning(reply_sources.c.reply_id)
    )
    return len(rows.all())


async def replies_for(session: AsyncSession, psids: Sequence[str]) -> list[Row[Any]]:
    query = select(replies).where(replies.c.psid.in_(psids)).order_by(replies.c.created_at, replies.c.id)
    return list((await session.execute(query)).all())


async def sources_for(session: AsyncSession, reply_ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
    if not reply_ids:
        return []
    query = (
        select(reply_sources)
        .where(reply_sources.c.reply_id.in_(reply_ids))
        .order_by(reply_sources.c.reply_id, reply_sources.c.rank)
    )
    return list((await session.execute(query)).all())


async def put_suggestion(session: AsyncSession, values: Mapping[str, Any]) -> None:
    """The conversation's draft, unless a draft for a newer message is there already."""
    statement = pg_insert(suggestions).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[suggestions.c.conversation_id],
            set_={k: statement.excluded[k] for k in values if k != "conversation_id"},
            where=statement.excluded.message_at >= suggestions.c.message_at,
        )
    )


async def suggestion(session: AsyncSession, conversation_id: uuid.UUID) -> Row[Any] | None:
    query = select(suggestions).where(suggestions.c.conversation_id == conversation_id)
    return (await session.execute(query)).one_or_none()


async def delete_suggestions(session: AsyncSession, psids: Sequence[str]) -> list[uuid.UUID]:
    if not psids:
        return []
    rows = await session.execute(
        delete(suggestions).where(suggestions.c.psid.in_(psids)).returning(suggestions.c.conversation_id)
    )
    return [r.conversation_id for r in rows]


async def suggestions_for(session: AsyncSession, psids: Sequence[str]) -> list[Row[Any]]:
    query = select(suggestions).where(suggestions.c.psid.in_(psids)).order_by(suggestions.c.created_at)
    return list((await session.execute(query)).all())
