from __future__ import annotations

from fastapi import FastAPI

from crm_servicekit.runtime import Runtime, build_runtime, create_service_app

from .config import MarketingSettings
from .models import metadata


def build(settings: MarketingSettings | None = None) -> Runtime:
    return build_runtime(settings or MarketingSettings(), metadata, emits=[])


def create_app(settings: MarketingSettings | None = None) -> FastAPI:
    return create_service_app(
        build(settings),
        title="V School CRM marketing",
        description="Meta Marketing API sync: campaigns, ad sets, ads and insights.",
    )
