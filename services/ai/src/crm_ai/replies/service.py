"""Answer a customer's message: compose outside any transaction, then record and publish once."""

from __future__ import annotations

from collections.abc import Callable

from crm_contracts import MessageReceived, ReplyGenerated, ReplyGeneratedData
from crm_servicekit.logging import get_logger
from crm_servicekit.outbox import UnitOfWork

from . import repository
from .responder import Responder, handover_reply

log = get_logger(__name__)

CONSUMER = "ai.messages"


async def answer(uow_factory: Callable[[], UnitOfWork], responder: Responder, event: MessageReceived) -> None:
    d = event.data
    if d.standby or d.conversation_mode != "ai" or not (d.text and d.text.strip()):
        # Another app or staff answer this conversation, or there is no text: stay quiet.
        async with uow_factory() as uow:
            if await uow.claim(event.event_id, CONSUMER):
                await uow.commit()
        return
    async with uow_factory() as uow:
        if await uow.handled(event.event_id, CONSUMER):
            return
    if d.handover_requested:
        reply = handover_reply(d.text)
    else:
        reply = await responder.reply(d.text)  # slow: no transaction is held open meanwhile
    async with uow_factory() as uow:
        if not await uow.claim(event.event_id, CONSUMER):
            return  # a concurrent redelivery got there first; its reply is the one sent
        await repository.save_reply(
            uow.session,
            {
                "source_event_id": event.event_id,
                "conversation_id": d.conversation_id,
                "psid": d.psid,
                "text": reply.text,
                "language": reply.language,
                "generated_by": reply.generated_by,
                "model": reply.model,
                "handover": reply.handover,
                "handover_reason": reply.handover_reason,
            },
        )
        uow.emit(
            ReplyGenerated(
                correlation_id=event.correlation_id,
                data=ReplyGeneratedData(
                    conversation_id=d.conversation_id,
                    page_id=d.page_id,
                    psid=d.psid,
                    in_reply_to_event_id=event.event_id,
                    in_reply_to_mid=d.mid,
                    text=reply.text,
                    language=reply.language,
                    generated_by=reply.generated_by,
                    model=reply.model,
                    handover=reply.handover,
                    handover_reason=reply.handover_reason,
                    quick_replies=list(reply.quick_replies),
                ),
            )
        )
        await uow.commit()
    log.info(
        "reply generated",
        conversation_id=str(d.conversation_id),
        generated_by=reply.generated_by,
        handover=reply.handover,
    )
