from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from .models import replies


async def save_reply(session: AsyncSession, values: dict[str, Any]) -> uuid.UUID:
    reply_id = uuid.uuid4()
    await session.execute(replies.insert().values(id=reply_id, **values))
    return reply_id


async def delete_replies(session: AsyncSession, psids: Sequence[str]) -> list[uuid.UUID]:
    """Delete the replies composed for these customers; returns the conversations they were in."""
    if not psids:
        return []
    rows = await session.execute(
        delete(replies).where(replies.c.psid.in_(psids)).returning(replies.c.conversation_id)
    )
    return [r.conversation_id for r in rows]


async def replies_for(session: AsyncSession, psids: Sequence[str]) -> list[Row[Any]]:
    query = select(replies).where(replies.c.psid.in_(psids)).order_by(replies.c.created_at, replies.c.id)
    return list((await session.execute(query)).all())
