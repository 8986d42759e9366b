"""While staff handle a conversation, the AI sends nothing and drafts an answer for them."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from crm_servicekit.testing import eventually

from .conftest import TOKEN, Ai, Passage

pytestmark = pytest.mark.integration

UDON = Passage(
    document_title="คอร์สเรียน V School",
    heading_path=("คอร์สอุด้ง",),
    text="คอร์สอุด้ง นวดเส้นเอง เรียนวันอาทิตย์ 13:00-17:00",
)


def path(conversation_id: uuid.UUID) -> str:
    return f"/internal/v1/conversations/{conversation_id}/suggestion"


async def suggestion(ai: Ai, conversation_id: uuid.UUID) -> httpx.Response:
    return await ai.http.get(path(conversation_id), headers=TOKEN)


async def test_human_mode_drafts_a_grounded_suggestion_and_sends_nothing(ai: Ai) -> None:
    await ai.product("คอร์สอุด้ง", "3900", name_en="Udon")
    ai.passages.found = [UDON]
    conversation = uuid.uuid4()
    assert (await suggestion(ai, conversation)).status_code == 404

    # The model promises a discount nobody offers: kept for staff to see, flagged.
    ai.gemini.queue_reply(
        json.dumps(
            {
                "answer": "คอร์สอุด้งเรียนวันอาทิตย์ค่ะ ตอนนี้ลด 15% ค่ะ",
                "used_passages": ["P1"],
                "needs_human": False,
                "reason": None,
                "language": "th",
                "quick_replies": [],
            },
            ensure_ascii=False,
        )
    )
    asked = await ai.ask("อุด้งเรียนวันไหนคะ", conversation_id=conversation, mode="human")

    async def drafted() -> httpx.Response | None:
        found = await suggestion(ai, conversation)
        return found if found.status_code == 200 else None

    body = (await eventually(drafted, timeout=15)).json()
    assert body["text"] == "คอร์สอุด้งเรียนวันอาทิตย์ค่ะ ตอนนี้ลด 15% ค่ะ"
    assert body["source_event_id"] == str(asked.event_id)
    assert body["language"] == "th"
    assert [(s["document_id"], s["heading_path"]) for s in body["sources"]] == [
        (str(UDON.document_id), ["คอร์สอุด้ง"])
    ]
    assert [w["reason"] for w in body["warnings"]] == ["unsupported_amount"]
    assert "3,900 THB" in ai.request_for(asked).body["systemInstruction"]["parts"][0]["text"]

    # A message in AI mode after it is answered; the one in human mode never was.
    sentinel = await ai.ask("สวัสดีค่ะ")
    await ai.reply_to(sentinel)
    answered = {e["data"]["in_reply_to_mid"] for e in ai.events.of_type("reply.generated")}
    assert asked.data.mid not in answered

    # The next message's draft replaces it (the latest wins).
    later = await ai.ask("ขอบคุณค่ะ", conversation_id=conversation, mode="human")

    async def replaced() -> dict[str, object] | None:
        found = (await suggestion(ai, conversation)).json()
        return found if found["source_event_id"] == str(later.event_id) else None

    newest = await eventually(replaced, timeout=15)
    assert newest["warnings"] == []


async def test_the_suggestion_needs_the_service_token(ai: Ai) -> None:
    for headers in ({}, {"X-Internal-Token": "wrong"}):
        assert (await ai.http.get(path(uuid.uuid4()), headers=headers)).status_code == 401
