"""What the conversations capability holds on a customer, for the PDPA rights (`crm_messenger.pdpa`
orchestrates them; the SQL is in `conversations.privacy_repository`).

- Erasure, step by step in the caller's transaction: `lock` the customer's conversations first,
  then `erase_reactions`, `erase_messages` and `erase_conversations` (after every row that
  references a conversation is gone).
- Access: `conversations_of`, `messages_of` and `reactions_of` read whole rows for the export.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_messenger.conversations import privacy_repository as repository
from crm_messenger.identities import Identity


async def lock(session: AsyncSession, identities: Sequence[Identity]) -> list[uuid.UUID]:
    """The ids of the customer's conversations, locked until the transaction ends."""
    return await repository.lock_conversations_of(session, identities)


async def erase_reactions(session: AsyncSession, identities: Sequence[Identity]) -> int:
    return await repository.delete_reactions(session, identities)


async def erase_messages(session: AsyncSession, conversation_ids: Sequence[uuid.UUID]) -> int:
    return await repository.delete_messages(session, conversation_ids)


async def erase_conversations(session: AsyncSession, conversation_ids: Sequence[uuid.UUID]) -> int:
    return await repository.delete_conversations(session, conversation_ids)


async def conversations_of(session: AsyncSession, identities: Sequence[Identity]) -> list[Row[Any]]:
    return await repository.conversations_of(session, identities)


async def messages_of(session: AsyncSession, conversation_ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
    return await repository.messages_of(session, conversation_ids)


async def reactions_of(session: AsyncSession, identities: Sequence[Identity]) -> list[Row[Any]]:
    return await repository.reactions_of(session, identities)
