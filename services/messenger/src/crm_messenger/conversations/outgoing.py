"""A conversation's outgoing parts, for the sender (`crm_messenger.outbound`): written pending once
per (cause, part), claimed one at a time in the order they were written (pending -> sending, so
only one process ever sends a part), then marked sent or failed, or put back pending if Meta was
never asked. A mark applies only to a part still `sending` and says whether it did, so a part is
resolved once even when a sweeper and its sender race. The SQL is in `outgoing_repository`."""

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


async def next_ready(session: AsyncSession, conversation_id: uuid.UUID) -> Row[Any] | None:
    """The conversation's next part to send, with the customer's PSID; none while another of
    its parts is `sending`, so no part overtakes one not yet resolved. Not claimed yet."""
    return await repository.next_ready(session, conversation_id)


async def claim(session: AsyncSession, message_id: uuid.UUID, attempts: int) -> bool:
    """pending -> sending, the moment before Meta is asked; False if no longer pending. Safe to
    repeat: `attempts` (as read) recognises a claim whose commit's answer was lost."""
    return await repository.claim(session, message_id, attempts)


async def confirm_by_echo(
    session: AsyncSession, message_id: uuid.UUID, page_id: str, mid: str, at: datetime
) -> Row[Any] | None:
    """Meta's echo of our part proves delivery: `sending` or failed as "delivery unknown" ->
    `sent`. Returns the part if this changed it, None if it was known sent already."""
    return await repository.confirm_by_echo(session, message_id, page_id, mid, at)


async def has_pending(session: AsyncSession, conversation_id: uuid.UUID) -> bool:
    """Is a part ready to be claimed (pending, and none of the conversation's parts `sending`)?"""
    return await repository.has_pending(session, conversation_id)


async def mark_sent(session: AsyncSession, message_id: uuid.UUID, mid: str, at: datetime) -> bool:
    """sending -> sent with Meta's id; False if the part was no longer `sending`."""
    return await repository.mark_sent(session, message_id, mid, at)


async def mark_failed(
    session: AsyncSession, message_id: uuid.UUID, code: int | None, subcode: int | None, reason: str
) -> bool:
    """sending -> failed with the reason; False if the part was no longer `sending`."""
    return await repository.mark_failed(session, message_id, code, subcode, reason)


async def release(session: AsyncSession, message_id: uuid.UUID) -> bool:
    """sending -> pending, for a part Meta was never asked to send (or that the sweeper found
    undelivered); False if no longer `sending`."""
    return await repository.release(session, message_id)


# The reason of a part failed with an earlier one; a part whose delivery turns out known revives them.
EARLIER_PART_FAILED = "an earlier part failed: "


async def revive_later_parts(session: AsyncSession, source_event_id: uuid.UUID, after_part: int) -> int:
    """The later parts of a reply that failed only with this one go back to `pending`."""
    return await repository.revive_later_parts(session, source_event_id, after_part, EARLIER_PART_FAILED)


async def fail_later_parts(
    session: AsyncSession, source_event_id: uuid.UUID, after_part: int, reason: str
) -> list[Row[Any]]:
    """The pending parts after `after_part` of the same cause fail too; returns them."""
    return await repository.fail_later_parts(session, source_event_id, after_part, reason)


async def conversations_with_stale_pending(session: AsyncSession, older_than: timedelta) -> list[uuid.UUID]:
    """Conversations with parts pending for longer than `older_than` (their process stopped)."""
    return await repository.conversations_with_stale_pending(session, older_than)


async def conversations_with_stuck_sending(session: AsyncSession, older_than: timedelta) -> list[uuid.UUID]:
    """Conversations with a part claimed longer ago than `older_than` and still `sending`."""
    return await repository.conversations_with_stuck_sending(session, older_than)


async def stuck_sending(
    session: AsyncSession, conversation_id: uuid.UUID, older_than: timedelta, fail_after: timedelta
) -> list[Row[Any]]:
    """The conversation's parts still `sending` since longer ago than `older_than`, with the PSID,
    `overdue` (past `fail_after`) and `echoes_passed` (Meta echoed a later part of ours)."""
    return await repository.stuck_sending(session, conversation_id, older_than, fail_after)


async def mark_echoed(session: AsyncSession, message_id: uuid.UUID, page_id: str) -> bool:
    """Meta echoed a part recorded as sent; False if noted already."""
    return await repository.mark_echoed(session, message_id, page_id)
