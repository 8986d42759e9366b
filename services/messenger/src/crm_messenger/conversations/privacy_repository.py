"""Every SQL statement of `conversations.privacy`: the conversations held on a customer's
Messenger identities with their messages and reactions, read whole for an export or deleted."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_messenger.conversations.models import conversations, messages, reactions
from crm_messenger.identities import Identity, of_identities


async def conversations_of(session: AsyncSession, identities: Sequence[Identity]) -> list[Row[Any]]:
    c = conversations.c
    query = select(conversations).where(of_identities(c.page_id, c.psid, identities)).order_by(c.created_at)
    return list((await session.execute(query)).all())


async def lock_conversations_of(session: AsyncSession, identities: Sequence[Identity]) -> list[uuid.UUID]:
    """The ids of the conversations held on these identities, locked until the transaction ends."""
    c = conversations.c
    query = select(c.id).where(of_identities(c.page_id, c.psid, identities)).with_for_update()
    return [r.id for r in await session.execute(query)]


async def _delete(session: AsyncSession, table: Any, condition: ColumnElement[bool]) -> int:
    key = next(iter(table.primary_key.columns))
    return len((await session.execute(delete(table).where(condition).returning(key))).all())


async def delete_reactions(session: AsyncSession, identities: Sequence[Identity]) -> int:
    f = reactions.c
    return await _delete(session, reactions, of_identities(f.page_id, f.psid, identities))


async def delete_messages(session: AsyncSession, conversation_ids: Sequence[uuid.UUID]) -> int:
    return await _delete(session, messages, messages.c.conversation_id.in_(conversation_ids))


async def delete_conversations(session: AsyncSession, conversation_ids: Sequence[uuid.UUID]) -> int:
    return await _delete(session, conversations, conversations.c.id.in_(conversation_ids))


async def messages_of(session: AsyncSession, conversation_ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
    m = messages.c
    query = (
        select(messages).where(m.conversation_id.in_(conversation_ids)).order_by(m.created_at, m.part, m.id)
    )
    return list((await session.execute(query)).all())


async def reactions_of(session: AsyncSession, identities: Sequence[Identity]) -> list[Row[Any]]:
    f = reactions.c
    query = select(reactions).where(of_identities(f.page_id, f.psid, identities)).order_by(f.reacted_at)
    return list((await session.execute(query)).all())
