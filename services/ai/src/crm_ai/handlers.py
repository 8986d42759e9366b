from __future__ import annotations

from crm_contracts import CustomerErasureRequested, MessageReceived
from crm_servicekit.broker import subscribe
from crm_servicekit.runtime import Runtime

from . import pdpa
from .replies import service
from .replies.responder import Responder


def register(runtime: Runtime, responder: Responder) -> None:
    # A model call takes seconds: a small prefetch keeps messages for other replicas.
    @subscribe(runtime.broker, runtime.topology, "messages", MessageReceived, prefetch=4)
    async def on_message_received(event: MessageReceived) -> None:
        """Compose a reply to a customer's message in their language."""
        await service.answer(runtime.uow, responder, event)

    erasure_queue = runtime.topology.queue_name("erasure")

    @subscribe(runtime.broker, runtime.topology, "erasure", CustomerErasureRequested, prefetch=1)
    async def on_erasure_requested(event: CustomerErasureRequested) -> None:
        """PDPA erasure: delete the replies composed for the customer, report once."""
        # Every parking queue but this one: a parked erasure request is replayed, never dropped.
        parked = [queue for queue in runtime.topology.policies if queue != erasure_queue]
        async with runtime.uow() as uow:
            await pdpa.erase(uow, event, rabbitmq_url=runtime.settings.rabbitmq_url, parked_queues=parked)
