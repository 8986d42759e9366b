from __future__ import annotations

from crm_contracts import MessageReceived
from crm_servicekit.broker import subscribe
from crm_servicekit.runtime import Runtime

from . import service
from .responder import Responder


def register(runtime: Runtime, responder: Responder) -> None:
    # A model call takes seconds: a small prefetch keeps messages for other replicas.
    @subscribe(runtime.broker, runtime.topology, "messages", MessageReceived, prefetch=4)
    async def on_message_received(event: MessageReceived) -> None:
        """Compose a reply to a customer's message in their language."""
        await service.answer(runtime.uow, responder, event)
