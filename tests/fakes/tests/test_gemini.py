from __future__ import annotations

import json
import math
from typing import Literal

import httpx
import pytest
from google import genai
from google.genai import errors, types
from pydantic import BaseModel

from crm_fakes import GeminiState
from crm_fakes.gemini import embedding
from crm_fakes.gemini_replies import REPLY_EN, REPLY_JA, REPLY_TH

from .conftest import Fake

MODEL = "gemini-2.5-flash"


def client(url: str, **options: object) -> genai.Client:
    http_options = types.HttpOptions(base_url=url, **options)  # type: ignore[arg-type]
    return genai.Client(api_key="test-key", http_options=http_options)


async def test_thai_prompt_gets_thai_reply(gemini: Fake[GeminiState]) -> None:
    config = types.GenerateContentConfig(system_instruction="You are terse.", temperature=0.2)
    r = await client(gemini.url).aio.models.generate_content(
        model=MODEL, contents="สนใจคอร์สเรียนค่ะ", config=config
    )
    assert r.text == REPLY_TH
    assert r.model_version == MODEL
    assert r.candidates
    assert r.candidates[0].finish_reason == types.FinishReason.STOP
    assert r.usage_metadata
    assert r.usage_metadata.total_token_count
    (req,) = gemini.state.requests()
    assert req.path == f"/v1/models/{MODEL}:generateContent"
    assert (req.api_version, req.model, req.method) == ("v1", MODEL, "generateContent")
    assert req.body["systemInstruction"]["parts"][0]["text"] == "You are terse."
    assert req.body["generationConfig"]["temperature"] == 0.2


@pytest.mark.parametrize(
    ("prompt", "reply"), [("コースについて教えてください", REPLY_JA), ("Hi there", REPLY_EN)]
)
async def test_reply_language_follows_prompt(gemini: Fake[GeminiState], prompt: str, reply: str) -> None:
    r = await client(gemini.url).aio.models.generate_content(model=MODEL, contents=prompt)
    assert r.text == reply


async def test_v1beta_and_traceparent(gemini: Fake[GeminiState]) -> None:
    tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    c = client(gemini.url, api_version="v1beta", headers={"traceparent": tp})
    r = await c.aio.models.generate_content(model=MODEL, contents="hello")
    assert r.text == REPLY_EN
    (req,) = gemini.state.requests()
    assert req.api_version == "v1beta"
    assert req.traceparent == tp


async def test_queued_reply(gemini: Fake[GeminiState]) -> None:
    gemini.state.queue_reply("canned")
    c = client(gemini.url).aio.models
    assert (await c.generate_content(model=MODEL, contents="x")).text == "canned"
    assert (await c.generate_content(model=MODEL, contents="x")).text == REPLY_EN


async def test_injected_503_is_server_error(gemini: Fake[GeminiState]) -> None:
    gemini.state.fail_next(503)
    with pytest.raises(errors.ServerError) as info:
        await client(gemini.url).aio.models.generate_content(model=MODEL, contents="hi")
    assert info.value.code == 503
    assert info.value.status == "UNAVAILABLE"
    assert info.value.message == "The model is overloaded. Please try again later."


async def test_injected_429_has_quota_details(gemini: Fake[GeminiState]) -> None:
    async with httpx.AsyncClient() as http:
        await http.post(f"{gemini.url}/_fake/fail", json={"status": 429})
    with pytest.raises(errors.ClientError) as info:
        await client(gemini.url).aio.models.generate_content(model=MODEL, contents="hi")
    assert info.value.status == "RESOURCE_EXHAUSTED"
    details = info.value.details["error"]["details"]
    assert {d["@type"].rsplit(".", 1)[1] for d in details} == {"QuotaFailure", "Help", "RetryInfo"}


async def test_retry_after_one_503(gemini: Fake[GeminiState]) -> None:
    gemini.state.fail_next(503)
    retry = types.HttpRetryOptions(
        attempts=3, initial_delay=0.01, max_delay=0.05, http_status_codes=[429, 503]
    )
    r = await client(gemini.url, retry_options=retry).aio.models.generate_content(
        model=MODEL, contents="สวัสดี"
    )
    assert r.text == REPLY_TH
    assert [q.status for q in gemini.state.requests()] == [503, 200]


async def test_blocked_prompt_has_no_text(gemini: Fake[GeminiState]) -> None:
    gemini.state.block_next()
    r = await client(gemini.url).aio.models.generate_content(model=MODEL, contents="bad")
    assert r.text is None
    assert r.prompt_feedback
    assert r.prompt_feedback.block_reason == types.BlockedReason.SAFETY


async def test_embeddings_dimension_and_order(gemini: Fake[GeminiState]) -> None:
    config = types.EmbedContentConfig(task_type="RETRIEVAL_DOCUMENT", output_dimensionality=256)
    e = await client(gemini.url).aio.models.embed_content(
        model="gemini-embedding-001", contents=["a", "b", "a"], config=config
    )
    assert e.embeddings
    vectors = [x.values or [] for x in e.embeddings]
    assert [len(v) for v in vectors] == [256, 256, 256]
    assert vectors[0] == embedding("a", 256) == vectors[2]
    assert vectors[1] == embedding("b", 256) != vectors[0]
    assert math.isclose(math.fsum(v * v for v in vectors[1]), 1.0)
    (req,) = gemini.state.requests()
    assert req.method == "batchEmbedContents"


async def test_embedding_default_dimension(gemini: Fake[GeminiState]) -> None:
    e = await client(gemini.url).aio.models.embed_content(model="gemini-embedding-001", contents="x")
    assert e.embeddings
    assert len(e.embeddings[0].values or []) == 768


async def test_streaming_joins_to_full_reply(gemini: Fake[GeminiState]) -> None:
    stream = await client(gemini.url).aio.models.generate_content_stream(model=MODEL, contents="สวัสดี")
    chunks = [c.text or "" async for c in stream]
    assert len(chunks) == 2
    assert "".join(chunks) == REPLY_TH


async def test_missing_api_key_is_permission_denied(gemini: Fake[GeminiState]) -> None:
    async with httpx.AsyncClient() as http:
        r = await http.post(
            f"{gemini.url}/v1/models/{MODEL}:generateContent",
            json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
        )
        recorded = (await http.get(f"{gemini.url}/_fake/requests")).json()
    assert r.status_code == 403
    assert r.json()["error"]["status"] == "PERMISSION_DENIED"
    assert recorded[0]["status"] == 403


async def test_reset_over_http(gemini: Fake[GeminiState]) -> None:
    gemini.state.fail_next(500, times=2)
    async with httpx.AsyncClient() as http:
        await http.post(f"{gemini.url}/_fake/reset")
    r = await client(gemini.url).aio.models.generate_content(model=MODEL, contents="hi")
    assert r.text == REPLY_EN


class Answer(BaseModel):
    answer: str
    used_passages: list[str]
    needs_human: bool
    reason: str | None
    language: Literal["th", "en", "ja"]
    quick_replies: list[str]


def structured(
    system: str = "Rules.\n[P1] Courses › Sushi: ...\n[P2] FAQ: ...",
) -> types.GenerateContentConfig:
    return types.GenerateContentConfig(
        system_instruction=system, response_mime_type="application/json", response_schema=Answer
    )


def conversation(*turns: tuple[str, str]) -> list[types.Content]:
    return [types.Content(role=role, parts=[types.Part(text=text)]) for role, text in turns]


async def test_json_request_gets_an_answer_of_its_schema_in_the_last_user_turns_language(
    gemini: Fake[GeminiState],
) -> None:
    contents = conversation(("user", "How much is sushi?"), ("model", "Let me check."), ("user", "คอร์สซูชิค่ะ"))
    r = await client(gemini.url).aio.models.generate_content(
        model=MODEL, contents=contents, config=structured()
    )
    answer = Answer.model_validate_json(r.text or "")
    assert answer == Answer(
        answer=REPLY_TH, used_passages=["P1"], needs_human=False, reason=None, language="th", quick_replies=[]
    )
    assert isinstance(r.parsed, Answer)
    (req,) = gemini.state.requests()
    assert req.body["generationConfig"]["responseMimeType"] == "application/json"
    assert [c["role"] for c in req.body["contents"]] == ["user", "model", "user"]


async def test_json_answer_cites_nothing_without_passages(gemini: Fake[GeminiState]) -> None:
    r = await client(gemini.url).aio.models.generate_content(
        model=MODEL, contents="寿司のコースはありますか", config=structured("No passages.")
    )
    answer = Answer.model_validate_json(r.text or "")
    assert (answer.language, answer.used_passages, answer.answer) == ("ja", [], REPLY_JA)


async def test_queued_json_is_sent_exactly_as_given_even_when_invalid(gemini: Fake[GeminiState]) -> None:
    wrong = '{"answer": "ลด 90% ให้เลยค่ะ", "used_passages": [], "needs_human": false, "language": "th"}'
    gemini.state.queue_reply(wrong)
    gemini.state.queue_reply('{"answer": "ราคา', finish_reason="MAX_TOKENS")
    c = client(gemini.url).aio.models
    assert (await c.generate_content(model=MODEL, contents="x", config=structured())).text == wrong
    cut = await c.generate_content(model=MODEL, contents="x", config=structured())
    assert cut.text == '{"answer": "ราคา'
    assert cut.candidates
    assert cut.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS


async def test_queued_plain_text_becomes_the_answer_of_a_json_request(gemini: Fake[GeminiState]) -> None:
    async with httpx.AsyncClient() as http:
        await http.post(f"{gemini.url}/_fake/reply", json={"text": "Sushi starts next month."})
    r = await client(gemini.url).aio.models.generate_content(
        model=MODEL, contents="When?", config=structured()
    )
    answer = Answer.model_validate_json(r.text or "")
    assert (answer.answer, answer.language, answer.used_passages) == (
        "Sushi starts next month.",
        "en",
        ["P1"],
    )


async def test_json_schema_variant_is_answered_too(gemini: Fake[GeminiState]) -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}, "score": {"type": "integer"}, "tags": {"type": "array"}},
        "required": ["answer"],
    }
    body = {
        "contents": [{"role": "user", "parts": [{"text": "hello"}]}],
        "generationConfig": {"responseMimeType": "application/json", "responseJsonSchema": schema},
    }
    async with httpx.AsyncClient() as http:
        r = await http.post(
            f"{gemini.url}/v1beta/models/{MODEL}:generateContent", json=body, headers={"x-goog-api-key": "k"}
        )
    text = r.json()["candidates"][0]["content"]["parts"][0]["text"]
    assert json.loads(text) == {"answer": REPLY_EN, "score": 0, "tags": []}


class Summary(BaseModel):
    summary: str


async def test_a_reply_queued_for_a_field_waits_for_a_request_of_that_schema(
    gemini: Fake[GeminiState],
) -> None:
    aimed = '{"answer": "for the customer", "used_passages": [], "needs_human": false, "reason": null, '
    aimed += '"language": "en", "quick_replies": []}'
    gemini.state.queue_reply(aimed, field="answer")
    c = client(gemini.url).aio.models
    other = await c.generate_content(
        model=MODEL,
        contents="Summarise",
        config=types.GenerateContentConfig(response_mime_type="application/json", response_schema=Summary),
    )
    assert other.text != aimed
    assert (await c.generate_content(model=MODEL, contents="x", config=structured())).text == aimed
