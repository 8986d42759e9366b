"""A part is claimed only when Meta is about to be asked, Meta's answer survives a database that
blinks, and Meta's echo of a part confirms its delivery (issue 11): a reply Meta accepted is never
shown to staff as failed or stuck because our side lost track of it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from crm_fakes import MetaState
from crm_fakes.webhooks import new_mid
from crm_messenger.conversations.models import messages
from crm_messenger.outbound.delivery import INTERRUPTED
from crm_messenger.outbound.service import PART_METADATA
from crm_messenger.outbound.sweeper import resolve_interrupted, sweep
from crm_servicekit.testing import eventually
from crm_servicekit.testproxy import TcpProxy

from .conftest import PAGE_ID, Messenger, running_messenger
from .helpers import now_ms, post, publish, reply_to, say
from .interruptions import MetaGate, events_about, leave_parts, staff_view, status_of, texts_to
from .test_send_interrupted import LONG_AGO

pytestmark = pytest.mark.integration


class GatedThrottle:
    """Meta's usage limits say "wait" until the gate opens."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.waiting = 0

    async def wait(self) -> None:
        self.waiting += 1
        try:
            await self.gate.wait()
        finally:
            self.waiting -= 1

    def observe(self, headers: Any) -> None:
        pass


def echo(psid: str, part_id: uuid.UUID | str, mid: str, text: str) -> dict[str, Any]:
    """Meta's echo of a message the Page sent through our app, with the metadata we gave it."""
    return {
        "sender": {"id": PAGE_ID},
        "recipient": {"id": psid},
        "timestamp": now_ms(),
        "message": {
            "is_echo": True,
            "app_id": 1517776481860111,
            "metadata": f"{PART_METADATA}{part_id}",
            "mid": mid,
            "text": text,
        },
    }


def replies_to(m: Messenger, source_event_id: uuid.UUID) -> list[dict[str, Any]]:
    """The `message.sent` of the AI reply to that event."""
    sent = m.events.of_type("message.sent")
    return [e for e in sent if e["data"]["in_reply_to_event_id"] == str(source_event_id)]


async def parts_for(m: Messenger, source_event_id: uuid.UUID) -> list[Any]:
    async with m.app.state.runtime.sessionmaker() as session:
        rows = await session.execute(
            select(messages.c.id, messages.c.status).where(messages.c.source_event_id == source_event_id)
        )
        return list(rows.all())


async def test_a_part_waiting_out_metas_usage_limits_is_still_pending_until_meta_is_asked(
    messenger: Messenger,
) -> None:
    client = messenger.app.state.runtime.extras["sender"].client
    throttle, client.throttle = client.throttle, GatedThrottle()
    try:
        received = await say(messenger, "psid-throttled", "hello")
        reply = reply_to(received, "รอสักครู่นะคะ")
        await publish(messenger, reply)
        await eventually(lambda: asyncio.sleep(0, client.throttle.waiting))
        # A process that dies now leaves a part nobody has asked Meta for: still pending, so the
        # next sender sends it (not failed as "delivery unknown" by the sweeper).
        [(part_id, status)] = await parts_for(messenger, reply.event_id)
        assert status == "pending"
        client.throttle.gate.set()
        await eventually(lambda: asyncio.sleep(0, events_about(messenger, "message.sent", part_id)))
    finally:
        client.throttle = throttle
    assert texts_to(messenger, "psid-throttled") == ["รอสักครู่นะคะ"]


async def test_metas_echo_records_a_part_a_dead_process_left_sending_as_sent_once(
    messenger: Messenger,
) -> None:
    received = await say(messenger, "psid-echoed", "hello")
    conversation_id = received["data"]["conversation_id"]
    # Meta accepted the part, then the process died before it recorded Meta's answer.
    [part] = await leave_parts(
        messenger, conversation_id, [("sending", "ส่งถึงแล้วค่ะ")], age=LONG_AGO, page_id=PAGE_ID
    )
    mid = new_mid()
    assert await post(messenger, echo("psid-echoed", part, mid, "ส่งถึงแล้วค่ะ")) == {
        "stored": 1,
        "duplicates": 0,
        "quarantined": 0,
    }

    [sent] = await eventually(lambda: asyncio.sleep(0, events_about(messenger, "message.sent", part)))
    assert sent["data"]["meta_message_id"] == mid
    assert sent["data"]["text"] == "ส่งถึงแล้วค่ะ"
    view = (await staff_view(messenger, conversation_id))[str(part)]
    assert (view["status"], view["error_reason"]) == ("sent", None)
    # The sweeper has nothing left to fail, and Meta's retry of the echo changes nothing.
    assert await resolve_interrupted(_uow(messenger), fail_after=LONG_AGO / 2) == {}
    assert (await post(messenger, echo("psid-echoed", part, mid, "ส่งถึงแล้วค่ะ")))["duplicates"] == 1
    await say(messenger, "psid-echoed", "sentinel")  # a later delivery: anything doubled has arrived
    assert len(events_about(messenger, "message.sent", part)) == 1
    assert events_about(messenger, "message.send_failed", part) == []


async def test_metas_echo_turns_delivery_unknown_into_sent_and_the_rest_of_the_reply_goes(
    messenger: Messenger,
) -> None:
    received = await say(messenger, "psid-unknown", "hello")
    conversation_id = received["data"]["conversation_id"]
    # A two-part reply whose first part was sent twice already: however Meta's echoes go, it is
    # not asked a third time; the second part fails with it.
    first, second = await leave_parts(
        messenger,
        conversation_id,
        [("sending", "ถึงหรือยังนะ"), ("pending", "ส่วนที่สองค่ะ")],
        age=LONG_AGO,
        page_id=PAGE_ID,
        attempts=2,
    )
    assert await resolve_interrupted(_uow(messenger), fail_after=LONG_AGO / 2) == {
        uuid.UUID(conversation_id): 1
    }
    view = await staff_view(messenger, conversation_id)
    assert (view[str(first)]["status"], view[str(first)]["error_reason"]) == ("failed", INTERRUPTED)
    assert view[str(second)]["status"] == "failed"

    # Meta echoes the first part: it was delivered, and the rest of the reply goes out after it.
    await post(messenger, echo("psid-unknown", first, new_mid(), "ถึงหรือยังนะ"))
    await eventually(lambda: asyncio.sleep(0, events_about(messenger, "message.sent", first)))
    sender = messenger.app.state.runtime.extras["sender"]
    await sweep(sender, timedelta(seconds=messenger.settings.pending_send_grace_seconds))
    await eventually(lambda: asyncio.sleep(0, events_about(messenger, "message.sent", second)))
    view = await staff_view(messenger, conversation_id)
    assert (view[str(first)]["status"], view[str(first)]["error_reason"]) == ("sent", None)
    assert (view[str(second)]["status"], view[str(second)]["error_reason"]) == ("sent", None)
    assert texts_to(messenger, "psid-unknown") == ["ส่วนที่สองค่ะ"], "the first was delivered already"
    assert len(events_about(messenger, "message.send_failed", first)) == 1


async def test_a_part_meta_did_not_echo_while_echoing_later_ones_is_sent_again_once(
    messenger: Messenger,
) -> None:
    received = await say(messenger, "psid-resent", "hello")
    conversation_id = received["data"]["conversation_id"]
    [part] = await leave_parts(
        messenger, conversation_id, [("sending", "ส่งอีกครั้งค่ะ")], age=LONG_AGO, page_id=PAGE_ID
    )
    # Meta goes on echoing what the Page sends: a reply to someone else, sent after the part was
    # claimed, comes back; the part's own echo never does.
    other = reply_to(await say(messenger, "psid-other", "hello"), "ค่ะ")
    await publish(messenger, other)
    [sent] = await eventually(lambda: asyncio.sleep(0, replies_to(messenger, other.event_id)))
    data = sent["data"]
    await post(messenger, echo("psid-other", data["message_id"], data["meta_message_id"], "ค่ะ"))

    sender = messenger.app.state.runtime.extras["sender"]
    assert await sweep(sender, timedelta(minutes=10)) >= 1
    await eventually(lambda: asyncio.sleep(0, events_about(messenger, "message.sent", part)))
    assert texts_to(messenger, "psid-resent") == ["ส่งอีกครั้งค่ะ"]
    view = (await staff_view(messenger, conversation_id))[str(part)]
    assert view["status"] == "sent"
    # Its second send is not echoed either (say Meta's echoes stopped): it is not sent a third time.
    async with messenger.app.state.runtime.sessionmaker() as session:
        await session.execute(
            update(messages)
            .where(messages.c.id == part)
            .values(status="sending", updated_at=func.now() - LONG_AGO)
        )
        await session.commit()
    assert await resolve_interrupted(_uow(messenger)) == {uuid.UUID(conversation_id): 1}
    assert await status_of(messenger, part) == "failed"
    assert texts_to(messenger, "psid-resent") == ["ส่งอีกครั้งค่ะ"]


async def test_an_echo_naming_no_message_of_ours_changes_nothing(messenger: Messenger) -> None:
    await say(messenger, "psid-stranger", "hello")
    unknown = await post(messenger, echo("psid-stranger", uuid.uuid4(), new_mid(), "?"))
    assert unknown == {"stored": 0, "duplicates": 1, "quarantined": 0}
    garbled = await post(messenger, echo("psid-stranger", "not-a-message-id", new_mid(), "?"))
    assert garbled == {"stored": 0, "duplicates": 0, "quarantined": 1}


@pytest.fixture
async def through_proxy(
    migrated: str, rabbitmq_url: str, gated_meta: tuple[str, MetaState, MetaGate]
) -> AsyncIterator[tuple[Messenger, MetaGate, TcpProxy]]:
    """A messenger that reaches PostgreSQL through a proxy the test can cut, and whose Meta
    holds text messages while its gate is closed."""
    url, state, gate = gated_meta
    with TcpProxy.for_url(migrated) as proxy:
        try:
            async with running_messenger(proxy.url(migrated), rabbitmq_url, (url, state)) as m:
                yield m, gate, proxy
        finally:
            gate.open()
            proxy.restore()


async def test_metas_answer_is_recorded_once_the_database_is_back(
    through_proxy: tuple[Messenger, MetaGate, TcpProxy],
) -> None:
    m, gate, proxy = through_proxy
    received = await say(m, "psid-blink", "hello")
    reply = reply_to(received, "ได้เลยค่ะ")
    gate.close()
    await publish(m, reply)
    await eventually(gate.holding)  # Meta has the part in hand
    proxy.cut()  # PostgreSQL goes away before Meta answers
    gate.open()
    await eventually(lambda: asyncio.sleep(0, texts_to(m, "psid-blink")))
    await asyncio.sleep(1)  # Meta has answered; recording it fails while the database is away
    proxy.restore()

    [(part_id, _)] = await eventually(lambda: parts_for(m, reply.event_id))
    await eventually(lambda: asyncio.sleep(0, events_about(m, "message.sent", part_id)), timeout=30)
    assert await status_of(m, part_id) == "sent"
    assert events_about(m, "message.send_failed", part_id) == []
    assert texts_to(m, "psid-blink") == ["ได้เลยค่ะ"]


def _uow(m: Messenger) -> Any:
    return m.app.state.runtime.extras["sender"].uow
