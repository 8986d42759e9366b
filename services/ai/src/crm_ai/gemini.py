"""One way to call Gemini (google-genai) for every capability of the ai: replies, embeddings and
insights.

A call that fails for a reason that can pass is tried again with exponential backoff and jitter
(`GEMINI_ATTEMPTS` in all): the model overloaded or rate-limited (408, 429, 5xx), or the connection
failed or dropped on the way (any httpx transport error: connect, read, write, protocol, timeout).
The retries are ours (tenacity, as in the messenger's and marketing's clients), not the SDK's:
google-genai's own retry options skip a dropped connection (`ReadError`, `RemoteProtocolError`), so
the SDK makes one attempt per try. Generating or embedding changes nothing on Google's side, so
repeating a call is always safe. The httpx client is our own, so the standard httpx
instrumentation traces each attempt and carries the trace context to the model's endpoint.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

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

log = get_logger(__name__)

T = TypeVar("T")

# Statuses worth another try: timeout, rate limit, the model overloaded or failing.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

# What a call raises once its tries are used up (or at once, for an error that cannot pass).
GEMINI_ERRORS = (errors.APIError, httpx.HTTPError)


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


class Gemini:
    """A google-genai client with our retries; `purpose` names the calls in the logs."""

    def __init__(self, settings: AiSettings, purpose: str) -> None:
        self.purpose = purpose
        self._http = instrument_httpx(httpx.AsyncClient(timeout=settings.gemini_timeout_seconds))
        self.client = genai.Client(
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
            before_sleep=self._log_retry,
            reraise=True,
        )

    async def call(self, fn: Callable[..., Awaitable[T]], **kwargs: object) -> T:
        """`fn(**kwargs)` (an SDK coroutine), tried again while its failure can pass. A copy of
        the retry state per call: calls for different customers run concurrently."""
        result: T = await self._retrying.copy()(fn, **kwargs)
        return result

    def _log_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.info(
            "gemini call failed; trying again",
            purpose=self.purpose,
            attempt=state.attempt_number,
            error=type(error).__name__,
            status=getattr(error, "code", None),
        )

    async def aclose(self) -> None:
        await self._http.aclose()
