"""Insights through async report runs, as Meta recommends for anything but tiny requests.

A job asks for ad-level rows of one node (the account, a campaign or an ad set) over a range:
`POST /{node}/insights` starts a report run, `GET /{run_id}` is polled with a growing pause until
`Job Completed`, then `GET /{run_id}/insights` is read page by page. A run that fails, is skipped
or takes too long is started again; after `attempts` tries the job is split into one job per
child (account -> campaigns -> ad sets), like Airbyte's `InsightAsyncJob.split_job`. An ad set
that still fails is reported as failed with Meta's message.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from crm_servicekit.logging import get_logger

from .client import MarketingApiError, MarketingClient, Sleep
from .insights import HOUR_BREAKDOWN

log = get_logger(__name__)

NodeLevel = Literal["account", "campaign", "adset"]
# Explicit attribution windows, stored with every row (Meta's `default` could change).
ATTRIBUTION_WINDOWS = ("7d_click", "1d_view")
FIELDS = (
    "account_id",
    "campaign_id",
    "adset_id",
    "ad_id",
    "date_start",
    "date_stop",
    "spend",
    "impressions",
    "reach",
    "clicks",
    "inline_link_clicks",
    "ctr",
    "cpc",
    "actions",
    "action_values",
    "purchase_roas",
)
_DONE = "Job Completed"
_FAILED = frozenset({"Job Failed", "Job Skipped"})


@dataclass(frozen=True)
class Job:
    node: str  # "act_<id>", a campaign id or an ad set id
    level: NodeLevel
    since: date
    until: date
    hourly: bool

    def params(self) -> dict[str, str]:
        fields = [f for f in FIELDS if not (self.hourly and f == "reach")]  # no reach by hour
        params = {
            "level": "ad",
            "time_range": json.dumps({"since": self.since.isoformat(), "until": self.until.isoformat()}),
            "time_increment": "1",
            "fields": ",".join(fields),
            "action_attribution_windows": json.dumps(list(ATTRIBUTION_WINDOWS)),
        }
        if self.hourly:
            params["breakdowns"] = json.dumps([HOUR_BREAKDOWN])
        return params

    def __str__(self) -> str:
        grain = "hourly" if self.hourly else "daily"
        return f"{grain} {self.level} {self.node} {self.since}..{self.until}"


class ReportFailed(Exception):
    """A report run failed (or timed out) every time it was tried."""

    def __init__(self, job: Job, reason: str) -> None:
        self.job = job
        self.reason = reason
        super().__init__(f"{job}: {reason}")


@dataclass(frozen=True)
class Polling:
    initial: float = 2.0
    maximum: float = 30.0
    timeout: float = 1800.0


# The children of a node when a job must be split: campaigns of an account, ad sets of a campaign.
Children = Callable[[Job], Awaitable[Sequence[str]]]


@dataclass
class ReportRunner:
    client: MarketingClient
    children: Children
    page_size: int = 500
    attempts: int = 2
    polling: Polling = field(default_factory=Polling)
    sleep: Sleep = asyncio.sleep
    concurrency: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(3))
    splits: int = 0

    async def rows(self, job: Job) -> list[dict[str, Any]]:
        """Every row of the job; split into child jobs when the whole cannot be had."""
        reason = "no attempt made"
        for attempt in range(1, self.attempts + 1):
            try:
                async with self.concurrency:
                    return await self._once(job)
            except ReportFailed as exc:
                reason = exc.reason
                log.warning("report run failed", job=str(job), attempt=attempt, reason=reason)
                if attempt < self.attempts:
                    self.client.stats.retries += 1
        child_level: dict[NodeLevel, NodeLevel] = {"account": "campaign", "campaign": "adset"}
        if job.level not in child_level:
            raise ReportFailed(job, reason)
        kids = [
            Job(node, child_level[job.level], job.since, job.until, job.hourly)
            for node in await self.children(job)
        ]
        self.splits += 1
        log.info("report job split", job=str(job), parts=len(kids))
        parts = await asyncio.gather(*(self.rows(kid) for kid in kids))
        return [row for part in parts for row in part]

    async def _once(self, job: Job) -> list[dict[str, Any]]:
        started = await self.client.post(f"/{job.node}/insights", job.params())
        run_id = str(started.get("report_run_id") or "")
        if not run_id:
            raise ReportFailed(job, "Meta did not return a report_run_id")
        await self._wait(job, run_id)
        rows: list[dict[str, Any]] = []
        try:
            async for page in self.client.pages(f"/{run_id}/insights", {}, page_size=self.page_size):
                rows.extend(page)
        except MarketingApiError as exc:
            if exc.rate_limited or exc.stops_sync:
                raise
            raise ReportFailed(job, f"reading the results failed: {exc.message}") from exc
        return rows

    async def _wait(self, job: Job, run_id: str) -> None:
        deadline = time.monotonic() + self.polling.timeout
        pause = self.polling.initial
        while True:
            await self.sleep(pause)
            status = await self.client.get(f"/{run_id}")
            state = status.get("async_status")
            if state == _DONE:
                return
            if state in _FAILED:
                message = status.get("error_user_msg") or status.get("error_message") or state
                raise ReportFailed(job, f"{state}: {message}")
            if time.monotonic() >= deadline:
                raise ReportFailed(job, f"not completed after {self.polling.timeout:.0f} s ({state})")
            pause = min(self.polling.maximum, pause * 1.5)
