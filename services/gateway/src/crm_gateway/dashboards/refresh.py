"""Revalidation: a stale dashboard answer is served at once, and its days are asked of the
cache-writer again (`analytics.refresh_requested`).

The request is a hint, not a state change: nothing is committed, so it goes straight to the
broker (no outbox), in a task of its own with a short timeout, and the answer never waits for it.
If the broker cannot take it, one warning line says so (dates and the reason only) and the
dashboards keep answering from the files. A range overlapping one asked for within the last
`CRM_DASHBOARD_REFRESH_INTERVAL_SECONDS` (a minute) is not asked again by this process, so a
stopped cache-writer costs one message a minute per range, not one per request.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime

from faststream.rabbit.publisher.usecase import RabbitPublisher

from crm_contracts import AnalyticsRefreshRequested, AnalyticsRefreshRequestedData, RefreshReason
from crm_servicekit.broker import event_publishers
from crm_servicekit.logging import get_logger
from crm_servicekit.runtime import Runtime

log = get_logger(__name__)


@dataclass(frozen=True)
class _Asked:
    since: date
    until: date
    at: float  # time.monotonic()


class Revalidator:
    """Asks the cache-writer to render a stale answer's days again, at most once per interval for
    overlapping ranges, without ever delaying or failing the answer."""

    def __init__(
        self, publisher: RabbitPublisher, *, interval_seconds: float, timeout_seconds: float
    ) -> None:
        self.publisher = publisher
        self.interval_seconds = interval_seconds
        self.timeout_seconds = timeout_seconds
        self._asked: list[_Asked] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def request(self, since: date, until: date, reason: RefreshReason) -> bool:
        """Ask for `since`..`until` in the background; False when an overlapping range was asked
        for within the interval (nothing is sent)."""
        now = time.monotonic()
        self._asked = [a for a in self._asked if now - a.at < self.interval_seconds]
        if any(a.since <= until and since <= a.until for a in self._asked):
            return False
        self._asked.append(_Asked(since, until, now))
        event = AnalyticsRefreshRequested(
            correlation_id=f"dashboard-refresh-{since.isoformat()}-{until.isoformat()}",
            data=AnalyticsRefreshRequestedData(
                since=since, until=until, requested_at=datetime.now(UTC), reason=reason
            ),
        )
        task = asyncio.create_task(self._publish(event), name="dashboard-refresh")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _publish(self, event: AnalyticsRefreshRequested) -> None:
        try:
            async with asyncio.timeout(self.timeout_seconds):
                await self.publisher.publish(
                    event.model_dump_json().encode(),
                    message_id=str(event.event_id),
                    correlation_id=event.correlation_id,
                    content_type="application/json",
                )
        except Exception as exc:  # best effort: the answer was served from the files already
            log.warning(
                "analytics refresh not requested",
                since=event.data.since.isoformat(),
                until=event.data.until.isoformat(),
                reason=event.data.reason,
                error=type(exc).__name__,
            )

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def install(runtime: Runtime, *, interval_seconds: float, timeout_seconds: float) -> Revalidator:
    """The gateway's revalidator, publishing on its broker (also its AsyncAPI entry)."""
    publishers = event_publishers(runtime.broker, [AnalyticsRefreshRequested])
    runtime.publishers.update(publishers)
    revalidator = Revalidator(
        publishers[AnalyticsRefreshRequested.event_type],
        interval_seconds=interval_seconds,
        timeout_seconds=timeout_seconds,
    )
    runtime.on_shutdown.insert(0, revalidator.close)
    return revalidator
