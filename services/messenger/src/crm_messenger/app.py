from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from crm_contracts import (
    ContactProfileUpdated,
    ContactSeen,
    ConversationModeChanged,
    CustomerErasureProgress,
    Event,
    MessageReceived,
    MessageSendFailed,
    MessageSent,
)
from crm_servicekit.periodic import PeriodicTask
from crm_servicekit.runtime import Runtime, build_runtime, create_service_app

from . import api, handlers, internal_api, outbound, profiles
from .config import MessengerSettings
from .meta.send_api import SendApiClient
from .models import metadata
from .webhook_inbox import WebhookProcessor, WebhookStore

EMITS: list[type[Event]] = [
    ContactSeen,
    ContactProfileUpdated,
    ConversationModeChanged,
    MessageReceived,
    MessageSent,
    MessageSendFailed,
    CustomerErasureProgress,
]


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
    sender = outbound.Sender(runtime.engine, runtime.uow, client)
    handlers.register(runtime, sender)
    grace = timedelta(seconds=settings.pending_send_grace_seconds)
    refresh = timedelta(days=settings.profile_refresh_days)
    background = [
        PeriodicTask(
            "pending-sweeper", grace.total_seconds() / 2, lambda: outbound.send_left_pending(sender, grace)
        ),
        PeriodicTask(
            "profile-fetcher",
            settings.profile_poll_seconds,
            lambda: profiles.fetch_due_profiles(runtime, client, refresh_after=refresh),
        ),
    ]
    store = WebhookStore(settings.libpq_database_url)
    processor = WebhookProcessor(
        runtime,
        dsn=settings.libpq_database_url,
        handover_idle=timedelta(minutes=settings.handover_idle_minutes),
        poll_seconds=settings.webhook_poll_seconds,
        window_seconds=settings.webhook_batch_window_ms / 1000,
    )
    runtime.on_startup.append(store.start)
    if settings.webhook_processing:
        runtime.on_startup.append(processor.start)
    runtime.on_startup.extend(task.start for task in background)
    runtime.on_shutdown.extend(
        [*(task.stop for task in background), processor.stop, store.stop, sender.close, client.aclose]
    )
    runtime.extras.update(sender=sender, webhook_store=store, webhook_processor=processor)
    return runtime


def create_app(settings: MessengerSettings | None = None) -> FastAPI:
    settings = settings or MessengerSettings()
    runtime = build(settings)
    return create_service_app(
        runtime,
        title="V School CRM messenger",
        description="Meta webhooks in, Send API out; conversations and handover.",
        routers=[
            api.router(settings, runtime.extras["webhook_store"], runtime.extras["webhook_processor"]),
            internal_api.router(runtime, settings, runtime.extras["sender"]),
        ],
    )
