"""Slow down before Meta throttles us, from the usage headers on every Graph response.

`x-app-usage` and `x-business-use-case-usage` report percentages of the quota used (and, when
throttled, minutes until access returns). Above `slow_from` percent each call waits a little
longer; at 100 % (or with an `estimated_time_to_regain_access`) it waits until access returns.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from typing import Any

from prometheus_client import Gauge

USAGE = Gauge("crm_messenger_graph_usage_percent", "Highest Graph API usage percentage last reported")


def usage_from_headers(headers: Mapping[str, str]) -> tuple[float, float]:
    """(highest percentage used, seconds until access returns) from one response's headers."""
    percent = 0.0
    wait = 0.0
    app = _json(headers.get("x-app-usage"))
    if isinstance(app, dict):
        percent = max([percent, *(_num(app.get(k)) for k in ("call_count", "total_time", "total_cputime"))])
    buc = _json(headers.get("x-business-use-case-usage"))
    if isinstance(buc, dict):
        for entries in buc.values():
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict):
                    keys = ("call_count", "total_time", "total_cputime")
                    percent = max([percent, *(_num(entry.get(k)) for k in keys)])
                    wait = max(wait, _num(entry.get("estimated_time_to_regain_access")) * 60)
    return percent, wait


def _json(value: str | None) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def _num(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


class UsageThrottle:
    def __init__(
        self, *, slow_from: float = 75.0, max_delay: float = 5.0, blocked_wait: float = 60.0
    ) -> None:
        self.slow_from = slow_from
        self.max_delay = max_delay
        self.blocked_wait = blocked_wait
        self._not_before = 0.0
        self._delay = 0.0

    def observe(self, headers: Mapping[str, str]) -> None:
        percent, regain = usage_from_headers(headers)
        USAGE.set(percent)
        now = time.monotonic()
        if regain > 0 or percent >= 100:
            self._not_before = max(self._not_before, now + (regain or self.blocked_wait))
            self._delay = self.max_delay
        elif percent >= self.slow_from:
            self._delay = self.max_delay * (percent - self.slow_from) / (100 - self.slow_from)
        else:
            self._delay = 0.0

    @property
    def delay(self) -> float:
        """Seconds the next call will wait."""
        return max(self._delay, self._not_before - time.monotonic(), 0.0)

    async def wait(self) -> None:
        if (delay := self.delay) > 0:
            await asyncio.sleep(delay)
