from __future__ import annotations

from fastapi import FastAPI

from crm_contracts import CustomerErasureProgress
from crm_servicekit.runtime import Runtime, build_runtime, create_service_app

from . import handlers
from .analytics import tables as _analytics_tables  # noqa: F401  (their tables join the metadata)
from .analytics import wiring as analytics
from .config import CacheWriterSettings
from .models import metadata


def build(settings: CacheWriterSettings | None = None) -> Runtime:
    settings = settings or CacheWriterSettings()
    runtime = build_runtime(settings, metadata, emits=[CustomerErasureProgress])
    handlers.register(runtime, settings)
    runtime.extras["analytics"] = analytics.install(runtime, settings)
    return runtime


def create_app(settings: CacheWriterSettings | None = None) -> FastAPI:
    return create_service_app(
        build(settings),
        title="V School CRM cache-writer",
        description="Turns events into JSON snapshots the gateway serves first.",
    )
