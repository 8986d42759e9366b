"""Insights from the real google-genai SDK talking to the Gemini fake, and the rules without it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from pydantic import SecretStr

from crm_ai.config import AiSettings
from crm_ai.leads.insights import GeminiWriter, Lead, RulesWriter, create_writer
from crm_fakes import FakeServer, GeminiState, create_gemini_app

KEY = "test-gemini-key"
LEAD = Lead(
    page_id="111222333",
    psid="5550001112223334",
    conversation_id=uuid.uuid4(),
    signals=frozenset({"asked_price", "asked_installments", "named_course"}),
    product_ids=(),
    language="th",
    message_count=3,
)
ANSWER = {
    "intent": "enrol",
    "courses": ["Sushi Masterclass"],
    "preferred_schedule": "weekends",
    "budget": "asked about installments",
    "objections": ["price"],
    "language": "th",
    "next_best_action": "Send the installment plan and the next weekend round.",
    "summary": "Came from an ad and asked the price of the sushi course; wants to pay in installments.",
}


@dataclass(frozen=True)
class Turn:
    author: str
    text: str


TURNS = [
    Turn("customer", "คอร์สซูชิราคาเท่าไหร่คะ"),
    Turn("ai", "คอร์สซูชิ 15,900 บาทค่ะ"),
    Turn("customer", "ผ่อนได้ไหมคะ เรียนเสาร์อาทิตย์"),
]


@pytest.fixture(scope="module")
def gemini() -> Iterator[tuple[str, GeminiState]]:
    state = GeminiState(api_key=KEY)
    with FakeServer(create_gemini_app(state)) as server:
        yield server.url, state


def settings(url: str, **extra: object) -> AiSettings:
    return AiSettings(
        gemini_api_key=SecretStr(KEY),
        google_gemini_base_url=url,
        gemini_retry_initial_delay_seconds=0.01,
        gemini_retry_max_delay_seconds=0.05,
        **extra,  # type: ignore[arg-type]
    )


async def test_gemini_reads_the_conversation_and_answers_structured_insights(
    gemini: tuple[str, GeminiState],
) -> None:
    url, state = gemini
    state.reset()
    state.queue_reply(json.dumps(ANSWER, ensure_ascii=False))
    writer = GeminiWriter(settings(url))
    draft = await writer.write(LEAD, TURNS)
    await writer.aclose()
    assert draft.source == "gemini"
    assert (draft.intent, draft.preferred_schedule, draft.budget) == (
        "enrol",
        "weekends",
        "asked about installments",
    )
    assert draft.products == ("Sushi Masterclass",)
    assert draft.objections == ("price",)
    assert draft.summary == ANSWER["summary"]
    [request] = state.requests()
    config = request.body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    schema = config.get("responseSchema") or config.get("responseJsonSchema")
    assert {"intent", "summary", "next_best_action"} <= set(schema["properties"])
    prompt = request.body["contents"][-1]["parts"][0]["text"]
    assert "Customer: ผ่อนได้ไหมคะ" in prompt
    assert "School: คอร์สซูชิ" in prompt


async def test_a_model_that_keeps_failing_or_answers_garbage_falls_back_to_the_rules(
    gemini: tuple[str, GeminiState],
) -> None:
    url, state = gemini
    state.reset()
    state.fail_next(503, times=5)
    writer = GeminiWriter(settings(url, gemini_attempts=2))
    failed = await writer.write(LEAD, TURNS)
    state.queue_reply('{"intent": "enrol", "summ')  # cut off at max tokens
    garbled = await writer.write(LEAD, TURNS)
    await writer.aclose()
    for draft in (failed, garbled):
        assert draft.source == "rules"
        assert draft.budget == "asked about installments"
        assert draft.intent == "compare prices"


async def test_without_a_key_the_rules_write_the_insights() -> None:
    writer = create_writer(AiSettings(gemini_api_key=SecretStr("")))
    assert isinstance(writer, RulesWriter)
    draft = await writer.write(LEAD, TURNS)
    assert (draft.source, draft.language) == ("rules", "th")
