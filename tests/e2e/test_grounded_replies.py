"""The AI answers from the school's own knowledge and catalog, remembers the conversation, and
hands over honestly, with every service a process (issue 13's "done when").

A knowledge folder goes in through the gateway as staff would upload it; the customer's Thai
questions reach Gemini (the fake, which records every request) with the right passage and the
catalog's current price; a price changed by staff reaches the next reply; a follow-up carries
the earlier turns; an unanswerable question and an invented price reach staff with their reasons
while the customer gets an honest holding reply; a deleted document is gone from the next reply;
the customer's lead score and insights appear in the 360.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from crm_fakes.gemini import RecordedRequest
from crm_fakes.webhooks import meta_json, page_webhook, text_message_event
from crm_servicekit.testing import eventually

from .conftest import (
    PAGE_ID,
    System,
    customer_for,
    post_webhook,
    replies_to,
    reply_requests,
    staff_token,
    upload_knowledge,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

PSID = "6100200300400501"
SOBA_MD = """\
# หลักสูตรโซบะทำมือ

## รายละเอียดหลักสูตร
หลักสูตรโซบะทำมือสอนการนวดแป้งบักวีท การรีดแป้ง และการตัดเส้นด้วยมีดโซบะ เรียนทั้งหมด 3 วัน วันละ 6 ชั่วโมง
รับนักเรียนรอบละไม่เกิน 8 คน มีอุปกรณ์และวัตถุดิบให้ครบทุกคน

## ค่าเรียน
ค่าเรียนหลักสูตรโซบะทำมือ 12,900 บาท รวมวัตถุดิบ ผ้ากันเปื้อน และใบประกาศนียบัตร
"""
TEMPURA_MD = """\
# หลักสูตรเทมปุระ

## รายละเอียด
หลักสูตรเทมปุระสอนการทำแป้งทอดแบบเย็นจัด การทอดกุ้งให้ตรงสวย และการทำซอสเท็นซึยุ เรียน 2 วัน
"""
SOBA_PASSAGE = "ค่าเรียนหลักสูตรโซบะทำมือ 12,900 บาท"
TEMPURA_PASSAGE = "การทอดกุ้งให้ตรงสวย"


def catalog_line(request: RecordedRequest, name: str) -> str:
    """The line of the prompt's catalog (its authoritative prices) that names this product."""
    system = " ".join(p["text"] for p in request.body["systemInstruction"]["parts"])
    catalog = system.split("Catalog (authoritative prices in THB):", 1)[1].split("\n\n", 1)[0]
    return next((line for line in catalog.splitlines() if name in line), "")


def said(request: RecordedRequest) -> str:
    """Everything a Gemini request told the model: instructions and turns, as one text."""
    return json.dumps(request.body, ensure_ascii=False)


async def write(system: System, text: str) -> None:
    event = text_message_event(PAGE_ID, PSID, text)
    response = await post_webhook(system, meta_json(page_webhook(PAGE_ID, [event])))
    assert response.status_code == 200


async def next_reply(system: System, count: int) -> str:
    """The customer's `count`-th reply as Messenger received it."""
    got = await eventually(lambda: _at_least(system, count), timeout=40)
    return got[count - 1]


async def _at_least(system: System, count: int) -> list[str] | None:
    texts = await replies_to(system, PSID)
    return texts if len(texts) >= count else None


async def conversation(http: httpx.AsyncClient) -> dict[str, Any]:
    page = (await http.get("/api/v1/conversations", params={"limit": 100})).json()
    [mine] = [c for c in page["items"] if c["psid"] == PSID]
    found: dict[str, Any] = mine
    return found


@pytest.fixture
async def http(system: System) -> AsyncIterator[httpx.AsyncClient]:
    headers = await staff_token(system)
    async with httpx.AsyncClient(base_url=system.stack.url("gateway"), headers=headers, timeout=30) as client:
        yield client


async def test_replies_are_grounded_remember_the_conversation_and_hand_over_honestly(
    system: System, http: httpx.AsyncClient
) -> None:
    ids = await upload_knowledge(system, {"soba.md": SOBA_MD.encode(), "tempura.md": TEMPURA_MD.encode()})
    course = await http.post(
        "/api/v1/products",
        json={"kind": "course", "name_th": "หลักสูตรโซบะทำมือ", "name_en": "Handmade Soba", "price": "12900.00"},
    )
    assert course.status_code == 201, course.text

    # 1. a Thai price question, typed as customers type: the right passage and the catalog's price
    before = len(system.gemini.requests())
    await write(system, "คอสโซบะทำมือราคาเท่าไหร่คะ")
    first = await next_reply(system, 1)
    assert any("\u0e00" <= ch <= "\u0e7f" for ch in first)
    [asked] = reply_requests(system, before)
    assert SOBA_PASSAGE in said(asked), asked.body["systemInstruction"]
    assert "12,900" in catalog_line(asked, "Handmade Soba")

    # 2. staff change the price: the next reply's context carries the new one, no restart
    etag = (await http.get(f"/api/v1/products/{course.json()['id']}")).headers["etag"]
    changed = await http.patch(
        f"/api/v1/products/{course.json()['id']}", json={"price": "13500.00"}, headers={"If-Match": etag}
    )
    assert changed.status_code == 200, changed.text

    # 3. a follow-up that only makes sense with the earlier turns
    async def price_reached_ai() -> bool:
        before = len(system.gemini.requests())
        await write(system, "แล้วคอร์สนั้นเรียนกี่วันคะ")
        await next_reply(system, len(await replies_to(system, PSID)) + 1)
        [asked] = reply_requests(system, before)
        return "13,500" in catalog_line(asked, "Handmade Soba")

    # The price change travels as an event: the first follow-up may be composed before it lands.
    await eventually(price_reached_ai, timeout=60, interval=0.5)
    [*_, last] = reply_requests(system, 0)
    turns = last.body["contents"]
    assert len(turns) >= 3, "the earlier turns go with the new question"
    assert "คอสโซบะทำมือราคาเท่าไหร่คะ" in json.dumps(turns, ensure_ascii=False)
    assert turns[-1]["role"] == "user"
    assert "แล้วคอร์สนั้นเรียนกี่วันคะ" in json.dumps(turns[-1], ensure_ascii=False)

    # 4. an invented price never reaches the customer: staff get it with the reason
    sent = len(await replies_to(system, PSID))
    system.gemini.queue_reply(
        json.dumps(
            {
                "answer": "ตอนนี้ลดราคาเหลือ 4,990 บาทค่ะ",
                "used_passages": ["P1"],
                "needs_human": False,
                "reason": None,
                "language": "th",
                "quick_replies": [],
            },
            ensure_ascii=False,
        ),
        field="answer",
    )
    await write(system, "มีโปรลดราคาคอร์สโซบะไหมคะ")
    holding = await next_reply(system, sent + 1)
    assert "4,990" not in holding
    assert "4990" not in holding
    flagged = await eventually(lambda: _flagged(http), timeout=30)
    assert flagged["handover_reason"] == "unsupported_amount"

    # staff hand the conversation back to the AI
    back = await http.post(f"/api/v1/conversations/{flagged['id']}/handback")
    assert back.status_code in (200, 204), back.text

    # 5. a question the knowledge cannot answer: an honest holding reply and a reason for staff
    #    (if a passage looks close enough for the model to be asked, the model says it cannot
    #    answer, as a real one told the rules would)
    sent = len(await replies_to(system, PSID))
    cannot = {
        "answer": "ขออภัยค่ะ เรื่องนี้ไม่มีข้อมูลค่ะ",
        "used_passages": [],
        "needs_human": True,
        "reason": "visa questions are not in the school's documents",
        "language": "th",
        "quick_replies": [],
    }
    system.gemini.queue_reply(json.dumps(cannot, ensure_ascii=False), field="answer")
    await write(system, "ทางโรงเรียนช่วยทำวีซ่าทำงานที่ญี่ปุ่นให้ได้ไหมคะ")
    holding = await next_reply(system, sent + 1)
    assert "เจ้าหน้าที่" in holding
    flagged = await eventually(lambda: _flagged(http), timeout=30)
    assert flagged["handover_reason"] in ("no_relevant_knowledge", "model_needs_human")
    system.gemini.reset()  # the queued answer is not left for the next question when unused
    back = await http.post(f"/api/v1/conversations/{flagged['id']}/handback")
    assert back.status_code in (200, 204), back.text

    # 6. a deleted document is gone from the next reply
    deleted = await http.delete(f"/api/v1/knowledge/documents/{ids['tempura.md']}")
    assert deleted.status_code == 204, deleted.text
    before = len(system.gemini.requests())
    sent = len(await replies_to(system, PSID))
    await write(system, "คอร์สเทมปุระสอนอะไรบ้างคะ")
    await next_reply(system, sent + 1)
    assert not any(TEMPURA_PASSAGE in said(r) for r in reply_requests(system, before))

    # 7. the lead's score and insights are in the 360
    customer = await eventually(lambda: customer_for(system, PSID), timeout=20)

    async def scored() -> dict[str, Any] | None:
        view = (await http.get(f"/api/v1/customers/{customer['customer_id']}/overview")).json()
        lead = view["customer"].get("lead") or {}
        found: dict[str, Any] = view
        return found if lead.get("score") is not None and view.get("insights") else None

    view = await eventually(scored, timeout=60, interval=0.5)
    lead = view["customer"]["lead"]
    assert lead["temperature"] in ("hot", "warm"), lead
    assert "asked_price" in [r["signal"] for r in lead["reasons"]], lead
    assert view["insights"]["summary"]


async def _flagged(http: httpx.AsyncClient) -> dict[str, Any] | None:
    mine = await conversation(http)
    return mine if mine["needs_human"] else None
