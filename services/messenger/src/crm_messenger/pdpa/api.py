"""`POST /internal/v1/pdpa/export`: everything the messenger holds on some Messenger identities,
for the gateway's PDPA data export (the customer's right of access). Needs the shared service
token in `X-Internal-Token`."""

from __future__ import annotations

from fastapi import APIRouter

from crm_messenger.config import MessengerSettings
from crm_messenger.pdpa.export import export
from crm_messenger.pdpa.schemas import ExportRequest, MessengerExport
from crm_servicekit.internal import internal_router
from crm_servicekit.runtime import Runtime


def router(runtime: Runtime, settings: MessengerSettings) -> APIRouter:
    api = internal_router(settings.crm_internal_token)

    @api.post("/pdpa/export", response_model=MessengerExport)
    async def pdpa_export(body: ExportRequest) -> MessengerExport:
        """Everything the messenger holds on these identities: conversations with profile names,
        every message in both directions, reactions, ad referrals, opt-ins, quarantined items."""
        return await export(runtime, body.identities)

    return api
