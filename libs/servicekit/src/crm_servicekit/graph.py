"""Meta Graph API plumbing every client of Meta shares: its error body and its usage headers.

Errors are read from the JSON `error` object (`code`, `error_subcode`, `is_transient`), not from
the HTTP status; what to retry is each client's decision (sending a message twice is not the
same risk as reading a report twice).

Usage: `x-app-usage`, `x-business-use-case-usage`, `x-ad-account-usage` and
`x-fb-ads-insights-throttle` report percentages of a quota used and, when throttled, minutes
until access returns. `UsageThrottle` slows calls down above `slow_from` percent and waits
until access returns when blocked.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from prometheus_client import Gauge

USAGE = Gauge("crm_graph_usage_percent", "Highest Meta Graph API usage percentage last reported")

_USAGE_KEYS = ("call_count", "total_time", "total_cputime")


@dataclass
class GraphError(Exception):
    code: int | None
    subcode: int | None
    message: str
    http_status: int
    is_transient: bool = False

    def __str__(self) -> str:
        return f"Graph error {self.code}/{self.subcode} (HTTP {self.http_status})"


E = TypeVar("E", bound=GraphError)


def graph_result(response: httpx.Response, error: type[E]) -> dict[str, Any]:
    """The JSON body of a successful Graph response, or `error` built from Meta's error object."""
    try:
        data = response.json()
    except ValueError:
        data = {}
    body = data.get("error") if isinstance(data, dict) else None
    if response.is_success and not body and isinstance(data, dict):
        return data
    body = body if isinstance(body, dict) else {}
    raise error(
        code=body.get("code"),
        subcode=body.get("error_subcode"),
        message=str(body.get("message", response.reason_phrase)),
        http_status=response.status_code,
        is_transient=bool(body.get("is_transient", False)) or response.status_code >= 500,
    )


def usage_from_headers(headers: Mapping[str, str]) -> tuple[float, float]:
    """(highest percentage used, seconds until access returns) from one response's headers."""
    percents = [0.0]
    wait = 0.0
    app = _json(headers.get("x-app-usage"))
    if isinstance(app, dict):
        percents.extend(_num(app.get(k)) for k in _USAGE_KEYS)
    buc = _json(headers.get("x-business-use-case-usage"))
    if isinstance(buc, dict):
        for entries in buc.values():
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict):
                    percents.extend(_num(entry.get(k)) for k in _USAGE_KEYS)
                    wait = max(wait, _num(entry.get("estimated_time_to_regain_access")) * 60)
    for name in ("x-ad-account-usage", "x-fb-ads-insights-throttle"):
        value = _json(headers.get(name))
        if isinstance(value, dict):
            percents.extend(_num(value.get(k)) for k in ("acc_id_util_pct", "app_id_util_pct"))
    return max(percents), wait


def _json(value: str | None) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def _num(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


class UsageThrottle:
    """Paces calls from what the last response's usage headers said."""

    def __init__(
        self,
        *,
        slow_from: float = 75.0,
        max_delay: float = 5.0,
        blocked_wait: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.slow_from = slow_from
        self.max_delay = max_delay
        self.blocked_wait = blocked_wait
        self._sleep = sleep
        self._not_before = 0.0
        self._delay = 0.0
        self.percent = 0.0

    def observe(self, headers: Mapping[str, str]) -> None:
        percent, regain = usage_from_headers(headers)
        self.percent = percent
        USAGE.set(percent)
        now = time.monotonic()
        if regain > 0 or percent >= 100:
            self._not_before = max(self._not_before, now + (regain or self.blocked_wait))
            self._delay = self.max_delay
        elif percent >= self.slow_from:
            self._delay = self.max_delay * (percent - self.slow_from) / (100 - self.slow_from)
        else:
            self._delay = 0.0

    def blocked_for(self, seconds: float) -> None:
        """Meta refused a call for rate limits: wait at least this long before the next one."""
        self._not_before = max(self._not_before, time.monotonic() + seconds)

    @property
    def blocked(self) -> bool:
        return self._not_before > time.monotonic()

    @property
    def delay(self) -> float:
        """Seconds the next call will wait."""
        return max(self._delay, self._not_before - time.monotonic(), 0.0)

    async def wait(self) -> float:
        """Wait as long as the usage says; returns the seconds waited."""
        delay = self.delay
        if delay > 0:
            await self._sleep(delay)
            # A sleeper that returns early (in tests) still clears the block it waited out.
            self._not_before = min(self._not_before, time.monotonic())
        return delay
