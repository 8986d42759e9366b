"""Answer a customer's message: compose outside any transaction, then record and publish once.

Every text message becomes a turn of the conversation's memory first. Then: under standby
(another app answers) nothing more; in `human` mode a draft is suggested to staff and nothing is
sent; in `ai` mode the customer gets the model's answer if the guards pass it, or the honest
holding reply with a handover to staff (reason in `handover_reason`), never silence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crm_ai.memory import service as memory
from crm_contracts import MessageReceived, ReplyGenerated, ReplyGeneratedData, ReplySource
from crm_servicekit.logging import get_logger
from crm_servicekit.outbox import UnitOfWork

from . import repository, suggestions
from .compose import Composed, compose
from .grounding import NoKnowledge, Passage, Retriever
from .responder import Reply, Responder, handover_reply

log = get_logger(__name__)

CONSUMER = "ai.messages"


def source_rows(passages: list[Passage]) -> list[dict[str, Any]]:
    return [
        {
            "rank": rank,
            "chunk_id": p.chunk_id,
            "document_id": p.document_id,
            "title": p.document_title,
            "heading_path": list(p.heading_path),
            "score": float(p.score),
        }
        for rank, p in enumerate(passages, start=1)
    ]


async def answer(
    uow_factory: Callable[[], UnitOfWork],
    responder: Responder,
    event: MessageReceived,
    retriever: Retriever | None = None,
) -> None:
    d = event.data
    retriever = retriever or NoKnowledge()
    text = (d.text or "").strip()
    async with uow_factory() as uow:
        await memory.record_received(uow.session, event)
        done = await uow.handled(event.event_id, CONSUMER)
        if done or d.standby or not text:
            # Another app answers this thread, or there is no text: nothing to say.
            await uow.claim(event.event_id, CONSUMER)
            await uow.commit()
            return
        await uow.commit()
    if d.conversation_mode == "human":
        await suggestions.suggest(uow_factory, responder, retriever, event, CONSUMER)
        return
    composed: Composed | None = None
    if d.handover_requested:
        reply = handover_reply(text)
    else:
        # Slow: no transaction is held open meanwhile.
        composed = await compose(
            uow_factory,
            responder,
            retriever,
            conversation_id=d.conversation_id,
            text=text,
            event_id=event.event_id,
        )
        reply = composed.reply(text)
    sources = composed.used if composed is not None and not reply.handover else []
    await _record(uow_factory, event, reply, sources)


async def _record(
    uow_factory: Callable[[], UnitOfWork], event: MessageReceived, reply: Reply, sources: list[Passage]
) -> None:
    d = event.data
    rows = source_rows(sources)
    async with uow_factory() as uow:
        if not await uow.claim(event.event_id, CONSUMER):
            return  # a concurrent redelivery got there first; its reply is the one sent
        reply_id = await repository.save_reply(
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
                "handover_detail": reply.handover_detail,
            },
        )
        await repository.save_sources(uow.session, reply_id, rows)
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
                    sources=[
                        ReplySource(
                            document_id=r["document_id"],
                            title=r["title"],
                            heading_path=r["heading_path"],
                            score=r["score"],
                        )
                        for r in rows
                    ],
                ),
            )
        )
        await uow.commit()
    log.info(
        "reply generated",
        conversation_id=str(d.conversation_id),
        generated_by=reply.generated_by,
        handover=reply.handover,
        handover_reason=reply.handover_reason,
        sources=len(rows),
    )
