"""Every event Meta sends to a Page app is stored and acted on (shared/reference section A)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from crm_fakes.webhooks import new_mid, referral
from crm_messenger.conversations.models import reactions
from crm_messenger.webhooks.models import optins, referrals
from crm_servicekit.testing import eventually

from .conftest import PAGE_ID, Messenger
from .helpers import conversation, item, now_ms, post, publish, received, reply_to, say, stored

pytestmark = pytest.mark.integration


async def scalar(m: Messenger, query: object) -> object:
    async with m.app.state.runtime.sessionmaker() as session:
        return (await session.execute(query)).scalar()


async def test_attachment_and_quick_reply_are_stored_with_their_kind(messenger: Messenger) -> None:
    image = item(
        "psid-att",
        message={"mid": new_mid(), "attachments": [{"type": "image", "payload": {"url": "https://x/y.jpg"}}]},
    )
    sticker = item(
        "psid-att",
        message={
            "mid": new_mid(),
            "attachments": [
                {"type": "sticker", "payload": {"url": "https://x/s.png", "sticker_id": 369239263222822}}
            ],
        },
    )
    choice = item(
        "psid-att", message={"mid": new_mid(), "text": "Sushi", "quick_reply": {"payload": "COURSE_SUSHI"}}
    )
    assert (await post(messenger, image, sticker, choice))["stored"] == 3
    got = {
        e["data"]["mid"]: e["data"]
        for e in [await received(messenger, i["message"]["mid"]) for i in (image, sticker, choice)]
    }
    assert got[image["message"]["mid"]]["kind"] == "attachment"
    assert got[image["message"]["mid"]]["attachments"] == [{"type": "image", "url": "https://x/y.jpg"}]
    assert got[sticker["message"]["mid"]]["attachments"][0]["type"] == "sticker"
    assert got[choice["message"]["mid"]]["kind"] == "quick_reply"
    assert got[choice["message"]["mid"]]["quick_reply_payload"] == "COURSE_SUSHI"


async def test_postbacks_with_and_without_mid_and_referral(messenger: Messenger) -> None:
    ts = now_ms()
    with_ref = item(
        "psid-pb",
        ts,
        postback={
            "mid": new_mid(),
            "title": "Get Started",
            "payload": "GET_STARTED",
            "referral": referral("ad-pb-1"),
        },
    )
    # The current doc shows the timestamp as a seconds string and no mid.
    old_style = {
        "sender": {"id": "psid-pb"},
        "recipient": {"id": PAGE_ID},
        "timestamp": str(ts // 1000 + 5),
        "postback": {"title": "ดูคอร์ส", "payload": "VIEW_COURSES"},
    }
    assert (await post(messenger, with_ref, old_style))["stored"] == 2
    assert (await post(messenger, old_style))["duplicates"] == 1, "a replayed postback is one postback"
    first = await received(messenger, with_ref["postback"]["mid"])
    assert first["data"]["kind"] == "postback"
    assert first["data"]["postback_payload"] == "GET_STARTED"
    assert first["data"]["text"] == "Get Started"
    [contact] = [e for e in await messenger.events.wait_for("contact.seen") if e["data"]["psid"] == "psid-pb"]
    assert contact["data"]["referral"]["ad_id"] == "ad-pb-1"
    rows = await stored(messenger, "psid-pb")
    assert [r.postback_payload for r in rows] == ["GET_STARTED", "VIEW_COURSES"]


async def test_messaging_referral_from_an_ad_on_an_existing_thread_announces_the_ad(
    messenger: Messenger,
) -> None:
    await say(messenger, "psid-ref", "hello")
    event = item("psid-ref", referral={**referral("ad-ctm-9", ref="sushi-may"), "ad_id": 120330000000000099})
    await post(messenger, event)
    await post(messenger, event)  # at least once
    seen = await eventually(lambda: _contacts_with_ad(messenger, "psid-ref"), timeout=10)
    assert [e["data"]["referral"]["ad_id"] for e in seen] == ["120330000000000099"]
    count = await scalar(
        messenger, select(func.count()).select_from(referrals).where(referrals.c.psid == "psid-ref")
    )
    assert count == 1


async def _contacts_with_ad(m: Messenger, psid: str) -> list[dict[str, Any]]:
    return [
        e for e in m.events.of_type("contact.seen") if e["data"]["psid"] == psid and e["data"]["referral"]
    ]


async def test_page_inbox_echo_switches_to_human_and_the_ai_stays_quiet(messenger: Messenger) -> None:
    first = await say(messenger, "psid-echo", "สอบถามหน่อยค่ะ")
    echo = {
        "sender": {"id": PAGE_ID},
        "recipient": {"id": "psid-echo"},
        "timestamp": now_ms(),
        "message": {"is_echo": True, "app_id": 263902037430900, "mid": new_mid(), "text": "สวัสดีค่ะ แอดมินค่ะ"},
    }
    await post(messenger, echo)
    [changed] = await messenger.events.wait_for("conversation.mode_changed")
    assert (changed["data"]["mode"], changed["data"]["reason"]) == ("human", "page_inbox_reply")
    row = await conversation(messenger, "psid-echo")
    assert row.mode == "human"
    # The AI's answer to the earlier message arrives late: it is not sent.
    await publish(messenger, reply_to(first, "AI answer that must not go out"))
    later = await say(messenger, "psid-echo", "ขอบคุณค่ะ")
    assert later["data"]["conversation_mode"] == "human"
    sentinel = await say(messenger, "psid-echo-sentinel", "hi")
    await publish(messenger, reply_to(sentinel, "sentinel"))
    await messenger.events.wait_for("message.sent")
    assert [s.text for s in messenger.meta.messages() if s.text] == ["sentinel"]
    kinds = [(r.direction, r.sent_by) for r in await stored(messenger, "psid-echo")]
    assert ("out", "page_inbox") in kinds


async def test_our_own_echo_is_recognised_and_changes_nothing(messenger: Messenger) -> None:
    first = await say(messenger, "psid-own", "hello")
    await publish(messenger, reply_to(first, "our reply"))
    [sent] = await messenger.events.wait_for("message.sent")
    [delivered] = [s for s in messenger.meta.messages() if s.text == "our reply"]
    echo = {
        "sender": {"id": PAGE_ID},
        "recipient": {"id": "psid-own"},
        "timestamp": now_ms(),
        "message": {
            "is_echo": True,
            "mid": delivered.message_id,
            "metadata": delivered.body["message"]["metadata"],
            "text": "our reply",
        },
    }
    assert (await post(messenger, echo))["duplicates"] == 1
    assert (await conversation(messenger, "psid-own")).mode == "ai"
    assert sent["data"]["meta_message_id"] == delivered.message_id


async def test_delivery_and_read_receipts_update_our_messages(messenger: Messenger) -> None:
    first = await say(messenger, "psid-rcpt", "hello")
    await publish(messenger, reply_to(first, "one"))
    await publish(messenger, reply_to(await say(messenger, "psid-rcpt", "again"), "two"))
    await messenger.events.wait_for("message.sent", count=2)
    outs = [r for r in await stored(messenger, "psid-rcpt") if r.direction == "out"]
    await post(messenger, item("psid-rcpt", delivery={"mids": [outs[0].mid], "watermark": now_ms()}))
    rows = {r.mid: r for r in await stored(messenger, "psid-rcpt") if r.direction == "out"}
    assert rows[outs[0].mid].status == "delivered"
    await post(messenger, item("psid-rcpt", read={"watermark": now_ms() + 1000}))
    rows = {r.mid: r for r in await stored(messenger, "psid-rcpt") if r.direction == "out"}
    assert {r.status for r in rows.values()} == {"read"}
    assert all(r.read_at is not None and r.delivered_at is not None for r in rows.values())


async def test_reactions_are_kept_and_removed(messenger: Messenger) -> None:
    first = await say(messenger, "psid-react", "hello")
    mid = first["data"]["mid"]
    love = item(
        "psid-react", reaction={"reaction": "love", "emoji": "\u2764\ufe0f", "action": "react", "mid": mid}
    )
    await post(messenger, love)
    count = select(func.count()).select_from(reactions).where(reactions.c.mid == mid)
    assert await scalar(messenger, count) == 1
    await post(messenger, item("psid-react", reaction={"reaction": "love", "action": "unreact", "mid": mid}))
    assert await scalar(messenger, count) == 0


async def test_optin_is_stored(messenger: Messenger) -> None:
    optin = item(
        "psid-optin",
        optin={"type": "notification_messages", "payload": "PROMO", "notification_messages_token": "tok"},
    )
    assert (await post(messenger, optin))["stored"] == 1
    assert (await post(messenger, optin))["duplicates"] == 1
    assert (
        await scalar(messenger, select(func.count()).select_from(optins).where(optins.c.psid == "psid-optin"))
        == 1
    )


async def test_standby_message_is_stored_but_not_for_the_ai(messenger: Messenger) -> None:
    event = item("psid-standby", message={"mid": new_mid(), "text": "hello from standby"})
    await post(messenger, event, standby=True)
    got = await received(messenger, event["message"]["mid"])
    assert got["data"]["standby"] is True


async def test_asking_for_a_person_flags_the_conversation(messenger: Messenger) -> None:
    got = await say(messenger, "psid-person", "ขอคุยกับเจ้าหน้าที่หน่อยค่ะ")
    assert got["data"]["handover_requested"] is True
    row = await conversation(messenger, "psid-person")
    assert (row.needs_human, row.handover_reason) == (True, "customer_requested")


async def test_shuffled_batch_with_duplicates_is_stored_once_each_in_timestamp_order(
    messenger: Messenger,
) -> None:
    base = now_ms() - 60_000
    originals = [
        item("psid-batch", base + i * 1000, message={"mid": new_mid(), "text": f"message {i:02d}"})
        for i in range(20)
    ]
    rng = random.Random(20261122)
    duplicates = rng.sample(originals, 6)  # 30 %
    batch = originals + duplicates
    rng.shuffle(batch)
    # Meta puts several items in one POST and retries some POSTs: one POST with half of it...
    first = await post(messenger, *batch[:13])
    # ...and the rest, plus the whole first part again, in later POSTs.
    second = await post(messenger, *batch[13:])
    third = await post(messenger, *batch[:13])
    assert first["stored"] + second["stored"] + third["stored"] == 20
    assert third["stored"] == 0
    rows = await stored(messenger, "psid-batch")
    assert sorted(r.text for r in rows) == [f"message {i:02d}" for i in range(20)]
    events = [e for e in messenger.events.of_type("message.received") if e["data"]["psid"] == "psid-batch"]
    events = await eventually(lambda: _at_least(messenger, "psid-batch", 20))
    assert len({e["data"]["mid"] for e in events}) == 20
    assert len(events) == 20, "each message is announced once"
    # Within each POST, items were applied in Meta's timestamp order.
    first_post = sorted((i for i in batch[:13]), key=lambda i: i["timestamp"])
    first_mids = list(dict.fromkeys(i["message"]["mid"] for i in first_post))
    announced = [e["data"]["mid"] for e in events if e["data"]["mid"] in first_mids]
    assert announced == first_mids
    conv = await conversation(messenger, "psid-batch")
    latest = datetime.fromtimestamp((base + 19_000) / 1000, UTC)
    assert conv.last_customer_message_at == latest, "the newest timestamp wins whatever the arrival order"
    assert conv.unread_count == 20


async def _at_least(m: Messenger, psid: str, n: int) -> list[dict[str, Any]]:
    found = [e for e in m.events.of_type("message.received") if e["data"]["psid"] == psid]
    return found if len(found) >= n else []


async def test_profile_is_fetched_in_the_background_and_announced(messenger: Messenger) -> None:
    await say(messenger, "psid-profile-1234", "hi")

    async def profile() -> list[dict[str, Any]]:
        return [
            e
            for e in messenger.events.of_type("contact.profile_updated")
            if e["data"]["psid"] == "psid-profile-1234"
        ]

    [event] = await eventually(profile, timeout=10)
    row = await conversation(messenger, "psid-profile-1234")
    assert row.first_name == event["data"]["first_name"]
    assert row.first_name
    assert row.profile_fetched_at is not None
    assert timedelta(0) <= datetime.now(UTC) - row.profile_fetched_at < timedelta(minutes=1)


async def test_a_postback_after_staff_went_idle_hands_the_chat_back_to_the_ai(messenger: Messenger) -> None:
    from sqlalchemy import update

    from crm_messenger.conversations.models import conversations

    await say(messenger, "psid-idle-pb", "hello")
    async with messenger.app.state.runtime.sessionmaker() as session:
        await session.execute(
            update(conversations)
            .where(conversations.c.psid == "psid-idle-pb")
            .values(mode="human", human_since=datetime.now(UTC) - timedelta(hours=3))
        )
        await session.commit()
    button = item("psid-idle-pb", postback={"mid": new_mid(), "title": "ดูคอร์ส", "payload": "VIEW_COURSES"})
    assert (await post(messenger, button))["stored"] == 1
    got = await received(messenger, button["postback"]["mid"])
    assert got["data"]["conversation_mode"] == "ai", "staff were idle: the AI answers again"
    assert (await conversation(messenger, "psid-idle-pb")).mode == "ai"
