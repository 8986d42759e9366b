"""Leads as staff see them: scores with reasons on `lead.scored`, decay of quiet leads, and
insights on `customer.insights_updated`, through the real broker, database and Gemini fake."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import text

from crm_ai.app import create_app
from crm_ai.config import AiSettings
from crm_contracts import (
    AdReferral,
    ContactSeen,
    ContactSeenData,
    Event,
    MessageReceived,
    MessageReceivedData,
    ProductChanged,
    ProductChangedData,
)
from crm_fakes import FakeServer, GeminiState, create_gemini_app
from crm_servicekit.migrations import upgrade
from crm_servicekit.settings import ServiceSettings
from crm_servicekit.testing import EventRecorder, eventually, publish_events

pytestmark = pytest.mark.integration

KEY = "test-gemini-key"
PAGE = "111222333"
AD = AdReferral(source="ADS", type="OPEN_THREAD", ad_id="120210000000001", ad_title="Wagyu omakase")


@pytest.fixture(scope="module")
def gemini() -> Iterator[tuple[str, GeminiState]]:
    state = GeminiState(api_key=KEY)
    with FakeServer(create_gemini_app(state)) as server:
        yield server.url, state


@dataclass
class Ai:
    app: FastAPI
    events: EventRecorder
    gemini: GeminiState

    async def publish(self, event: Event) -> None:
        await publish_events(self.app.state.runtime.broker, event)

    async def sql(self, statement: str, **params: Any) -> list[Any]:
        async with self.app.state.runtime.sessionmaker() as session:
            result = await session.execute(text(statement), params)
            rows = list(result.all()) if result.returns_rows else []
            await session.commit()
            return rows

    def of(self, type_: str, psid: str) -> list[dict[str, Any]]:
        return [e for e in self.events.of_type(type_) if e["data"]["psid"] == psid]

    async def next_of(self, type_: str, psid: str, count: int) -> list[dict[str, Any]]:
        async def arrived() -> list[dict[str, Any]]:
            found = self.of(type_, psid)
            return found if len(found) >= count else []

        return await eventually(arrived, timeout=20)


@asynccontextmanager
async def running(
    database_url: str, rabbitmq_url: str, gemini: tuple[str, GeminiState], **extra: Any
) -> AsyncIterator[Ai]:
    url, state = gemini
    state.reset()
    await asyncio.to_thread(upgrade, "crm_ai", ServiceSettings(database_url=database_url).async_database_url)
    settings = AiSettings(
        database_url=database_url,
        rabbitmq_url=rabbitmq_url,
        google_gemini_base_url=url,
        crm_internal_token=SecretStr("test-internal-token"),
        ai_leads_decay_sweep_seconds=0.2,
        ai_insights_sweep_seconds=0.2,
        **{"gemini_api_key": SecretStr(KEY), **extra},
    )
    app = create_app(settings)
    async with EventRecorder(rabbitmq_url) as events, app.router.lifespan_context(app):
        yield Ai(app, events, state)


@pytest.fixture
async def ai(database_url: str, rabbitmq_url: str, gemini: tuple[str, GeminiState]) -> AsyncIterator[Ai]:
    async with running(database_url, rabbitmq_url, gemini) as ai:
        yield ai


def psid() -> str:
    return str(uuid.uuid4().int)[:16]


def contact(user: str, conversation: uuid.UUID, referral: AdReferral | None = AD) -> ContactSeen:
    return ContactSeen(
        correlation_id=f"seen-{user}",
        data=ContactSeenData(
            page_id=PAGE,
            psid=user,
            conversation_id=conversation,
            first_seen_at=datetime.now(UTC),
            referral=referral,
        ),
    )


def message(user: str, conversation: uuid.UUID, text_: str, mode: str = "ai") -> MessageReceived:
    mid = f"m_{uuid.uuid4().hex}"
    return MessageReceived(
        correlation_id=mid,
        data=MessageReceivedData(
            message_id=uuid.uuid4(),
            conversation_id=conversation,
            page_id=PAGE,
            psid=user,
            mid=mid,
            text=text_,
            sent_at=datetime.now(UTC),
            conversation_mode=mode,  # type: ignore[arg-type]
        ),
    )


async def a_course(ai: Ai) -> uuid.UUID:
    product_id = uuid.uuid4()
    tag = product_id.hex[:6]
    await ai.publish(
        ProductChanged(
            correlation_id="catalog",
            data=ProductChangedData(
                product_id=product_id,
                kind="course",
                name_th=f"คอร์สวากิวโอมากาเสะ{tag}",
                name_en=f"Wagyu Omakase {tag}",
                price=Decimal("15900.00"),
                active=True,
                changed_at=datetime.now(UTC),
            ),
        )
    )
    await eventually(
        lambda: ai.sql("SELECT 1 FROM ai.catalog_products WHERE product_id = :id", id=product_id), timeout=15
    )
    return product_id


def reasons(event: dict[str, Any]) -> list[str]:
    return [r["signal"] for r in event["data"]["reasons"]]


async def test_a_thai_price_question_from_an_ad_makes_a_warm_then_hot_lead_with_reasons(ai: Ai) -> None:
    user, conversation = psid(), uuid.uuid4()
    await ai.publish(contact(user, conversation))
    [seen] = await ai.next_of("lead.scored", user, 1)
    assert (seen["data"]["score"], seen["data"]["temperature"], seen["data"]["previous_score"]) == (
        15,
        "cold",
        None,
    )
    assert seen["data"]["reasons"] == [
        {"signal": "from_ad", "label": "came from a Facebook ad", "points": 15}
    ]

    asked = message(user, conversation, "คอร์สซูชิราคาเท่าไหร่คะ")
    await ai.publish(asked)
    warm = (await ai.next_of("lead.scored", user, 2))[-1]["data"]
    assert (warm["temperature"], warm["previous_score"], warm["conversation_id"]) == (
        "warm",
        15,
        str(conversation),
    )
    assert warm["score"] == 15 + 20 + 10 + 3 + 10
    assert warm["reasons"][0] == {"signal": "asked_price", "label": "asked about the price", "points": 20}
    assert [r["points"] for r in warm["reasons"]] == sorted(
        (r["points"] for r in warm["reasons"]), reverse=True
    )

    # Redelivered: no second effect. Then how to pay (and a phone number) makes the lead hot.
    await ai.publish(asked)
    await ai.publish(message(user, conversation, "โอนยังไงคะ เบอร์ 081-234-5678 ค่ะ"))
    hot = (await ai.next_of("lead.scored", user, 3))[-1]["data"]
    assert (hot["temperature"], hot["previous_score"]) == ("hot", warm["score"])
    assert {"asked_payment", "gave_phone"} <= {r["signal"] for r in hot["reasons"]}
    [row] = await ai.sql(
        "SELECT message_count, score, signals::text AS signals FROM ai.lead_scores WHERE psid = :p", p=user
    )
    assert (row.message_count, row.score) == (2, hot["score"])
    assert "081" not in row.signals, "signals only, never the phone number"
    assert "โอน" not in row.signals, "signals only, never the text"
    assert len(ai.of("lead.scored", user)) == 3


async def test_standby_messages_do_not_score_and_human_mode_ones_do(ai: Ai) -> None:
    user, conversation = psid(), uuid.uuid4()
    standby = message(user, conversation, "ราคาเท่าไหร่คะ")
    await ai.publish(standby.model_copy(update={"data": standby.data.model_copy(update={"standby": True})}))
    await ai.publish(message(user, conversation, "ผ่อนได้ไหมคะ", mode="human"))
    [scored] = await ai.next_of("lead.scored", user, 1)
    await ai.publish(message(user, conversation, "อยู่ตรงไหนคะ", mode="human"))
    [_, located] = await ai.next_of("lead.scored", user, 2)
    assert reasons(scored)[0] == "asked_installments"
    assert {"asked_installments", "asked_location"} <= set(reasons(located))
    assert "asked_price" not in reasons(scored) + reasons(located), "another app answers standby threads"
    [row] = await ai.sql("SELECT message_count FROM ai.lead_scores WHERE psid = :p", p=user)
    assert row.message_count == 2


async def test_a_quiet_lead_decays_and_the_lower_score_is_published_once(ai: Ai) -> None:
    user, conversation = psid(), uuid.uuid4()
    await ai.publish(message(user, conversation, "เปิดรอบหน้าวันไหนคะ"))
    [first] = await ai.next_of("lead.scored", user, 1)
    assert first["data"]["score"] == 15 + 3 + 10
    # Two days pass without a word from the customer.
    await ai.sql(
        "UPDATE ai.lead_scores SET last_activity_at = last_activity_at - interval '2 days 1 hour',"
        " last_message_at = last_message_at - interval '2 days 1 hour',"
        " message_times = ARRAY(SELECT t - interval '2 days 1 hour' FROM unnest(message_times) t)"
        " WHERE psid = :p",
        p=user,
    )
    decayed = (await ai.next_of("lead.scored", user, 2))[-1]["data"]
    assert (decayed["previous_score"], decayed["score"]) == (28, 15 + 3 - 10)
    assert {"signal": "quiet", "label": "quiet for 2 days", "points": -10} in decayed["reasons"]
    leads = ai.app.state.runtime.extras["leads"]
    assert await leads.decay() == 0, "nothing changed since: nothing more is published"
    assert len(ai.of("lead.scored", user)) == 2


async def test_insights_from_gemini_once_the_conversation_goes_quiet(ai: Ai) -> None:
    course = await a_course(ai)
    name = (await ai.sql("SELECT name_th FROM ai.catalog_products WHERE product_id = :id", id=course))[0][0]
    user, conversation = psid(), uuid.uuid4()
    await ai.publish(contact(user, conversation))
    for said in (f"{name}ราคาเท่าไหร่คะ", "ผ่อนได้ไหมคะ เรียนวันเสาร์"):
        await ai.publish(message(user, conversation, said))
    await ai.events.wait_for("reply.generated", count=2)
    await ai.next_of("lead.scored", user, 3)
    answer = {
        "intent": "enrol",
        "courses": [name],
        "preferred_schedule": "Saturdays",
        "budget": "asked about installments",
        "objections": [],
        "language": "th",
        "next_best_action": "Send the installment plan and the next Saturday round.",
        "summary": "Came from an ad, asked the price of the wagyu course and about installments.",
    }
    ai.gemini.queue_reply(json.dumps(answer, ensure_ascii=False))

    async def both_messages_counted() -> bool:
        found = await ai.sql("SELECT message_count FROM ai.lead_scores WHERE psid = :p", p=user)
        return bool(found) and found[0][0] == 2

    # Both messages are on the lead (one applied later would move its last message time back).
    await eventually(both_messages_counted, timeout=20)
    # Half an hour passes without a message.
    await ai.sql(
        "UPDATE ai.lead_scores SET last_message_at = last_message_at - interval '31 minutes' WHERE psid = :p",
        p=user,
    )
    [insights] = await ai.next_of("customer.insights_updated", user, 1)
    data = insights["data"]
    assert (data["source"], data["intent"], data["preferred_schedule"]) == ("gemini", "enrol", "Saturdays")
    assert data["interested_product_ids"] == [str(course)]
    assert (data["conversation_id"], data["language"], data["budget"]) == (
        str(conversation),
        "th",
        "asked about installments",
    )
    prompt = ai.gemini.requests()[-1].body["contents"][-1]["parts"][0]["text"]
    assert "ผ่อนได้ไหมคะ" in prompt, "the model read the conversation"
    [stored] = await ai.sql("SELECT summary, source FROM ai.customer_insights WHERE psid = :p", p=user)
    assert tuple(stored) == (answer["summary"], "gemini")
    assert await ai.app.state.runtime.extras["leads"].quiet_insights() == 0, "no new messages: not again"


async def test_without_a_key_rules_write_insights_every_few_messages(
    database_url: str, rabbitmq_url: str, gemini: tuple[str, GeminiState]
) -> None:
    extra = {"gemini_api_key": SecretStr(""), "ai_insights_every_messages": 2}
    async with running(database_url, rabbitmq_url, gemini, **extra) as ai:
        user, conversation = psid(), uuid.uuid4()
        await ai.publish(message(user, conversation, "คอร์สราเมงราคาเท่าไหร่คะ"))
        await ai.next_of("lead.scored", user, 1)
        await ai.publish(message(user, conversation, "ผ่อนได้ไหมคะ แพงจัง"))
        [insights] = await ai.next_of("customer.insights_updated", user, 1)
    data = insights["data"]
    assert data["source"] == "rules"
    assert (data["intent"], data["language"]) == ("compare prices", "th")
    assert data["budget"] == "asked about installments; finds the price high"
    assert data["objections"] == ["finds the price high"]
    assert "asked about the price" in data["summary"]
    assert ai.gemini.requests() == [], "no key: the model is never called"
