"""Bangkok days and months, and the ranges a dashboard answers for (inclusive, checked here)."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm_gateway.errors import InvalidParameter, Problem

try:
    BANGKOK: tzinfo = ZoneInfo("Asia/Bangkok")
except ZoneInfoNotFoundError:  # a slim image without a tz database; Bangkok has had no DST since 1920
    BANGKOK = timezone(timedelta(hours=7), "Asia/Bangkok")

DEFAULT_DAYS = 30  # the last 30 Bangkok days, today included
DEFAULT_MONTHS = 12  # the last 12 Bangkok months, this one included
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


class InvalidRange(Problem):
    """`since`/`until` FastAPI accepted by type that make no range a dashboard answers for."""

    status = InvalidParameter.status
    slug = InvalidParameter.slug
    title = InvalidParameter.title

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail, errors=[{"field": field, "location": "query", "detail": detail}])


def today() -> date:
    """Today in Bangkok, where the school is and its days are counted."""
    return datetime.now(BANGKOK).date()


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _back(day: date, count: int) -> date:
    try:
        return day - timedelta(days=count)
    except OverflowError:
        return date.min


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @classmethod
    def parse(cls, field: str, text: str) -> Month:
        """`YYYY-MM`, already matched against `MONTH_PATTERN` by the route."""
        year, month = int(text[:4]), int(text[5:7])
        if year < 1:
            raise InvalidRange(field, f"`{field}` ({text}) is not a month of the calendar.")
        return cls(year, month)

    @property
    def name(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def index(self) -> int:
        return self.year * 12 + self.month - 1

    @classmethod
    def at(cls, index: int) -> Month:
        return cls(index // 12, index % 12 + 1)


def months(first: Month, last: Month) -> list[Month]:
    return [Month.at(i) for i in range(first.index, last.index + 1)]


def month_spans(since: date, until: date) -> Iterator[tuple[Month, date, date]]:
    """Each month `since`..`until` touches, with the part of it inside the range."""
    for month in months(Month.of(since), Month.of(until)):
        yield month, max(month.first, since), min(month.last, until)


def day_range(since: date | None, until: date | None, *, max_days: int, now: date) -> tuple[date, date]:
    """The range asked for; `until` defaults to today and `since` to 29 days before `until`."""
    until = until or now
    since = since or _back(until, DEFAULT_DAYS - 1)
    if since > until:
        raise InvalidRange("since", f"`since` ({since}) is after `until` ({until}).")
    length = (until - since).days + 1
    if length > max_days:
        raise InvalidRange(
            "since",
            f"`since` ({since}) to `until` ({until}) is {length} days; at most {max_days} days per request.",
        )
    return since, until


def month_range(
    since: Month | None, until: Month | None, *, max_months: int, now: date
) -> tuple[Month, Month]:
    """The months asked for; `until` defaults to this month and `since` to 11 months before."""
    until = until or Month.of(now)
    since = since or Month.at(max(until.index - (DEFAULT_MONTHS - 1), Month(1, 1).index))
    if since > until:
        raise InvalidRange("since", f"`since` ({since.name}) is after `until` ({until.name}).")
    length = until.index - since.index + 1
    if length > max_months:
        raise InvalidRange(
            "since",
            f"`since` ({since.name}) to `until` ({until.name}) is {length} months; "
            f"at most {max_months} months per request.",
        )
    return since, until
