"""The renderer's heartbeat and `analytics.refresh_requested`, as the gateway's dashboards rely on
them: the heartbeat says when the renderer ran and whether it is caught up; a refresh request
rewrites the latest days of its range that have facts (at most 400), never older ones, and
never moves `last_event_at` (a request is no fact)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from crm_cache_writer.analytics.render import REFRESH_MAX_DAYS, today_in_bangkok
from crm_cache_writer.app import create_app
from crm_cache_writer.config import CacheWriterSettings
from crm_contracts import (
    AnalyticsRefreshRequested,
    AnalyticsRefreshRequestedData,
    InsightFact,
    InsightsChanged,
    InsightsChangedData,
)
from crm_contracts.analytics import RENDER_STATE_PATH, Figures, PeriodSnapshot, RenderState, daily_path
from crm_servicekit.migrations import upgrade
from crm_servicekit.settings import ServiceSettings
from crm_servicekit.testing import (
    create_database,
    create_vhost,
    delete_vhost,
    drop_database,
    eventually,
    publish_events,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def writer(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FastAPI]:
    database_url = await create_database("crm_refresh")
    rabbitmq_url = create_vhost("crm-refresh")
    try:
        await asyncio.to_thread(
            upgrade, "crm_cache_writer", ServiceSettings(database_url=database_url).async_database_url
        )
        settings = CacheWriterSettings(
            database_url=database_url,
            rabbitmq_url=rabbitmq_url,
            crm_cache_dir=tmp_path_factory.mktemp("refresh"),
            analytics_render_seconds=0.2,
            analytics_heartbeat_seconds=0.5,
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            yield app
    finally:
        delete_vhost(rabbitmq_url)
        await drop_database(database_url)


def spend(day: date, amount: str) -> InsightFact:
    return InsightFact(
        ad_id="A1",
        ad_name=None,
        adset_id=None,
        adset_name=None,
        campaign_id=None,
        campaign_name=None,
        day=day,
        hour=None,
        spend=Decimal(amount),
        impressions=0,
        clicks=0,
        link_clicks=0,
        messaging_conversations_started=0,
        leads=0,
        purchases=0,
        purchase_value=Decimal("0"),
    )


def read(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(path.read_bytes())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data


def overwrite(root: Path, day: date, amount: str) -> None:
    """A day file that says something else than the read model (lost, restored from a backup)."""
    figures = Figures(spend=Decimal(amount))
    snapshot = PeriodSnapshot(
        period=day.isoformat(),
        since=day,
        until=day,
        generated_at=datetime.now(UTC) - timedelta(days=1),
        last_event_at=None,
        ads={"A1": figures},
        unattributed=Figures(),
        total=figures,
    )
    (root / daily_path(day)).write_text(snapshot.model_dump_json())


async def test_a_refresh_rewrites_the_latest_days_of_its_range_and_the_heartbeat(writer: FastAPI) -> None:
    root: Path = writer.state.runtime.settings.crm_cache_dir
    broker = writer.state.runtime.broker
    today = today_in_bangkok()
    recent, old = today - timedelta(days=10), today - timedelta(days=REFRESH_MAX_DAYS + 10)
    sync = InsightsChanged(
        correlation_id="refresh-sync",
        data=InsightsChangedData(
            account_id="111",
            currency="THB",
            granularity="day",
            sync_run_id=1,
            facts=[spend(recent, "30.00"), spend(old, "70.00")],
        ),
    )
    await publish_events(broker, sync)

    async def caught_up() -> RenderState | None:
        """Both days written, and a run that started after them left nothing marked."""
        files = [read(root / daily_path(d)) for d in (recent, old)]
        state = read(root / RENDER_STATE_PATH)
        if not all(files) or state is None:
            return None
        heartbeat = RenderState.model_validate(state)
        written = max(datetime.fromisoformat(f["generated_at"]) for f in files if f)
        return heartbeat if heartbeat.days_pending == 0 and heartbeat.rendered_at > written else None

    before = await eventually(caught_up, timeout=30, interval=0.1)
    assert before.caught_up_at == before.rendered_at
    assert before.last_event_at == sync.occurred_at

    # Both files say 1.00 now; a refresh over everything rewrites only the latest 400 days.
    overwrite(root, recent, "1.00")
    overwrite(root, old, "1.00")
    request = AnalyticsRefreshRequested(
        correlation_id="refresh",
        data=AnalyticsRefreshRequestedData(
            since=old - timedelta(days=30),
            until=today,
            requested_at=datetime.now(UTC),
            reason="heartbeat_old",
        ),
    )
    await publish_events(broker, request, request)  # a redelivery does nothing twice

    async def rewritten() -> bool:
        written = read(root / daily_path(recent))
        return bool(written and written["total"]["spend"] == "30.00")

    await eventually(rewritten, timeout=30, interval=0.1)
    after = await eventually(caught_up, timeout=30, interval=0.1)
    assert after.rendered_at > before.rendered_at
    assert after.last_event_at == sync.occurred_at  # the request moved nothing
    stale = read(root / daily_path(old))
    assert stale is not None
    assert stale["total"]["spend"] == "1.00"  # outside the 400 latest days: left as it was
    assert read(root / daily_path(today)) is not None  # today's render rewrote the summary too
