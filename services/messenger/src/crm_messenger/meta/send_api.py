"""Send API client. Errors are classified by Graph `error.code`, not by HTTP status.

The access token travels in the `Authorization` header, never in the URL, so it cannot leak
into span attributes or logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from crm_servicekit.tracing import instrument_httpx

# Temporary (1, 2, 1200) and rate limits (4, 17, 32, 613, 80006): wait and try again.
RETRYABLE_CODES = frozenset({1, 2, 4, 17, 32, 613, 1200, 80006})
REASONS = {
    10: "outside the 24-hour messaging window",
    551: "this person isn't available right now (blocked the Page or left)",
    190: "the Page access token is invalid or expired",
    100: "Meta rejected a parameter of the message",
    200: "the app lacks permission to message this person",
    230: "the app lacks permission to message this person",
}


@dataclass
class GraphError(Exception):
    code: int | None
    subcode: int | None
    message: str
    http_status: int
    is_transient: bool = False

    @property
    def retryable(self) -> bool:
        return (
            self.is_transient
            or self.code in RETRYABLE_CODES
            or (self.code is not None and 80000 <= self.code <= 80014)
        )

    @property
    def reason(self) -> str:
        return REASONS.get(self.code or 0, f"Meta error {self.code}/{self.subcode}")


class SendApiClient:
    def __init__(
        self,
        *,
        base_url: str,
        version: str,
        access_token: str,
        max_attempts: int = 5,
        backoff_initial: float = 1.0,
        backoff_max: float = 30.0,
        timeout: float = 20.0,
    ) -> None:
        self._client = instrument_httpx(
            httpx.AsyncClient(
                base_url=f"{base_url.rstrip('/')}/{version}",
                headers={"Authorization": f"Bearer {access_token}"},
                timeout=httpx.Timeout(timeout, connect=5.0),
            )
        )
        self._retrying = AsyncRetrying(
            retry=retry_if_exception(_retryable),
            stop=stop_after_attempt(max_attempts),
            wait=wait_exponential_jitter(initial=backoff_initial, max=backoff_max),
            reraise=True,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send_text(self, psid: str, text: str, *, messaging_type: str = "RESPONSE") -> str:
        """Send one text message; returns Meta's `message_id`. Raises `GraphError`."""
        body = {"recipient": {"id": psid}, "messaging_type": messaging_type, "message": {"text": text}}
        result = await self._post("/me/messages", body)
        return str(result["message_id"])

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async for attempt in self._retrying:
            with attempt:
                response = await self._client.post(path, json=body)
                return _result(response)
        raise AssertionError("unreachable")  # pragma: no cover


def _retryable(exc: BaseException) -> bool:
    # Only a connection that never reached Meta is safe to repeat; a read timeout may have
    # delivered the message, and repeating it would send it twice.
    return (isinstance(exc, GraphError) and exc.retryable) or isinstance(exc, httpx.ConnectError)


def _result(response: httpx.Response) -> dict[str, Any]:
    try:
        data: dict[str, Any] = response.json()
    except ValueError:
        data = {}
    error = data.get("error") if isinstance(data, dict) else None
    if response.is_success and not error:
        return data
    error = error if isinstance(error, dict) else {}
    raise GraphError(
        code=error.get("code"),
        subcode=error.get("error_subcode"),
        message=str(error.get("message", response.reason_phrase)),
        http_status=response.status_code,
        is_transient=bool(error.get("is_transient", False)) or response.status_code >= 500,
    )
