"""Send API client. Errors are classified by Graph `error.code`, not by HTTP status.

The access token travels in the `Authorization` header, never in the URL, so it cannot leak
into span attributes or logs.
"""

from __future__ import annotations

from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from crm_servicekit.graph import GraphError as BaseGraphError
from crm_servicekit.graph import UsageThrottle, graph_result
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


class GraphError(BaseGraphError):
    """A Send API error, with what it means for the message."""

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
        throttle: UsageThrottle | None = None,
    ) -> None:
        self._client = instrument_httpx(
            httpx.AsyncClient(
                base_url=f"{base_url.rstrip('/')}/{version}",
                headers={"Authorization": f"Bearer {access_token}"},
                timeout=httpx.Timeout(timeout, connect=5.0),
            )
        )
        self.throttle = throttle or UsageThrottle()
        self._retrying = AsyncRetrying(
            retry=retry_if_exception(_retryable),
            stop=stop_after_attempt(max_attempts),
            wait=wait_exponential_jitter(initial=backoff_initial, max=backoff_max),
            reraise=True,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send_text(
        self,
        psid: str,
        text: str,
        *,
        messaging_type: str = "RESPONSE",
        tag: str | None = None,
        quick_replies: list[dict[str, str]] | None = None,
        metadata: str | None = None,
    ) -> str:
        """Send one text message; returns Meta's `message_id`. Raises `GraphError`.

        `metadata` comes back in the echo of this message, which is how we recognise our own.
        """
        message: dict[str, Any] = {"text": text}
        if quick_replies:
            message["quick_replies"] = quick_replies
        if metadata:
            message["metadata"] = metadata
        body: dict[str, Any] = {
            "recipient": {"id": psid},
            "messaging_type": messaging_type,
            "message": message,
        }
        if tag:
            body["tag"] = tag
        result = await self._request("POST", "/me/messages", body)
        return str(result["message_id"])

    async def typing_on(self, psid: str) -> None:
        """Show the typing indicator: one attempt, best effort (never worth delaying a reply for)."""
        try:
            await self.throttle.wait()
            response = await self._client.post(
                "/me/messages", json={"recipient": {"id": psid}, "sender_action": "typing_on"}
            )
            self.throttle.observe(response.headers)
            _result(response)
        except (GraphError, httpx.HTTPError):
            return

    async def profile(self, psid: str) -> dict[str, str | None]:
        """The customer's public profile: first_name, last_name, profile_pic."""
        result = await self._request("GET", f"/{psid}", params={"fields": "first_name,last_name,profile_pic"})
        return {k: result.get(k) for k in ("first_name", "last_name", "profile_pic")}

    async def _request(
        self, method: str, path: str, body: dict[str, Any] | None = None, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        # A copy per call: a retrying object keeps the state of one run, and calls overlap.
        async for attempt in self._retrying.copy():
            with attempt:
                await self.throttle.wait()
                response = await self._client.request(method, path, json=body, params=params)
                self.throttle.observe(response.headers)
                return _result(response)
        raise AssertionError("unreachable")  # pragma: no cover


def _retryable(exc: BaseException) -> bool:
    # Only a connection that never reached Meta is safe to repeat; a read timeout may have
    # delivered the message, and repeating it would send it twice.
    return (isinstance(exc, GraphError) and exc.retryable) or isinstance(exc, httpx.ConnectError)


def _result(response: httpx.Response) -> dict[str, Any]:
    return graph_result(response, GraphError)
