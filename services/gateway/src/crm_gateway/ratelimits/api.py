"""The rate-limit dependencies `app.routers()` puts on the routers: `within_limits` on every
signed-in route (after sign-in, so the staff member is known), `within_address_limits` on the
open ones. 429 with `Retry-After` (a `RateLimited` problem) before the route runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request

from crm_gateway.auth.api import CurrentLogin, answers_without_database, client_address
from crm_gateway.conversations import api as conversations_api
from crm_gateway.customers import api as customers_api
from crm_gateway.deps import ReadsDep, SettingsDep
from crm_gateway.marketing import api as marketing_api
from crm_gateway.pdpa import api as pdpa_api
from crm_servicekit.unavailable import database_unavailable

from . import service
from .service import Rule

# The routes with a rule of their own besides the ceiling, by their endpoint (what the matched
# route names in the request's scope, whatever prefixes its routers add).
ROUTES: dict[Callable[..., Any], Rule] = {
    customers_api.list_customers: Rule.SEARCH,
    pdpa_api.export_customer: Rule.EXPORT,
    conversations_api.reply: Rule.REPLY,
    marketing_api.trigger_sync: Rule.SYNC,
}


async def within_limits(
    login: CurrentLogin, request: Request, reads: ReadsDep, settings: SettingsDep
) -> None:
    own = ROUTES.get(getattr(request.scope.get("route"), "endpoint", None))  # type: ignore[arg-type]
    rules = service.rules_for(own, backfill=own is Rule.SYNC and await _backfill(request))
    try:
        await service.check(reads, settings, rules, staff_id=login.staff.id, address=client_address(request))
    except Exception as exc:
        # The counters live in the database: a route that answers from files is not refused
        # for want of them (`auth.api.without_database`).
        if not answers_without_database(request) or database_unavailable(exc) is None:
            raise


async def within_address_limits(request: Request, reads: ReadsDep, settings: SettingsDep) -> None:
    await service.check(reads, settings, [Rule.CEILING], staff_id=None, address=client_address(request))


async def _backfill(request: Request) -> bool:
    """A marketing sync of kind `backfill` (FastAPI has parsed the body already; it is cached)."""
    try:
        body = await request.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("kind") == "backfill"
