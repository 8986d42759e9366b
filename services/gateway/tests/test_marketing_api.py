"""`/api/v1/marketing`, against the REAL marketing internal API served over HTTP on loopback, on
the same test database: what staff get is what marketing computed, decimals included, and
marketing's refusals and absence become problems staff can read."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from crm_fakes import FakeServer
from crm_gateway.app import marketing_client
from crm_gateway.config import GatewaySettings
from crm_marketing import internal_api
from crm_marketing.config import MarketingSettings
from crm_marketing.meta.insights import InsightRow
from crm_marketing.models import ad_accounts, ads, adsets, campaigns, insights_daily, metadata, sync_runs
from crm_marketing.repository import upsert_insights
from crm_servicekit.db import create_sessionmaker
from crm_servicekit.migrations import upgrade
from crm_servicekit.runtime import build_runtime
from crm_servicekit.settings import ServiceSettings

from .conftest import INTERNAL_TOKEN, unused_port

pytestmark = pytest.mark.integration

PROBLEM = "urn:vschool-crm:problem:"
ACCOUNT, OTHER = "9200001", "9200002"
CAMPAIGN, ADSET, AD = "2395001", "2396001", "2397001"
DAY = date(2026, 10, 5)
RANGE = {"since": "2026-10-01", "until": "2026-10-07"}
ROUTES = [
    ("GET", "/api/v1/marketing/syncs"),
    ("GET", "/api/v1/marketing/syncs/1"),
    ("POST", "/api/v1/marketing/syncs"),
    ("GET", "/api/v1/marketing/campaigns?since=2026-10-01&until=2026-10-07"),
    ("GET", "/api/v1/marketing/insights?level=ad&since=2026-10-01&until=2026-10-07"),
]


def marketing_settings(database_url: str, accounts: str) -> MarketingSettings:
    return MarketingSettings(
        database_url=database_url, meta_ad_account_ids=accounts, crm_internal_token=SecretStr(INTERNAL_TOKEN)
    )


def marketing_app(settings: MarketingSettings) -> FastAPI:
    """Marketing's internal API as the service serves it, for a server in its own thread."""
    runtime = build_runtime(settings, metadata, emits=[])
    # The server runs its own event loop in its own thread, and stops with it: a pool would keep
    # connections of that loop open after it is gone, so each request opens and closes its own.
    engine = create_async_engine(settings.async_database_url, poolclass=NullPool)
    runtime = dataclasses.replace(runtime, engine=engine, sessionmaker=create_sessionmaker(engine))
    app = FastAPI()
    app.include_router(internal_api.router(runtime, settings))
    return app


@pytest.fixture(scope="module")
async def marketing_database(migrated_database_url: str) -> str:
    """The gateway's test database with the marketing schema too, and this module's numbers."""
    url = ServiceSettings(database_url=migrated_database_url).async_database_url
    await asyncio.to_thread(upgrade, "crm_marketing", url)
    engine = create_async_engine(url, poolclass=NullPool)
    async with create_sessionmaker(engine)() as session:
        for table in (ad_accounts, campaigns, adsets, ads, insights_daily, sync_runs):
            await session.execute(delete(table).where(table.c.account_id.in_([ACCOUNT, OTHER])))
        common = {"account_id": ACCOUNT, "status": "ACTIVE", "effective_status": "ACTIVE"}
        await session.execute(
            insert(campaigns).values(
                id=CAMPAIGN, name="Sushi course - May intake", objective="OUTCOME_LEADS", **common
            )
        )
        await session.execute(
            insert(adsets).values(id=ADSET, name="Bangkok 25-45", campaign_id=CAMPAIGN, **common)
        )
        await session.execute(
            insert(ads).values(id=AD, name="Video - nigiri", campaign_id=CAMPAIGN, adset_id=ADSET, **common)
        )
        await upsert_insights(
            session, [insight(AD, "1234.50", reach=9000), insight("2397002", "0.05")], hourly=False
        )
        await session.commit()
    await engine.dispose()
    return migrated_database_url


def insight(ad: str, spend: str, reach: int | None = None) -> InsightRow:
    return InsightRow(
        account_id=ACCOUNT,
        campaign_id=CAMPAIGN,
        adset_id=ADSET,
        ad_id=ad,
        day=DAY,
        spend=Decimal(spend),
        impressions=48213,
        reach=reach,
        clicks=611,
        link_clicks=587,
        messaging_conversations_started=37,
        leads=3,
        purchases=1,
        purchase_value=Decimal("17900.00"),
    )


@pytest.fixture(scope="module")
def served(marketing_database: str) -> Iterator[str]:
    settings = marketing_settings(marketing_database, accounts=f"act_{ACCOUNT},{OTHER}")
    with FakeServer(marketing_app(settings)) as server:
        yield server.url


@pytest.fixture(scope="module")
def marketing_url(served: str) -> str:
    return served


@pytest.fixture(scope="module")
async def marketing(served: str) -> AsyncIterator[httpx.AsyncClient]:
    """Marketing's internal API called directly, to compare with what the gateway answers."""
    headers = {"X-Internal-Token": INTERNAL_TOKEN}
    async with httpx.AsyncClient(base_url=f"{served}/internal/v1", headers=headers) as client:
        yield client


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert (body["status"], body["type"]) == (status, PROBLEM + slug)
    return body


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_every_route_needs_a_signed_in_staff_user(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path, json={"kind": "hourly"})

    assert_problem(response, 401, "not-authenticated")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_backfill_is_queued_as_the_staff_user_and_can_be_followed(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    me = (await client.get("/api/v1/auth/me", headers=auth)).json()
    body = {
        "kind": "backfill",
        "since": "2026-10-01",
        "until": "2026-10-07",
        "granularities": ["day", "hour"],
    }

    response = await client.post("/api/v1/marketing/syncs", json=body, headers=auth)

    assert response.status_code == 202, response.text
    queued = response.json()["items"]
    assert [(r["account_id"], r["kind"], r["since"], r["until"], r["status"]) for r in queued] == [
        (ACCOUNT, "backfill", "2026-10-01", "2026-10-07", "queued"),
        (OTHER, "backfill", "2026-10-01", "2026-10-07", "queued"),
    ]
    assert {r["requested_by"] for r in queued} == {me["email"]}
    assert queued[0]["granularities"] == ["day", "hour"]
    assert queued[0]["throttle_wait_seconds"] == "0.000"

    one = await client.get(f"/api/v1/marketing/syncs/{queued[1]['id']}", headers=auth)
    assert one.status_code == 200, one.text
    assert one.json() == queued[1]
    listed = await client.get(
        "/api/v1/marketing/syncs", params={"account_id": f"act_{OTHER}", "status": "queued"}, headers=auth
    )
    assert listed.status_code == 200, listed.text
    assert queued[1] in listed.json()["items"]
    assert queued[0] not in listed.json()["items"]

    page = (await client.get("/api/v1/marketing/syncs", params={"limit": 1}, headers=auth)).json()
    assert len(page["items"]) == 1
    after = await client.get(
        "/api/v1/marketing/syncs", params={"limit": 1, "cursor": page["next_cursor"]}, headers=auth
    )
    assert after.status_code == 200
    assert after.json()["items"][0]["id"] < page["items"][0]["id"]


async def test_an_unknown_run_is_a_404_problem(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    response = await client.get("/api/v1/marketing/syncs/987654321", headers=auth)

    body = assert_problem(response, 404, "sync-run-not-found")
    assert body["detail"] == "No sync run has the id 987654321."


@pytest.mark.parametrize("run_id", ["99999999999999999999999", "9223372036854775808", "0"])
async def test_a_run_id_no_run_can_have_is_a_422_problem_at_the_door(
    client: httpx.AsyncClient, auth: dict[str, str], run_id: str
) -> None:
    """Ids are BIGINT: one out of its range never reaches marketing (which answered 500 for it)."""
    response = await client.get(f"/api/v1/marketing/syncs/{run_id}", headers=auth)

    problem = assert_problem(response, 422, "validation-error")
    assert [(e["field"], e["location"]) for e in problem["errors"]] == [("run_id", "path")]


async def test_the_largest_run_id_is_looked_up_and_not_found(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    response = await client.get("/api/v1/marketing/syncs/9223372036854775807", headers=auth)

    assert_problem(response, 404, "sync-run-not-found")


async def test_the_tree_and_insights_pass_through_with_exact_decimals(
    client: httpx.AsyncClient, auth: dict[str, str], marketing: httpx.AsyncClient
) -> None:
    params = {**RANGE, "account_id": f"act_{ACCOUNT}"}
    tree = await client.get("/api/v1/marketing/campaigns", params=params, headers=auth)

    assert tree.status_code == 200, tree.text
    assert tree.json() == (await marketing.get("/campaigns", params=params)).json()
    totals = tree.json()["totals"]
    assert (totals["spend"], totals["purchase_value"], totals["cpc"]) == ("1234.55", "35800.00", "1.01")
    sushi = tree.json()["campaigns"][0]
    assert (sushi["id"], sushi["name"]) == (CAMPAIGN, "Sushi course - May intake")
    assert [(a["id"], a["name"], a["totals"]["spend"]) for a in sushi["adsets"][0]["ads"]] == [
        (AD, "Video - nigiri", "1234.50"),
        ("2397002", None, "0.05"),
    ]

    query = {**params, "level": "ad", "granularity": "day", "id": AD}
    rows = await client.get("/api/v1/marketing/insights", params=query, headers=auth)
    assert rows.status_code == 200, rows.text
    assert rows.json() == (await marketing.get("/insights", params=query)).json()
    assert [
        (r["id"], r["day"], r["hour"], r["spend"], r["reach"], r["ctr"]) for r in rows.json()["rows"]
    ] == [(AD, "2026-10-05", None, "1234.50", 9000, "1.27")]


@pytest.mark.parametrize(
    ("method", "path", "params", "body", "detail"),
    [
        (
            "GET",
            "/api/v1/marketing/insights",
            {"level": "campaign", "since": "2026-10-07", "until": "2026-10-01"},
            None,
            "`since` must be on or before `until`",
        ),
        (
            "GET",
            "/api/v1/marketing/insights",
            {"level": "ad", "granularity": "hour", "since": "2026-09-01", "until": "2026-10-07"},
            None,
            "hourly insights cover at most 31 days at a time; 2026-09-01..2026-10-07 is 37 days",
        ),
        (
            "GET",
            "/api/v1/marketing/campaigns",
            {"since": "2026-10-07", "until": "2026-10-01"},
            None,
            "`since` must be on or before `until`",
        ),
        ("POST", "/api/v1/marketing/syncs", {}, {"kind": "backfill"}, "a backfill needs `since` and `until`"),
        (
            "POST",
            "/api/v1/marketing/syncs",
            {},
            {"kind": "hourly", "account_id": "act_42"},
            f"act_42 is not one of the configured ad accounts (act_{ACCOUNT}, act_{OTHER})",
        ),
        (
            "GET",
            "/api/v1/marketing/syncs",
            {"cursor": "forged"},
            None,
            "cursor: not a cursor this API returned",
        ),
    ],
)
async def test_what_marketing_refuses_is_a_422_problem_with_its_reason(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    method: str,
    path: str,
    params: dict[str, str],
    body: dict[str, str] | None,
    detail: str,
) -> None:
    response = await client.request(method, path, params=params, json=body, headers=auth)

    problem = assert_problem(response, 422, "marketing-rejected")
    assert problem["detail"] == detail
    assert problem["instance"] == path


async def test_a_request_the_gateway_can_check_does_not_reach_marketing(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    response = await client.get(
        "/api/v1/marketing/insights", params={**RANGE, "level": "country"}, headers=auth
    )

    problem = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in problem["errors"]] == ["level"]


async def test_no_ad_account_configured_is_a_409_problem(
    app: FastAPI,
    client: httpx.AsyncClient,
    auth: dict[str, str],
    marketing_database: str,
    settings: GatewaySettings,
) -> None:
    unconfigured = marketing_app(marketing_settings(marketing_database, accounts=""))
    configured = app.state.marketing
    with FakeServer(unconfigured) as server:
        app.state.marketing = marketing_client(
            settings.model_copy(update={"marketing_internal_url": server.url})
        )
        try:
            response = await client.post("/api/v1/marketing/syncs", json={"kind": "daily"}, headers=auth)
        finally:
            await app.state.marketing.aclose()
            app.state.marketing = configured

    problem = assert_problem(response, 409, "marketing-conflict")
    assert problem["detail"] == "no ad accounts configured (META_AD_ACCOUNT_IDS)"


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_marketing_down_is_a_503_problem(
    app: FastAPI,
    client: httpx.AsyncClient,
    auth: dict[str, str],
    settings: GatewaySettings,
    method: str,
    path: str,
) -> None:
    configured = app.state.marketing
    dead = f"http://127.0.0.1:{unused_port()}"
    app.state.marketing = marketing_client(settings.model_copy(update={"marketing_internal_url": dead}))
    try:
        response = await client.request(method, path, json={"kind": "hourly"}, headers=auth)
    finally:
        await app.state.marketing.aclose()
        app.state.marketing = configured

    problem = assert_problem(response, 503, "marketing-unavailable")
    assert problem["detail"] == "The marketing service is unavailable, try again shortly."
    assert response.headers["retry-after"] == "5"


async def test_the_openapi_document_describes_the_marketing_routes(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]

    for name in (
        "SyncRun",
        "SyncRunPage",
        "SyncRunsQueued",
        "SyncRequestIn",
        "CampaignTree",
        "InsightsReport",
    ):
        assert schemas[name]["examples"], name
    assert schemas["Metrics"]["properties"]["spend"]["type"] == "string"
    paths = document["paths"]
    assert paths["/api/v1/marketing/syncs"]["post"]["responses"].keys() >= {"202", "409", "422", "503"}
    assert paths["/api/v1/marketing/syncs/{run_id}"]["get"]["responses"].keys() >= {
        "200",
        "404",
        "502",
        "503",
    }
    for path in ("/api/v1/marketing/syncs", "/api/v1/marketing/campaigns", "/api/v1/marketing/insights"):
        assert paths[path]["get"]["tags"] == ["marketing"]
        assert "marketing:read" in paths[path]["get"]["description"]
    assert "marketing:sync" in paths["/api/v1/marketing/syncs"]["post"]["description"]
