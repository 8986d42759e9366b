"""Marketing API client: Graph calls with Meta's retry rules, usage pacing and cursor paging.

What an error means is decided by its Graph `code` (shared/reference/meta-gemini-protocol.md, C):

- rate limits (4, 17, 32, 613, 80000-80014): wait, at least until Meta's
  `estimated_time_to_regain_access`, then try again;
- transient (1, 2, `is_transient`, HTTP 5xx): exponential backoff, try again;
- "reduce the amount of data": not retried here; the pager halves its page size, and report
  jobs split themselves;
- an invalid token or a missing permission (190, 102, 10, 200-299): `SyncStopped` at once,
  retrying cannot help and staff must act;
- anything else: raised as it is.

The access token travels in the `Authorization` header only, never in a URL, log or span.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from crm_servicekit.graph import GraphError, UsageThrottle, graph_result
from crm_servicekit.logging import get_logger
from crm_servicekit.tracing import instrument_httpx

log = get_logger(__name__)

RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
TRANSIENT_CODES = frozenset({1, 2})
STOP_CODES = frozenset({190, 102, 10})
REDUCE_DATA = "reduce the amount of data"
MIN_PAGE_SIZE = 10

Sleep = Callable[[float], Awaitable[None]]


class MarketingApiError(GraphError):
    """A Marketing API error, classified."""

    @property
    def rate_limited(self) -> bool:
        return self.code in RATE_LIMIT_CODES or (self.code is not None and 80000 <= self.code <= 80014)

    @property
    def too_much_data(self) -> bool:
        return REDUCE_DATA in self.message.lower() or (self.code == 100 and self.subcode == 1487534)

    @property
    def transient(self) -> bool:
        return not self.too_much_data and (
            self.is_transient or self.code in TRANSIENT_CODES or self.http_status >= 500
        )

    @property
    def stops_sync(self) -> bool:
        return self.code in STOP_CODES or (self.code is not None and 200 <= self.code <= 299)


class SyncStopped(Exception):
    """Meta refused our credentials or permissions: the sync stops until staff fix them."""

    def __init__(self, error: MarketingApiError) -> None:
        self.error = error
        what = (
            "the access token is invalid or expired; set a new META_MARKETING_ACCESS_TOKEN"
            if error.code in (190, 102)
            else "the token lacks a permission on this ad account (it needs ads_read)"
        )
        super().__init__(f"Meta refused the sync (code {error.code}): {what}")


@dataclass
class CallStats:
    calls: int = 0
    retries: int = 0
    throttle_waits: int = 0
    throttle_wait_seconds: float = 0.0


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    backoff_initial: float = 2.0
    backoff_max: float = 120.0


class MarketingClient:
    def __init__(
        self,
        *,
        base_url: str,
        version: str,
        access_token: str,
        retry: RetryPolicy | None = None,
        throttle: UsageThrottle | None = None,
        timeout: float = 60.0,
        sleep: Sleep = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._base = f"{base_url.rstrip('/')}/{version}"
        self._http = instrument_httpx(
            httpx.AsyncClient(
                base_url=self._base,
                headers={"Authorization": f"Bearer {access_token}"},
                timeout=httpx.Timeout(timeout, connect=10.0),
                transport=transport,
            )
        )
        self.retry = retry or RetryPolicy()
        self.throttle = throttle or UsageThrottle(sleep=sleep)
        self.stats = CallStats()
        self._sleep = sleep

    async def aclose(self) -> None:
        await self._http.aclose()

    async def get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        return await self.call("GET", path, params=params)

    async def post(self, path: str, data: dict[str, str]) -> dict[str, Any]:
        return await self.call("POST", path, data=data)

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """One Graph call with retries; raises `SyncStopped` or the last `MarketingApiError`."""
        retrying = AsyncRetrying(
            retry=retry_if_exception(_retryable),
            stop=stop_after_attempt(self.retry.max_attempts),
            wait=self._backoff,
            sleep=self._sleep,
            before_sleep=self._before_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._once(method, path, params, data)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(
        self, method: str, path: str, params: dict[str, str] | None, data: dict[str, str] | None
    ) -> dict[str, Any]:
        blocked = self.throttle.blocked
        waited = await self.throttle.wait()
        if waited:
            self.stats.throttle_wait_seconds += waited
            self.stats.throttle_waits += blocked
        self.stats.calls += 1
        response = await self._http.request(method, path, params=params, data=data)
        self.throttle.observe(response.headers)
        try:
            return graph_result(response, MarketingApiError)
        except MarketingApiError as exc:
            if exc.stops_sync:
                raise SyncStopped(exc) from exc
            raise

    def _backoff(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        growth: float = 2.0 ** (state.attempt_number - 1)
        backoff = min(self.retry.backoff_max, self.retry.backoff_initial * growth)
        if isinstance(exc, MarketingApiError) and exc.rate_limited:
            # The usage headers of the refusal usually say when access returns; without them,
            # back off. Either way the wait happens in the throttle, before the next call.
            if not self.throttle.blocked:
                self.throttle.blocked_for(backoff)
            return 0.0
        return backoff

    def _before_retry(self, state: RetryCallState) -> None:
        self.stats.retries += 1
        exc = state.outcome.exception() if state.outcome else None
        log.info(
            "meta call retried",
            attempt=state.attempt_number,
            code=getattr(exc, "code", None),
            error=type(exc).__name__,
        )

    async def pages(
        self, path: str, params: dict[str, str], *, page_size: int
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Every page of a listing, following `paging.next` until it is absent (empty pages
        included). "Reduce the amount of data" halves the page size and asks again."""
        query = {**params, "limit": str(page_size)}
        while True:
            try:
                body = await self.get(path, query)
            except MarketingApiError as exc:
                size = int(query["limit"])
                if not exc.too_much_data or size <= MIN_PAGE_SIZE:
                    raise
                query["limit"] = str(max(MIN_PAGE_SIZE, size // 2))
                self.stats.retries += 1
                log.info("meta page size reduced", page_size=query["limit"])
                continue
            data = body.get("data")
            yield data if isinstance(data, list) else []
            following = (body.get("paging") or {}).get("next")
            if not following:
                return
            query = _next_query(following, query["limit"])


def _next_query(next_url: str, limit: str) -> dict[str, str]:
    """The query of Meta's `next` link, at our current page size (the link is not stored)."""
    query = dict(parse_qsl(urlsplit(next_url).query, keep_blank_values=True))
    query.pop("access_token", None)
    query["limit"] = limit
    return query


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, MarketingApiError):
        return exc.rate_limited or exc.transient
    # A read is safe to repeat whatever happened to the first try.
    return isinstance(exc, httpx.TransportError)
