from __future__ import annotations

from crm_contracts import CustomerErasureRequested, ReplyGenerated
from crm_servicekit.broker import subscribe
from crm_servicekit.runtime import Runtime

from . import outbound
from .pdpa import service as pdpa


def register(runtime: Runtime, sender: outbound.Sender) -> None:
    @subscribe(runtime.broker, runtime.topology, "replies", ReplyGenerated)
    async def on_reply_generated(event: ReplyGenerated) -> None:
        """Send the AI's reply to the customer through the Send API, in order, at most once."""
        async with runtime.uow() as uow:
            conversation_id = await outbound.accept_reply(uow, event)
        if conversation_id is not None:
            await sender.drain(conversation_id)

    erasure_queue = runtime.topology.queue_name("erasure")

    @subscribe(runtime.broker, runtime.topology, "erasure", CustomerErasureRequested, prefetch=1)
    async def on_erasure_requested(event: CustomerErasureRequested) -> None:
        """PDPA erasure: delete the customer's conversations and messages, report once."""
        # Every parking queue but this one: a parked erasure request is replayed, never dropped.
        parked = [queue for queue in runtime.topology.policies if queue != erasure_queue]
        async with runtime.uow() as uow:
            await pdpa.erase(uow, event, rabbitmq_url=runtime.settings.rabbitmq_url, parked_queues=parked)
