from __future__ import annotations

import math

import httpx
import pytest
from google import genai
from google.genai import errors, types

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
