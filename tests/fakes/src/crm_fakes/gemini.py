"""Fake Gemini API (generativelanguage.googleapis.com) as used by google-genai."""

from __future__ import annotations

import hashlib
import json
import math
import random
import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict

from crm_fakes.gemini_replies import google_error, reply_for, structured_reply, wrap_text

API_VERSIONS = frozenset({"v1", "v1beta"})
DEFAULT_DIMENSION = 768
MAX_DIMENSION = 3072


class RecordedRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: str
    api_version: str
    model: str
    method: str
    body: Any
    traceparent: str | None
    status: int
    received_at: float


class FailRequest(BaseModel):
    status: int
    times: int = 1


class ReplyRequest(BaseModel):
    text: str
    # MAX_TOKENS: the answer was cut short (a JSON answer then is not valid JSON).
    finish_reason: str = "STOP"
    # Only for a JSON request whose response schema has this top-level property (e.g. `answer`).
    field: str | None = None


class GeminiState:
    """Recorded requests, injected failures/blocks and queued replies; thread-safe.

    `api_key`: if set, any other key gets 400 API_KEY_INVALID (a missing key always gets 403).
    """

    def __init__(self, *, api_key: str | None = None) -> None:
        self.api_key = api_key
        self._cond = threading.Condition()
        self._requests: list[RecordedRequest] = []
        self._failures: list[int] = []
        self._blocks = 0
        self._replies: list[tuple[str, str, str | None]] = []

    def fail_next(self, status: int, times: int = 1) -> None:
        """The next `times` model calls answer a Google error with this HTTP status."""
        with self._cond:
            self._failures.extend([status] * times)

    def block_next(self, times: int = 1) -> None:
        """The next `times` generateContent calls are blocked (promptFeedback SAFETY)."""
        with self._cond:
            self._blocks += times

    def queue_reply(self, text: str, *, finish_reason: str = "STOP", field: str | None = None) -> None:
        """Use `text` as the reply to the next generateContent call (FIFO).

        For a JSON request (`responseMimeType: application/json`) text that opens like JSON (`{`
        or `[`) is sent exactly as given, valid or not, so tests can hand the caller any answer;
        other text becomes the `answer` of an otherwise default structured reply. With `field`,
        the reply waits for a JSON request whose response schema has that top-level property, so
        a test aiming at the customer's reply (`field="answer"`) is not answered to another call
        the system makes meanwhile (insights, say)."""
        with self._cond:
            self._replies.append((text, finish_reason, field))

    def requests(self) -> list[RecordedRequest]:
        with self._cond:
            return list(self._requests)

    def wait_for_requests(self, count: int = 1, timeout: float = 5.0) -> list[RecordedRequest]:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._requests) >= count, timeout):
                raise TimeoutError(f"expected {count} requests, got {len(self._requests)}")
            return list(self._requests)

    def reset(self) -> None:
        with self._cond:
            self._requests.clear()
            self._failures.clear()
            self._replies.clear()
            self._blocks = 0

    # -- used by the app -------------------------------------------------
    def take_failure(self) -> int | None:
        with self._cond:
            return self._failures.pop(0) if self._failures else None

    def take_block(self) -> bool:
        with self._cond:
            if self._blocks <= 0:
                return False
            self._blocks -= 1
            return True

    def take_reply(self, schema: Any = None) -> tuple[str, str] | None:
        """The first queued reply meant for a request with this response schema (or for any)."""
        properties = schema.get("properties") if isinstance(schema, dict) else None
        fields = set(properties) if isinstance(properties, dict) else set()
        with self._cond:
            for i, (text, finish_reason, field) in enumerate(self._replies):
                if field is None or field in fields:
                    del self._replies[i]
                    return text, finish_reason
            return None

    def record(self, request: RecordedRequest) -> None:
        with self._cond:
            self._requests.append(request)
            self._cond.notify_all()


class _GoogleError(Exception):
    def __init__(self, status: int, message: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _json(body: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False),
        status_code=status,
        media_type="application/json; charset=UTF-8",
    )


def _texts(content: Any) -> list[str]:
    parts = content.get("parts", []) if isinstance(content, dict) else []
    return [p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str)]


def _tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4)) if text else 0


def _response_id() -> str:
    return secrets.token_urlsafe(17)[:23]


def _generate(state: GeminiState, model: str, body: Any) -> dict[str, Any]:
    contents = body.get("contents") if isinstance(body, dict) else None
    if not isinstance(contents, list) or not contents:
        raise _GoogleError(400, "* GenerateContentRequest.contents: contents is not specified\n")
    system = body.get("systemInstruction")
    prompt_text = "".join(t for c in [*contents, system] for t in _texts(c))
    prompt_tokens = _tokens(prompt_text)
    meta: dict[str, Any] = {"modelVersion": model, "responseId": _response_id()}
    if state.take_block():
        usage = {"promptTokenCount": prompt_tokens, "totalTokenCount": prompt_tokens}
        feedback = {
            "blockReason": "SAFETY",
            "safetyRatings": [
                {"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH", "blocked": True},
                {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
            ],
        }
        return {"promptFeedback": feedback, "usageMetadata": usage, **meta}
    user_turns = [c for c in contents if isinstance(c, dict) and c.get("role", "user") == "user"]
    last_user = " ".join(_texts(user_turns[-1])) if user_turns else ""
    text, finish_reason = _answer(state, body, last_user)
    out_tokens = _tokens(text)
    return {
        "candidates": [
            {
                "content": {"parts": [{"text": text}], "role": "model"},
                "finishReason": finish_reason,
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": out_tokens,
            "totalTokenCount": prompt_tokens + out_tokens,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_tokens}],
        },
        **meta,
    }


def _answer(state: GeminiState, body: dict[str, Any], last_user: str) -> tuple[str, str]:
    """(text, finishReason): a queued reply, or the default one (JSON of the response schema
    when the request asks for JSON)."""
    config = body.get("generationConfig") or {}
    wants_json = isinstance(config, dict) and config.get("responseMimeType") == "application/json"
    schema = (config.get("responseSchema") or config.get("responseJsonSchema")) if wants_json else None
    system = " ".join(_texts(body.get("systemInstruction")))
    queued = state.take_reply(schema)
    if queued is not None:
        text, finish_reason = queued
        if wants_json and not text.lstrip().startswith(("{", "[")):
            text = wrap_text(schema, text, system)
        return text, finish_reason
    if wants_json:
        return structured_reply(schema, last_user, system), "STOP"
    return reply_for(last_user), "STOP"


def embedding(text: str, dimension: int = DEFAULT_DIMENSION) -> list[float]:
    """Deterministic unit vector seeded from sha256(text)."""
    seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")
    rng = random.Random(seed)
    raw = [rng.gauss(0.0, 1.0) for _ in range(dimension)]
    norm = math.sqrt(sum(v * v for v in raw)) or 1.0
    return [v / norm for v in raw]


def _embed_one(request: Any) -> dict[str, Any]:
    if not isinstance(request, dict) or not _texts(request.get("content")):
        raise _GoogleError(400, "* EmbedContentRequest.content: content is not specified\n")
    dim = request.get("outputDimensionality") or DEFAULT_DIMENSION
    if not isinstance(dim, int) or not 1 <= dim <= MAX_DIMENSION:
        raise _GoogleError(
            400,
            f"* EmbedContentRequest.output_dimensionality: must be between 1 and {MAX_DIMENSION}\n",
        )
    return {"values": embedding("".join(_texts(request["content"])), dim)}


def _batch_embed(body: Any) -> dict[str, Any]:
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list) or not requests:
        raise _GoogleError(400, "* BatchEmbedContentsRequest.requests: requests is not specified\n")
    return {"embeddings": [_embed_one(r) for r in requests]}


def _sse(result: dict[str, Any]) -> Iterator[bytes]:
    """Split the reply into two SSE chunks like streamGenerateContent?alt=sse."""
    candidates = result.get("candidates")
    if not candidates:
        yield f"data: {json.dumps(result, ensure_ascii=False)}\r\n\r\n".encode()
        return
    text: str = candidates[0]["content"]["parts"][0]["text"]
    half = len(text) // 2
    for i, piece in enumerate((text[:half], text[half:])):
        chunk = json.loads(json.dumps(result))
        chunk["candidates"][0]["content"]["parts"][0]["text"] = piece
        if i == 0:
            del chunk["candidates"][0]["finishReason"]
        yield f"data: {json.dumps(chunk, ensure_ascii=False)}\r\n\r\n".encode()


def _check_key(state: GeminiState, request: Request) -> None:
    key = request.headers.get("x-goog-api-key") or request.query_params.get("key")
    if not key:
        raise _GoogleError(403)
    if state.api_key is not None and key != state.api_key:
        raise _GoogleError(400, "API key not valid. Please pass a valid API key.")


def _dispatch(state: GeminiState, model: str, method: str, body: Any) -> Response:
    injected = state.take_failure()
    if injected is not None:
        raise _GoogleError(injected)
    if method == "generateContent":
        return _json(_generate(state, model, body))
    if method == "streamGenerateContent":
        return StreamingResponse(_sse(_generate(state, model, body)), media_type="text/event-stream")
    if method == "batchEmbedContents":
        return _json(_batch_embed(body))
    if method == "embedContent":
        return _json({"embedding": _embed_one(body)})
    raise _GoogleError(404, f"Method {method} is not found for models/{model}.")


def create_gemini_app(state: GeminiState | None = None) -> FastAPI:
    state = state if state is not None else GeminiState()
    app = FastAPI(title="fake-gemini", openapi_url=None)
    _add_control_routes(app, state)

    @app.post("/{api_version}/models/{model_method:path}")
    async def models(api_version: str, model_method: str, request: Request) -> Response:
        model, _, method = model_method.rpartition(":")
        raw = await request.body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        try:
            if api_version not in API_VERSIONS or not model:
                raise _GoogleError(404, f"Requested entity was not found: {request.url.path}")
            _check_key(state, request)
            if not isinstance(body, dict):
                raise _GoogleError(400, "Invalid JSON payload received.")
            response = _dispatch(state, model, method, body)
        except _GoogleError as err:
            response = _json(google_error(err.status, err.message, model), err.status)
        state.record(
            RecordedRequest(
                path=request.url.path,
                api_version=api_version,
                model=model,
                method=method,
                body=body,
                traceparent=request.headers.get("traceparent"),
                status=response.status_code,
                received_at=time.time(),
            )
        )
        return response

    return app


def _add_control_routes(app: FastAPI, state: GeminiState) -> None:
    @app.get("/_fake/requests")
    async def list_requests() -> list[RecordedRequest]:
        return state.requests()

    @app.post("/_fake/fail")
    async def fail(spec: FailRequest) -> dict[str, bool]:
        state.fail_next(spec.status, spec.times)
        return {"ok": True}

    @app.post("/_fake/block")
    async def block() -> dict[str, bool]:
        state.block_next()
        return {"ok": True}

    @app.post("/_fake/reply")
    async def reply(spec: ReplyRequest) -> dict[str, bool]:
        state.queue_reply(spec.text, finish_reason=spec.finish_reason, field=spec.field)
        return {"ok": True}

    @app.post("/_fake/reset")
    async def reset() -> dict[str, bool]:
        state.reset()
        return {"ok": True}
