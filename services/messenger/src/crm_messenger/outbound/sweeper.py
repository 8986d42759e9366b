"""The sweep every replica runs, so that no part stays `pending` or `sending` because a process
stopped (ADR 14).

- A part `sending` in a conversation no live sender holds (its advisory lock is free) was claimed
  by a process that stopped while Meta was being asked. Meta has no idempotency key, but it echoes
  what the Page sends (`message_echoes`), and an echo confirms the part `sent` whenever it comes
  (`webhooks.ingest_events`). So, past `RESEND_AFTER`: if Meta has echoed a part of ours sent after
  this one was claimed and not this one, Meta never delivered it, and it goes back to `pending` to
  be sent again (once: a part already sent twice is not sent a third time). Past `STUCK_AFTER`
  with no such proof (echoes not subscribed, or nothing sent since) it fails as interrupted,
  delivery unknown (`message.send_failed`), and the later parts of its reply fail with it, as when
  Meta does not answer. One transaction per conversation, holding the conversation's lock, and a
  mark that applies only to a part still `sending`: replicas sweeping at once resolve each part once.
- Parts `pending` since longer than the grace wake this process's sender: whoever wrote them
  stopped before it could send them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from crm_messenger.conversations import outgoing
from crm_messenger.outbound import delivery, repository
from crm_messenger.outbound.sender import Sender
from crm_servicekit.logging import get_logger
from crm_servicekit.outbox import UnitOfWork

log = get_logger(__name__)

# How long a part stays `sending` before a sweep may resolve it. A live sender is never overruled,
# however long its call takes (it holds the conversation's lock, which the sweep respects); this
# keeps the sweep clear of a part claimed a moment ago, and of a sender whose lock's connection
# broke mid-call. A module constant rather than a setting: nothing to tune per deployment.
STUCK_AFTER = timedelta(minutes=2)
# Longer than a live sender's call to Meta takes (its 20 s timeout), and than Meta takes to echo.
RESEND_AFTER = timedelta(seconds=45)
# A part is asked of Meta at most this many times.
MAX_SENDS = 2


async def sweep(sender: Sender, pending_after: timedelta, stuck_after: timedelta = STUCK_AFTER) -> int:
    """Resolve interrupted sends, then wake the sender for conversations with parts left pending.
    Returns how many parts were resolved plus how many conversations were woken."""
    resolved = await resolve_interrupted(sender.uow, stuck_after)
    async with sender.uow() as uow:
        due = await outgoing.conversations_with_stale_pending(uow.session, pending_after)
    for conversation_id in {*resolved, *due}:
        sender.send_soon(conversation_id)  # an interrupted reply does not hold up the next one
    return sum(resolved.values()) + len(due)


async def resolve_interrupted(
    uow_factory: Callable[[], UnitOfWork],
    fail_after: timedelta = STUCK_AFTER,
    resend_after: timedelta = RESEND_AFTER,
) -> dict[uuid.UUID, int]:
    """Resend (back to `pending`) or fail the parts a stopped process left `sending`; returns how
    many, by conversation."""
    async with uow_factory() as uow:
        conversation_ids = await outgoing.conversations_with_stuck_sending(uow.session, resend_after)
    resolved: dict[uuid.UUID, int] = {}
    for conversation_id in conversation_ids:
        async with uow_factory() as uow:
            if not await repository.try_lock_conversation_until_commit(uow.session, conversation_id):
                continue  # a live sender holds it, and records its own outcome
            count = 0
            for part in await outgoing.stuck_sending(uow.session, conversation_id, resend_after, fail_after):
                if part.echoes_passed and part.attempts < MAX_SENDS:
                    count += await outgoing.release(uow.session, part.id)
                    log.warning("message not echoed by Meta; sending it again", message_id=str(part.id))
                elif part.overdue:
                    count += await delivery.fail_part(uow, part, None, None, delivery.INTERRUPTED)
            await uow.commit()
        if count:
            resolved[conversation_id] = count
    return resolved
