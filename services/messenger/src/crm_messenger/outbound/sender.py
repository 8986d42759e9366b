"""Sending through the Send API: a conversation's pending parts leave in order, each at most once.

One sender per conversation at a time, across replicas (a PostgreSQL advisory lock, in
`outbound.repository`); whoever holds it drains every pending part. A part is claimed
(pending -> sending) and committed before Meta is called, so a crash never sends it twice; Meta's
answer marks it sent (`message.sent`) or failed with the reason (`message.send_failed`), and a
failed part fails the later parts of the same reply. No answer from Meta is a failure too: it may
have delivered, so the part is not repeated. `send_left_pending` picks up parts a stopped process
left pending.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from crm_contracts import MessageSent, MessageSentData
from crm_messenger.conversations import outgoing
from crm_messenger.meta.send_api import GraphError, SendApiClient
from crm_messenger.outbound import repository
from crm_messenger.outbound.service import failed_event
from crm_servicekit.logging import get_logger
from crm_servicekit.outbox import UnitOfWork

log = get_logger(__name__)


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
                    if not await outgoing.has_pending(uow.session, conversation_id):
                        return

    async def _send_next(self, conversation_id: uuid.UUID) -> bool:
        async with self.uow() as uow:
            part = await outgoing.claim_next(uow.session, conversation_id)
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
            await outgoing.mark_sent(uow.session, part.id, mid, now)
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
            await outgoing.mark_failed(uow.session, part.id, code, subcode, reason)
            ids = (part.conversation_id, part.page_id, part.psid)
            uow.emit(failed_event(part.id, ids[0], ids[1], ids[2], code, subcode, reason, correlation))
            later = await outgoing.fail_later_parts(
                uow.session, part.source_event_id, part.part, f"an earlier part failed: {reason}"
            )
            for row in later:
                uow.emit(
                    failed_event(
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
        conversation_ids = await outgoing.conversations_with_stale_pending(uow.session, older_than)
    for conversation_id in conversation_ids:
        await sender.drain(conversation_id)
    return len(conversation_ids)
