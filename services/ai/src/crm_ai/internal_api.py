"""Internal API for the gateway (ADR 7): every route needs the shared service token."""

from __future__ import annotations

from fastapi import APIRouter

from crm_servicekit.internal import internal_router
from crm_servicekit.runtime import Runtime

from . import pdpa
from .config import AiSettings


def router(runtime: Runtime, settings: AiSettings) -> APIRouter:
    api = internal_router(settings.crm_internal_token)

    @api.post("/pdpa/export", response_model=pdpa.AiExport)
    async def pdpa_export(body: pdpa.ExportRequest) -> pdpa.AiExport:
        """Every reply the ai composed for these identities (PDPA right of access)."""
        return await pdpa.export(runtime, body.identities)

    return api
