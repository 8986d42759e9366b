"""What staff can do through the gateway, and Messenger's window rules, via the internal API."""

from __future__ import annotations

import time
import uuid

import pytest

from crm_servicekit.testing import eventually

from .conftest import Messenger
from .helpers import INTERNAL, conversation, publish, reply_to, say

pytestmark = pytest.mark.integration

HOUR_MS = 3_600_000
STAFF = uuid.uuid4()


def ago(hours: float) -> int:
    return int(time.time() * 1000 - hours * HOUR_MS)


async def staff_reply(
    m: Messenger, conversation_id: str, text: str, key: str | None = None
) -> tuple[int, dict]:  # type: ignore[type-arg]
    response = await m.http.post(
        f"/internal/v1/conversations/{conversation_id}/messages",
        json={"text": text, "staff_id": str(STAFF), "idempotency_key": key},
        headers=INTERNAL,
    )
    return response.status_code, response.json()


async def sent_texts(m: Messenger, psid: str) -> list[str]:
    return [s.text for s in m.meta.messages() if s.recipient_id == psid and s.text is not None]


async def test_every_route_needs_the_service_token(messenger: Messenger) -> None:
    cid = uuid.uuid4()
    for method, path in [
        ("GET", "/internal/v1/conversations"),
        ("GET", f"/internal/v1/conversations/{cid}"),
        ("POST", f"/internal/v1/conversations/{cid}/assign"),
        ("POST", f"/internal/v1/conversations/{cid}/handback"),
        ("POST", f"/internal/v1/conversations/{cid}/read"),
        ("POST", f"/internal/v1/conversations/{cid}/messages"),
        ("GET", "/internal/v1/quarantine"),
    ]:
        for headers in ({}, {"X-Internal-Token": "wrong"}):
            response = await messenger.http.request(method, path, headers=headers, json={})
            assert response.status_code == 401, (method, path, headers)


async def test_staff_reply_inside_24_hours_is_a_response_and_silences_the_ai(messenger: Messenger) -> None:
    first = await say(messenger, "psid-staff", "มีคอร์สอะไรบ้างคะ")
    cid = first["data"]["conversation_id"]
    status, body = await staff_reply(messenger, cid, "สวัสดีค่ะ แอดมินเองค่ะ")
    assert status == 202
    assert body["message"]["sent_by"] == "staff"
    await eventually(lambda: sent_texts(messenger, "psid-staff"))
    [sent] = [s for s in messenger.meta.messages() if s.text == "สวัสดีค่ะ แอดมินเองค่ะ"]
    assert sent.body["messaging_type"] == "RESPONSE"
    assert "tag" not in sent.body
    [changed] = await messenger.events.wait_for("conversation.mode_changed")
    assert (changed["data"]["reason"], changed["data"]["staff_id"]) == ("staff_replied", str(STAFF))
    # The AI's late answer to a message staff have answered since is never sent, not even after
    # the conversation is handed back; the AI answers new messages again.
    await publish(messenger, reply_to(first, "AI: must not be sent"))
    response = await messenger.http.post(
        f"/internal/v1/conversations/{cid}/handback", json={"staff_id": str(STAFF)}, headers=INTERNAL
    )
    assert response.json()["mode"] == "ai"
    again = await say(messenger, "psid-staff", "ราคาเท่าไหร่คะ")
    assert again["data"]["conversation_mode"] == "ai"
    await publish(messenger, reply_to(again, "AI: back again"))
    texts = await eventually(lambda: _two(messenger, "psid-staff"))
    assert texts == ["สวัสดีค่ะ แอดมินเองค่ะ", "AI: back again"]


async def _two(m: Messenger, psid: str) -> list[str]:
    texts = await sent_texts(m, psid)
    return texts if len(texts) >= 2 else []


async def test_after_24_hours_the_ai_is_refused_and_staff_reply_with_human_agent(
    messenger: Messenger,
) -> None:
    old = await say(messenger, "psid-late", "สวัสดีค่ะ", ts=ago(30))
    await publish(messenger, reply_to(old, "AI: too late"))
    [failed] = await messenger.events.wait_for("message.send_failed")
    assert "24-hour" in failed["data"]["reason"]
    status, _ = await staff_reply(messenger, old["data"]["conversation_id"], "ขอโทษที่ตอบช้านะคะ")
    assert status == 202
    await eventually(lambda: sent_texts(messenger, "psid-late"))
    [sent] = [s for s in messenger.meta.messages() if s.recipient_id == "psid-late" and s.text]
    assert sent.text == "ขอโทษที่ตอบช้านะคะ"
    assert (sent.body["messaging_type"], sent.body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


async def test_after_7_days_a_staff_reply_is_refused_with_a_reason(messenger: Messenger) -> None:
    old = await say(messenger, "psid-week", "hello", ts=ago(24 * 8))
    status, body = await staff_reply(messenger, old["data"]["conversation_id"], "Hello again!")
    assert status == 409
    assert "7 days" in body["detail"]
    detail = await messenger.http.get(
        f"/internal/v1/conversations/{old['data']['conversation_id']}", headers=INTERNAL
    )
    assert detail.json()["conversation"]["reply_window"]["can_reply"] is False
    assert await sent_texts(messenger, "psid-week") == []


async def test_the_same_staff_request_twice_sends_once(messenger: Messenger) -> None:
    first = await say(messenger, "psid-idem", "hello")
    cid = first["data"]["conversation_id"]
    a = await staff_reply(messenger, cid, "Only once", key="key-1")
    b = await staff_reply(messenger, cid, "Only once", key="key-1")
    assert a[1]["message"]["id"] == b[1]["message"]["id"]
    await eventually(lambda: sent_texts(messenger, "psid-idem"))
    await staff_reply(messenger, cid, "Later", key="key-2")
    texts = await eventually(lambda: _two(messenger, "psid-idem"))
    assert texts == ["Only once", "Later"]


async def test_a_long_reply_goes_out_in_parts_in_order_with_quick_replies_on_the_last(
    messenger: Messenger,
) -> None:
    first = await say(messenger, "psid-long", "tell me everything")
    sentences = [f"Sentence number {i} about our sushi course. " for i in range(120)]
    reply = reply_to(first, "".join(sentences), quick_replies=["Sushi", "Ramen"])
    await publish(messenger, reply)
    texts = await eventually(lambda: _at_least(messenger, "psid-long", 3))
    assert all(len(t) <= 2000 for t in texts)
    assert " ".join(texts).split() == "".join(sentences).split()
    sends = [s for s in messenger.meta.messages() if s.recipient_id == "psid-long"]
    assert sends[0].sender_action == "typing_on", "the customer sees the AI typing first"
    texts_only = [s for s in sends if s.text]
    assert "quick_replies" not in texts_only[0].body["message"]
    assert [q["title"] for q in texts_only[-1].body["message"]["quick_replies"]] == ["Sushi", "Ramen"]


async def test_an_ai_reply_shows_staff_the_passages_it_was_grounded_on(messenger: Messenger) -> None:
    first = await say(messenger, "psid-sources", "ราคาคอร์สซูชิเท่าไหร่คะ")
    document = uuid.uuid4()
    passage = {
        "document_id": str(document),
        "title": "Courses",
        "heading_path": ["Sushi", "Price"],
        "score": 0.031,
    }
    await publish(messenger, reply_to(first, "คอร์สซูชิ 12,500 บาทค่ะ", sources=[passage]))
    await eventually(lambda: _at_least(messenger, "psid-sources", 1))
    conversation_id = first["data"]["conversation_id"]

    thread = (
        await messenger.http.get(f"/internal/v1/conversations/{conversation_id}", headers=INTERNAL)
    ).json()

    [ai] = [m for m in thread["messages"] if m["sent_by"] == "ai"]
    assert ai["sources"] == [passage]
    [customer] = [m for m in thread["messages"] if m["direction"] == "in"]
    assert customer["sources"] == []


async def _at_least(m: Messenger, psid: str, n: int) -> list[str]:
    texts = await sent_texts(m, psid)
    return texts if len(texts) >= n else []


async def test_inbox_lists_filters_and_pages(messenger: Messenger) -> None:
    for i in range(5):
        await say(messenger, f"psid-list-{i}", f"hello {i}")
    cid = (await conversation(messenger, "psid-list-0")).id
    taker = uuid.uuid4()  # STAFF took the conversations they replied to in other tests
    assigned = await messenger.http.post(
        f"/internal/v1/conversations/{cid}/assign",
        json={"staff_id": str(taker), "acting_staff_id": str(taker)},
        headers=INTERNAL,
    )
    assert assigned.json()["assigned_staff_id"] == str(taker)
    mine = await messenger.http.get(
        "/internal/v1/conversations", params={"assigned_staff_id": str(taker)}, headers=INTERNAL
    )
    assert [c["id"] for c in mine.json()["items"]] == [str(cid)]
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (
            await messenger.http.get("/internal/v1/conversations", params=params, headers=INTERNAL)
        ).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)), "no conversation twice across pages"
    assert str(cid) in seen
    read = await messenger.http.post(f"/internal/v1/conversations/{cid}/read", headers=INTERNAL)
    assert read.json()["unread_count"] == 0
    unread = await messenger.http.get(
        "/internal/v1/conversations", params={"unread": "false"}, headers=INTERNAL
    )
    assert str(cid) in [c["id"] for c in unread.json()["items"]]
    detail = (await messenger.http.get(f"/internal/v1/conversations/{cid}", headers=INTERNAL)).json()
    assert [m["text"] for m in detail["messages"]] == ["hello 0"]
    assert detail["messages"][0]["sent_by"] == "customer"
    assert (
        await messenger.http.get(f"/internal/v1/conversations/{uuid.uuid4()}", headers=INTERNAL)
    ).status_code == 404
