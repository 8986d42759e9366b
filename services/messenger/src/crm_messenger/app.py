from __future__ import annotations

from fastapi import FastAPI

from crm_contracts import ContactSeen, Event, MessageReceived, MessageSendFailed, MessageSent
from crm_servicekit.runtime import Runtime, build_runtime, create_service_app

from . import api, handlers
from .config import MessengerSettings
from .meta.send_api import SendApiClient
from .models import metadata
from .sweeper import pending_sweeper

EMITS: list[type[Event]] = [ContactSeen, MessageReceived, MessageSent, MessageSendFailed]


def send_api_client(settings: MessengerSettings) -> SendApiClient:
    return SendApiClient(
        base_url=settings.meta_graph_api_url,
        version=settings.meta_graph_api_version,
        access_token=settings.meta_page_access_token.get_secret_value(),
        max_attempts=settings.send_max_attempts,
        backoff_initial=settings.send_backoff_initial_seconds,
        backoff_max=settings.send_backoff_max_seconds,
        timeout=settings.send_timeout_seconds,
    )


def build(settings: MessengerSettings | None = None) -> Runtime:
    settings = settings or MessengerSettings()
    runtime = build_runtime(settings, metadata, emits=EMITS)
    client = send_api_client(settings)
    handlers.register(runtime, client)
    sweeper = pending_sweeper(runtime, client, settings.pending_send_grace_seconds)
    runtime.on_startup.append(sweeper.start)
    runtime.on_shutdown.extend([client.aclose, sweeper.stop])
    return runtime


def create_app(settings: MessengerSettings | None = None) -> FastAPI:
    settings = settings or MessengerSettings()
    runtime = build(settings)
    return create_service_app(
        runtime,
        title="V School CRM messenger",
        description="Meta webhooks in, Send API out; conversations and handover.",
        routers=[api.router(runtime, settings)],
    )
