"""What is rate-limited, by how much, and the check itself.

Every signed-in request counts against the ceiling (`CRM_RATE_LIMIT_PER_STAFF` and
`..._PER_ADDRESS`); the routes in `api.ROUTES` count against their own rule besides, and a marketing
sync of kind `backfill` against the backfill rule too. Open routes (sign-in, refresh) count
against the address ceiling only. All the counters a request touches are counted in one
statement; over any of them it is refused with 429 and `Retry-After` before the route runs.

Why not the `limits` library: its storage backends are memory, Redis, Memcached and MongoDB,
none of them PostgreSQL, the one store every replica shares here (CI's machine starts no Redis).
A fixed window per key in one upsert (as the sign-in throttle counts) is a few lines; it lets a
burst of up to twice a limit straddle a window's end, which is fine for stopping abuse.
"""

from __future__ import annotations

import hashlib
import uuid
from enum import StrEnum
from functools import lru_cache

from crm_gateway.config import GatewaySettings
from crm_gateway.errors import Problem
from crm_gateway.reads import HotReads
from crm_servicekit.periodic import PeriodicTask

from . import repository
from .settings import Limit, parse_limit

HOUSEKEEPING_SECONDS = 600.0


class Rule(StrEnum):
    CEILING = "all"
    SEARCH = "search"
    EXPORT = "export"
    REPLY = "reply"
    SYNC = "sync"
    BACKFILL = "backfill"


_WHAT = {
    Rule.CEILING: "requests",
    Rule.SEARCH: "customer searches",
    Rule.EXPORT: "PDPA exports",
    Rule.REPLY: "replies to customers",
    Rule.SYNC: "marketing syncs",
    Rule.BACKFILL: "marketing backfills",
}


class RateLimited(Problem):
    """Too many requests of one kind from one staff member or one address in the current window."""

    status = 429
    slug = "rate-limited"
    title = "Too many requests"

    def __init__(self, rule: Rule, by: str, retry_after_seconds: int) -> None:
        super().__init__(
            f"Too many {_WHAT[rule]} from this {by} for now; try again in {retry_after_seconds} "
            f"second{'s' if retry_after_seconds != 1 else ''}."
        )
        self.headers = {"Retry-After": str(retry_after_seconds)}


def rules_for(own: Rule | None, *, backfill: bool = False) -> list[Rule]:
    """The ceiling, the route's own rule if it has one, and the backfill rule for a backfill."""
    rules = [Rule.CEILING, *([own] if own else [])]
    if own is Rule.SYNC and backfill:
        rules.append(Rule.BACKFILL)
    return rules


@lru_cache(maxsize=64)
def _limit(text: str) -> Limit:
    return parse_limit(text)


def limits(settings: GatewaySettings, rule: Rule) -> tuple[Limit, Limit]:
    """The rule's limit per staff member and per address, from the settings."""
    prefix = "crm_rate_limit" if rule is Rule.CEILING else f"crm_rate_limit_{rule.value}"
    return _limit(getattr(settings, f"{prefix}_per_staff")), _limit(
        getattr(settings, f"{prefix}_per_address")
    )


def address_key(rule: Rule, address: str) -> str:
    return f"{rule.value}:address:{hashlib.sha256(address.encode()).hexdigest()}"


def staff_key(rule: Rule, staff_id: uuid.UUID) -> str:
    return f"{rule.value}:staff:{staff_id}"


async def check(
    reads: HotReads, settings: GatewaySettings, rules: list[Rule], *, staff_id: uuid.UUID | None, address: str
) -> None:
    """Count this request under each rule; `RateLimited` (the longest wait) past any limit."""
    if not settings.crm_rate_limits_enabled:
        return
    keys: dict[str, tuple[Rule, str, Limit]] = {}
    for rule in rules:
        per_staff, per_address = limits(settings, rule)
        if staff_id is not None:
            keys[staff_key(rule, staff_id)] = (rule, "account", per_staff)
        keys[address_key(rule, address)] = (rule, "address", per_address)
    counts = await repository.hit(reads, {key: limit.seconds for key, (_, _, limit) in keys.items()})
    over = [
        (counts[key].retry_after, rule, by)
        for key, (rule, by, limit) in keys.items()
        if counts[key].hits > limit.count
    ]
    if over:
        retry_after, rule, by = max(over)
        raise RateLimited(rule, by, retry_after)


def housekeeping(reads: HotReads) -> PeriodicTask:
    """Delete past windows' counters every 10 minutes, on every replica (twice is harmless)."""
    return PeriodicTask("rate-limit-housekeeping", HOUSEKEEPING_SECONDS, lambda: repository.purge(reads))
