from __future__ import annotations

from crm_contracts import ReplyGenerated
from crm_servicekit.broker import subscribe
from crm_servicekit.runtime import Runtime

from . import outbound


def register(runtime: Runtime, sender: outbound.Sender) -> None:
    @subscribe(runtime.broker, runtime.topology, "replies", ReplyGenerated)
    async def on_reply_generated(event: ReplyGenerated) -> None:
        """Send the AI's reply to the customer through the Send API, in order, at most once."""
        async with runtime.uow() as uow:
            conversation_id = await outbound.accept_reply(uow, event)
        if conversation_id is not None:
            await sender.drain(conversation_id)
