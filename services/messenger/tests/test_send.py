"""A reply reaches the customer once, or is marked failed with a reason staff can read."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from crm_fakes.meta import RecordedSend
from crm_messenger.conversations.models import messages
from crm_servicekit.testing import eventually

from .conftest import Messenger
from .helpers import publish, reply_to, say

pytestmark = pytest.mark.integration


def texts_sent(m: Messenger) -> list[RecordedSend]:
    """Text messages Meta accepted (sender actions such as typing_on are not messages)."""
    return [s for s in m.meta.messages() if s.text is not None]


async def outbound(m: Messenger, source: uuid.UUID) -> list[object]:
    async with m.app.state.runtime.sessionmaker() as session:
        return list(
            (await session.execute(select(messages).where(messages.c.source_event_id == source))).all()
        )


async def test_reply_is_sent_once_with_metas_id_stored_even_when_redelivered(messenger: Messenger) -> None:
    received = await say(messenger, "psid-send", "hello")
    reply = reply_to(received)
    await publish(messenger, reply)
    await publish(messenger, reply)  # the broker redelivers
    # The duplicate can only ever lose its inbox claim; a later reply going out gives it time to
    # have tried.
    sentinel = reply_to(await say(messenger, "psid-sentinel", "hello"), "sentinel")
    await publish(messenger, sentinel)
    await messenger.events.wait_for("message.sent", count=2)
    [sent_event] = [e for e in messenger.events.of_type("message.sent") if e["data"]["psid"] == "psid-send"]
    assert messenger.meta.texts() == ["ขอบคุณค่ะ", "sentinel"]
    delivered = texts_sent(messenger)[0]
    assert delivered.recipient_id == "psid-send"
    assert delivered.text == "ขอบคุณค่ะ"
    assert delivered.body["messaging_type"] == "RESPONSE"
    assert "tag" not in delivered.body, "bot replies never carry a message tag"
    [row] = await outbound(messenger, reply.event_id)
    assert row.status == "sent"  # type: ignore[attr-defined]
    assert row.mid == delivered.message_id  # type: ignore[attr-defined]
    assert sent_event["data"]["meta_message_id"] == delivered.message_id


async def test_rate_limit_613_is_retried_and_delivered_once(messenger: Messenger) -> None:
    received = await say(messenger, "psid-613", "hello")
    messenger.meta.fail_next(613, times=2)
    await publish(messenger, reply_to(received, "retry me"))
    await messenger.events.wait_for("message.sent")
    assert [m.text for m in texts_sent(messenger)] == ["retry me"]
    text_attempts = [a for a in messenger.meta.attempts() if "message" in a.body]
    assert text_attempts, "the text was refused with 613 at least once before it went through"
    assert all(a.error["code"] == 613 for a in text_attempts)


async def test_unavailable_person_551_fails_at_once_with_a_reason(messenger: Messenger) -> None:
    received = await say(messenger, "psid-551", "hello")
    messenger.meta.fail_next(551, subcode=1545041, times=5)
    reply = reply_to(received)
    await publish(messenger, reply)
    [failed] = await messenger.events.wait_for("message.send_failed")
    assert failed["data"]["error_code"] == 551
    assert "isn't available" in failed["data"]["reason"]
    [row] = await outbound(messenger, reply.event_id)
    assert (row.status, row.error_code) == ("failed", 551)  # type: ignore[attr-defined]
    assert texts_sent(messenger) == []
    text_attempts = [a for a in messenger.meta.attempts() if "message" in a.body]
    assert len(text_attempts) == 1, "a permanent error is never retried"


async def test_handover_reply_is_sent_and_the_conversation_is_flagged_for_staff(messenger: Messenger) -> None:
    from crm_messenger.conversations.models import conversations

    received = await say(messenger, "psid-handover", "hello")
    reply = reply_to(received, "เจ้าหน้าที่จะติดต่อกลับค่ะ")
    reply = reply.model_copy(
        update={"data": reply.data.model_copy(update={"handover": True, "handover_reason": "ai_unavailable"})}
    )
    await publish(messenger, reply)
    await eventually(lambda: _texts_to(messenger, "psid-handover"))
    async with messenger.app.state.runtime.sessionmaker() as session:
        row = (
            await session.execute(select(conversations).where(conversations.c.psid == "psid-handover"))
        ).one()
    assert row.needs_human is True
    assert row.handover_reason == "ai_unavailable"


async def _texts_to(m: Messenger, psid: str) -> list[str]:
    return [s.text or "" for s in texts_sent(m) if s.recipient_id == psid]
