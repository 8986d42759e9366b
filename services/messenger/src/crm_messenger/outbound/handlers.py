"""The sender's subscriber: the AI's reply (`reply.generated`) is recorded as pending parts and the
process's sender is woken to send them. The Send API is never called from here: a broker
connection lost mid-message cancels the handler, and must never cut a call to Meta (ADR 14)."""

from __future__ import annotations

import uuid

from crm_contracts import ReplyGenerated
from crm_messenger.outbound import service
from crm_messenger.outbound.sender import Sender
from crm_servicekit.broker import subscribe
from crm_servicekit.runtime import Runtime


def register(runtime: Runtime, sender: Sender) -> None:
    @subscribe(runtime.broker, runtime.topology, "replies", ReplyGenerated)
    async def on_reply_generated(event: ReplyGenerated) -> None:
        """Send the AI's reply to the customer through the Send API, in order, at most once."""
        conversation_id: uuid.UUID | None = None
        try:
            async with runtime.uow() as uow:
                conversation_id = await service.accept_reply(uow, event)
        finally:
            # Committed, even if cancelled while the session closes: the sender is woken all the same.
            if conversation_id is not None:
                sender.send_soon(conversation_id)
