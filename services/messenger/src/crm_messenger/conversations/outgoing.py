"""A conversation's outgoing parts, for the sender (`crm_messenger.outbound`): written pending once
per (cause, part), claimed one at a time in the order they were written (pending -> sending, so
only one process ever sends a part), then marked sent or failed. The SQL is in
`outgoing_repository`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_messenger.conversations import outgoing_repository as repository


async def add_parts(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[uuid.UUID]:
    """The parts of one outgoing message, once per (cause, part). Returns the new ids."""
    return await repository.insert_outbound(session, rows)


async def parts_of(session: AsyncSession, source_event_id: uuid.UUID) -> list[Row[Any]]:
    """The parts written for this cause (an event, or a staff request's idempotency key)."""
    return await repository.outbound_by_source(session, source_event_id)


async def claim_next(session: AsyncSession, conversation_id: uuid.UUID) -> Row[Any] | None:
    """The conversation's oldest pending part, now `sending`, with the customer's PSID."""
    return await repository.claim_next_pending(session, conversation_id)


async def has_pending(session: AsyncSession, conversation_id: uuid.UUID) -> bool:
    return await repository.has_pending(session, conversation_id)


async def mark_sent(session: AsyncSession, message_id: uuid.UUID, mid: str, at: datetime) -> None:
    await repository.mark_sent(session, message_id, mid, at)


async def mark_failed(
    session: AsyncSession, message_id: uuid.UUID, code: int | None, subcode: int | None, reason: str
) -> None:
    await repository.mark_failed(session, message_id, code, subcode, reason)


async def fail_later_parts(
    session: AsyncSession, source_event_id: uuid.UUID, after_part: int, reason: str
) -> list[Row[Any]]:
    """The pending parts after `after_part` of the same cause fail too; returns them."""
    return await repository.fail_later_parts(session, source_event_id, after_part, reason)


async def conversations_with_stale_pending(session: AsyncSession, older_than: timedelta) -> list[uuid.UUID]:
    """Conversations with parts pending for longer than `older_than` (their process stopped)."""
    return await repository.conversations_with_stale_pending(session, older_than)
