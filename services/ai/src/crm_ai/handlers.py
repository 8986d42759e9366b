from __future__ import annotations

from crm_contracts import CustomerErasureRequested, MessageReceived, MessageSent, ProductChanged
from crm_servicekit.broker import subscribe
from crm_servicekit.runtime import Runtime

from . import pdpa
from .catalog import service as catalog
from .memory import service as memory
from .replies import service
from .replies.grounding import Retriever
from .replies.responder import Responder


def register(runtime: Runtime, responder: Responder, retriever: Retriever) -> None:
    # A model call takes seconds: a small prefetch keeps messages for other replicas.
    @subscribe(runtime.broker, runtime.topology, "messages", MessageReceived, prefetch=4)
    async def on_message_received(event: MessageReceived) -> None:
        """Remember the customer's words; reply in their language (or draft for staff in human mode)."""
        await service.answer(runtime.uow, responder, event, retriever)

    @subscribe(runtime.broker, runtime.topology, "sent", MessageSent, prefetch=16)
    async def on_message_sent(event: MessageSent) -> None:
        """Remember what the customer was sent (by the AI or by staff) for the next replies."""
        async with runtime.uow() as uow:
            await memory.record_sent(uow, event)

    @subscribe(runtime.broker, runtime.topology, "catalog", ProductChanged, prefetch=16)
    async def on_product_changed(event: ProductChanged) -> None:
        """Keep the ai's copy of the catalog, so replies quote current prices."""
        async with runtime.uow() as uow:
            await catalog.apply(uow, event)

    erasure_queue = runtime.topology.queue_name("erasure")

    @subscribe(runtime.broker, runtime.topology, "erasure", CustomerErasureRequested, prefetch=1)
    async def on_erasure_requested(event: CustomerErasureRequested) -> None:
        """PDPA erasure: delete the replies composed for the customer, report once."""
        # Every parking queue but this one: a parked erasure request is replayed, never dropped.
        parked = [queue for queue in runtime.topology.policies if queue != erasure_queue]
        async with runtime.uow() as uow:
            await pdpa.erase(uow, event, rabbitmq_url=runtime.settings.rabbitmq_url, parked_queues=parked)
