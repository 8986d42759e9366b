"""Stale-while-revalidate, with the cache-writer stopped and started again: the dashboards answer
from the files at once whatever its state, say when the answer is stale, and ask it to render the
answer's days again (`analytics.refresh_requested`, once a minute per range); a cache-writer that
comes back consumes the request, rewrites the days and its heartbeat, and the next answer is fresh.

The cache-writer runs in-process on its own database, in the gateway's RabbitMQ virtual host and
cache directory, as deployed: its queues stay declared while it is stopped."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, MutableMapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from structlog.testing import capture_logs

from crm_cache_writer.app import create_app as create_cache_writer
from crm_cache_writer.config import CacheWriterSettings
from crm_contracts import InsightFact, InsightsChanged, InsightsChangedData
from crm_contracts.analytics import (
    RENDER_STATE_PATH,
    Figures,
    PeriodSnapshot,
    RenderState,
    daily_path,
)
from crm_gateway.app import create_app as create_gateway
from crm_gateway.auth.domain import Role
from crm_gateway.auth.repository import insert_if_absent
from crm_gateway.auth.security import hash_password
from crm_gateway.config import GatewaySettings
from crm_gateway.dashboards.periods import BANGKOK
from crm_servicekit.migrations import upgrade
from crm_servicekit.runtime import Runtime
from crm_servicekit.settings import ServiceSettings
from crm_servicekit.testing import EventRecorder, create_database, drop_database, eventually, publish_events
from crm_servicekit.testproxy import TcpProxy

from .conftest import ADMIN_EMAIL, ADMIN_PASSWORD

pytestmark = pytest.mark.integration

BASE = "/api/v1/dashboards"
PASSWORD = "a long passphrase for the outage"
REFRESH = "analytics.refresh_requested"


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This module's own cache directory, shared by its gateway and its cache-writer."""
    return tmp_path_factory.mktemp("swr-cache")


@pytest.fixture(scope="module")
async def cache_writer_settings(rabbitmq_url: str, cache_dir: Path) -> AsyncIterator[CacheWriterSettings]:
    database_url = await create_database("crm_swr")
    try:
        await asyncio.to_thread(
            upgrade, "crm_cache_writer", ServiceSettings(database_url=database_url).async_database_url
        )
        yield CacheWriterSettings(
            database_url=database_url,
            rabbitmq_url=rabbitmq_url,
            crm_cache_dir=cache_dir,
            analytics_render_seconds=0.2,
            analytics_heartbeat_seconds=1.0,
        )
    finally:
        await drop_database(database_url)


def spend_on(day: date, amount: str) -> InsightsChanged:
    fact = InsightFact(
        ad_id="A1",
        ad_name="Sushi course",
        adset_id="S1",
        adset_name="May intake",
        campaign_id="C1",
        campaign_name="Courses",
        day=day,
        hour=None,
        spend=Decimal(amount),
        impressions=1000,
        clicks=10,
        link_clicks=8,
        messaging_conversations_started=3,
        leads=0,
        purchases=0,
        purchase_value=Decimal("0"),
    )
    return InsightsChanged(
        correlation_id="swr-sync",
        data=InsightsChangedData(
            account_id="111", currency="THB", granularity="day", sync_run_id=1, facts=[fact]
        ),
    )


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(path.read_bytes())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data


async def get(client: httpx.AsyncClient, auth: dict[str, str], route: str, **params: str) -> dict[str, Any]:
    response = await client.get(BASE + route, params=params, headers=auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_stale_answer_is_served_and_revalidated_while_the_cache_writer_is_stopped(
    app: FastAPI,
    client: httpx.AsyncClient,
    auth: dict[str, str],
    cache_dir: Path,
    rabbitmq_url: str,
    cache_writer_settings: CacheWriterSettings,
) -> None:
    today = datetime.now(BANGKOK).date()
    day = today - timedelta(days=3)
    daily = {"since": (today - timedelta(days=6)).isoformat(), "until": today.isoformat()}

    # The cache-writer ran: it stored 25.00 of spend for `day` and wrote the file. Then it stopped.
    writer = create_cache_writer(cache_writer_settings)
    async with writer.router.lifespan_context(writer):
        await publish_events(writer.state.runtime.broker, spend_on(day, "25.00"))

        async def rendered() -> bool:
            """The day's file is written, and a later run left nothing marked (its mark is gone:
            only a refresh request marks the day again)."""
            written = read_json(cache_dir / daily_path(day))
            heartbeat = read_json(cache_dir / RENDER_STATE_PATH)
            return bool(
                written
                and written["total"]["spend"] == "25.00"
                and heartbeat
                and heartbeat["days_pending"] == 0
                and heartbeat["rendered_at"] > written["generated_at"]
            )

        await eventually(rendered, timeout=30, interval=0.1)
    # Its day file is older than its read model now (lost and restored from a backup, say), and
    # its heartbeat stopped ten minutes ago.
    old = PeriodSnapshot(
        period=day.isoformat(),
        since=day,
        until=day,
        generated_at=datetime.now(UTC) - timedelta(hours=1),
        last_event_at=None,
        ads={"A1": Figures(spend=Decimal("10.00"))},
        unattributed=Figures(),
        total=Figures(spend=Decimal("10.00")),
    )
    (cache_dir / daily_path(day)).write_text(old.model_dump_json())
    stopped = datetime.now(UTC) - timedelta(minutes=10)
    state = RenderState(rendered_at=stopped, caught_up_at=stopped, last_event_at=None, days_pending=0)
    (cache_dir / RENDER_STATE_PATH).write_text(state.model_dump_json())

    async with EventRecorder(rabbitmq_url) as recorder:
        # Served at once from the files, stale, and a refresh of the answer's days is asked for.
        first = await get(client, auth, "/daily", **daily)
        assert (first["stale"], first["stale_reason"]) == (True, "heartbeat_old")
        assert first["totals"]["spend"] == "10.00"
        assert [p["spend"] for p in first["points"] if p["day"] == day.isoformat()] == ["10.00"]
        assert 600 <= first["age_seconds"] < 600 + 60
        [asked] = await recorder.wait_for(REFRESH)
        assert asked["producer"] == "gateway"
        assert {k: asked["data"][k] for k in ("since", "until", "reason")} == {
            **daily,
            "reason": "heartbeat_old",
        }

        # Within the minute, answers for overlapping days are served stale again without asking
        # again; a range that overlaps nothing asked for is asked for (and marks the end of it).
        summary = await get(client, auth, "/summary")
        assert summary["stale"] is True
        again = await get(client, auth, "/daily", **daily)
        assert (again["stale"], again["totals"]["spend"]) == (True, "10.00")
        elsewhere = {"since": "2025-01-01", "until": "2025-01-31"}
        await get(client, auth, "/daily", **elsewhere)
        asked_for = await recorder.wait_for(REFRESH, count=2)
        assert [(e["data"]["since"], e["data"]["until"]) for e in recorder.of_type(REFRESH)] == [
            (daily["since"], daily["until"]),
            (elsewhere["since"], elsewhere["until"]),
        ], asked_for

    # The cache-writer comes back: it finds the requests in its queue, renders their days again
    # from its read model and writes its heartbeat; the next answer is fresh, with its figures.
    writer = create_cache_writer(cache_writer_settings)
    async with writer.router.lifespan_context(writer):

        async def revalidated() -> dict[str, Any] | None:
            body = await get(client, auth, "/daily", **daily)
            return body if not body["stale"] and body["totals"]["spend"] == "25.00" else None

        body = await eventually(revalidated, timeout=30, interval=0.1)
        assert body["stale_reason"] is None
        assert [p["spend"] for p in body["points"] if p["day"] == day.isoformat()] == ["25.00"]
        assert body["age_seconds"] < 60
        assert datetime.fromisoformat(body["rendered_at"]) > stopped + timedelta(minutes=9)


async def test_while_the_database_and_the_broker_are_down_the_dashboards_answer_from_the_files(
    settings: GatewaySettings,
    migrated_database_url: str,
    rabbitmq_url: str,
    runtime: Runtime,
    cache_dir: Path,
) -> None:
    """The gateway reaches PostgreSQL and RabbitMQ through proxies that play them going away.
    Signed-in staff keep their dashboards (the access token's signed claims stand in for the
    session check, for its few minutes of life) while every route that needs the database answers
    503; a stale answer whose refresh request the broker cannot take is served all the same."""
    today = datetime.now(BANGKOK).date()
    day = today - timedelta(days=1)
    on_file = Figures(spend=Decimal("42.50"), leads=2)
    snapshot = PeriodSnapshot(
        period=day.isoformat(),
        since=day,
        until=day,
        generated_at=datetime.now(UTC),
        last_event_at=None,
        ads={"A1": on_file},
        unattributed=Figures(),
        total=on_file,
    )
    (cache_dir / "analytics").mkdir(parents=True, exist_ok=True)
    (cache_dir / daily_path(day)).write_text(snapshot.model_dump_json())
    now = datetime.now(UTC)
    state = RenderState(rendered_at=now, caught_up_at=now, last_event_at=None, days_pending=0)
    (cache_dir / RENDER_STATE_PATH).write_text(state.model_dump_json())
    agent_email = f"swr-agent-{uuid.uuid4().hex[:6]}@vschool.example"
    async with runtime.sessionmaker() as session, session.begin():
        await insert_if_absent(
            session, email=agent_email, password_hash=hash_password(PASSWORD), role=Role.AGENT
        )

    with TcpProxy.for_url(migrated_database_url) as database, TcpProxy.for_url(rabbitmq_url) as broker:
        gateway = create_gateway(
            settings.model_copy(
                update={
                    "database_url": database.url(migrated_database_url),
                    "rabbitmq_url": broker.url(rabbitmq_url),
                }
            )
        )
        async with (
            gateway.router.lifespan_context(gateway),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gateway") as http,
        ):
            tokens = {}
            for email, password in ((ADMIN_EMAIL, ADMIN_PASSWORD), (agent_email, PASSWORD)):
                signed_in = await http.post(
                    "/api/v1/auth/token", data={"username": email, "password": password}
                )
                assert signed_in.status_code == 200, signed_in.text
                tokens[email] = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
            admin, agent = tokens[ADMIN_EMAIL], tokens[agent_email]
            params = {"since": day.isoformat(), "until": day.isoformat()}

            database.cut()
            try:
                # The database is really gone: what needs it is a 503.
                me = await http.get("/api/v1/auth/me", headers=admin)
                assert me.status_code == 503, me.text
                assert me.json()["type"] == "urn:vschool-crm:problem:database-unavailable"

                daily = await http.get(BASE + "/daily", params=params, headers=admin)
                assert daily.status_code == 200, daily.text
                body = daily.json()
                assert (body["totals"]["spend"], body["totals"]["leads"]) == ("42.50", 2)
                assert (body["stale"], body["stale_reason"]) == (False, None)
                for route in ("/summary", "/monthly", "/campaigns"):
                    response = await http.get(BASE + route, headers=admin)
                    assert response.status_code == 200, (route, response.text)
                # The role the token was signed with still decides; no token, no dashboards.
                refused = await http.get(BASE + "/daily", params=params, headers=agent)
                assert refused.status_code == 403, refused.text
                assert (await http.get(BASE + "/daily", params=params)).status_code == 401
                forged = {"Authorization": admin["Authorization"][:-2] + "xx"}
                assert (await http.get(BASE + "/daily", params=params, headers=forged)).status_code == 401

                # The broker goes too, and the cache-writer's heartbeat is ten minutes old.
                broker.cut()
                stopped = datetime.now(UTC) - timedelta(minutes=10)
                old = RenderState(
                    rendered_at=stopped, caught_up_at=stopped, last_event_at=None, days_pending=0
                )
                (cache_dir / RENDER_STATE_PATH).write_text(old.model_dump_json())
                with capture_logs() as logs:
                    stale = await http.get(BASE + "/daily", params=params, headers=admin)
                    assert stale.status_code == 200, stale.text
                    assert stale.json()["stale"] is True
                    assert stale.json()["totals"]["spend"] == "42.50"

                    async def warned() -> list[MutableMapping[str, Any]]:
                        return [e for e in logs if e["event"] == "analytics refresh not requested"]

                    [warning] = await eventually(warned, timeout=30, interval=0.1)
                assert (warning["since"], warning["until"], warning["reason"]) == (
                    day.isoformat(),
                    day.isoformat(),
                    "heartbeat_old",
                )
            finally:
                database.restore()
                broker.restore()
