"""Who writes the reply: Gemini through google-genai, or an honest offline responder.

A call to Gemini that fails for a reason that can pass is tried again with exponential backoff
and jitter (`GEMINI_ATTEMPTS` in all): the model overloaded or rate-limited (408, 429, 5xx), or
the connection failed or dropped on the way (any httpx transport error: connect, read, write,
protocol, timeout). Only when those tries are used up, or for any other error, does the customer
get the honest holding reply and the conversation go to staff. The retries are ours (tenacity,
as in the messenger's and marketing's clients), not the SDK's: google-genai's own retry options
skip a dropped connection (`ReadError`, `RemoteProtocolError`), so the SDK makes one attempt per
try. Generating a reply changes nothing on Google's side, so repeating one is always safe.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

import httpx
from google import genai
from google.genai import errors, types
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from crm_ai.config import AiSettings
from crm_servicekit.logging import get_logger
from crm_servicekit.tracing import instrument_httpx

from .language import detect_language
from .prompts import HANDOVER_REPLIES, OFFLINE_REPLIES, SYSTEM_PROMPT

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


_CHOICES = re.compile(
    r"^\s*(?:choices|ตัวเลือก|選択肢)\s*[:：]\s*(?P<items>.+?)\s*$", re.IGNORECASE | re.MULTILINE
)


def split_choices(text: str) -> tuple[str, tuple[str, ...]]:
    """Take the model's `Choices: a | b | c` line off the text; the choices become quick replies."""
    found = list(_CHOICES.finditer(text))
    if not found:
        return text.strip(), ()
    last = found[-1]
    items = tuple(i.strip() for i in last.group("items").split("|") if i.strip())[:5]
    return (text[: last.start()] + text[last.end() :]).strip(), items


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


class Responder(Protocol):
    async def reply(self, text: str) -> Reply: ...

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

    async def reply(self, text: str) -> Reply:
        return offline_reply(text, "ai_not_configured")

    async def aclose(self) -> None:
        return None


# Statuses worth another try: timeout, rate limit, the model overloaded or failing.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def retryable(exc: BaseException) -> bool:
    """A rate limit, an overloaded model, or a connection that failed or dropped (also when the
    SDK wraps the transport error in one of its own)."""
    for error in _chain(exc):
        if isinstance(error, errors.APIError):
            return error.code in RETRYABLE_STATUSES
        # Every transport error but a URL with a scheme httpx cannot speak (a setting to fix).
        if isinstance(error, httpx.TransportError) and not isinstance(error, httpx.UnsupportedProtocol):
            return True
    return False


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.info(
        "gemini call failed; trying again",
        attempt=state.attempt_number,
        error=type(error).__name__,
        status=getattr(error, "code", None),
    )


class GeminiResponder:
    def __init__(self, settings: AiSettings) -> None:
        self.model = settings.gemini_model
        # An httpx client of our own, so the standard httpx instrumentation traces each attempt
        # and carries the trace context to the model's endpoint.
        self._http = instrument_httpx(httpx.AsyncClient(timeout=settings.gemini_timeout_seconds))
        self._client = genai.Client(
            api_key=settings.gemini_api_key.get_secret_value(),
            http_options=types.HttpOptions(
                base_url=settings.google_gemini_base_url or None,
                timeout=int(settings.gemini_timeout_seconds * 1000),  # milliseconds
                # One attempt per try: the retries are `self._retrying`'s (see the module's doc).
                retry_options=types.HttpRetryOptions(attempts=1),
                httpx_async_client=self._http,
            ),
        )
        self._retrying = AsyncRetrying(
            retry=retry_if_exception(retryable),
            stop=stop_after_attempt(settings.gemini_attempts),
            wait=wait_exponential_jitter(
                initial=settings.gemini_retry_initial_delay_seconds,
                max=settings.gemini_retry_max_delay_seconds,
                exp_base=2,
                jitter=1,
            ),
            before_sleep=_log_retry,
            reraise=True,
        )
        self._config = types.GenerateContentConfig(
            system_instruction=SYSTEM_PROMPT,
            temperature=settings.gemini_temperature,
            max_output_tokens=settings.gemini_max_output_tokens,
        )

    async def reply(self, text: str) -> Reply:
        language = detect_language(text)
        try:
            # A copy per reply: replies to different customers are composed concurrently.
            response: types.GenerateContentResponse = await self._retrying.copy()(
                self._client.aio.models.generate_content, model=self.model, contents=text, config=self._config
            )
        except (errors.APIError, httpx.HTTPError) as exc:
            log.warning(
                "gemini unavailable; handing over to staff",
                error=type(exc).__name__,
                status=getattr(exc, "code", None),
            )
            return offline_reply(text, "ai_unavailable")
        answer = (response.text or "").strip()
        if not answer:
            log.warning("gemini returned no text; handing over to staff")
            return offline_reply(text, "ai_no_answer")
        body, choices = split_choices(answer)
        return Reply(
            text=body or answer,
            language=language,
            generated_by="gemini",
            model=self.model,
            handover=False,
            quick_replies=choices,
        )

    async def aclose(self) -> None:
        await self._http.aclose()


def create_responder(settings: AiSettings) -> Responder:
    if settings.gemini_api_key.get_secret_value():
        return GeminiResponder(settings)
    log.warning("GEMINI_API_KEY is not set: replies come from the offline responder")
    return OfflineResponder()
