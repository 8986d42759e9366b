"""One claimed part through the Send API, its outcome always recorded.

A part arrives `sending` (claimed and committed by the sender, under the conversation's lock).
Meta's answer marks it `sent` with Meta's id (`message.sent`) or `failed` with the reason
(`message.send_failed`), and a failed part fails the later parts of its reply with it. Without
an answer the part is never left `sending`:
- no answer from Meta (a timeout, a dropped connection): it may have delivered, and Meta offers
  no idempotency key and no way to ask what it received, so it fails and is not repeated;
- cancelled before the text was asked for (the typing indicator, a wait for Meta's usage
  limits): it goes back to `pending`, for whoever sends the conversation next;
- cancelled while Meta was being asked (the process stopping past its grace): it fails as
  interrupted, delivery unknown, like no answer.
The sender runs `deliver` as a task of its own behind `asyncio.shield`, so nothing that cancels
the sender's loop (let alone a broker consumer) separates a call from its record. A part left
`sending` by a process that died is resolved by `outbound.sweeper`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from crm_contracts import MessageSent, MessageSentData
from crm_messenger.conversations import outgoing
from crm_messenger.meta.send_api import GraphError, SendApiClient
from crm_messenger.outbound.service import failed_event
from crm_servicekit.logging import get_logger
from crm_servicekit.outbox import UnitOfWork

log = get_logger(__name__)

# Written for staff: the part's status and reason are what they see in the conversation.
NO_ANSWER = "no answer from Meta ({error}); not resent to avoid a duplicate"
INTERRUPTED = (
    "interrupted: delivery unknown (sending stopped while Meta was being asked); "
    "not resent to avoid a duplicate"
)


async def deliver(uow_factory: Callable[[], UnitOfWork], client: SendApiClient, part: Any) -> None:
    """Ask Meta to send one claimed part and record what came of it, whatever happens."""
    asked = False
    try:
        if part.typing:
            await client.typing_on(part.psid)
        await client.throttle.wait()  # Meta's usage limits: waited out before the part is asked for
        asked = True
        mid = await client.send_text(
            part.psid,
            part.text,
            messaging_type=part.messaging_type or "RESPONSE",
            tag=part.tag,
            quick_replies=part.quick_replies or None,
            metadata=f"crm:{part.id}",
        )
    except GraphError as exc:
        record = _record_failure(uow_factory, part, exc.code, exc.subcode, exc.reason)
    except Exception as exc:
        record = _record_failure(uow_factory, part, None, None, NO_ANSWER.format(error=type(exc).__name__))
    except BaseException:
        # Cancelled (the process is stopping): record what is known, then let the cancellation go on.
        await asyncio.shield(
            _record_failure(uow_factory, part, None, None, INTERRUPTED)
            if asked
            else _release(uow_factory, part)
        )
        raise
    else:
        record = _record_sent(uow_factory, part, mid)
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
    earlier = f"an earlier part failed: {reason}"
    for later in await outgoing.fail_later_parts(uow.session, part.source_event_id, part.part, earlier):
        uow.emit(failed_event(later.id, *ids, None, None, earlier, correlation))
    log.warning("message failed", message_id=str(part.id), error_code=code, error_subcode=subcode)
    return True


async def _record_failure(
    uow_factory: Callable[[], UnitOfWork], part: Any, code: int | None, subcode: int | None, reason: str
) -> None:
    async with uow_factory() as uow:
        await fail_part(uow, part, code, subcode, reason)
        await uow.commit()


async def _release(uow_factory: Callable[[], UnitOfWork], part: Any) -> None:
    async with uow_factory() as uow:
        await outgoing.release(uow.session, part.id)
        await uow.commit()
    log.info("message put back pending: Meta was not asked yet", message_id=str(part.id))


async def _record_sent(uow_factory: Callable[[], UnitOfWork], part: Any, mid: str) -> None:
    now = datetime.now(UTC)
    async with uow_factory() as uow:
        if not await outgoing.mark_sent(uow.session, part.id, mid, now):
            # Erased (PDPA) while Meta was being asked: nothing is announced about it.
            log.warning("message sent but no longer sending; not announced", message_id=str(part.id))
            return
        uow.emit(
            MessageSent(
                correlation_id=str(part.source_event_id or part.id),
                data=MessageSentData(
                    message_id=part.id,
                    conversation_id=part.conversation_id,
                    page_id=part.page_id,
                    psid=part.psid,
                    meta_message_id=mid,
                    text=part.text,
                    sent_by=part.sent_by,
                    staff_id=part.staff_id,
                    messaging_type=part.messaging_type or "RESPONSE",
                    tag=part.tag,
                    in_reply_to_event_id=part.source_event_id if part.sent_by == "ai" else None,
                    sent_at=now,
                ),
            )
        )
        await uow.commit()
    log.info(
        "message sent", message_id=str(part.id), conversation_id=str(part.conversation_id), part=part.part
    )
