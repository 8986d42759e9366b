"""A background job that runs every `interval` seconds until the service stops.

A failed run is logged (error class only) and the next one comes at its time. That includes a
`CancelledError` that was not meant for the task: aiormq cancels the futures of a channel that
closes (a pending publisher confirm when the broker's node goes away), and that error would
otherwise end the loop for good, leaving, for the outbox relay, rows that nobody sends again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from .logging import get_logger

log = get_logger(__name__)


class PeriodicTask:
    def __init__(self, name: str, interval: float, job: Callable[[], Awaitable[int]]) -> None:
        """`job` returns how many things it did; a non-zero count is logged."""
        self.name = name
        self.interval = interval
        self.job = job
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                if done := await self.job():
                    log.info("periodic job did work", job=self.name, count=done)
            except asyncio.CancelledError:
                if being_cancelled():
                    raise  # stop() or shutdown: end the loop
                log.warning("periodic job interrupted; will try again", job=self.name, error="CancelledError")
            except Exception as exc:
                log.warning("periodic job failed; will try again", job=self.name, error=type(exc).__name__)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def being_cancelled() -> bool:
    """Whether someone asked to cancel the running task (not merely a future it awaited)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
