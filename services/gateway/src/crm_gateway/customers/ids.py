"""Customer ids: `TVS-CUS-<channel>-<yy>-<seq:04d>`, e.g. `TVS-CUS-FB-26-0001`."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

CustomerChannel = Literal["FB", "LINE", "WEB", "WALKIN"]

try:
    BANGKOK: tzinfo = ZoneInfo("Asia/Bangkok")
except ZoneInfoNotFoundError:  # a slim image without a tz database; Bangkok has had no DST since 1920
    BANGKOK = timezone(timedelta(hours=7), "Asia/Bangkok")

# [0-9], not \d: \d also matches Thai and other digits. Past 9999 the number simply grows.
_CUSTOMER_ID = re.compile(r"TVS-CUS-(?:FB|LINE|WEB|WALKIN)-[0-9]{2}-[0-9]{4,9}")


def bangkok_year(now: datetime) -> int:
    """The two-digit year of `now`'s date in Bangkok, where the school is."""
    return now.astimezone(BANGKOK).year % 100


def format_customer_id(channel: CustomerChannel, year: int, number: int) -> str:
    return f"TVS-CUS-{channel}-{year:02d}-{number:04d}"


def is_customer_id(value: str) -> bool:
    """Also what makes an id safe to use as a file name (no separators, no dots)."""
    return _CUSTOMER_ID.fullmatch(value) is not None
