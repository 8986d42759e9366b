"""The PDPA subscriber: each service's report on its part of an erasure."""

from __future__ import annotations

from crm_contracts import CustomerErasureProgress
from crm_servicekit.broker import subscribe
from crm_servicekit.runtime import Runtime

from . import service as pdpa


def register(runtime: Runtime) -> None:
    @subscribe(runtime.broker, runtime.topology, pdpa.PROGRESS_PURPOSE, CustomerErasureProgress)
    async def on_erasure_progress(event: CustomerErasureProgress) -> None:
        """A service's report on its part of an erasure: its step, and the request once all are done."""
        async with runtime.uow() as uow:
            await pdpa.record_progress(uow, event)
