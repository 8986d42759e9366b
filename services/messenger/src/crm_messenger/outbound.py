"""Replies out: accepted under Messenger's rules, then sent in order, each part at most once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from crm_contracts import (
    MessageSendFailed,
    MessageSendFailedData,
    MessageSent,
    MessageSentData,
    ReplyGenerated,
)
from crm_servicekit.logging import get_logger
from crm_servicekit.outbox import UnitOfWork

from . import repository
from .conversation_events import mode_changed
from .meta.send_api import GraphError, SendApiClient
from .rules import quick_reply_options, reply_window, split_text

log = get_logger(__name__)

CONSUMER_REPLIES = "messenger.replies"
# Staff replies are keyed by their Idempotency-Key within a conversation.
STAFF_NAMESPACE = uuid.UUID("6f1b1c1e-5d0a-4a53-9d1e-2f6f3c8b7a10")


class ConversationNotFound(LookupError):
    pass


class WindowClosed(Exception):
    """Messenger's rules allow no reply now; the message says why."""


def _parts(text: str, base: dict[str, Any], quick_replies: list[str]) -> list[dict[str, Any]]:
    chunks = split_text(text)
    return [
        {
            **base,
            "part": i,
            "text": chunk,
            "quick_replies": quick_reply_options(quick_replies) if i == len(chunks) - 1 else [],
            "typing": False,
        }
        for i, chunk in enumerate(chunks)
    ]


async def accept_reply(
    uow: UnitOfWork, event: ReplyGenerated, *, now: datetime | None = None
) -> uuid.UUID | None:
    """Record the AI's reply as pending parts. Returns the conversation to send for, if any."""
    if not await uow.claim(event.event_id, CONSUMER_REPLIES):
        return None
    d = event.data
    now = now or datetime.now(UTC)
    conversation = await repository.get_conversation(uow.session, d.conversation_id, for_update=True)
    if conversation is None:
        # The conversation is written before its message is announced, so it can only be gone
        # because the customer was erased (PDPA) while the AI was answering: the reply is dropped,
        # not retried and parked with the text in it.
        log.info("ai reply dropped: the conversation was erased", conversation_id=str(d.conversation_id))
        await uow.commit()
        return None
    answered_at = await repository.inbound_sent_at(uow.session, d.page_id, d.in_reply_to_mid)
    staff_since = (
        conversation.last_staff_activity_at is not None
        and answered_at is not None
        and conversation.last_staff_activity_at >= answered_at
    )
    if conversation.mode == "human" or staff_since:
        # Staff handle the conversation, or have answered since this message: the AI stays quiet.
        log.info("ai reply suppressed: staff handle this conversation", conversation_id=str(conversation.id))
        await uow.commit()
        return None
    window = reply_window(conversation.last_customer_message_at, now, sender="ai")
    base = {
        "conversation_id": conversation.id,
        "page_id": d.page_id,
        "sent_by": "ai",
        "source_event_id": event.event_id,
        "messaging_type": "RESPONSE",
        "status": "pending" if window.can_reply else "failed",
        "error_reason": window.refusal,
    }
    rows = _parts(d.text, base, d.quick_replies)
    rows[0]["typing"] = window.can_reply
    ids = await repository.insert_outbound(uow.session, rows)
    if not window.can_reply:
        for message_id in ids:
            uow.emit(
                _failed_event(
                    message_id,
                    conversation.id,
                    conversation.page_id,
                    conversation.psid,
                    None,
                    None,
                    window.refusal or "",
                    str(event.event_id),
                )
            )
    if d.handover:
        reason = d.handover_reason or "ai_handover"
        await repository.set_mode(
            uow.session, conversation.id, mode="human", needs_human=True, reason=reason, at=now
        )
        uow.emit(mode_changed(conversation, "human", True, reason, event.correlation_id, now))
    await uow.commit()
    return conversation.id if window.can_reply else None


async def staff_reply(
    uow: UnitOfWork,
    conversation_id: uuid.UUID,
    *,
    staff_id: uuid.UUID,
    text: str,
    idempotency_key: str | None,
    now: datetime | None = None,
) -> uuid.UUID:
    """A staff member answers: inside 24 hours as a response, inside 7 days with the
    `HUMAN_AGENT` tag, never later. The AI stays quiet from now on. Returns the first part's id."""
    now = now or datetime.now(UTC)
    conversation = await repository.get_conversation(uow.session, conversation_id, for_update=True)
    if conversation is None:
        raise ConversationNotFound(str(conversation_id))
    source = (
        uuid.uuid5(STAFF_NAMESPACE, f"{conversation_id}:{idempotency_key}")
        if idempotency_key
        else uuid.uuid4()
    )
    existing = await repository.outbound_by_source(uow.session, source)
    if existing:
        first: uuid.UUID = existing[0].id
        return first  # the same request again: nothing new is sent
    window = reply_window(conversation.last_customer_message_at, now, sender="staff")
    if not window.can_reply:
        raise WindowClosed(f"This reply cannot be sent: {window.refusal}.")
    base = {
        "conversation_id": conversation.id,
        "page_id": conversation.page_id,
        "sent_by": "staff",
        "staff_id": staff_id,
        "source_event_id": source,
        "messaging_type": window.messaging_type,
        "tag": window.tag,
        "status": "pending",
    }
    ids = await repository.insert_outbound(uow.session, _parts(text, base, []))
    await repository.note_staff_activity(uow.session, conversation.id, now)
    if conversation.mode != "human":
        await repository.set_mode(
            uow.session, conversation.id, mode="human", needs_human=False, reason="staff_replied", at=now
        )
        uow.emit(mode_changed(conversation, "human", False, "staff_replied", str(source), now, staff_id))
    await uow.commit()
    return ids[0]


def _failed_event(
    message_id: uuid.UUID,
    conversation_id: uuid.UUID,
    page_id: str,
    psid: str,
    code: int | None,
    subcode: int | None,
    reason: str,
    correlation: str,
) -> MessageSendFailed:
    return MessageSendFailed(
        correlation_id=correlation,
        data=MessageSendFailedData(
            message_id=message_id,
            conversation_id=conversation_id,
            page_id=page_id,
            psid=psid,
            error_code=code,
            error_subcode=subcode,
            reason=reason,
            failed_at=datetime.now(UTC),
        ),
    )


class Sender:
    """Sends a conversation's pending parts in order. One sender per conversation at a time,
    across replicas (a PostgreSQL advisory lock); whoever holds it drains every pending part."""

    def __init__(
        self, engine: AsyncEngine, uow_factory: Callable[[], UnitOfWork], client: SendApiClient
    ) -> None:
        self.engine = engine
        self.uow = uow_factory
        self.client = client
        self._tasks: set[asyncio.Task[None]] = set()

    def send_soon(self, conversation_id: uuid.UUID) -> None:
        """Send in the background (an API request must not wait for Meta)."""
        task = asyncio.create_task(self.drain(conversation_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=10)

    async def drain(self, conversation_id: uuid.UUID) -> None:
        async with self.engine.connect() as lock:
            while True:
                if not await repository.try_lock_conversation(lock, conversation_id):
                    return  # the holder sends what we committed before trying
                try:
                    while await self._send_next(conversation_id):
                        pass
                finally:
                    await repository.unlock_conversation(lock, conversation_id)
                    await lock.commit()
                # A part committed while we held the lock, whose writer could not get it.
                async with self.uow() as uow:
                    if not await repository.has_pending(uow.session, conversation_id):
                        return

    async def _send_next(self, conversation_id: uuid.UUID) -> bool:
        async with self.uow() as uow:
            part = await repository.claim_next_pending(uow.session, conversation_id)
            await uow.commit()
        if part is None:
            return False
        correlation = str(part.source_event_id or part.id)
        if part.typing:
            await self.client.typing_on(part.psid)
        try:
            mid = await self.client.send_text(
                part.psid,
                part.text,
                messaging_type=part.messaging_type or "RESPONSE",
                tag=part.tag,
                quick_replies=part.quick_replies or None,
                metadata=f"crm:{part.id}",
            )
        except GraphError as exc:
            await self._failed(part, exc.code, exc.subcode, exc.reason, correlation)
            return True
        except Exception as exc:
            # No answer from Meta: it may have delivered, so the part is not repeated.
            reason = f"no answer from Meta ({type(exc).__name__}); not resent to avoid a duplicate"
            await self._failed(part, None, None, reason, correlation)
            return True
        now = datetime.now(UTC)
        async with self.uow() as uow:
            await repository.mark_sent(uow.session, part.id, mid, now)
            uow.emit(
                MessageSent(
                    correlation_id=correlation,
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
        return True

    async def _failed(
        self, part: Any, code: int | None, subcode: int | None, reason: str, correlation: str
    ) -> None:
        async with self.uow() as uow:
            await repository.mark_failed(uow.session, part.id, code, subcode, reason)
            ids = (part.conversation_id, part.page_id, part.psid)
            uow.emit(_failed_event(part.id, ids[0], ids[1], ids[2], code, subcode, reason, correlation))
            later = await repository.fail_later_parts(
                uow.session, part.source_event_id, part.part, f"an earlier part failed: {reason}"
            )
            for row in later:
                uow.emit(
                    _failed_event(
                        row.id,
                        ids[0],
                        ids[1],
                        ids[2],
                        None,
                        None,
                        f"an earlier part failed: {reason}",
                        correlation,
                    )
                )
            await uow.commit()
        log.warning("message failed", message_id=str(part.id), error_code=code, error_subcode=subcode)


async def send_left_pending(sender: Sender, older_than: timedelta) -> int:
    """Conversations with parts left pending by a process that stopped: send them now."""
    async with sender.uow() as uow:
        conversation_ids = await repository.conversations_with_stale_pending(uow.session, older_than)
    for conversation_id in conversation_ids:
        await sender.drain(conversation_id)
    return len(conversation_ids)
