"""Vectors for chunks and questions: local models in the process, Gemini through its fake."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from pydantic import SecretStr

from crm_ai.config import AiSettings
from crm_ai.knowledge.embeddings import (
    EmbeddingUnavailable,
    GeminiEmbedder,
    LocalEmbedder,
    LocalModel,
    create_embedder,
)
from crm_fakes import FakeServer, GeminiState, create_gemini_app
from crm_fakes.gemini import embedding

KEY = "test-gemini-key"
PRICE_QUESTION = "คอร์สซูชิราคาเท่าไหร่คะ"
PRICE_PASSAGE = "ราคาคอร์สซูชิพื้นฐาน 12,900 บาท รวมวัตถุดิบทั้งหมด ผ่อนชำระได้ 3 เดือน"
UNRELATED_PASSAGE = "โรงเรียนอยู่ใกล้สถานีรถไฟฟ้า BTS อโศก มีที่จอดรถฟรีสำหรับผู้เรียน"


@pytest.mark.parametrize(("model", "dimension"), [("use", 512), ("e5", 384)])
async def test_local_embedder_returns_unit_vectors_and_finds_the_price_passage(
    model: LocalModel, dimension: int
) -> None:
    embedder = LocalEmbedder(model, batch_size=2)

    passages = await embedder.documents([PRICE_PASSAGE, UNRELATED_PASSAGE, "Wagashi class: 8,500 THB"])
    question = await embedder.query(PRICE_QUESTION)

    assert embedder.dimension == dimension
    assert passages.shape == (3, dimension)
    assert question.shape == (dimension,)
    assert passages.dtype == question.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    assert abs(float(np.linalg.norm(question)) - 1.0) < 1e-5
    scores = passages @ question
    assert scores[0] > scores[1]
    # Batches (of two here) come back in the order of the texts.
    alone = await embedder.documents(["Wagashi class: 8,500 THB"])
    np.testing.assert_allclose(passages[2], alone[0], atol=1e-4)
    assert (await embedder.documents([])).shape == (0, dimension)


def test_local_models_have_distinct_names() -> None:
    assert LocalEmbedder("use").name != LocalEmbedder("e5").name


@pytest.fixture(scope="module")
def gemini() -> Iterator[tuple[str, GeminiState]]:
    state = GeminiState(api_key=KEY)
    with FakeServer(create_gemini_app(state)) as server:
        yield server.url, state


@pytest.fixture
def fake(gemini: tuple[str, GeminiState]) -> Iterator[tuple[str, GeminiState]]:
    gemini[1].reset()
    yield gemini
    gemini[1].reset()


def settings(url: str, **extra: object) -> AiSettings:
    values: dict[str, object] = {
        "gemini_api_key": SecretStr(KEY),
        "google_gemini_base_url": url,
        "gemini_retry_initial_delay_seconds": 0.01,
        "gemini_retry_max_delay_seconds": 0.05,
        "ai_embeddings": "gemini",
        **extra,
    }
    return AiSettings.model_validate(values)


async def test_gemini_documents_go_in_batches_of_one_hundred(fake: tuple[str, GeminiState]) -> None:
    url, state = fake
    embedder = GeminiEmbedder(settings(url))
    texts = [f"chunk {n}: คอร์สซูชิ" for n in range(250)]

    vectors = await embedder.documents(texts)
    await embedder.aclose()

    requests = state.requests()
    assert [r.method for r in requests] == ["batchEmbedContents"] * 3
    assert [len(r.body["requests"]) for r in requests] == [100, 100, 50]
    assert requests[0].path.endswith("/models/gemini-embedding-001:batchEmbedContents")
    assert requests[0].body["requests"][0] == {
        "content": {"parts": [{"text": "chunk 0: คอร์สซูชิ"}], "role": "user"},
        "taskType": "RETRIEVAL_DOCUMENT",
        "outputDimensionality": 768,
        "model": "models/gemini-embedding-001",
    }
    assert vectors.shape == (250, 768)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(vectors[249], embedding(texts[249]), atol=1e-6)
    assert embedder.name == "gemini:gemini-embedding-001@768"


async def test_gemini_query_uses_the_query_task(fake: tuple[str, GeminiState]) -> None:
    url, state = fake
    embedder = GeminiEmbedder(settings(url, gemini_embedding_model="gemini-embedding-002"))

    vector = await embedder.query(PRICE_QUESTION)
    await embedder.aclose()

    (request,) = state.requests()
    assert request.model == "gemini-embedding-002"
    assert request.body["requests"][0]["taskType"] == "RETRIEVAL_QUERY"
    assert vector.shape == (768,)
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5


async def test_gemini_overloaded_is_retried(fake: tuple[str, GeminiState]) -> None:
    url, state = fake
    state.fail_next(503, times=2)
    embedder = GeminiEmbedder(settings(url))

    vectors = await embedder.documents(["ราคาคอร์สซูชิ"])
    await embedder.aclose()

    assert [r.status for r in state.requests()] == [503, 503, 200]
    np.testing.assert_allclose(vectors[0], embedding("ราคาคอร์สซูชิ"), atol=1e-6)


async def test_gemini_down_past_the_retries_is_reported_as_unavailable(fake: tuple[str, GeminiState]) -> None:
    url, state = fake
    state.fail_next(503, times=3)
    embedder = GeminiEmbedder(settings(url, gemini_attempts=3))

    with pytest.raises(EmbeddingUnavailable):
        await embedder.query(PRICE_QUESTION)
    await embedder.aclose()

    assert [r.status for r in state.requests()] == [503, 503, 503]


async def test_a_bad_key_is_not_retried(fake: tuple[str, GeminiState]) -> None:
    url, state = fake
    embedder = GeminiEmbedder(settings(url, gemini_api_key=SecretStr("wrong")))

    with pytest.raises(EmbeddingUnavailable):
        await embedder.query(PRICE_QUESTION)
    await embedder.aclose()

    assert [r.status for r in state.requests()] == [400]


def test_create_embedder_follows_the_settings() -> None:
    assert isinstance(create_embedder(AiSettings()), LocalEmbedder)
    assert create_embedder(AiSettings(ai_local_embedding_model="e5")).dimension == 384
    assert isinstance(create_embedder(settings("http://127.0.0.1:9")), GeminiEmbedder)
    # Gemini asked for without a key: the local model serves rather than nothing.
    assert isinstance(create_embedder(AiSettings(ai_embeddings="gemini")), LocalEmbedder)
