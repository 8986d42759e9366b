"""Sends outbound messages left `pending` by a process that stopped between accept and send."""

from __future__ import annotations

from datetime import timedelta

from crm_servicekit.periodic import PeriodicTask
from crm_servicekit.runtime import Runtime

from . import repository, service
from .meta.send_api import SendApiClient


async def send_left_pending(runtime: Runtime, client: SendApiClient, older_than: timedelta) -> int:
    async with runtime.uow() as uow:
        ids = await repository.stale_pending(uow.session, older_than)
    for message_id in ids:
        await service.send_message(runtime.uow, client, message_id)
    return len(ids)


def pending_sweeper(runtime: Runtime, client: SendApiClient, grace_seconds: float) -> PeriodicTask:
    grace = timedelta(seconds=grace_seconds)
    return PeriodicTask(
        "pending-sweeper", grace_seconds / 2, lambda: send_left_pending(runtime, client, grace)
    )
