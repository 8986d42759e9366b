"""Meta's webhook: the handshake (GET) and event notifications (POST), verified over the raw
bytes and stored before the 200 (ADR 8); and the internal API's quarantine, for the gateway."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import Counter

from crm_messenger.config import MessengerSettings
from crm_messenger.meta.signature import signature_valid
from crm_messenger.webhooks import delivery, service
from crm_messenger.webhooks.inbox import WebhookProcessor, WebhookStore
from crm_messenger.webhooks.schemas import QuarantinedView, QuarantineList
from crm_servicekit.internal import internal_router, secret_matches
from crm_servicekit.logging import get_logger
from crm_servicekit.runtime import Runtime
from crm_servicekit.unavailable import RETRY_AFTER_SECONDS, database_unavailable

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
        # Compared as bytes: a non-ASCII token is a mismatch, not a 500.
        if mode == "subscribe" and secret_matches(token, settings.meta_verify_token.get_secret_value()):
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
            text = delivery.stored_text(body)
        except delivery.NotJson as exc:
            REJECTED.labels("malformed").inc()
            raise HTTPException(400, str(exc)) from exc
        # Stored durably before the 200, whatever it holds: what we do not handle (another
        # `object`, `changes`, unknown kinds) is quarantined with the reason when it is applied,
        # right after (ADR 8). Only a delivery we could not store gets a non-200: Meta retries it.
        receipt = await _store(store, body, text)
        processor.wake()  # at once in this process; others hear it from PostgreSQL
        RECEIVED.inc()
        return JSONResponse({"status": "received"}, headers={"X-Webhook-Receipt": str(receipt)})

    return api


async def _store(store: WebhookStore, body: bytes, text: str) -> int:
    """Store the delivery; if PostgreSQL refuses its JSON (a value `jsonb` has no room for), store
    it as text to be quarantined. Anything else is a 503 with `Retry-After`: Meta sends it again."""
    try:
        try:
            return await store.store(text)
        except (asyncpg.DataError, asyncpg.ProgramLimitExceededError) as exc:
            log.warning("webhook body refused by PostgreSQL; stored as text", error=type(exc).__name__)
            return await store.store(
                delivery.unreadable(body, f"PostgreSQL refused it: {type(exc).__name__}")
            )
    except Exception as exc:
        if database_unavailable(exc) is not None:
            raise  # the service's 503 for an unreachable database
        REJECTED.labels("not_stored").inc()
        log.error("webhook could not be stored; answered 503", error=type(exc).__name__)
        raise HTTPException(
            503, "the delivery could not be stored; send it again", {"Retry-After": str(RETRY_AFTER_SECONDS)}
        ) from exc


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
