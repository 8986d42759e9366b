"""Meta's webhook: the handshake (GET) and event notifications (POST)."""

from __future__ import annotations

import hmac
import json
from datetime import timedelta

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse
from prometheus_client import Counter
from pydantic import ValidationError

from crm_servicekit.logging import get_logger
from crm_servicekit.runtime import Runtime

from . import ingest
from .config import MessengerSettings
from .meta.signature import signature_valid
from .meta.webhook import WebhookPayload

log = get_logger(__name__)

WEBHOOK_EVENTS = Counter("crm_messenger_webhook_events_total", "Webhook items by kind", ["kind"])
QUARANTINED = Counter("crm_messenger_quarantined_events_total", "Webhook items kept in quarantine")
REJECTED = Counter("crm_messenger_webhook_rejected_total", "Webhook POSTs refused", ["reason"])


def router(runtime: Runtime, settings: MessengerSettings) -> APIRouter:
    api = APIRouter(prefix="/webhooks", tags=["webhooks"])
    idle = timedelta(minutes=settings.handover_idle_minutes)

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
    async def receive(request: Request) -> dict[str, int]:
        body = await _read_limited(request, settings.webhook_max_body_bytes)
        # Verified over the raw bytes before anything is parsed.
        if not signature_valid(
            settings.meta_app_secret.get_secret_value(), body, request.headers.get("x-hub-signature-256")
        ):
            REJECTED.labels("signature").inc()
            raise HTTPException(403, "invalid signature")
        try:
            payload = WebhookPayload.model_validate(json.loads(body))
        except (ValueError, ValidationError) as exc:
            REJECTED.labels("malformed").inc()
            raise HTTPException(400, "body is not a Meta webhook JSON document") from exc
        if payload.object != "page":
            REJECTED.labels("object").inc()
            raise HTTPException(400, f"unsupported webhook object {payload.object!r}")
        async with runtime.uow() as uow:
            result = await ingest.ingest_webhook(uow, payload, handover_idle=idle)
            await uow.commit()
        for kind, n in result.kinds.items():
            WEBHOOK_EVENTS.labels(kind).inc(n)
        QUARANTINED.inc(result.quarantined)
        log.info(
            "webhook stored",
            stored=result.stored,
            duplicates=result.duplicates,
            quarantined=result.quarantined,
        )
        return {"stored": result.stored, "duplicates": result.duplicates, "quarantined": result.quarantined}

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
