"""A conversation's thread, for the intake, the sender and staff: customer messages and the
Page's echoes stored once per Meta `mid`, delivery and read receipts of what we sent, the
customers' reactions, and the thread paged newest first. The SQL is in `messages_repository`;
the parts waiting to be sent are in `outgoing`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_messenger.conversations import messages_repository as repository


async def store_inbound(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> set[uuid.UUID]:
    """Many customer messages at once; returns the ids of those that were new (Meta delivers at
    least once: a `mid` already stored is skipped)."""
    return await repository.insert_inbound_many(session, rows)


async def store_echo(session: AsyncSession, values: dict[str, Any]) -> uuid.UUID | None:
    """A message the Page sent from somewhere else (the Page inbox, another app); once per mid.
    Returns its id, or None if it was stored already."""
    return await repository.insert_echo(session, values)


async def is_ours(session: AsyncSession, page_id: str, mid: str) -> bool:
    """Did we send the message with this mid (an echo of our own reply)?"""
    return await repository.is_our_outbound(session, page_id, mid)


async def inbound_sent_at(session: AsyncSession, page_id: str, mid: str) -> datetime | None:
    """When the customer sent the message with this mid, if we have it."""
    return await repository.inbound_sent_at(session, page_id, mid)


async def get(session: AsyncSession, message_id: uuid.UUID) -> Row[Any]:
    return await repository.message(session, message_id)


async def page(
    session: AsyncSession,
    conversation_id: uuid.UUID,
    *,
    limit: int,
    before: tuple[datetime, uuid.UUID] | None,
) -> list[Row[Any]]:
    """Newest first (the caller shows them oldest first); keyset (created_at, id)."""
    return await repository.messages_page(session, conversation_id, limit=limit, before=before)


async def delivered(
    session: AsyncSession, conversation_id: uuid.UUID, mids: list[str], watermark: datetime | None
) -> int:
    """Our messages named by `mids`, and everything we sent up to the watermark, were delivered."""
    return await repository.apply_delivery(session, conversation_id, mids, watermark)


async def read(session: AsyncSession, conversation_id: uuid.UUID, watermark: datetime) -> int:
    """Everything we sent up to the watermark was read (and so delivered)."""
    return await repository.apply_read(session, conversation_id, watermark)


async def react(
    session: AsyncSession, page_id: str, mid: str, psid: str, reaction: str, emoji: str | None, at: datetime
) -> None:
    """The customer reacted to a message (a later reaction replaces an earlier one)."""
    await repository.react(session, page_id, mid, psid, reaction, emoji, at)


async def unreact(session: AsyncSession, page_id: str, mid: str, psid: str, at: datetime) -> None:
    await repository.unreact(session, page_id, mid, psid, at)


async def reactions_for(session: AsyncSession, page_id: str, mids: list[str]) -> dict[str, list[Row[Any]]]:
    """The reactions to these messages, by mid."""
    return await repository.reactions_for(session, page_id, mids)
