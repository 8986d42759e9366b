"""The messenger's wiring: the runtime (database, broker, outbox), the Send API client, each
capability's subscribers, background tasks and routers. Nothing is created at import."""

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
from crm_messenger.config import MessengerSettings
from crm_messenger.conversations import api as conversations_api
from crm_messenger.meta.send_api import SendApiClient
from crm_messenger.outbound import api as outbound_api
from crm_messenger.outbound import handlers as outbound_handlers
from crm_messenger.outbound.sender import Sender
from crm_messenger.outbound.sweeper import sweep
from crm_messenger.pdpa import api as pdpa_api
from crm_messenger.pdpa import handlers as pdpa_handlers
from crm_messenger.profiles import service as profiles
from crm_messenger.tables import metadata
from crm_messenger.webhooks import api as webhooks_api
from crm_messenger.webhooks import exports as webhooks_exports
from crm_messenger.webhooks.inbox import WebhookProcessor, WebhookStore
from crm_servicekit.doors import declare_public
from crm_servicekit.periodic import PeriodicTask
from crm_servicekit.runtime import Runtime, build_runtime, create_service_app

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
    sender = Sender(runtime.engine, runtime.uow, client)
    outbound_handlers.register(runtime, sender)
    pdpa_handlers.register(runtime)
    grace = timedelta(seconds=settings.pending_send_grace_seconds)
    refresh = timedelta(days=settings.profile_refresh_days)
    background = [
        # Parts left pending, and parts left sending by a process that stopped (ADR 14).
        PeriodicTask("pending-sweeper", grace.total_seconds() / 2, lambda: sweep(sender, grace)),
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
    runtime.on_startup.append(sender.start)
    runtime.on_startup.extend(task.start for task in background)
    # Run last to first: the background tasks stop, then the webhooks, then the sender finishes
    # (or interrupts) its calls to Meta, and only then is the Send API client closed.
    runtime.on_shutdown.extend(
        [client.aclose, sender.close, store.stop, processor.stop, *(task.stop for task in background)]
    )
    runtime.extras.update(sender=sender, webhook_store=store, webhook_processor=processor)
    return runtime


def create_app(settings: MessengerSettings | None = None) -> FastAPI:
    settings = settings or MessengerSettings()
    runtime = build(settings)
    app = create_service_app(
        runtime,
        title="V School CRM messenger",
        description="Meta webhooks in, Send API out; conversations and handover.",
        routers=[
            webhooks_api.router(
                settings, runtime.extras["webhook_store"], runtime.extras["webhook_processor"]
            ),
            # The internal API (/internal/v1, ADR 7), in the order its routes are documented.
            conversations_api.router(runtime, settings),
            outbound_api.router(runtime, settings, runtime.extras["sender"]),
            webhooks_api.quarantine_router(runtime, settings),
            pdpa_api.router(runtime, settings),
            webhooks_exports.router(runtime, settings),
        ],
    )
    # Meta's webhook is the one public route; the internal API answers on INTERNAL_PORT (ADR 17).
    declare_public(app, "/webhooks/meta")
    return app
