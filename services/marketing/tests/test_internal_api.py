"""The internal API the gateway calls (ADR 7): sync runs, the campaign tree and insights, against
the real marketing schema. Totals are checked against sums worked out by hand, to the satang."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_marketing import internal_api
from crm_marketing.config import MarketingSettings
from crm_marketing.meta.insights import InsightRow
from crm_marketing.models import (
    ad_accounts,
    ads,
    adsets,
    campaigns,
    insights_daily,
    insights_hourly,
    metadata,
    sync_runs,
)
from crm_marketing.repository import upsert_insights
from crm_marketing.runs import months_before
from crm_servicekit.runtime import Runtime, build_runtime

pytestmark = pytest.mark.integration

TOKEN = "test-internal-token-of-the-marketing-suite"
ACCOUNT, OTHER = "9100001", "9100002"
D0, D1, D2, D3 = date(2026, 9, 30), date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 3)
RANGE = {"since": D1.isoformat(), "until": D3.isoformat()}

# Structure ids: Meta's are numeric strings.
C_SUSHI, C_RAMEN, C_OLD, C_WAGYU, C_OTHER = "2385001", "2385002", "2385003", "2385004", "2385009"
S_SUSHI_MSG, S_SUSHI_LEAD, S_RAMEN, S_OLD, S_WAGYU, S_OTHER = (
    "2386001",
    "2386002",
    "2386003",
    "2386004",
    "2386005",
    "2386009",
)
AD_VIDEO, AD_CAROUSEL, AD_LEAD, AD_RAMEN, AD_OLD, AD_NEW, AD_RETIRED, AD_OTHER = (
    "2387001",
    "2387002",
    "2387003",
    "2387004",
    "2387005",
    "2387006",  # has numbers but is not in the structure tables yet
    "2387007",
    "2387009",
)


@dataclass(frozen=True)
class Day:
    ad: str
    campaign: str
    adset: str
    day: date
    spend: str
    impressions: int
    clicks: int
    link_clicks: int
    messaging: int = 0
    leads: int = 0
    purchases: int = 0
    purchase_value: str = "0.00"
    reach: int | None = None
    account: str = ACCOUNT


DAYS = [
    Day(AD_VIDEO, C_SUSHI, S_SUSHI_MSG, D1, "123.45", 10000, 250, 200, 12, 3, 1, "4500.00", reach=8000),
    Day(AD_VIDEO, C_SUSHI, S_SUSHI_MSG, D2, "100.10", 8000, 150, 120, 8, 2, reach=6500),
    Day(AD_CAROUSEL, C_SUSHI, S_SUSHI_MSG, D1, "50.05", 3000, 33, 30, 2, reach=2900),
    Day(AD_NEW, C_SUSHI, S_SUSHI_MSG, D3, "9.99", 1000, 10, 9, 1, 1, reach=900),
    Day(AD_RAMEN, C_RAMEN, S_RAMEN, D2, "200.00", 5000, 100, 90, 5, 0, 2, "9000.00", reach=4000),
    Day(AD_OTHER, C_OTHER, S_OTHER, D1, "11.11", 700, 7, 7, 1, account=OTHER),
]
FACTS = (
    "spend",
    "impressions",
    "clicks",
    "link_clicks",
    "messaging_conversations_started",
    "leads",
    "purchases",
    "purchase_value",
)
OUT_OF_RANGE = [
    Day(AD_VIDEO, C_SUSHI, S_SUSHI_MSG, D0, "999.99", 1, 1, 1),
    Day(AD_OLD, C_OLD, S_OLD, date(2026, 9, 1), "77.77", 100, 1, 1),
]


def insight(d: Day, **changes: Any) -> InsightRow:
    values: dict[str, Any] = {
        "account_id": d.account,
        "campaign_id": d.campaign,
        "adset_id": d.adset,
        "ad_id": d.ad,
        "day": d.day,
        "spend": Decimal(d.spend),
        "impressions": d.impressions,
        "reach": d.reach,
        "clicks": d.clicks,
        "link_clicks": d.link_clicks,
        "messaging_conversations_started": d.messaging,
        "leads": d.leads,
        "purchases": d.purchases,
        "purchase_value": Decimal(d.purchase_value),
    }
    return InsightRow(**(values | changes))


def hours_of(d: Day) -> list[InsightRow]:
    """The day split into 24 hours (uneven: the remainder lands in 23:00), adding up to it exactly."""

    def split(total: Decimal | int) -> list[Any]:
        if isinstance(total, int):
            part: Any = total // 24
        else:
            part = (total / 24).quantize(Decimal("0.01"), ROUND_DOWN)
        return [part] * 23 + [total - part * 23]

    day = insight(d)
    parts = {name: split(getattr(day, name)) for name in FACTS}
    return [
        insight(d, hour=h, reach=None, **{name: values[h] for name, values in parts.items()})
        for h in range(24)
    ]


def structure() -> dict[Any, list[dict[str, Any]]]:
    def obj(id_: str, name: str, status: str, account: str = ACCOUNT, **extra: Any) -> dict[str, Any]:
        effective = extra.pop("effective_status", status)
        return {
            "id": id_,
            "account_id": account,
            "name": name,
            "status": status,
            "effective_status": effective,
            **extra,
        }

    return {
        ad_accounts: [
            {
                "account_id": ACCOUNT,
                "name": "V School Bangkok",
                "currency": "THB",
                "timezone_name": "Asia/Bangkok",
                "account_status": 1,
            }
        ],
        campaigns: [
            obj(
                C_SUSHI,
                "Sushi course - May intake",
                "ACTIVE",
                objective="OUTCOME_ENGAGEMENT",
                daily_budget=Decimal("500.00"),
            ),
            obj(C_RAMEN, "Ramen workshop 2026", "ARCHIVED", objective="OUTCOME_LEADS"),
            obj(C_OLD, "Old promo", "ARCHIVED", objective="OUTCOME_TRAFFIC"),
            obj(C_WAGYU, "Wagyu masterclass", "PAUSED", objective="OUTCOME_SALES"),
            obj(C_OTHER, "Other account", "ACTIVE", account=OTHER),
        ],
        adsets: [
            obj(S_SUSHI_MSG, "Messages - Bangkok 25-45", "ACTIVE", campaign_id=C_SUSHI),
            obj(S_SUSHI_LEAD, "Lead form", "ACTIVE", campaign_id=C_SUSHI, lifetime_budget=Decimal("3000.00")),
            obj(S_RAMEN, "Ramen - all Thailand", "ARCHIVED", campaign_id=C_RAMEN),
            obj(S_OLD, "Old promo set", "ACTIVE", campaign_id=C_OLD, effective_status="ARCHIVED"),
            obj(
                S_WAGYU,
                "Wagyu - lookalike",
                "ACTIVE",
                campaign_id=C_WAGYU,
                effective_status="CAMPAIGN_PAUSED",
            ),
            obj(S_OTHER, "Other set", "ACTIVE", campaign_id=C_OTHER, account=OTHER),
        ],
        ads: [
            obj(AD_VIDEO, "Video - nigiri", "ACTIVE", campaign_id=C_SUSHI, adset_id=S_SUSHI_MSG),
            obj(AD_CAROUSEL, "Carousel - menu", "PAUSED", campaign_id=C_SUSHI, adset_id=S_SUSHI_MSG),
            obj(AD_RETIRED, "Retired image", "DELETED", campaign_id=C_SUSHI, adset_id=S_SUSHI_MSG),
            obj(AD_LEAD, "Lead form ad", "ACTIVE", campaign_id=C_SUSHI, adset_id=S_SUSHI_LEAD),
            obj(AD_RAMEN, "Ramen bowl", "ARCHIVED", campaign_id=C_RAMEN, adset_id=S_RAMEN),
            obj(AD_OLD, "Old promo ad", "ACTIVE", campaign_id=C_OLD, adset_id=S_OLD),
            obj(AD_OTHER, "Other ad", "ACTIVE", campaign_id=C_OTHER, adset_id=S_OTHER, account=OTHER),
        ],
    }


@pytest.fixture
async def seeded(session: AsyncSession) -> None:
    """This module's two accounts, and nothing else of theirs, in every table the API reads."""
    tables = structure()
    for table in (*tables, insights_daily, insights_hourly, sync_runs):
        await session.execute(delete(table).where(table.c.account_id.in_([ACCOUNT, OTHER])))
    for table, rows in tables.items():
        columns = {name for row in rows for name in row}
        await session.execute(insert(table), [{c: row.get(c) for c in columns} for row in rows])
    await upsert_insights(session, [insight(d) for d in DAYS + OUT_OF_RANGE], hourly=False)
    await upsert_insights(session, [h for d in DAYS + OUT_OF_RANGE for h in hours_of(d)], hourly=True)
    await session.commit()


def marketing_settings(database_url: str, accounts: str = f"act_{ACCOUNT},{OTHER}") -> MarketingSettings:
    return MarketingSettings(
        database_url=database_url, meta_ad_account_ids=accounts, crm_internal_token=SecretStr(TOKEN)
    )


@pytest.fixture
async def runtime(database_url: str, seeded: None) -> AsyncIterator[Runtime]:
    runtime = build_runtime(marketing_settings(database_url), metadata, emits=[])
    yield runtime
    await runtime.engine.dispose()


async def serve(runtime: Runtime, settings: MarketingSettings) -> httpx.AsyncClient:
    app = FastAPI()
    app.include_router(internal_api.router(runtime, settings))
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://marketing",
        headers={"X-Internal-Token": TOKEN},
    )


@pytest.fixture
async def api(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    settings = runtime.settings
    assert isinstance(settings, MarketingSettings)
    async with await serve(runtime, settings) as client:
        yield client


# --- the token -------------------------------------------------------------------------------

ROUTES = [
    ("GET", "/internal/v1/syncs"),
    ("GET", "/internal/v1/syncs/1"),
    ("POST", "/internal/v1/syncs"),
    ("GET", f"/internal/v1/campaigns?since={D1}&until={D3}"),
    ("GET", f"/internal/v1/insights?level=ad&since={D1}&until={D3}"),
    ("POST", "/internal/v1/structure/republish"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("token", [None, "not-the-token"])
async def test_every_route_needs_the_internal_token(
    api: httpx.AsyncClient, method: str, path: str, token: str | None
) -> None:
    if token is None:
        api.headers.pop("X-Internal-Token")
    else:
        api.headers["X-Internal-Token"] = token

    response = await api.request(method, path, json={"kind": "hourly", "requested_by": "x"})

    assert response.status_code == 401, response.text
    assert response.json()["detail"] == "a valid X-Internal-Token is required"


# --- the campaign tree -----------------------------------------------------------------------


def by_id(nodes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {n["id"]: n for n in nodes}


async def test_the_tree_totals_are_the_sums_of_the_ads_rows_to_the_satang(api: httpx.AsyncClient) -> None:
    response = await api.get("/internal/v1/campaigns", params={**RANGE, "account_id": ACCOUNT})

    assert response.status_code == 200, response.text
    tree = response.json()
    assert (tree["since"], tree["until"], tree["currency"]) == (D1.isoformat(), D3.isoformat(), "THB")
    # 123.45 + 100.10 + 50.05 + 9.99 (sushi) + 200.00 (ramen); the 999.99 of 30 Sep is outside.
    assert tree["totals"] == {
        "spend": "483.59",
        "impressions": 27000,
        "clicks": 543,
        "link_clicks": 449,
        "messaging_conversations_started": 28,
        "leads": 6,
        "purchases": 3,
        "purchase_value": "13500.00",
        "ctr": "2.01",
        "cpc": "0.89",
        "cpm": "17.91",
        "roas": "27.92",
        "cost_per_lead": "80.60",
        "cost_per_purchase": "161.20",
        "cost_per_conversation": "17.27",
    }
    campaigns_ = by_id(tree["campaigns"])
    sushi = campaigns_[C_SUSHI]
    assert sushi["name"] == "Sushi course - May intake"
    assert (sushi["objective"], sushi["daily_budget"], sushi["lifetime_budget"]) == (
        "OUTCOME_ENGAGEMENT",
        "500.00",
        None,
    )
    assert sushi["totals"] == {
        "spend": "283.59",
        "impressions": 22000,
        "clicks": 443,
        "link_clicks": 359,
        "messaging_conversations_started": 23,
        "leads": 6,
        "purchases": 1,
        "purchase_value": "4500.00",
        "ctr": "2.01",
        "cpc": "0.64",
        "cpm": "12.89",
        "roas": "15.87",
        "cost_per_lead": "47.27",  # 47.265 rounds half up
        "cost_per_purchase": "283.59",
        "cost_per_conversation": "12.33",
    }
    sets = by_id(sushi["adsets"])
    assert sets.keys() == {S_SUSHI_MSG, S_SUSHI_LEAD}
    assert sets[S_SUSHI_MSG]["totals"] == sushi["totals"]
    assert sets[S_SUSHI_LEAD]["lifetime_budget"] == "3000.00"
    assert sets[S_SUSHI_LEAD]["totals"]["spend"] == "0.00"
    assert [a["id"] for a in sets[S_SUSHI_LEAD]["ads"]] == [AD_LEAD]
    ads_ = by_id(sets[S_SUSHI_MSG]["ads"])
    # The deleted ad without numbers is gone; the ad not synced yet counts, without a name.
    assert list(ads_) == [AD_VIDEO, AD_CAROUSEL, AD_NEW], "biggest spend first"
    assert ads_[AD_VIDEO]["totals"]["spend"] == "223.55"
    assert ads_[AD_NEW] == {
        "id": AD_NEW,
        "name": None,
        "status": None,
        "effective_status": None,
        "totals": ads_[AD_NEW]["totals"],
    }
    carousel = ads_[AD_CAROUSEL]["totals"]
    assert (carousel["spend"], carousel["ctr"], carousel["cpc"]) == ("50.05", "1.10", "1.52")
    assert carousel["cost_per_conversation"] == "25.03", "25.025 rounds half up"
    assert (carousel["roas"], carousel["cost_per_lead"], carousel["cost_per_purchase"]) == (
        "0.00",
        None,
        None,
    )
    assert "reach" not in carousel


async def test_archived_campaigns_show_only_with_numbers_in_the_range(api: httpx.AsyncClient) -> None:
    tree = (await api.get("/internal/v1/campaigns", params={**RANGE, "account_id": ACCOUNT})).json()

    campaigns_ = by_id(tree["campaigns"])
    assert list(campaigns_) == [C_SUSHI, C_RAMEN, C_WAGYU], "by spend; the archived one without spend is out"
    ramen = campaigns_[C_RAMEN]
    assert (ramen["status"], ramen["totals"]["spend"], ramen["totals"]["cost_per_lead"]) == (
        "ARCHIVED",
        "200.00",
        None,
    )
    assert [(s["id"], [a["id"] for a in s["ads"]]) for s in ramen["adsets"]] == [(S_RAMEN, [AD_RAMEN])]
    wagyu = campaigns_[C_WAGYU]
    assert wagyu["totals"]["spend"] == "0.00"
    assert wagyu["totals"]["ctr"] is None
    assert [(s["id"], s["effective_status"], s["ads"]) for s in wagyu["adsets"]] == [
        (S_WAGYU, "CAMPAIGN_PAUSED", [])
    ]

    # The old campaign had numbers in September: then it shows.
    september = {"since": "2026-09-01", "until": "2026-09-30", "account_id": f"act_{ACCOUNT}"}
    tree = (await api.get("/internal/v1/campaigns", params=september)).json()
    old = by_id(tree["campaigns"])[C_OLD]
    assert old["totals"]["spend"] == "77.77"
    assert [a["id"] for s in old["adsets"] for a in s["ads"]] == [AD_OLD]
    assert tree["totals"]["spend"] == "1077.76", "77.77 + the 999.99 of 30 Sep"


async def test_the_tree_of_one_account_leaves_the_other_out(api: httpx.AsyncClient) -> None:
    tree = (await api.get("/internal/v1/campaigns", params={**RANGE, "account_id": f"act_{OTHER}"})).json()

    assert [c["id"] for c in tree["campaigns"]] == [C_OTHER]
    assert tree["totals"]["spend"] == "11.11"

    everything = (await api.get("/internal/v1/campaigns", params=RANGE)).json()
    assert {C_SUSHI, C_RAMEN, C_WAGYU, C_OTHER} <= {c["id"] for c in everything["campaigns"]}


# --- insights --------------------------------------------------------------------------------


async def insights(api: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    response = await api.get("/internal/v1/insights", params={"account_id": ACCOUNT, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["currency"] == "THB"
    assert (body["level"], body["granularity"]) == (params["level"], params.get("granularity", "day"))
    rows: list[dict[str, Any]] = body["rows"]
    return rows


def summary(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(r["day"], r["hour"], r["id"], r["spend"], r["reach"]) for r in rows]


async def test_insights_per_day_at_each_level(api: httpx.AsyncClient) -> None:
    account = await insights(api, level="account", **RANGE)
    assert summary(account) == [
        ("2026-10-01", None, ACCOUNT, "173.50", None),
        ("2026-10-02", None, ACCOUNT, "300.10", None),
        ("2026-10-03", None, ACCOUNT, "9.99", None),
    ]
    assert {r["name"] for r in account} == {"V School Bangkok"}
    assert account[1]["impressions"] == 13000
    assert account[1]["cost_per_purchase"] == "150.05"

    campaign = await insights(api, level="campaign", **RANGE)
    assert summary(campaign) == [
        ("2026-10-01", None, C_SUSHI, "173.50", None),
        ("2026-10-02", None, C_SUSHI, "100.10", None),
        ("2026-10-02", None, C_RAMEN, "200.00", None),
        ("2026-10-03", None, C_SUSHI, "9.99", None),
    ]
    assert campaign[2]["name"] == "Ramen workshop 2026"

    adset = await insights(api, level="adset", id=S_SUSHI_MSG, **RANGE)
    assert summary(adset) == [
        ("2026-10-01", None, S_SUSHI_MSG, "173.50", None),
        ("2026-10-02", None, S_SUSHI_MSG, "100.10", None),
        ("2026-10-03", None, S_SUSHI_MSG, "9.99", None),
    ]

    ad = await insights(api, level="ad", **RANGE)
    assert summary(ad) == [
        ("2026-10-01", None, AD_VIDEO, "123.45", 8000),
        ("2026-10-01", None, AD_CAROUSEL, "50.05", 2900),
        ("2026-10-02", None, AD_VIDEO, "100.10", 6500),
        ("2026-10-02", None, AD_RAMEN, "200.00", 4000),
        ("2026-10-03", None, AD_NEW, "9.99", 900),
    ]
    assert (ad[4]["name"], ad[0]["name"]) == (None, "Video - nigiri")


async def test_hourly_rows_add_up_to_the_day_at_every_level(api: httpx.AsyncClient) -> None:
    for level in ("account", "campaign", "adset", "ad"):
        days = await insights(api, level=level, **RANGE)
        hours = await insights(api, level=level, granularity="hour", **RANGE)

        assert all(r["reach"] is None for r in hours), "reach does not add up across hours"
        added: dict[tuple[str, str], dict[str, Decimal]] = {}
        for r in hours:
            totals = added.setdefault((r["day"], r["id"]), dict.fromkeys(FACTS, Decimal(0)))
            for name in FACTS:
                totals[name] += Decimal(r[name])
        assert added == {(r["day"], r["id"]): {n: Decimal(r[n]) for n in FACTS} for r in days}, level

    one = await insights(
        api, level="ad", granularity="hour", id=AD_VIDEO, since="2026-10-01", until="2026-10-01"
    )
    assert [r["hour"] for r in one] == list(range(24))
    assert (one[0]["spend"], one[23]["spend"]) == ("5.14", "5.23")  # 23 x 5.14 + 5.23 = 123.45


async def test_insights_refuse_ranges_they_cannot_serve(api: httpx.AsyncClient) -> None:
    cases = [
        ({"since": "2026-10-03", "until": "2026-10-01"}, "`since` must be on or before `until`"),
        (
            {"granularity": "hour", "since": "2026-08-31", "until": "2026-10-01"},
            "hourly insights cover at most 31 days at a time; 2026-08-31..2026-10-01 is 32 days",
        ),
        (
            {"since": "2023-01-01", "until": "2026-10-01"},
            "daily insights cover at most 1131 days at a time; 2023-01-01..2026-10-01 is 1370 days",
        ),
    ]
    for params, message in cases:
        response = await api.get("/internal/v1/insights", params={"level": "ad", **params})
        assert response.status_code == 422, response.text
        assert response.json()["detail"] == message

    a_month = {"level": "ad", "granularity": "hour", "since": "2026-09-01", "until": "2026-10-01"}
    assert (await api.get("/internal/v1/insights", params=a_month)).status_code == 200
    unknown_level = await api.get("/internal/v1/insights", params={**RANGE, "level": "country"})
    assert unknown_level.status_code == 422
    tree = await api.get("/internal/v1/campaigns", params={"since": "2026-10-03", "until": "2026-10-01"})
    assert (tree.status_code, tree.json()["detail"]) == (422, "`since` must be on or before `until`")


# --- sync runs -------------------------------------------------------------------------------


def bangkok_today() -> date:
    return datetime.now(UTC).astimezone(ZoneInfo("Asia/Bangkok")).date()


async def trigger(api: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await api.post("/internal/v1/syncs", json={"requested_by": "admin@vschool.example", **body})


async def test_a_backfill_queues_one_run_per_account_visible_in_the_list(api: httpx.AsyncClient) -> None:
    response = await trigger(
        api, kind="backfill", since="2026-10-01", until="2026-10-03", granularities=["day", "hour"]
    )

    assert response.status_code == 202, response.text
    queued = response.json()["items"]
    assert [(r["account_id"], r["kind"], r["since"], r["until"]) for r in queued] == [
        (ACCOUNT, "backfill", "2026-10-01", "2026-10-03"),
        (OTHER, "backfill", "2026-10-01", "2026-10-03"),
    ]
    run = queued[0]
    assert run["granularities"] == ["day", "hour"]
    assert (run["status"], run["slot"], run["requested_by"]) == ("queued", None, "admin@vschool.example")
    assert (run["started_at"], run["finished_at"], run["jobs_total"], run["throttle_wait_seconds"]) == (
        None,
        None,
        0,
        "0.000",
    )

    one = await api.get(f"/internal/v1/syncs/{run['id']}")
    assert one.status_code == 200
    assert one.json() == run
    listed = (await api.get("/internal/v1/syncs", params={"account_id": f"act_{ACCOUNT}"})).json()
    assert [r["id"] for r in listed["items"]] == [run["id"]]
    assert listed["next_cursor"] is None
    queued_only = (await api.get("/internal/v1/syncs", params={"status": "queued", "limit": 200})).json()
    assert {r["id"] for r in queued} <= {r["id"] for r in queued_only["items"]}
    running = (
        await api.get("/internal/v1/syncs", params={"status": "running", "account_id": ACCOUNT})
    ).json()
    assert running["items"] == []


async def test_hourly_and_daily_runs_cover_their_own_ranges(api: httpx.AsyncClient) -> None:
    today = bangkok_today()

    hourly = (await trigger(api, kind="hourly", account_id=OTHER)).json()["items"]
    daily = (await trigger(api, kind="daily", account_id=f"act_{ACCOUNT}")).json()["items"]

    assert [(r["account_id"], r["since"], r["until"], r["granularities"]) for r in hourly] == [
        (OTHER, (today - timedelta(days=1)).isoformat(), today.isoformat(), ["day", "hour"])
    ]
    assert [(r["account_id"], r["since"], r["until"], r["granularities"]) for r in daily] == [
        (ACCOUNT, (today - timedelta(days=27)).isoformat(), today.isoformat(), ["day"])
    ]


async def test_the_list_pages_newest_first_with_a_cursor(api: httpx.AsyncClient) -> None:
    made = []
    for _ in range(5):
        made += (await trigger(api, kind="daily", account_id=ACCOUNT)).json()["items"]

    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2, "account_id": ACCOUNT, **({"cursor": cursor} if cursor else {})}
        page = (await api.get("/internal/v1/syncs", params=params)).json()
        seen += [r["id"] for r in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == sorted((r["id"] for r in made), reverse=True)
    assert pages == 3

    forged = await api.get("/internal/v1/syncs", params={"cursor": "bm90LWEtY3Vyc29y"})
    assert (forged.status_code, forged.json()["detail"]) == (422, "cursor: not a cursor this API returned")


async def test_runs_that_cannot_be_queued_are_refused_with_the_reason(
    api: httpx.AsyncClient, runtime: Runtime, database_url: str
) -> None:
    today = bangkok_today()
    too_old = months_before(today, 37) - timedelta(days=1)
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {"kind": "backfill", "since": too_old.isoformat(), "until": today.isoformat()},
            f"Meta keeps insights for 37 months: `since` must be on or after {months_before(today, 37)}",
        ),
        ({"kind": "backfill", "since": None, "until": "2026-10-01"}, "a backfill needs `since` and `until`"),
        (
            {"kind": "backfill", "since": "2026-10-02", "until": "2026-10-01"},
            "`since` must be on or before `until`",
        ),
        (
            {"kind": "daily", "account_id": "act_123"},
            f"act_123 is not one of the configured ad accounts (act_{ACCOUNT}, act_{OTHER})",
        ),
    ]
    for body, message in cases:
        response = await trigger(api, **body)
        assert response.status_code == 422, response.text
        assert response.json()["detail"] == message

    assert (await trigger(api, kind="weekly")).status_code == 422
    missing = await api.get("/internal/v1/syncs/987654321")
    assert (missing.status_code, missing.json()["detail"]) == (404, "no such sync run")
    listed = (await api.get("/internal/v1/syncs", params={"account_id": ACCOUNT})).json()
    assert listed["items"] == [], "nothing was queued"

    async with await serve(runtime, marketing_settings(database_url, accounts="")) as unconfigured:
        response = await trigger(unconfigured, kind="hourly")
    assert response.status_code == 409
    assert response.json()["detail"] == "no ad accounts configured (META_AD_ACCOUNT_IDS)"


async def test_ids_beyond_bigint_are_refused_before_any_statement(api: httpx.AsyncClient) -> None:
    """A run id is a BIGINT: one past its range is the caller's mistake (422), not a 500."""
    for run_id in ("9223372036854775808", "99999999999999999999999", "0", "-1"):
        response = await api.get(f"/internal/v1/syncs/{run_id}")
        assert response.status_code == 422, (run_id, response.text)
        assert response.json()["detail"][0]["loc"] == ["path", "run_id"]
    largest = await api.get("/internal/v1/syncs/9223372036854775807")
    assert largest.status_code == 404

    # A cursor is opaque, but anyone can write one: an id out of range inside it is refused too.
    forged = base64.urlsafe_b64encode(b'["2026-10-01T00:00:00+00:00",99999999999999999999999]').decode()
    response = await api.get("/internal/v1/syncs", params={"cursor": forged})
    assert (response.status_code, response.json()["detail"]) == (
        422,
        "cursor: not a cursor this API returned",
    )
