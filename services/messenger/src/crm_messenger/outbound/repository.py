"""Every SQL statement of sending: the per-conversation advisory lock that lets one sender at a
time, across every replica, send a conversation's parts, and that a sweeper takes to know no
live sender is working on them. (The parts themselves are rows of the conversation's thread:
`conversations.outgoing`.)"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession


def _lock_key(conversation_id: uuid.UUID) -> int:
    return int.from_bytes(conversation_id.bytes[:8], "big", signed=True)


async def try_lock_conversation(conn: AsyncConnection, conversation_id: uuid.UUID) -> bool:
    """A session-level advisory lock: one sender per conversation across all replicas."""
    return bool((await conn.execute(select(func.pg_try_advisory_lock(_lock_key(conversation_id))))).scalar())


async def unlock_conversation(conn: AsyncConnection, conversation_id: uuid.UUID) -> None:
    await conn.execute(select(func.pg_advisory_unlock(_lock_key(conversation_id))))


async def try_lock_conversation_until_commit(session: AsyncSession, conversation_id: uuid.UUID) -> bool:
    """The same lock, held by this transaction only: taken only while no sender holds it, and
    released by the commit or rollback (a cancelled sweep cannot leave it held)."""
    lock = func.pg_try_advisory_xact_lock(_lock_key(conversation_id))
    return bool((await session.execute(select(lock))).scalar())
