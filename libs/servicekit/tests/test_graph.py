"""Meta's usage headers slow sending down before Meta throttles us."""

from __future__ import annotations

import json

from crm_servicekit.graph import UsageThrottle, usage_from_headers


def buc(call_count: int, regain_minutes: int = 0) -> dict[str, str]:
    entry = {
        "type": "messenger",
        "call_count": call_count,
        "total_cputime": 5,
        "total_time": 5,
        "estimated_time_to_regain_access": regain_minutes,
    }
    return {"x-business-use-case-usage": json.dumps({"100000000000001": [entry]})}


def test_highest_usage_and_regain_time_are_read_from_both_headers() -> None:
    headers = {
        "x-app-usage": json.dumps({"call_count": 40, "total_time": 81, "total_cputime": 3}),
        **buc(60, 2),
    }
    assert usage_from_headers(headers) == (81.0, 120.0)
    assert usage_from_headers({"x-app-usage": "not json"}) == (0.0, 0.0)


def test_throttle_waits_longer_as_usage_climbs_and_stops_when_blocked() -> None:
    throttle = UsageThrottle(slow_from=75, max_delay=4.0)
    throttle.observe(buc(50))
    assert throttle.delay == 0
    throttle.observe(buc(80))
    low = throttle.delay
    throttle.observe(buc(95))
    high = throttle.delay
    assert 0 < low < high <= 4.0
    throttle.observe(buc(100, regain_minutes=3))
    assert throttle.delay > 170, "wait until Meta says access returns"
