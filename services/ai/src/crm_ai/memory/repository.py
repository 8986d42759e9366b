"""Every SQL statement of the conversation memory."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Row, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_servicekit.sqlcache import bound, frozen

from .models import conversation_turns

_TURN = ("source_event_id", "conversation_id", "page_id", "psid", "author", "text", "at")
# Every message said adds a turn: frozen, compiled once (`sqlcache`).
_ADD_TURN = frozen(
    pg_insert(conversation_turns)
    .values(bound("id", *_TURN))
    .on_conflict_do_nothing(index_elements=[conversation_turns.c.source_event_id])
    .returning(conversation_turns.c.id)
)


async def add_turn(session: AsyncSession, values: Mapping[str, Any]) -> bool:
    """Store a turn once per source event; False when it was stored already. `values`: every
    column of a turn but its id."""
    return (await session.execute(_ADD_TURN, {**values, "id": uuid.uuid4()})).first() is not None


async def latest(
    session: AsyncSession, conversation_id: uuid.UUID, limit: int, exclude: uuid.UUID | None
) -> list[Row[Any]]:
    """The newest `limit` turns of the conversation, newest first, without `exclude`'s."""
    query = select(conversation_turns).where(conversation_turns.c.conversation_id == conversation_id)
    if exclude is not None:
        query = query.where(conversation_turns.c.source_event_id != exclude)
    query = query.order_by(conversation_turns.c.at.desc(), conversation_turns.c.id.desc()).limit(limit)
    return list((await session.execute(query)).all())


async def delete_for(session: AsyncSession, psids: Sequence[str]) -> list[uuid.UUID]:
    """Delete the turns of these customers; the conversation of each turn deleted."""
    if not psids:
        return []
    rows = await session.execute(
        delete(conversation_turns)
        .where(conversation_turns.c.psid.in_(psids))
        .returning(conversation_turns.c.conversation_id)
    )
    return [r.conversation_id for r in rows]


async def turns_for(session: AsyncSession, psids: Sequence[str]) -> list[Row[Any]]:
    query = (
        select(conversation_turns)
        .where(conversation_turns.c.psid.in_(psids))
        .order_by(conversation_turns.c.at, conversation_turns.c.id)
    )
    return list((await session.execute(query)).all())
