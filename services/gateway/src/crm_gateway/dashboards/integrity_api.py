"""`GET /api/v1/dashboards/integrity`: the cache-writer's integrity checks of the marketing facts,
served from `analytics/integrity.json` as it is (files only, like every dashboard)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Response
from pydantic import Field

from crm_contracts.analytics import DEFAULT_ATTRIBUTION
from crm_contracts.analytics_checks import INTEGRITY_PATH, IntegrityCheck, IntegritySnapshot
from crm_gateway.auth.permissions import Permission, allow
from crm_gateway.deps import SettingsDep
from crm_gateway.errors import problem_responses

from . import service
from .api import AGE_HEADER, FRESHNESS, StoreDep
from .schemas import Freshness
from .snapshots import SnapshotStore

router = APIRouter(prefix="/dashboards", tags=["dashboards"], dependencies=[allow(Permission.DASHBOARD_READ)])

INTEGRITY_HELP = (
    'Every check of the facts behind the marketing numbers (docs/metrics.md, "Integrity checks"), '
    "as the cache-writer last ran them (every ten minutes, or `python -m crm_cache_writer "
    "integrity`): its severity, how many orders, ads, ad-days, customers or PSIDs it found, and up "
    "to ten example ids, never personal data. Before the first run `checks` is empty."
)


class IntegrityOut(Freshness):
    checks: list[IntegrityCheck] = Field(description="Every check; `count` 0 when it found nothing.")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def note(reading: service.Reading, generated_at: datetime, last_event_at: datetime | None) -> None:
    """Count one snapshot file into the answer's freshness (the newest times win)."""
    generated_at = _aware(generated_at)
    if reading.generated_at is None or generated_at > reading.generated_at:
        reading.generated_at = generated_at
    if last_event_at is not None:
        last_event_at = _aware(last_event_at)
        if reading.last_event_at is None or last_event_at > reading.last_event_at:
            reading.last_event_at = last_event_at


def ask(stale_after_seconds: int) -> service.Ask:
    return service.Ask(
        attribution=DEFAULT_ATTRIBUTION,
        window="28d",
        stale_after_seconds=stale_after_seconds,
        now=datetime.now(UTC),
    )


def integrity_of(store: SnapshotStore, question: service.Ask) -> IntegrityOut:
    reading = service.Reading(store)
    snapshot = store.load(INTEGRITY_PATH, IntegritySnapshot, reading.problems)
    if snapshot is not None:
        note(reading, snapshot.generated_at, snapshot.last_event_at)
    return IntegrityOut(checks=snapshot.checks if snapshot else [], **reading.freshness(question))


DESCRIBED = {
    403: "Your role does not allow `dashboard:read`.",
    422: "`since` or `until` is not a date, `since` is after `until`, or the range is longer than "
    "400 days. `errors` names the parameter and `detail` says why.",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {200: {"headers": AGE_HEADER}, **problem_responses(DESCRIBED, *statuses)}


@router.get(
    "/integrity",
    summary="Integrity checks of the marketing facts, with counts and example ids",
    description=INTEGRITY_HELP + FRESHNESS,
    responses=responses(403),
)
async def integrity(response: Response, store: StoreDep, settings: SettingsDep) -> IntegrityOut:
    """Permission: `dashboard:read`."""
    answer = await service.off_the_loop(integrity_of, store, ask(settings.crm_dashboard_stale_after_seconds))
    if answer.age_seconds is not None:
        response.headers["Age"] = str(answer.age_seconds)
    return answer
