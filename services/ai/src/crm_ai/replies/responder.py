"""Who writes the reply: Gemini through google-genai (a structured JSON answer, validated here),
or an honest offline responder.

A call that fails for a reason that can pass is tried again (`crm_ai.gemini`); only when those
tries are used up, or for any other error, does the customer get the honest holding reply and
the conversation go to staff.

The answer must be JSON of `ModelAnswer`: anything else (no JSON, another shape, an answer cut
short at MAX_TOKENS, a blocked prompt) is `invalid_answer`, never sent as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from google.genai import types
from pydantic import ValidationError

from crm_ai.config import AiSettings
from crm_ai.gemini import GEMINI_ERRORS, Gemini
from crm_servicekit.logging import get_logger

from .guards import ModelAnswer
from .language import detect_language
from .prompts import HANDOVER_REPLIES, HOLDING_REPLIES, OFFLINE_REPLIES

log = get_logger(__name__)


@dataclass(frozen=True)
class Reply:
    text: str
    language: str
    generated_by: Literal["gemini", "offline"]
    model: str | None
    handover: bool
    handover_reason: str | None = None
    quick_replies: tuple[str, ...] = ()
    handover_detail: str | None = None


@dataclass(frozen=True)
class Prompt:
    system: str
    contents: list[types.Content]


@dataclass(frozen=True)
class Generated:
    """The model's parsed answer, or why there is none (`ai_unavailable`, `invalid_answer`, ...)."""

    answer: ModelAnswer | None
    failure: str | None
    model: str | None


def handover_reply(text: str) -> Reply:
    """The customer asked for a person: say so warmly and hand over, without asking the model."""
    language = detect_language(text)
    return Reply(
        text=HANDOVER_REPLIES[language],
        language=language,
        generated_by="offline",
        model=None,
        handover=True,
        handover_reason="customer_requested",
    )


def holding_reply(language: str, reason: str, *, model: str | None, detail: str | None = None) -> Reply:
    """The AI's answer is not good enough to send: the honest holding reply, and a person."""
    return Reply(
        text=HOLDING_REPLIES[language],
        language=language,
        generated_by="gemini" if model else "offline",
        model=model,
        handover=True,
        handover_reason=reason,
        handover_detail=detail,
    )


def parse_answer(text: str | None, finish_reason: str | None) -> ModelAnswer | None:
    """The model's JSON as `ModelAnswer`; None when it is not (cut short, not JSON, wrong shape)."""
    if not text or finish_reason not in (None, "STOP"):
        return None
    try:
        answer = ModelAnswer.model_validate_json(text)
    except ValidationError:
        return None
    chips = [q.strip() for q in answer.quick_replies if q.strip() and len(q.strip()) <= 20]
    return answer.model_copy(update={"quick_replies": chips[:5]})


class Responder(Protocol):
    async def generate(self, prompt: Prompt) -> Generated: ...

    async def aclose(self) -> None: ...


def offline_reply(text: str, reason: str) -> Reply:
    language = detect_language(text)
    return Reply(
        text=OFFLINE_REPLIES[language],
        language=language,
        generated_by="offline",
        model=None,
        handover=True,
        handover_reason=reason,
    )


class OfflineResponder:
    """No Gemini key: say honestly that staff will follow up, and flag the conversation."""

    async def generate(self, prompt: Prompt) -> Generated:
        return Generated(None, "ai_not_configured", None)

    async def aclose(self) -> None:
        return None


class GeminiResponder:
    def __init__(self, settings: AiSettings) -> None:
        self.model = settings.gemini_model
        self._gemini = Gemini(settings, "reply")
        self._temperature = settings.gemini_temperature
        self._max_output_tokens = settings.gemini_max_output_tokens

    async def generate(self, prompt: Prompt) -> Generated:
        config = types.GenerateContentConfig(
            system_instruction=prompt.system,
            temperature=self._temperature,
            max_output_tokens=self._max_output_tokens,
            response_mime_type="application/json",
            response_schema=ModelAnswer,
        )
        try:
            response: types.GenerateContentResponse = await self._gemini.call(
                self._gemini.client.aio.models.generate_content,
                model=self.model,
                contents=prompt.contents,
                config=config,
            )
        except GEMINI_ERRORS as exc:
            log.warning(
                "gemini unavailable; handing over to staff",
                error=type(exc).__name__,
                status=getattr(exc, "code", None),
            )
            return Generated(None, "ai_unavailable", None)
        candidate = response.candidates[0] if response.candidates else None
        finish = candidate.finish_reason.value if candidate and candidate.finish_reason else None
        answer = parse_answer(response.text, finish)
        if answer is None:
            log.warning("gemini answer unusable; handing over to staff", finish_reason=finish)
            return Generated(None, "invalid_answer", self.model)
        return Generated(answer, None, self.model)

    async def aclose(self) -> None:
        await self._gemini.aclose()


def create_responder(settings: AiSettings) -> Responder:
    if settings.gemini_api_key.get_secret_value():
        return GeminiResponder(settings)
    log.warning("GEMINI_API_KEY is not set: replies come from the offline responder")
    return OfflineResponder()
