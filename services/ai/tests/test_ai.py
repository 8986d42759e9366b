"""Replies a customer would get, from the real google-genai SDK talking to the Gemini fake."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from crm_ai.app import create_app
from crm_ai.config import AiSettings
from crm_ai.gemini import retryable
from crm_ai.replies.compose import Composed
from crm_ai.replies.grounding import Grounding
from crm_ai.replies.language import detect_language
from crm_ai.replies.prompts import contents, system_instruction
from crm_ai.replies.responder import (
    GeminiResponder,
    OfflineResponder,
    Prompt,
    Reply,
    Responder,
    parse_answer,
)
from crm_contracts import MessageReceived, MessageReceivedData
from crm_fakes import FakeServer, GeminiState, create_gemini_app
from crm_servicekit.logging import configure_logging
from crm_servicekit.migrations import upgrade
from crm_servicekit.settings import ServiceSettings
from crm_servicekit.testing import EventRecorder
from crm_servicekit.testproxy import TcpProxy

KEY = "test-gemini-key"


@pytest.fixture(scope="module")
def gemini() -> Iterator[tuple[str, GeminiState]]:
    state = GeminiState(api_key=KEY)
    with FakeServer(create_gemini_app(state)) as server:
        yield server.url, state


@dataclass(frozen=True)
class Passage:
    text: str = "V School teaches sushi, ramen and Japanese home cooking. สอนซูชิและราเมง 寿司とラーメン"
    document_title: str = "Courses"
    heading_path: tuple[str, ...] = ("Overview",)
    relevant: bool = True
    score: float = 0.03
    chunk_id: uuid.UUID = field(default_factory=uuid.uuid4)
    document_id: uuid.UUID = field(default_factory=uuid.uuid4)


async def one_passage(query: str, *, limit: int = 5) -> Sequence[Passage]:
    """The knowledge base finds the school's overview for any question."""
    return [Passage()]


def grounded(app: FastAPI) -> FastAPI:
    """Replies in this app have a relevant passage to stand on (so the model is asked)."""
    app.state.runtime.extras["knowledge"].retriever.search = one_passage
    return app


async def reply(responder: Responder, text: str) -> Reply:
    """The reply to `text` with one passage and no earlier turns, as the service composes it."""
    grounding = Grounding(passages=(Passage(),), ids={"P1": Passage()})
    generated = await responder.generate(Prompt(system_instruction(grounding), contents([], text)))
    return Composed(detect_language(text), grounding, generated).reply(text)


def settings(url: str, **extra: object) -> AiSettings:
    return AiSettings(
        gemini_api_key=SecretStr(KEY),
        google_gemini_base_url=url,
        gemini_retry_initial_delay_seconds=0.01,
        gemini_retry_max_delay_seconds=0.05,
        **extra,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("text", "language"),
    [("สวัสดีค่ะ", "th"), ("寿司のコースはありますか", "ja"), ("How much is the ramen course?", "en")],
)
def test_language_follows_the_customers_script(text: str, language: str) -> None:
    assert detect_language(text) == language


async def test_thai_question_gets_a_thai_answer_with_our_system_prompt(
    gemini: tuple[str, GeminiState],
) -> None:
    url, state = gemini
    state.reset()
    responder = GeminiResponder(settings(url))
    answer = await reply(responder, "คอร์สซูชิราคาเท่าไหร่คะ")
    await responder.aclose()
    assert answer.generated_by == "gemini"
    assert answer.language == "th"
    assert not answer.handover
    assert any("\u0e00" <= ch <= "\u0e7f" for ch in answer.text)
    [request] = state.requests()
    system = request.body["systemInstruction"]["parts"][0]["text"]
    assert "V School" in system
    assert "Never invent prices" in system
    assert request.body["generationConfig"]["responseMimeType"] == "application/json"


async def test_overloaded_model_is_retried_then_answers(gemini: tuple[str, GeminiState]) -> None:
    url, state = gemini
    state.reset()
    state.fail_next(503, times=2)
    responder = GeminiResponder(settings(url))
    answer = await reply(responder, "Do you teach ramen?")
    await responder.aclose()
    assert answer.generated_by == "gemini"
    assert len(state.requests()) == 3


async def test_model_down_past_retries_hands_over_to_staff_honestly(gemini: tuple[str, GeminiState]) -> None:
    url, state = gemini
    state.reset()
    state.fail_next(429, times=10)
    responder = GeminiResponder(settings(url, gemini_attempts=3))
    answer = await reply(responder, "สมัครเรียนยังไงคะ")
    await responder.aclose()
    assert answer.handover
    assert answer.handover_reason == "ai_unavailable"
    assert answer.language == "th"
    assert "เจ้าหน้าที่" in answer.text, "says a staff member will follow up, in Thai"
    assert len(state.requests()) == 3


async def test_without_a_key_the_offline_responder_flags_a_human() -> None:
    answer = await reply(OfflineResponder(), "Hello, can I book a class?")
    assert answer.handover
    assert answer.generated_by == "offline"
    assert "staff" in answer.text


@pytest.mark.integration
async def test_one_reply_per_message_even_when_the_broker_redelivers(
    database_url: str, rabbitmq_url: str, gemini: tuple[str, GeminiState]
) -> None:
    url, state = gemini
    state.reset()
    await asyncio.to_thread(upgrade, "crm_ai", ServiceSettings(database_url=database_url).async_database_url)
    app = grounded(create_app(settings(url, database_url=database_url, rabbitmq_url=rabbitmq_url)))
    event = MessageReceived(
        correlation_id="m_1",
        data=MessageReceivedData(
            message_id=uuid.uuid4(),
            conversation_id=uuid.uuid4(),
            page_id="p",
            psid="u",
            mid="m_1",
            text="寿司のコースはいくらですか",
            sent_at=datetime.now(UTC),
            conversation_mode="ai",
        ),
    )
    quiet = MessageReceived(
        correlation_id="m_2",
        data=event.data.model_copy(update={"mid": "m_2", "conversation_mode": "human"}),
    )
    sentinel = MessageReceived(correlation_id="m_3", data=event.data.model_copy(update={"mid": "m_3"}))
    async with EventRecorder(rabbitmq_url) as events, app.router.lifespan_context(app):
        broker = app.state.runtime.broker
        for e in (event, event, quiet, sentinel):
            await broker.publish(
                e.model_dump_json().encode(),
                exchange="crm.events",
                routing_key=e.type,
                message_id=str(e.event_id),
            )
        replies = await events.wait_for("reply.generated", count=2)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ai") as http:
            assert (await http.get("/readyz")).json()["status"] == "ok"
    answered = [r["data"]["in_reply_to_mid"] for r in replies]
    assert sorted(answered) == ["m_1", "m_3"], "one reply each; none while staff handle the chat"
    first = next(r for r in replies if r["data"]["in_reply_to_mid"] == "m_1")
    assert first["data"]["language"] == "ja"
    assert first["correlation_id"] == "m_1"
    # Two concurrent deliveries may both ask the model; the inbox claim lets only one reply out.
    assert all(r.traceparent for r in state.requests()), "the trace continues into the model call"


def test_quick_replies_keep_at_most_five_short_choices_and_a_cut_answer_is_no_answer() -> None:
    body = {
        "answer": "สนใจคอร์สไหนคะ",
        "language": "th",
        "quick_replies": ["ซูชิ", "ราเมง", "This one is far too long to fit", "A", "B", "C", "D"],
    }
    parsed = parse_answer(json.dumps(body, ensure_ascii=False), "STOP")
    assert parsed is not None
    assert parsed.quick_replies == ["ซูชิ", "ราเมง", "A", "B", "C"]
    assert parse_answer(json.dumps(body, ensure_ascii=False), "MAX_TOKENS") is None
    assert parse_answer('{"answer": "สนใจ', None) is None


async def test_gemini_choices_reach_the_reply_as_quick_replies(gemini: tuple[str, GeminiState]) -> None:
    url, state = gemini
    state.reset()
    state.queue_reply(
        json.dumps(
            {
                "answer": "Which course would you like?",
                "used_passages": ["P1"],
                "needs_human": False,
                "language": "en",
                "quick_replies": ["Sushi", "Ramen"],
            }
        )
    )
    responder = GeminiResponder(settings(url))
    answer = await reply(responder, "What courses do you have?")
    await responder.aclose()
    assert answer.text == "Which course would you like?"
    assert answer.quick_replies == ("Sushi", "Ramen")


@pytest.mark.integration
async def test_asking_for_a_person_gets_an_acknowledgement_without_the_model_and_standby_gets_nothing(
    database_url: str, rabbitmq_url: str, gemini: tuple[str, GeminiState]
) -> None:
    url, state = gemini
    state.reset()
    await asyncio.to_thread(upgrade, "crm_ai", ServiceSettings(database_url=database_url).async_database_url)
    app = grounded(create_app(settings(url, database_url=database_url, rabbitmq_url=rabbitmq_url)))
    base = MessageReceivedData(
        message_id=uuid.uuid4(),
        conversation_id=uuid.uuid4(),
        page_id="p",
        psid="u2",
        mid="m_person",
        text="ขอคุยกับเจ้าหน้าที่ค่ะ",
        sent_at=datetime.now(UTC),
        conversation_mode="ai",
        handover_requested=True,
    )
    person = MessageReceived(correlation_id="m_person", data=base)
    standby = MessageReceived(
        correlation_id="m_standby",
        data=base.model_copy(update={"mid": "m_standby", "handover_requested": False, "standby": True}),
    )
    sentinel = MessageReceived(
        correlation_id="m_after", data=base.model_copy(update={"mid": "m_after", "handover_requested": False})
    )
    async with EventRecorder(rabbitmq_url) as events, app.router.lifespan_context(app):
        broker = app.state.runtime.broker
        for e in (person, standby, sentinel):
            await broker.publish(
                e.model_dump_json().encode(),
                exchange="crm.events",
                routing_key=e.type,
                message_id=str(e.event_id),
            )
        replies = await events.wait_for("reply.generated", count=2)
    by_mid = {r["data"]["in_reply_to_mid"]: r["data"] for r in replies}
    assert set(by_mid) == {"m_person", "m_after"}, "nothing for a message under standby"
    ack = by_mid["m_person"]
    assert ack["handover"] is True
    assert ack["handover_reason"] == "customer_requested"
    assert "เจ้าหน้าที่" in ack["text"]
    assert len(state.requests()) == 1, "only the ordinary message asked the model"


@pytest.fixture
def retries(caplog: pytest.LogCaptureFixture) -> Callable[[], list[str]]:
    """The error class of each retry the responder logged (logging set up as a service does)."""
    configure_logging("crm-ai")

    def logged() -> list[str]:
        lines = [r.msg for r in caplog.records if isinstance(r.msg, dict)]
        return [line["error"] for line in lines if line["event"] == "gemini call failed; trying again"]

    return logged


# How a dropped connection surfaces depends on where the client was when it went: reading the
# answer (ReadError), or told the server closed without one (RemoteProtocolError). Either is retried.
DROPPED = {"ReadError", "RemoteProtocolError", "WriteError"}


@pytest.mark.parametrize("reset", [True, False], ids=["connection-reset", "closed-without-answer"])
async def test_a_connection_dropped_once_is_retried_and_the_customer_gets_the_real_answer(
    gemini: tuple[str, GeminiState], retries: Callable[[], list[str]], reset: bool
) -> None:
    url, state = gemini
    state.reset()
    with TcpProxy.for_url(url) as network:
        network.drop_next(1, reset=reset)
        responder = GeminiResponder(settings(network.url(url)))
        answer = await reply(responder, "How much is the ramen course?")
        await responder.aclose()
    assert answer.generated_by == "gemini"
    assert not answer.handover
    assert answer.handover_reason is None
    assert network.accepted == 2, "the dropped connection, then the retry"
    assert len(state.requests()) == 1, "the model answered once: the first request never reached it"
    [dropped] = retries()
    assert dropped in DROPPED


async def test_a_model_that_cannot_be_reached_is_tried_a_bounded_number_of_times_then_staff_take_over(
    retries: Callable[[], list[str]],
) -> None:
    with TcpProxy("127.0.0.1", 9) as network:
        network.cut()  # its port refuses connections, like a host that is down
        responder = GeminiResponder(settings(network.url("http://127.0.0.1"), gemini_attempts=3))
        answer = await asyncio.wait_for(reply(responder, "ราคาคอร์สเท่าไหร่คะ"), 10)
        await responder.aclose()
    assert answer.handover
    assert answer.handover_reason == "ai_unavailable"
    assert answer.language == "th"
    assert retries() == ["ConnectError"] * 2, "three tries: two retries, then the handover"


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (httpx.ReadError("connection reset"), True),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), True),
        (httpx.ConnectError("refused"), True),
        (httpx.ReadTimeout("timed out"), True),
        (httpx.UnsupportedProtocol("Request URL has an unsupported protocol 'ftp://'."), False),
        (ValueError("not a transport error"), False),
    ],
)
def test_which_failures_are_worth_another_try(error: Exception, retried: bool) -> None:
    assert retryable(error) is retried
    wrapped = RuntimeError("the SDK's wrapper")
    wrapped.__cause__ = error
    assert retryable(wrapped) is retried


@pytest.mark.integration
async def test_a_dropped_connection_still_ends_in_the_models_reply_not_a_handover(
    database_url: str, rabbitmq_url: str, gemini: tuple[str, GeminiState]
) -> None:
    url, state = gemini
    state.reset()
    await asyncio.to_thread(upgrade, "crm_ai", ServiceSettings(database_url=database_url).async_database_url)
    event = MessageReceived(
        correlation_id="m_drop",
        data=MessageReceivedData(
            message_id=uuid.uuid4(),
            conversation_id=uuid.uuid4(),
            page_id="p",
            psid="u_drop",
            mid="m_drop",
            text="Do you teach ramen?",
            sent_at=datetime.now(UTC),
            conversation_mode="ai",
        ),
    )
    with TcpProxy.for_url(url) as network:
        network.drop_next(1)
        app = grounded(
            create_app(settings(network.url(url), database_url=database_url, rabbitmq_url=rabbitmq_url))
        )
        async with EventRecorder(rabbitmq_url) as events, app.router.lifespan_context(app):
            await app.state.runtime.broker.publish(
                event.model_dump_json().encode(),
                exchange="crm.events",
                routing_key=event.type,
                message_id=str(event.event_id),
            )
            [reply] = await events.wait_for("reply.generated")
    assert reply["data"]["in_reply_to_mid"] == "m_drop"
    assert reply["data"]["generated_by"] == "gemini"
    assert reply["data"]["handover"] is False
    assert network.accepted == 2
