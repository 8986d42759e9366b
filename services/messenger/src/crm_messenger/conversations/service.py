"""The conversations: one per (Page, PSID), opened by the customer's first message, and who
answers them (handover).

- The intake finds or opens conversations (`ensure`, `get_or_create`, `find`), counts the
  customer's new messages (`note_customer_messages`) and, before the AI answers, hands a
  conversation back to the AI when staff have been idle long enough (`hand_back_if_idle`).
- Who answers changes in one place, `change_mode`, which stores the mode and announces it
  (`conversation.mode_changed`): staff replying or writing in the Page inbox take over, the AI
  asks for a person, staff hand back (`hand_back`). A customer asking for a person only flags
  the conversation (`flag_for_human`); staff decide.
- Staff act only as `rules.staff_refusal` allows (ADR 10), checked on the locked row: `assign`,
  `hand_back` and `outbound.service.staff_reply` raise `NotYours` (403) otherwise.
- Staff list the inbox (`page`), assign, and mark read; `profiles` fetches the customer's public
  profile onto the conversation (`profiles_due`, `set_profile`, `profile_failed`).

Nothing here commits: the caller's unit of work does.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_messenger.conversations import repository
from crm_messenger.conversations.events import mode_changed
from crm_messenger.conversations.rules import Actor, StaffAction, is_idle, staff_refusal
from crm_servicekit.outbox import UnitOfWork

Key = tuple[str, str]  # (page_id, psid)


async def get(
    session: AsyncSession, conversation_id: uuid.UUID, *, for_update: bool = False
) -> Row[Any] | None:
    return await repository.get_conversation(session, conversation_id, for_update=for_update)


async def find(session: AsyncSession, page_id: str, psid: str) -> Row[Any] | None:
    return await repository.find_conversation(session, page_id, psid)


async def get_or_create(session: AsyncSession, page_id: str, psid: str) -> tuple[Row[Any], bool]:
    """The conversation for (page, PSID) and whether this call created it."""
    return await repository.get_or_create_conversation(session, page_id, psid)


async def ensure(session: AsyncSession, keys: Sequence[Key]) -> dict[Key, tuple[Row[Any], bool]]:
    """The conversations for many (page, PSID) at once, opening the missing ones; with whether
    this call opened each."""
    return await repository.ensure_conversations(session, keys)


async def page(
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
    return await repository.conversations_page(
        session,
        limit=limit,
        after=after,
        mode=mode,
        assigned=assigned,
        unread=unread,
        needs_human=needs_human,
    )


class NotYours(PermissionError):
    """The staff member may not act on this conversation; the message says why, for staff."""


def authorize(row: Any, actor: Actor, action: StaffAction, assignee: uuid.UUID | None = None) -> None:
    """Raise `NotYours` unless `actor` may do `action` on the conversation `row` (locked)."""
    refusal = staff_refusal(row.assigned_staff_id, actor, action, assignee)
    if refusal is not None:
        raise NotYours(refusal)


async def assign(
    session: AsyncSession, conversation_id: uuid.UUID, staff_id: uuid.UUID | None, actor: Actor
) -> Row[Any] | None:
    """Assign (or unassign, None) as `actor` may; the conversation before, None if there is none."""
    row = await repository.get_conversation(session, conversation_id, for_update=True)
    if row is None:
        return None
    authorize(row, actor, "assign", staff_id)
    await repository.assign(session, conversation_id, staff_id)
    return row


async def take_if_unassigned(session: AsyncSession, row: Any, actor: Actor) -> None:
    """The first staff member to answer an unassigned conversation (locked) has it from now on."""
    if row.assigned_staff_id is None:
        await repository.assign(session, row.id, actor.staff_id)


async def mark_read(session: AsyncSession, conversation_id: uuid.UUID) -> None:
    await repository.mark_conversation_read(session, conversation_id)


async def note_customer_messages(
    session: AsyncSession, updates: Sequence[tuple[uuid.UUID, datetime, int]]
) -> None:
    """(conversation, newest message time, how many new) for many conversations at once."""
    await repository.note_customer_messages(session, updates)


async def note_staff_activity(session: AsyncSession, conversation_id: uuid.UUID, at: datetime) -> None:
    """Staff (or the Page inbox) wrote: the conversation is read, and the idle clock restarts."""
    await repository.note_staff_activity(session, conversation_id, at)


# --- handover -----------------------------------------------------------------------------------


async def change_mode(
    uow: UnitOfWork,
    conversation: Any,
    mode: Literal["ai", "human"],
    needs_human: bool,
    reason: str,
    correlation: str,
    at: datetime,
    staff_id: uuid.UUID | None = None,
) -> None:
    """Who answers the conversation changes: stored, and announced after commit."""
    await repository.set_mode(
        uow.session, conversation.id, mode=mode, needs_human=needs_human, reason=reason, at=at
    )
    uow.emit(mode_changed(conversation, mode, needs_human, reason, correlation, at, staff_id))


async def flag_for_human(session: AsyncSession, conversation_id: uuid.UUID, reason: str) -> None:
    """Someone should look at the conversation; the AI still answers until staff take over."""
    await repository.flag_for_human(session, conversation_id, reason)


async def hand_back_if_idle(uow: UnitOfWork, conversation: Any, correlation: str, idle: timedelta) -> str:
    """Staff idle for long enough hand the conversation back to the AI before it answers.
    Returns the mode the conversation is in now."""
    now = datetime.now(UTC)
    if conversation.mode == "human" and is_idle(
        conversation.human_since, conversation.last_staff_activity_at, now, idle
    ):
        await change_mode(uow, conversation, "ai", conversation.needs_human, "idle_timeout", correlation, now)
        return "ai"
    return str(conversation.mode)


async def hand_back(
    uow: UnitOfWork, conversation_id: uuid.UUID, actor: Actor, at: datetime
) -> Row[Any] | None:
    """Staff hand the conversation back to the AI (nothing changes if the AI has it already and
    nobody is needed), as `actor` may. None if there is no such conversation."""
    row = await repository.get_conversation(uow.session, conversation_id, for_update=True)
    if row is None:
        return None
    authorize(row, actor, "hand_back")
    staff_id = actor.staff_id
    if row.mode != "ai" or row.needs_human:
        await repository.set_mode(uow.session, row.id, mode="ai", needs_human=False, reason=None, at=at)
        uow.emit(mode_changed(row, "ai", False, "handed_back", f"handback:{row.id}", at, staff_id))
    return row


# --- the customer's profile ---------------------------------------------------------------------


async def profiles_due(session: AsyncSession, *, refresh_after: timedelta, limit: int) -> list[Row[Any]]:
    """Conversations whose profile was never fetched, or is old and the customer wrote since;
    locked (skipping those another process holds) until the transaction ends."""
    return await repository.profiles_due(session, refresh_after=refresh_after, limit=limit)


async def set_profile(
    session: AsyncSession, conversation_id: uuid.UUID, profile: dict[str, str | None], at: datetime
) -> None:
    await repository.set_profile(session, conversation_id, profile, at)


async def profile_failed(session: AsyncSession, conversation_id: uuid.UUID, retry_at: datetime) -> None:
    """One more failed attempt; the next one not before `retry_at`."""
    await repository.profile_failed(session, conversation_id, retry_at)
