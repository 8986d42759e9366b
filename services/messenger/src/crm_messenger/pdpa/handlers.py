"""The erasure subscriber: a customer's PDPA erasure request (`customer.erasure_requested`)."""

from __future__ import annotations

from crm_contracts import CustomerErasureRequested
from crm_messenger.pdpa import service
from crm_servicekit.broker import subscribe
from crm_servicekit.runtime import Runtime


def register(runtime: Runtime) -> None:
    erasure_queue = runtime.topology.queue_name("erasure")

    @subscribe(runtime.broker, runtime.topology, "erasure", CustomerErasureRequested, prefetch=1)
    async def on_erasure_requested(event: CustomerErasureRequested) -> None:
        """PDPA erasure: delete the customer's conversations and messages, report once."""
        # Every parking queue but this one: a parked erasure request is replayed, never dropped.
        parked = [queue for queue in runtime.topology.policies if queue != erasure_queue]
        async with runtime.uow() as uow:
            await service.erase(uow, event, rabbitmq_url=runtime.settings.rabbitmq_url, parked_queues=parked)
