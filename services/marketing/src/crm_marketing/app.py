from __future__ import annotations

from fastapi import FastAPI

from crm_contracts import Event, InsightsChanged, StructureChanged
from crm_servicekit.periodic import PeriodicTask
from crm_servicekit.runtime import Runtime, build_runtime, create_service_app

from . import internal_api
from .config import MarketingSettings
from .models import metadata
from .sync import Syncer

EMITS: list[type[Event]] = [InsightsChanged, StructureChanged]
SCHEDULE_CHECK_SECONDS = 60.0


def build(settings: MarketingSettings | None = None) -> Runtime:
    settings = settings or MarketingSettings()
    runtime = build_runtime(settings, metadata, emits=EMITS)
    syncer = Syncer(runtime, settings)
    background = [
        # Every replica may queue (one run per slot) and execute (claimed with SKIP LOCKED).
        PeriodicTask("sync-schedule", SCHEDULE_CHECK_SECONDS, syncer.schedule_due),
        PeriodicTask("sync-worker", settings.sync_poll_seconds, syncer.run_pending),
    ]
    runtime.on_startup.extend(task.start for task in background)
    runtime.on_shutdown.extend(task.stop for task in background)
    runtime.extras.update(syncer=syncer)
    return runtime


def create_app(settings: MarketingSettings | None = None) -> FastAPI:
    settings = settings or MarketingSettings()
    runtime = build(settings)
    return create_service_app(
        runtime,
        title="V School CRM marketing",
        description="Meta Marketing API sync: campaigns, ad sets, ads and insights.",
        routers=[internal_api.router(runtime, settings)],
    )
