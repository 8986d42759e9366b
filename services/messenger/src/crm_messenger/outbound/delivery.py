"""One ready part through the Send API, claimed the moment before Meta is asked, its outcome
always recorded.

A part arrives `pending`, read by the sender under the conversation's lock. The typing indicator
and any wait for Meta's usage limits come first, with the part still `pending`: a process that
stops (or dies) there leaves nothing to resolve, the part is simply sent by whoever sends the
conversation next. Then the part is claimed (`sending`, committed) and Meta is asked for it.
Meta's answer marks it `sent` with Meta's id (`message.sent`) or `failed` with the reason
(`message.send_failed`), and a failed part fails the later parts of its reply with it. Without
an answer the part is never left `sending`:
- no answer from Meta (a timeout, a dropped connection): it may have delivered, and Meta offers
  no idempotency key, so it fails as "delivery unknown" and is not repeated;
- cancelled while Meta was being asked (the process stopping past its grace): it fails as
  interrupted, delivery unknown, like no answer.
Meta's echo of a part (its metadata is `crm:<part id>`, `webhooks.ingest_events`) turns either
"delivery unknown" into `sent`, and resolves a part whose process died after Meta accepted it.
Recording an outcome is retried while the database cannot be reached (a restart, a failover):
Meta's answer is not thrown away because PostgreSQL blinked. The sender runs `deliver` as a task
of its own behind `asyncio.shield`, so nothing that cancels the sender's loop (let alone a broker
consumer) separates a call from its record. A part left `sending` by a process that died without
an echo is resolved by `outbound.sweeper`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

from crm_messenger.conversations import outgoing
from crm_messenger.meta.send_api import GraphError, SendApiClient
from crm_messenger.outbound.service import PART_METADATA, failed_event, sent_event
from crm_servicekit.logging import get_logger
from crm_servicekit.outbox import UnitOfWork
from crm_servicekit.unavailable import database_unavailable

log = get_logger(__name__)

# Written for staff: the part's status and reason are what they see in the conversation.
NO_ANSWER = "no answer from Meta ({error}); not resent to avoid a duplicate"
INTERRUPTED = (
    "interrupted: delivery unknown (sending stopped while Meta was being asked); "
    "not resent to avoid a duplicate"
)
# How long an outcome is retried while the database cannot be reached. Past it the part stays
# `sending` for Meta's echo or, failing that, the sweeper.
RECORD_RETRY_SECONDS = 60.0


async def deliver(uow_factory: Callable[[], UnitOfWork], client: SendApiClient, part: Any) -> None:
    """Claim one ready part, ask Meta to send it and record what came of it, whatever happens."""
    if part.typing:
        await client.typing_on(part.psid)  # best effort; never fails the part
    await client.throttle.wait()  # Meta's usage limits: waited out before the part is claimed
    claim = asyncio.ensure_future(_record(_claim, uow_factory, part))
    try:
        claimed = await asyncio.shield(claim)
    except asyncio.CancelledError:
        # Stopping before Meta was asked: the part goes back to `pending` for whoever sends next.
        if await asyncio.shield(claim):
            await asyncio.shield(_record(_release, uow_factory, part))
        raise
    if not claimed:
        return  # no longer pending: erased, or failed with an earlier part, meanwhile
    try:
        mid = await client.send_text(
            part.psid,
            part.text,
            messaging_type=part.messaging_type or "RESPONSE",
            tag=part.tag,
            quick_replies=part.quick_replies or None,
            metadata=f"{PART_METADATA}{part.id}",
        )
    except GraphError as exc:
        record = _record(_failure(exc.code, exc.subcode, exc.reason), uow_factory, part)
    except Exception as exc:
        record = _record(_failure(None, None, NO_ANSWER.format(error=type(exc).__name__)), uow_factory, part)
    except BaseException:
        # Cancelled (the process is stopping): record what is known, then let the cancellation go on.
        await asyncio.shield(_record(_failure(None, None, INTERRUPTED), uow_factory, part))
        raise
    else:
        record = _record(_sent(mid), uow_factory, part)
    # Shielded: a cancellation now cannot cut the record of an answer short.
    await asyncio.shield(record)


async def fail_part(uow: UnitOfWork, part: Any, code: int | None, subcode: int | None, reason: str) -> bool:
    """A `sending` part fails with the reason, and the later parts of its reply with it, each
    announced with `message.send_failed`. False, and nothing emitted, if the part was resolved
    already. The caller commits."""
    if not await outgoing.mark_failed(uow.session, part.id, code, subcode, reason):
        return False
    correlation = str(part.source_event_id or part.id)
    ids = (part.conversation_id, part.page_id, part.psid)
    uow.emit(failed_event(part.id, *ids, code, subcode, reason, correlation))
    earlier = f"{outgoing.EARLIER_PART_FAILED}{reason}"
    for later in await outgoing.fail_later_parts(uow.session, part.source_event_id, part.part, earlier):
        uow.emit(failed_event(later.id, *ids, None, None, earlier, correlation))
    log.warning("message failed", message_id=str(part.id), error_code=code, error_subcode=subcode)
    return True


Step = Callable[[UnitOfWork, Any], Awaitable[bool]]


async def _record(step: Step, uow_factory: Callable[[], UnitOfWork], part: Any) -> bool:
    """Run `step` in a unit of work and commit, tried again while the database cannot be reached.
    A commit whose answer was lost is harmless to repeat: every mark applies only once, and a
    repeated claim recognises its own."""
    retrying = AsyncRetrying(
        retry=retry_if_exception(lambda exc: database_unavailable(exc) is not None),
        wait=wait_exponential(multiplier=0.2, max=5),
        stop=stop_after_delay(RECORD_RETRY_SECONDS),
        reraise=True,
    )
    done = False
    async for attempt in retrying:
        with attempt:
            async with uow_factory() as uow:
                done = await step(uow, part)
                await uow.commit()
    return done


async def _claim(uow: UnitOfWork, part: Any) -> bool:
    return await outgoing.claim(uow.session, part.id, part.attempts)


async def _release(uow: UnitOfWork, part: Any) -> bool:
    released = await outgoing.release(uow.session, part.id)
    if released:
        log.info("message put back pending: Meta was not asked yet", message_id=str(part.id))
    return released


def _failure(code: int | None, subcode: int | None, reason: str) -> Step:
    async def step(uow: UnitOfWork, part: Any) -> bool:
        return await fail_part(uow, part, code, subcode, reason)

    return step


def _sent(mid: str) -> Step:
    async def step(uow: UnitOfWork, part: Any) -> bool:
        now = datetime.now(UTC)
        if not await outgoing.mark_sent(uow.session, part.id, mid, now):
            # Meta's echo recorded it first, or it was erased (PDPA) while Meta was being asked.
            log.info("message sent, already resolved; not announced again", message_id=str(part.id))
            return False
        uow.emit(sent_event(part, mid, now))
        log.info(
            "message sent", message_id=str(part.id), conversation_id=str(part.conversation_id), part=part.part
        )
        return True

    return step
