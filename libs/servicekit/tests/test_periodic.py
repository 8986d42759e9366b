"""A periodic job outlives a failed run, including a CancelledError that was not meant for it."""

from __future__ import annotations

import asyncio

from crm_servicekit.periodic import PeriodicTask
from crm_servicekit.testing import eventually


async def test_a_run_ended_by_a_cancelled_future_is_logged_and_the_job_runs_again() -> None:
    loop = asyncio.get_running_loop()
    runs: list[str] = []

    async def job() -> int:
        runs.append("start")
        if len(runs) == 1:
            # What aiormq does to a pending confirm when its channel closes: the future the job
            # awaits is cancelled by someone else, and the job sees a CancelledError.
            confirm = loop.create_future()
            loop.call_later(0.05, confirm.cancel)
            await confirm
        return 0

    task = PeriodicTask("relay", 0.05, job)
    await task.start()
    try:
        await eventually(lambda: asyncio.sleep(0, len(runs) >= 3), timeout=5)
    finally:
        await task.stop()


async def test_stop_ends_a_job_that_is_running() -> None:
    started = asyncio.Event()

    async def job() -> int:
        started.set()
        await asyncio.sleep(3600)
        return 0

    task = PeriodicTask("slow", 0.01, job)
    await task.start()
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.wait_for(task.stop(), 5)
