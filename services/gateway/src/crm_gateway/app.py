from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from crm_contracts import CustomerCreated, CustomerUpdated
from crm_servicekit.runtime import Runtime, build_runtime, create_service_app

from . import api, handlers
from .auth import api as auth_api
from .auth import service as auth_service
from .config import GatewaySettings
from .errors import install_problem_handlers
from .models import metadata

API_PREFIX = "/api/v1"


def build(settings: GatewaySettings | None = None) -> Runtime:
    settings = settings or GatewaySettings()
    runtime = build_runtime(settings, metadata, emits=[CustomerCreated, CustomerUpdated])
    handlers.register(runtime)

    async def on_startup() -> None:
        auth_service.check_secret(settings)
        if settings.crm_admin_email and settings.crm_admin_password:
            async with runtime.uow() as uow:
                await auth_service.ensure_admin(
                    uow, settings.crm_admin_email, settings.crm_admin_password.get_secret_value()
                )

    runtime.on_startup.append(on_startup)
    return runtime


def routers() -> list[APIRouter]:
    """The token endpoint is open; every other `/api/v1` route needs a signed-in staff user."""
    public = APIRouter(prefix=API_PREFIX)
    public.include_router(auth_api.token_router)
    protected = APIRouter(prefix=API_PREFIX, dependencies=[Depends(auth_api.current_staff)])
    protected.include_router(auth_api.router)
    protected.include_router(api.router)
    return [public, protected]


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    app = create_service_app(
        build(settings),
        title="V School CRM gateway",
        description="The staff API: sign-in, and customers (from the cache-writer's snapshots first).",
        routers=routers(),
    )
    install_problem_handlers(app)
    return app
