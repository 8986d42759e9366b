from __future__ import annotations

from crm_contracts import ReplyGenerated
from crm_servicekit.broker import subscribe
from crm_servicekit.runtime import Runtime

from . import service
from .meta.send_api import SendApiClient


def register(runtime: Runtime, client: SendApiClient) -> None:
    @subscribe(runtime.broker, runtime.topology, "replies", ReplyGenerated)
    async def on_reply_generated(event: ReplyGenerated) -> None:
        """Send the AI's reply to the customer through the Send API, at most once."""
        async with runtime.uow() as uow:
            message_id = await service.accept_reply(uow, event)
        if message_id is not None:
            await service.send_message(runtime.uow, client, message_id)
