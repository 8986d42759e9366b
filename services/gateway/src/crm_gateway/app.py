"""The gateway's wiring: the runtime (database, broker, outbox), each capability's routers and
subscribers, the clients of the other services' internal APIs, and the hot-read pool."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, FastAPI
from starlette.types import ASGIApp

from crm_contracts import (
    CustomerCreated,
    CustomerErasureRequested,
    CustomerLeadUpdated,
    CustomerMerged,
    CustomerMergeUndone,
    CustomerUpdated,
    Event,
    OrderCreated,
    OrderStatusChanged,
    ProductChanged,
)
from crm_servicekit.doors import declare_public
from crm_servicekit.logging import get_logger
from crm_servicekit.runtime import Runtime, build_runtime, create_service_app

from . import exports
from .audit import api as audit_api
from .auth import api as auth_api
from .auth import service as auth_service
from .auth import staff_api
from .catalog import api as catalog_api
from .clients.ai import AiClient
from .clients.marketing import MarketingClient
from .clients.messenger import MessengerClient
from .config import GatewaySettings
from .conversations import api as conversations_api
from .customers import api as customers_api
from .customers import handlers as customer_handlers
from .dashboards import api as dashboards_api
from .dashboards import integrity_api as dashboards_integrity
from .dashboards import products_api as dashboards_products
from .dashboards import reconciliation_api as dashboards_reconciliation
from .dashboards import refresh as dashboards_refresh
from .dashboards.snapshots import SnapshotStore
from .deps import storable_input
from .errors import install_problem_handlers
from .knowledge import api as knowledge_api
from .live import api as live_api
from .live.feed import Feed
from .live.hub import Hub
from .marketing import api as marketing_api
from .orders import api as orders_api
from .pdpa import api as pdpa_api
from .pdpa import handlers as pdpa_handlers
from .ratelimits import api as ratelimits_api
from .ratelimits import service as ratelimits
from .reads import HotReads
from .security_headers import SecurityHeaders
from .tables import metadata
from .webapp import serving

log = get_logger(__name__)

API_PREFIX = "/api/v1"


def build(settings: GatewaySettings | None = None) -> Runtime:
    settings = settings or GatewaySettings()
    emits: list[type[Event]] = [
        CustomerCreated,
        CustomerUpdated,
        ProductChanged,
        OrderCreated,
        OrderStatusChanged,
        CustomerMerged,
        CustomerMergeUndone,
        CustomerErasureRequested,
        CustomerLeadUpdated,
    ]
    runtime = build_runtime(settings, metadata, emits=emits)
    customer_handlers.register(runtime)
    pdpa_handlers.register(runtime)

    async def on_startup() -> None:
        if settings.crm_admin_email and settings.crm_admin_password:
            async with runtime.uow() as uow:
                await auth_service.ensure_admin(
                    uow, settings.crm_admin_email, settings.crm_admin_password.get_secret_value()
                )

    runtime.on_startup.append(on_startup)
    housekeeping = auth_service.housekeeping(runtime, settings)
    runtime.on_startup.append(housekeeping.start)
    runtime.on_shutdown.append(housekeeping.stop)
    return runtime


def messenger_client(settings: GatewaySettings) -> MessengerClient:
    return MessengerClient(settings.messenger_internal_url, settings.crm_internal_token.get_secret_value())


def marketing_client(settings: GatewaySettings) -> MarketingClient:
    return MarketingClient(settings.marketing_internal_url, settings.crm_internal_token.get_secret_value())


def ai_client(settings: GatewaySettings) -> AiClient:
    return AiClient(settings.ai_internal_url, settings.crm_internal_token.get_secret_value())


def routers() -> list[APIRouter]:
    """Sign-in and refresh are open; every other `/api/v1` route needs a signed-in staff user.
    Every route refuses strings PostgreSQL cannot store (`storable_input`; after sign-in, so a
    caller who is not signed in learns nothing but 401) and counts against the rate limits
    (`ratelimits`: per staff member and address signed in, per address on the open routes)."""
    public = APIRouter(
        prefix=API_PREFIX,
        dependencies=[Depends(ratelimits_api.within_address_limits), Depends(storable_input)],
    )
    public.include_router(auth_api.token_router)
    protected = APIRouter(
        prefix=API_PREFIX,
        dependencies=[
            Depends(auth_api.current_staff),
            Depends(ratelimits_api.within_limits),
            Depends(storable_input),
        ],
    )
    protected.include_router(auth_api.router)
    protected.include_router(staff_api.router)
    protected.include_router(customers_api.router)
    protected.include_router(audit_api.router)
    protected.include_router(conversations_api.router)
    protected.include_router(conversations_api.messenger_router)
    protected.include_router(marketing_api.router)
    protected.include_router(dashboards_api.router)
    protected.include_router(dashboards_integrity.router)
    protected.include_router(dashboards_products.router)
    protected.include_router(dashboards_reconciliation.router)
    protected.include_router(knowledge_api.router)
    protected.include_router(catalog_api.router)
    protected.include_router(orders_api.router)
    protected.include_router(pdpa_api.customers_router)
    protected.include_router(pdpa_api.requests_router)
    protected.include_router(live_api.router)
    return [public, protected]


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    runtime = build(settings)
    # Created here (it does not connect until used) and closed when the app stops.
    messenger = messenger_client(settings)
    marketing = marketing_client(settings)
    ai = ai_client(settings)
    runtime.on_shutdown.extend([messenger.aclose, marketing.aclose, ai.aclose])
    reads = HotReads(settings.libpq_database_url)
    runtime.on_startup.insert(0, reads.open)
    runtime.on_shutdown.append(reads.close)
    limits_housekeeping = ratelimits.housekeeping(reads)
    runtime.on_startup.append(limits_housekeeping.start)
    runtime.on_shutdown.insert(0, limits_housekeeping.stop)
    app = create_service_app(
        runtime,
        title="V School CRM gateway",
        description="The staff API: sign-in, customers (from the cache-writer's snapshots first), "
        "Messenger conversations (through the messenger's internal API), Meta ad numbers "
        "(through the marketing service's internal API) and marketing dashboards (from the "
        "cache-writer's analytics snapshots).",
        # The internal API (exports for a consumer rebuilding its copy): internal port only.
        routers=[*routers(), exports.router(runtime, settings)],
    )
    app.state.messenger = messenger
    app.state.marketing = marketing
    app.state.ai = ai
    app.state.reads = reads
    app.state.dashboard_snapshots = SnapshotStore(
        settings.crm_cache_dir, max_bytes=settings.crm_dashboard_cache_max_bytes
    )
    # A stale dashboard answer asks the cache-writer to render its days again (a hint, no outbox).
    app.state.dashboard_refresh = dashboards_refresh.install(
        runtime,
        interval_seconds=settings.crm_dashboard_refresh_interval_seconds,
        timeout_seconds=settings.crm_dashboard_refresh_timeout_seconds,
    )
    # Browsers hear what staff must see at once through the replica's own copy of the events.
    app.state.live_hub = Hub()
    app.state.live_max_seconds = settings.crm_live_max_seconds
    live_feed = Feed(app.state.live_hub, settings.rabbitmq_url)
    runtime.on_startup.append(live_feed.start)
    runtime.on_shutdown.insert(0, live_feed.stop)
    install_problem_handlers(app)
    # The staff API and the web app face outside (every path but the internal-only ones);
    # /docs, /openapi.json and /metrics answer on INTERNAL_PORT only (ADR 17).
    declare_public(app, "/")
    web = serving(settings.crm_web_dir)
    outermost(app, lambda inner: SecurityHeaders(web(inner), hsts_always=settings.crm_hsts_always))
    return app


def outermost(app: FastAPI, wrap: Callable[[ASGIApp], ASGIApp]) -> None:
    """Wrap the whole middleware stack, outside Starlette's `ServerErrorMiddleware` (which
    `add_middleware` would put it under): a 500 gets the security headers too."""
    build = app.build_middleware_stack
    app.build_middleware_stack = lambda: wrap(build())  # type: ignore[method-assign]
