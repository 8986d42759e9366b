"""What the model is given: the passage that answers, the catalog's current price, the thread."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from crm_ai.memory import service as memory
from crm_contracts import PackageItemRef
from crm_servicekit.testing import eventually

from .conftest import Ai, Passage, system_of

pytestmark = pytest.mark.integration

SUSHI = Passage(
    document_title="คอร์สเรียน V School",
    heading_path=("คอร์สซูชิ", "รายละเอียด"),
    text="คอร์สซูชิ เรียน 3 ครั้ง ครั้งละ 3 ชั่วโมง สอนโดยเชฟชาวญี่ปุ่น เปิดรับทุกเดือน",
)


async def test_a_thai_price_question_gets_the_passage_and_the_catalogs_current_price(ai: Ai) -> None:
    await ai.product("คอร์สซูชิ", "12900.00", name_en="Sushi Course")
    ai.passages.found = [SUSHI, Passage("เรื่องอื่น", ("ที่จอดรถ",), "ที่จอดรถอยู่ชั้น B1", relevant=False)]

    asked = await ai.ask("คอสซูชิราคาเท่าไหร่คะ")  # spelt the way customers type it
    reply = await ai.reply_to(asked)

    request = ai.request_for(asked)
    system = system_of(request)
    assert "Catalog (authoritative prices in THB)" in system
    assert "- คอร์สซูชิ / Sushi Course (course): 12,900 THB" in system
    assert "[P1] คอร์สเรียน V School › คอร์สซูชิ › รายละเอียด: คอร์สซูชิ เรียน 3 ครั้ง" in system
    assert "ที่จอดรถ" not in system, "a passage that is not relevant is not shown to the model"
    assert "คอสซูชิราคาเท่าไหร่คะ" not in system, "the customer's words stay in the user turn"
    assert request.body["contents"] == [{"role": "user", "parts": [{"text": "คอสซูชิราคาเท่าไหร่คะ"}]}]
    config = request.body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert set(config["responseSchema"]["properties"]) >= {
        "answer",
        "used_passages",
        "needs_human",
        "language",
    }

    assert reply["handover"] is False
    assert reply["language"] == "th"
    assert reply["generated_by"] == "gemini"
    assert [(s["document_id"], s["title"], s["heading_path"]) for s in reply["sources"]] == [
        (str(SUSHI.document_id), SUSHI.document_title, list(SUSHI.heading_path))
    ]
    assert "text" not in reply["sources"][0], "sources say where from, never the text"


async def test_a_price_change_reaches_the_next_reply_and_a_late_older_change_does_not(ai: Ai) -> None:
    ramen = await ai.product("คอร์สราเมง", "8500", name_en="Ramen Masterclass")
    first = await ai.ask("ราเมนราคาเท่าไหร่คะ")
    await ai.reply_to(first)
    assert "8,500 THB" in system_of(ai.request_for(first))

    now = datetime.now(UTC)
    await ai.product("คอร์สราเมง", "9200", name_en="Ramen Masterclass", product_id=ramen, changed_at=now)
    # An older change delivered late (a redelivery, another replica) must not bring 7,000 back.
    await ai.product(
        "คอร์สราเมง",
        "7000",
        name_en="Ramen Masterclass",
        product_id=ramen,
        changed_at=now - timedelta(hours=1),
    )
    second = await ai.ask("How much is the ramen masterclass now?")
    await ai.reply_to(second)
    system = system_of(ai.request_for(second))
    assert "- คอร์สราเมง / Ramen Masterclass (course): 9,200 THB" in system
    assert "8,500" not in system
    assert "7,000" not in system


async def test_a_package_is_listed_with_its_courses(ai: Ai) -> None:
    tempura = await ai.product("คอร์สเทมปุระ", "4500")
    await ai.product(
        "แพ็กเกจเทมปุระและโซบะ",
        "7900",
        kind="package",
        items=[
            PackageItemRef(product_id=tempura, name_th="คอร์สเทมปุระ"),
            PackageItemRef(product_id=uuid.uuid4(), name_th="คอร์สโซบะ", quantity=2),
        ],
    )
    asked = await ai.ask("แพ็กเกจโซบะมีอะไรบ้างคะ")
    await ai.reply_to(asked)
    assert "- แพ็กเกจเทมปุระและโซบะ (package): 7,900 THB; includes: คอร์สเทมปุระ, คอร์สโซบะ x2" in system_of(
        ai.request_for(asked)
    )


async def test_a_follow_up_carries_the_earlier_turns_as_a_conversation(ai: Ai) -> None:
    await ai.product("คอร์สมีดญี่ปุ่น", "3500", name_en="Japanese Knife Skills")
    conversation = uuid.uuid4()
    first = await ai.ask("สนใจคอร์สมีดญี่ปุ่นค่ะ", conversation_id=conversation)
    reply = await ai.reply_to(first)
    await ai.sent(first, reply["text"], "ai", later=1)
    await ai.sent(first, "เสาร์นี้มีที่ว่าง 2 ที่ค่ะ", "staff", later=2)
    ai.gemini.queue_reply(
        '{"answer": "ได้เลยค่ะ", "used_passages": [], "needs_human": false, "reason": null, '
        '"language": "th", "quick_replies": []}'
    )

    async def remembered() -> bool:
        async with ai.app.state.runtime.uow() as uow:
            return len(await memory.recent(uow.session, conversation)) == 3

    await eventually(remembered, timeout=10)
    follow_up = await ai.ask("แล้ววันอาทิตย์ล่ะคะ", conversation_id=conversation)
    await ai.reply_to(follow_up)

    contents = ai.request_for(follow_up).body["contents"]
    assert [(c["role"], [p["text"] for p in c["parts"]]) for c in contents] == [
        ("user", ["สนใจคอร์สมีดญี่ปุ่นค่ะ"]),
        ("model", [reply["text"], "[Staff] เสาร์นี้มีที่ว่าง 2 ที่ค่ะ"]),
        ("user", ["แล้ววันอาทิตย์ล่ะคะ"]),
    ], "oldest first, staff marked, the new message last and once"
    # The product named three turns ago still grounds the answer to "and Sunday?".
    assert "3,500 THB" in system_of(ai.request_for(follow_up))
    assert ai.passages.queries[-1] == "สนใจคอร์สมีดญี่ปุ่นค่ะ\nแล้ววันอาทิตย์ล่ะคะ"
