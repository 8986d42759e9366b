"""The `CRM_RATE_LIMIT_*` settings, mixed into `GatewaySettings`. Each limit is `<count>/<period>`
with the period `second`, `minute`, `hour` or `day`, optionally with a number: `20/hour`,
`100/15 minutes`. Per staff member (signed in) and per client address (behind one NAT an office
shares one, so those are higher)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, BaseModel

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_LIMIT = re.compile(r"^\s*(\d+)\s*/\s*(\d+)?\s*(second|minute|hour|day)s?\s*$")


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int


def parse_limit(text: str) -> Limit:
    match = _LIMIT.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a rate limit like '20/hour' or '100/15 minutes'")
    count, every, unit = int(match[1]), int(match[2] or 1), match[3]
    if count < 1 or every < 1:
        raise ValueError(f"{text!r}: the count and the period are at least 1")
    return Limit(count, every * _UNITS[unit])


def _checked(text: str) -> str:
    parse_limit(text)
    return text


RateLimit = Annotated[str, AfterValidator(_checked)]


class RateLimitSettings(BaseModel):
    # Off only for benchmarks and load tests, which are one staff member asking very fast.
    crm_rate_limits_enabled: bool = True
    # The ceiling on every /api/v1 request: far above what a person clicking does, low enough
    # that a runaway script or a stolen token cannot scrape the customer base at full speed.
    crm_rate_limit_per_staff: RateLimit = "1200/minute"
    crm_rate_limit_per_address: RateLimit = "3000/minute"
    # Customer search (GET /customers): each one can walk the trigram indexes.
    crm_rate_limit_search_per_staff: RateLimit = "120/minute"
    crm_rate_limit_search_per_address: RateLimit = "360/minute"
    # PDPA exports: each one fans out to the messenger and the ai service, and is all of a
    # customer's personal data.
    crm_rate_limit_export_per_staff: RateLimit = "20/hour"
    crm_rate_limit_export_per_address: RateLimit = "60/hour"
    # Staff replies to customers (each one a Send API call to Meta, which limits the Page).
    crm_rate_limit_reply_per_staff: RateLimit = "30/minute"
    crm_rate_limit_reply_per_address: RateLimit = "120/minute"
    # Starting a marketing sync (each one calls Meta's Insights API) ...
    crm_rate_limit_sync_per_staff: RateLimit = "30/hour"
    crm_rate_limit_sync_per_address: RateLimit = "60/hour"
    # ... and a backfill besides (up to 37 months of rows).
    crm_rate_limit_backfill_per_staff: RateLimit = "6/hour"
    crm_rate_limit_backfill_per_address: RateLimit = "12/hour"
