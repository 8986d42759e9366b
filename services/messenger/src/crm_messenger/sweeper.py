"""Sends outbound messages left `pending` by a process that stopped between accept and send."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from crm_servicekit.logging import get_logger
from crm_servicekit.runtime import Runtime

from . import repository, service
from .meta.send_api import SendApiClient

log = get_logger(__name__)


class PendingSweeper:
    def __init__(self, runtime: Runtime, client: SendApiClient, grace_seconds: float) -> None:
        self.runtime = runtime
        self.client = client
        self.grace = timedelta(seconds=grace_seconds)
        self._task: asyncio.Task[None] | None = None

    async def sweep_once(self) -> int:
        async with self.runtime.uow() as uow:
            ids = await repository.stale_pending(uow.session, self.grace)
        for message_id in ids:
            await service.send_message(self.runtime.uow, self.client, message_id)
        return len(ids)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.grace.total_seconds() / 2)
            try:
                if n := await self.sweep_once():
                    log.info("sent messages left pending", count=n)
            except Exception as exc:
                log.warning("pending sweep failed; will try again", error=type(exc).__name__)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="pending-sweeper")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
