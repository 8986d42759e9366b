"""The sender's subscriber: the AI's reply (`reply.generated`) is accepted and sent at once."""

from __future__ import annotations

from crm_contracts import ReplyGenerated
from crm_messenger.outbound import service
from crm_messenger.outbound.sender import Sender
from crm_servicekit.broker import subscribe
from crm_servicekit.runtime import Runtime


def register(runtime: Runtime, sender: Sender) -> None:
    @subscribe(runtime.broker, runtime.topology, "replies", ReplyGenerated)
    async def on_reply_generated(event: ReplyGenerated) -> None:
        """Send the AI's reply to the customer through the Send API, in order, at most once."""
        async with runtime.uow() as uow:
            conversation_id = await service.accept_reply(uow, event)
        if conversation_id is not None:
            await sender.drain(conversation_id)
