"""Building and posting webhooks the way Meta does, and reading what the messenger stored."""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import select

from crm_contracts import ReplyGenerated, ReplyGeneratedData
from crm_fakes.webhooks import meta_json, new_mid, page_webhook, sign, text_message_event
from crm_messenger.conversations.models import conversations, messages
from crm_servicekit.testing import eventually

from .conftest import APP_SECRET, PAGE_ID, Messenger

INTERNAL = {"X-Internal-Token": "test-internal-token"}


def now_ms() -> int:
    return int(time.time() * 1000)


def item(psid: str, ts: int | None = None, **event: Any) -> dict[str, Any]:
    """One `messaging` item from a customer to the Page."""
    return {"sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": ts or now_ms(), **event}


async def post(m: Messenger, *items: dict[str, Any], standby: bool = False) -> dict[str, int]:
    payload = page_webhook(PAGE_ID, list(items))
    if standby:
        entry = payload["entry"][0]
        entry["standby"] = entry.pop("messaging")
    body = meta_json(payload)
    response = await m.http.post(
        "/webhooks/meta", content=body, headers={"x-hub-signature-256": sign(APP_SECRET, body)}
    )
    assert response.status_code == 200, response.text
    processor = m.app.state.runtime.extras["webhook_processor"]
    result = await processor.result(int(response.headers["x-webhook-receipt"]))
    return {"stored": result.stored, "duplicates": result.duplicates, "quarantined": result.quarantined}


async def say(m: Messenger, psid: str, text: str, ts: int | None = None) -> dict[str, Any]:
    """The customer writes; returns the stored message.received event."""
    event = text_message_event(PAGE_ID, psid, text, timestamp_ms=ts or now_ms())
    await post(m, event)
    return await received(m, event["message"]["mid"])


async def received(m: Messenger, mid: str) -> dict[str, Any]:
    """The `message.received` the messenger published for `mid`."""

    async def found() -> dict[str, Any] | None:
        return next((e for e in m.events.of_type("message.received") if e["data"]["mid"] == mid), None)

    return await eventually(found)


def reply_to(received: dict[str, Any], text: str = "ขอบคุณค่ะ", **extra: Any) -> ReplyGenerated:
    d = received["data"]
    return ReplyGenerated(
        correlation_id=str(received["correlation_id"]),
        data=ReplyGeneratedData(
            conversation_id=d["conversation_id"],
            page_id=PAGE_ID,
            psid=d["psid"],
            in_reply_to_event_id=uuid.UUID(str(received["event_id"])),
            in_reply_to_mid=d["mid"],
            text=text,
            language="th",
            generated_by="gemini",
            handover=False,
            **extra,
        ),
    )


async def publish(m: Messenger, event: ReplyGenerated) -> None:
    await m.app.state.runtime.broker.publish(
        event.model_dump_json().encode(),
        exchange="crm.events",
        routing_key=event.type,
        message_id=str(event.event_id),
    )


async def conversation(m: Messenger, psid: str) -> Any:
    async with m.app.state.runtime.sessionmaker() as session:
        return (
            await session.execute(
                select(conversations).where(conversations.c.page_id == PAGE_ID, conversations.c.psid == psid)
            )
        ).one()


async def stored(m: Messenger, psid: str) -> list[Any]:
    async with m.app.state.runtime.sessionmaker() as session:
        return list(
            (
                await session.execute(
                    select(messages)
                    .join(conversations, conversations.c.id == messages.c.conversation_id)
                    .where(conversations.c.psid == psid)
                    .order_by(messages.c.created_at, messages.c.part)
                )
            ).all()
        )


__all__ = ["INTERNAL", "item", "new_mid", "now_ms", "post"]
