"""Meta's webhook: the handshake (GET) and event notifications (POST), verified over the raw
bytes and stored before the 200 (ADR 8); and the internal API's quarantine, for the gateway."""

from __future__ import annotations

import hmac
import json
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import Counter

from crm_messenger.config import MessengerSettings
from crm_messenger.meta.signature import signature_valid
from crm_messenger.webhooks import service
from crm_messenger.webhooks.inbox import WebhookProcessor, WebhookStore, storable_body
from crm_messenger.webhooks.schemas import QuarantinedView, QuarantineList
from crm_servicekit.internal import internal_router
from crm_servicekit.logging import get_logger
from crm_servicekit.runtime import Runtime

log = get_logger(__name__)

RECEIVED = Counter("crm_messenger_webhooks_received_total", "Webhook POSTs stored for processing")
REJECTED = Counter("crm_messenger_webhook_rejected_total", "Webhook POSTs refused", ["reason"])


def router(settings: MessengerSettings, store: WebhookStore, processor: WebhookProcessor) -> APIRouter:
    api = APIRouter(prefix="/webhooks", tags=["webhooks"])

    @api.get("/meta", response_class=PlainTextResponse, summary="Meta's verification handshake")
    async def verify(
        mode: str = Query("", alias="hub.mode"),
        token: str = Query("", alias="hub.verify_token"),
        challenge: str = Query("", alias="hub.challenge"),
    ) -> str:
        expected = settings.meta_verify_token.get_secret_value()
        if mode == "subscribe" and expected and hmac.compare_digest(token, expected):
            return challenge
        raise HTTPException(403, "verify token mismatch")

    @api.post("/meta", summary="Event notifications from Meta")
    async def receive(request: Request) -> JSONResponse:
        body = await _read_limited(request, settings.webhook_max_body_bytes)
        # Verified over the raw bytes before anything is parsed.
        if not signature_valid(
            settings.meta_app_secret.get_secret_value(), body, request.headers.get("x-hub-signature-256")
        ):
            REJECTED.labels("signature").inc()
            raise HTTPException(403, "invalid signature")
        try:
            document = json.loads(body)
        except ValueError as exc:
            REJECTED.labels("malformed").inc()
            raise HTTPException(400, "body is not JSON") from exc
        if not isinstance(document, dict) or document.get("object") != "page":
            REJECTED.labels("object").inc()
            raise HTTPException(400, "not a Messenger webhook for a Page (object must be 'page')")
        # Stored durably before the 200 (text PostgreSQL cannot store cleaned out); the processor
        # applies it right after (ADR 8).
        receipt = await store.store(storable_body(body, document))
        processor.wake()  # at once in this process; others hear it from PostgreSQL
        RECEIVED.inc()
        return JSONResponse({"status": "received"}, headers={"X-Webhook-Receipt": str(receipt)})

    return api


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        REJECTED.labels("too_large").inc()
        raise HTTPException(413, f"body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            REJECTED.labels("too_large").inc()
            raise HTTPException(413, f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def quarantine_router(runtime: Runtime, settings: MessengerSettings) -> APIRouter:
    """The internal API's view of the quarantine; needs the service token in `X-Internal-Token`."""
    api = internal_router(settings.crm_internal_token)

    @api.get("/quarantine", response_model=QuarantineList)
    async def quarantine(limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> QuarantineList:
        async with runtime.sessionmaker() as session:
            rows = await service.quarantined(session, limit)
        return QuarantineList(items=[QuarantinedView.model_validate(r, from_attributes=True) for r in rows])

    return api
