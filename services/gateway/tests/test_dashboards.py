"""`/api/v1/dashboards`, as staff use it: the analytics snapshot files are written into the test's
cache directory with the contract's models (as the cache-writer writes them), then read through
the API. Every expected figure is worked out by hand in a comment beside it."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from crm_contracts.analytics import (
    ATTRIBUTIONS,
    RENDER_STATE_PATH,
    STRUCTURE_PATH,
    SUMMARY_PATH,
    AdNode,
    AdStructureSnapshot,
    Figures,
    PeriodSnapshot,
    RenderState,
    SummaryPeriod,
    SummarySnapshot,
    daily_path,
    monthly_path,
)
from crm_gateway.auth.domain import Role
from crm_gateway.auth.repository import insert_if_absent
from crm_gateway.auth.security import hash_password
from crm_gateway.dashboards.periods import BANGKOK
from crm_gateway.dashboards.snapshots import SnapshotStore
from crm_servicekit.runtime import Runtime

pytestmark = pytest.mark.integration

PASSWORD = "a long passphrase for the dashboards"
BASE = "/api/v1/dashboards"
ROUTES = ["/summary", "/daily", "/monthly", "/campaigns"]
PROBLEM = "urn:vschool-crm:problem:"


def fig(
    spend: str = "0.00",
    *,
    hourly: str | None = None,
    leads: int = 0,
    revenue: str = "0.00",
    paid: int = 0,
    new: int = 0,
    converted: int = 0,
    **meta: Any,
) -> Figures:
    """One ad's (or the unattributed) figures, credited alike under every attribution."""
    return Figures(
        spend=Decimal(spend),
        spend_hourly=Decimal(hourly if hourly is not None else spend),
        leads=leads,
        revenue=dict.fromkeys(ATTRIBUTIONS, Decimal(revenue)),
        paid_orders=dict.fromkeys(ATTRIBUTIONS, paid),
        new_paying_customers=dict.fromkeys(ATTRIBUTIONS, new),
        converted_leads={"1d": converted, "7d": converted, "28d": converted},
        **meta,
    )


def summed(*parts: Figures) -> Figures:
    total = Figures()
    for part in parts:
        total.add(part)
    return total


def period(
    name: str,
    since: date,
    until: date,
    ads: dict[str, Figures],
    unattributed: Figures | None = None,
    *,
    generated_at: datetime | None = None,
) -> PeriodSnapshot:
    unattributed = unattributed or Figures()
    return PeriodSnapshot(
        period=name,
        since=since,
        until=until,
        generated_at=generated_at or datetime.now(UTC),
        last_event_at=datetime.now(UTC) - timedelta(minutes=1),
        ads=ads,
        unattributed=unattributed,
        total=summed(*ads.values(), unattributed),
    )


def day(on: date, ads: dict[str, Figures], unattributed: Figures | None = None, **kw: Any) -> PeriodSnapshot:
    return period(on.isoformat(), on, on, ads, unattributed, **kw)


def write(root: Path, relative: str, model: BaseModel | bytes, *, mtime: float | None = None) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model if isinstance(model, bytes) else model.model_dump_json(indent=2).encode())
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def write_day(root: Path, snapshot: PeriodSnapshot, **kw: Any) -> None:
    write(root, daily_path(snapshot.since), snapshot, **kw)


def heartbeat(
    root: Path, *, rendered_at: datetime | None = None, caught_up_at: datetime | None = None, pending: int = 0
) -> None:
    """The cache-writer's heartbeat, as its renderer writes it: a fresh one unless told otherwise."""
    rendered_at = rendered_at or datetime.now(UTC)
    state = RenderState(
        rendered_at=rendered_at,
        caught_up_at=caught_up_at or rendered_at,
        last_event_at=None,
        days_pending=pending,
    )
    write(root, RENDER_STATE_PATH, state)


@pytest.fixture(scope="module")
def store(app: FastAPI) -> SnapshotStore:
    found: SnapshotStore = app.state.dashboard_snapshots
    return found


@pytest.fixture(autouse=True)
async def no_analytics(cache_dir: Path, store: SnapshotStore) -> None:
    """Each test starts with no analytics files and nothing parsed in memory."""
    for folder in ("analytics", "ads"):
        await asyncio.to_thread(shutil.rmtree, cache_dir / folder, True)
    store.clear()


@pytest.fixture(scope="module")
async def as_role(client: httpx.AsyncClient, runtime: Runtime) -> dict[Role, dict[str, str]]:
    headers = {}
    for role in (Role.MANAGER, Role.MARKETER, Role.AGENT, Role.VIEWER):
        email = f"dash-{role.value}-{uuid.uuid4().hex[:6]}@vschool.example"
        async with runtime.sessionmaker() as session, session.begin():
            await insert_if_absent(session, email=email, password_hash=hash_password(PASSWORD), role=role)
        response = await client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        headers[role] = {"Authorization": f"Bearer {response.json()['access_token']}"}
    return headers


async def get(client: httpx.AsyncClient, auth: dict[str, str], route: str, **params: str) -> dict[str, Any]:
    response = await client.get(BASE + route, params=params, headers=auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_only_roles_with_dashboard_read_see_the_dashboards(
    client: httpx.AsyncClient, auth: dict[str, str], as_role: dict[Role, dict[str, str]]
) -> None:
    for route in ROUTES:
        refused = await client.get(BASE + route, headers=as_role[Role.AGENT])
        assert refused.status_code == 403, route
        assert refused.headers["content-type"] == "application/problem+json"
        assert "dashboard:read" in refused.json()["detail"]
        for allowed in (auth, as_role[Role.MANAGER], as_role[Role.MARKETER], as_role[Role.VIEWER]):
            assert (await client.get(BASE + route, headers=allowed)).status_code == 200, route
        assert (await client.get(BASE + route)).status_code == 401


# The metrics doc's worked example (docs/metrics.md): 31 October is "yesterday", 1 November "today".
OCTOBER = {
    # spend 1,300.25 (hourly rows 999.00); leads L1, L3, both paid within a day; O3 (5,000)
    # paid, unattributed under every last-touch variant (its touch is 41 days old), A2's with `first`.
    "total": fig("1300.25", hourly="999.00", leads=2, revenue="5000.00", paid=1, new=1, converted=2),
    "unattributed": Figures(
        revenue={
            "last_1d": Decimal("5000.00"),
            "last_7d": Decimal("5000.00"),
            "last_28d": Decimal("5000.00"),
        },
        paid_orders={"last_1d": 1, "last_7d": 1, "last_28d": 1},
        new_paying_customers={"last_1d": 1, "last_7d": 1, "last_28d": 1},
    ),
}
NOVEMBER = {
    # spend 500.50; lead L2 (not paying yet); O1 10,000 + O2 3,000 + O4 2,000 + O5 1,500 = 16,500
    # received, 3 orders paid (O1, O2, O4), 3 new paying customers; O2 (3,000, a walk-in) is
    # unattributed, and with `last_1d` O5's 1,500 too (its touch was 2.4 days before).
    "total": fig(
        "500.50",
        hourly="480.00",
        leads=1,
        revenue="16500.00",
        paid=3,
        new=3,
        conversations_started=2,
        meta_conversations_started=41,
        meta_leads=2,
        meta_purchases=3,
        meta_purchase_value=Decimal("15000.00"),
    ),
    "unattributed": Figures(
        revenue={
            "last_1d": Decimal("4500.00"),
            "last_7d": Decimal("3000.00"),
            "last_28d": Decimal("3000.00"),
            "first": Decimal("3000.00"),
        },
        paid_orders=dict.fromkeys(ATTRIBUTIONS, 1),
        new_paying_customers=dict.fromkeys(ATTRIBUTIONS, 1),
    ),
}


def summary_snapshot(generated_at: datetime) -> SummarySnapshot:
    today, yesterday = date(2026, 11, 1), date(2026, 10, 31)
    both = {
        "total": summed(OCTOBER["total"], NOVEMBER["total"]),
        "unattributed": summed(OCTOBER["unattributed"], NOVEMBER["unattributed"]),
    }
    return SummarySnapshot(
        today=today,
        generated_at=generated_at,
        last_event_at=generated_at - timedelta(seconds=30),
        periods={
            "today": SummaryPeriod(since=today, until=today, **NOVEMBER),
            "yesterday": SummaryPeriod(since=yesterday, until=yesterday, **OCTOBER),
            "last_7_days": SummaryPeriod(since=date(2026, 10, 26), until=today, **both),
            "last_30_days": SummaryPeriod(since=date(2026, 10, 3), until=today, **both),
            "month_to_date": SummaryPeriod(since=today, until=today, **NOVEMBER),
        },
    )


async def test_summary_kpis_to_the_satang(
    client: httpx.AsyncClient, auth: dict[str, str], cache_dir: Path
) -> None:
    generated_at = datetime.now(UTC) - timedelta(seconds=90)
    write(cache_dir, SUMMARY_PATH, summary_snapshot(generated_at))
    rendered_at = datetime.now(UTC) - timedelta(seconds=10)
    heartbeat(cache_dir, rendered_at=rendered_at, caught_up_at=generated_at)

    response = await client.get(f"{BASE}/summary", headers=auth)
    assert response.status_code == 200, response.text
    body = response.json()
    periods = {p["name"]: p for p in body["periods"]}
    assert list(periods) == ["today", "yesterday", "last_7_days", "last_30_days", "month_to_date"]
    assert body["attribution"] == "last_28d"
    assert body["cohort_window"] == "28d"

    today = periods["today"]
    assert (today["since"], today["until"]) == ("2026-11-01", "2026-11-01")
    assert today["kpis"] == {
        "spend": "500.50",
        "revenue": "16500.00",
        "attributed_revenue": "13500.00",  # 16,500 − 3,000 unattributed
        "leads": 1,
        "conversations_started": 2,  # ads opened two conversations (Meta counted 41 of its own)
        "paid_orders": 3,
        "new_paying_customers": 3,
        "converted_leads": 0,
        "roas": "26.97",  # 13,500 / 500.50 = 26.9730…
        "cac": "166.83",  # 500.50 / 3 = 166.8333…
        "aov": "5500.00",  # 16,500 / 3 (every order, attributed or not)
        "cost_per_lead": "500.50",  # 500.50 / 1
        "cost_per_conversation": "250.25",  # 500.50 / 2
        "conversion_rate": "0.0000",  # 0 / 1
    }
    assert today["meta"] == {
        "impressions": 0,
        "clicks": 0,
        "conversations_started": 41,
        "leads": 2,
        "purchases": 3,
        "purchase_value": "15000.00",
    }
    assert today["unattributed_revenue"] == "3000.00"
    # Hourly rows 480.00 against the daily 500.50: 480.00 − 500.50 = −20.50.
    assert (today["spend"], today["spend_hourly"], today["spend_hourly_difference"]) == (
        "500.50",
        "480.00",
        "-20.50",
    )

    yesterday = periods["yesterday"]["kpis"]
    assert yesterday["roas"] == "0.00"  # 0 attributed / 1,300.25
    assert yesterday["cac"] == "1300.25"  # 1,300.25 / 1
    assert yesterday["aov"] == "5000.00"  # 5,000 / 1
    assert yesterday["cost_per_lead"] == "650.13"  # 1,300.25 / 2 = 650.125, half up
    assert yesterday["conversion_rate"] == "1.0000"  # 2 / 2
    assert periods["yesterday"]["spend_hourly_difference"] == "-301.25"  # 999.00 − 1,300.25

    week = periods["last_7_days"]["kpis"]
    assert week["spend"] == "1800.75"  # 1,300.25 + 500.50
    assert week["attributed_revenue"] == "13500.00"  # 21,500 − (5,000 + 3,000)
    assert week["roas"] == "7.50"  # 13,500 / 1,800.75 = 7.4968…
    assert week["cac"] == "450.19"  # 1,800.75 / 4 = 450.1875, half up
    assert week["aov"] == "5375.00"  # 21,500 / 4
    assert week["cost_per_lead"] == "600.25"  # 1,800.75 / 3
    assert week["conversion_rate"] == "0.6667"  # 2 / 3 = 0.66666…

    # Freshness: the summary is the snapshot used; the age counts from when the cache-writer
    # last caught up, its heartbeat is recent and nothing waits: not stale.
    assert datetime.fromisoformat(body["generated_at"]) == generated_at
    assert datetime.fromisoformat(body["last_event_at"]) == generated_at - timedelta(seconds=30)
    assert datetime.fromisoformat(body["rendered_at"]) == rendered_at
    assert 90 <= body["age_seconds"] < 90 + 60
    assert (body["stale"], body["stale_reason"]) == (False, None)
    assert body["problems"] == []
    assert int(response.headers["Age"]) == body["age_seconds"]

    # Other attributions move revenue between ads and `unattributed`, never in or out of the total.
    first = {p["name"]: p for p in (await get(client, auth, "/summary", attribution="first"))["periods"]}
    assert first["yesterday"]["kpis"]["roas"] == "3.85"  # O3 is A2's: 5,000 / 1,300.25 = 3.8454…
    assert first["yesterday"]["unattributed_revenue"] == "0.00"
    last_1d = {p["name"]: p for p in (await get(client, auth, "/summary", attribution="last_1d"))["periods"]}
    assert last_1d["today"]["kpis"]["attributed_revenue"] == "12000.00"  # 16,500 − 4,500
    assert last_1d["today"]["kpis"]["roas"] == "23.98"  # 12,000 / 500.50 = 23.9760…
    assert last_1d["today"]["kpis"]["aov"] == "5500.00"


async def test_a_range_adds_whole_months_from_their_file_and_other_days_from_theirs(
    client: httpx.AsyncClient, auth: dict[str, str], cache_dir: Path, store: SnapshotStore
) -> None:
    """30 October to 2 December: two October days, November's monthly file, two December days."""
    days = [
        day(date(2026, 10, 30), {"A1": fig("100.10", leads=1)}),
        day(date(2026, 10, 31), {"A1": fig("200.20", revenue="1000.00", paid=1, new=1)}),
        day(date(2026, 11, 1), {"A1": fig("300.30", leads=2, converted=1)}),
        day(date(2026, 11, 15), {"A2": fig("400.40")}, fig(revenue="3000.00", paid=1, new=1)),
        day(date(2026, 12, 2), {"A1": fig("99.99", revenue="500.00", paid=1)}),
        day(date(2026, 12, 3), {"A1": fig("7777.77")}),  # after the range: never counted
        day(date(2026, 10, 29), {"A1": fig("8888.88")}),  # before it: never counted
    ]
    for snapshot in days:
        write_day(cache_dir, snapshot)
    november = [s for s in days if s.since.month == 11]
    month_written = datetime.now(UTC) + timedelta(seconds=5)  # newer than every day: shows it was used
    write(
        cache_dir,
        monthly_path("2026-11"),
        period(
            "2026-11",
            date(2026, 11, 1),
            date(2026, 11, 30),
            {"A1": november[0].ads["A1"], "A2": november[1].ads["A2"]},
            november[1].unattributed,
            generated_at=month_written,
        ),
    )

    parsed = store.parsed
    body = await get(client, auth, "/summary", since="2026-10-30", until="2026-12-02")
    # 30 and 31 October, the November file, 1 and 2 December (1 December has no file): four files
    # parsed, none of November's days.
    assert store.parsed - parsed == 4
    [only] = body["periods"]
    assert (only["name"], only["since"], only["until"]) == ("range", "2026-10-30", "2026-12-02")
    assert only["kpis"] == {
        "spend": "1100.99",  # 100.10 + 200.20 + 300.30 + 400.40 + 99.99
        "revenue": "4500.00",  # 1,000 + 3,000 (unattributed) + 500
        "attributed_revenue": "1500.00",  # 4,500 − 3,000
        "leads": 3,  # 1 + 2
        "conversations_started": 0,
        "paid_orders": 3,
        "new_paying_customers": 2,
        "converted_leads": 1,
        "roas": "1.36",  # 1,500 / 1,100.99 = 1.3624…
        "cac": "550.50",  # 1,100.99 / 2 = 550.495, half up
        "aov": "1500.00",  # 4,500 / 3
        "cost_per_lead": "367.00",  # 1,100.99 / 3 = 366.9966…
        "cost_per_conversation": None,
        "conversion_rate": "0.3333",  # 1 / 3
    }
    assert only["unattributed_revenue"] == "3000.00"
    assert datetime.fromisoformat(body["generated_at"]) == month_written

    # The same range day by day (November's days this time) adds up to the same figures.
    series = await get(client, auth, "/daily", since="2026-10-30", until="2026-12-02")
    assert len(series["points"]) == 34  # 2 + 30 + 2 days
    assert sum(Decimal(p["spend"]) for p in series["points"]) == Decimal("1100.99")
    assert series["totals"] == only["kpis"]


async def test_the_daily_series_has_a_point_per_day_and_zeros_without_a_file(
    client: httpx.AsyncClient, auth: dict[str, str], cache_dir: Path
) -> None:
    write_day(cache_dir, day(date(2026, 2, 27), {"A1": fig("100.00", leads=4)}))
    write_day(cache_dir, day(date(2026, 3, 2), {"A1": fig("50.00", revenue="700.00", paid=1)}))

    body = await get(client, auth, "/daily", since="2026-02-26", until="2026-03-03")
    # 26, 27, 28 February (2026 is no leap year), 1, 2, 3 March.
    assert [p["day"] for p in body["points"]] == [
        "2026-02-26",
        "2026-02-27",
        "2026-02-28",
        "2026-03-01",
        "2026-03-02",
        "2026-03-03",
    ]
    zero = {
        "spend": "0.00",
        "revenue": "0.00",
        "attributed_revenue": "0.00",
        "leads": 0,
        "paid_orders": 0,
        "roas": None,
        "cost_per_lead": None,
    }
    points = {p["day"]: {k: v for k, v in p.items() if k != "day"} for p in body["points"]}
    for empty in ("2026-02-26", "2026-02-28", "2026-03-01", "2026-03-03"):
        assert points[empty] == zero
    assert points["2026-02-27"]["cost_per_lead"] == "25.00"  # 100 / 4
    assert points["2026-02-27"]["roas"] == "0.00"  # no revenue over 100 spent
    assert points["2026-03-02"]["roas"] == "14.00"  # 700 / 50
    assert body["totals"]["spend"] == "150.00"
    assert body["totals"]["roas"] == "4.67"  # 700 / 150 = 4.6666…
    assert body["totals"]["cost_per_lead"] == "37.50"  # 150 / 4

    # Without a range: the last 30 Bangkok days, today included.
    default = await get(client, auth, "/daily")
    today = datetime.now(BANGKOK).date()
    assert len(default["points"]) == 30
    assert default["points"][-1]["day"] == today.isoformat()
    assert default["since"] == (today - timedelta(days=29)).isoformat()


async def test_the_monthly_series_uses_month_files_or_the_days_of_a_month_without_one(
    client: httpx.AsyncClient, auth: dict[str, str], cache_dir: Path
) -> None:
    november = {"A1": fig("1000.00", revenue="4000.00", paid=2, leads=5)}
    write(
        cache_dir, monthly_path("2026-11"), period("2026-11", date(2026, 11, 1), date(2026, 11, 30), november)
    )
    # October has day files and no month file (not rendered yet): its days are added.
    write_day(cache_dir, day(date(2026, 10, 1), {"A1": fig("10.00", leads=1)}))
    write_day(cache_dir, day(date(2026, 10, 31), {"A1": fig("20.00", revenue="90.00", paid=1)}))

    body = await get(client, auth, "/monthly", since="2026-09", until="2026-12")
    points = {p["month"]: p for p in body["points"]}
    assert list(points) == ["2026-09", "2026-10", "2026-11", "2026-12"]
    assert (points["2026-11"]["since"], points["2026-11"]["until"]) == ("2026-11-01", "2026-11-30")
    assert points["2026-09"]["spend"] == points["2026-12"]["spend"] == "0.00"
    assert (points["2026-10"]["spend"], points["2026-10"]["roas"]) == ("30.00", "3.00")  # 90 / (10 + 20)
    assert (points["2026-11"]["roas"], points["2026-11"]["cost_per_lead"]) == (
        "4.00",
        "200.00",
    )  # 4,000/1,000; /5
    assert body["totals"]["spend"] == "1030.00"
    assert body["totals"]["aov"] == "1363.33"  # (4,000 + 90) / 3 = 1,363.333…


async def test_the_campaign_tree_sums_ads_into_ad_sets_and_campaigns(
    client: httpx.AsyncClient, auth: dict[str, str], cache_dir: Path
) -> None:
    structure = AdStructureSnapshot(
        generated_at=datetime.now(UTC),
        ads={
            ad: AdNode(
                ad_id=ad,
                ad_name=f"Sushi {ad}",
                adset_id="S1",
                adset_name="Bangkok 25-45",
                campaign_id="C1",
                campaign_name="Sushi course, May intake",
                status="ACTIVE",
            )
            for ad in ("A1", "A2")
        },
    )
    write(cache_dir, STRUCTURE_PATH, structure)
    write_day(
        cache_dir,
        day(
            date(2026, 5, 4),
            {
                "A1": fig("100.00", leads=2, revenue="1000.00", paid=1, new=1, converted=1),
                "A2": fig("300.00", leads=1),
                "A9": fig("500.00", revenue="250.00", paid=1, new=1),  # an ad no structure names
            },
            fig(revenue="2000.00", paid=1, new=1),
        ),
    )
    write_day(cache_dir, day(date(2026, 5, 5), {"A1": fig("50.00", leads=1)}))

    body = await get(client, auth, "/campaigns", since="2026-05-01", until="2026-05-07")
    # By spend: the unknown campaign (500) before C1 (100 + 50 + 300 = 450).
    unknown, c1 = body["campaigns"]
    assert (unknown["campaign_id"], unknown["campaign_name"]) == ("unknown", None)
    [unknown_adset] = unknown["adsets"]
    assert unknown_adset["adset_id"] == "unknown"
    assert [a["ad_id"] for a in unknown_adset["ads"]] == ["A9"]
    assert unknown_adset["ads"][0]["kpis"]["roas"] == "0.50"  # 250 / 500

    assert (c1["campaign_id"], c1["campaign_name"]) == ("C1", "Sushi course, May intake")
    [s1] = c1["adsets"]
    assert (s1["adset_id"], s1["adset_name"]) == ("S1", "Bangkok 25-45")
    assert [(a["ad_id"], a["ad_name"], a["kpis"]["spend"]) for a in s1["ads"]] == [
        ("A2", "Sushi A2", "300.00"),
        ("A1", "Sushi A1", "150.00"),  # 100 + 50 over the two days
    ]
    for level in (c1, s1):
        assert level["kpis"] == {
            "spend": "450.00",  # 150 + 300
            "revenue": "1000.00",  # what A1 is credited with
            "attributed_revenue": "1000.00",
            "leads": 4,  # 2 + 1 + 1
            "conversations_started": 0,
            "paid_orders": 1,
            "new_paying_customers": 1,
            "converted_leads": 1,
            "roas": "2.22",  # 1,000 / 450 = 2.2222…
            "cac": "450.00",  # 450 / 1
            "aov": "1000.00",
            "cost_per_lead": "112.50",  # 450 / 4
            "cost_per_conversation": None,
            "conversion_rate": "0.2500",  # 1 / 4
        }
    assert body["unattributed"]["kpis"]["revenue"] == "2000.00"
    assert body["unattributed"]["kpis"]["attributed_revenue"] == "0.00"
    assert body["unattributed"]["kpis"]["roas"] is None
    total = body["total"]["kpis"]
    assert (total["spend"], total["revenue"], total["attributed_revenue"]) == ("950.00", "3250.00", "1250.00")
    assert total["roas"] == "1.32"  # 1,250 / 950 = 1.3157…
    assert total["cac"] == "316.67"  # 950 / 3 = 316.666…


@pytest.mark.parametrize(
    ("route", "params", "field"),
    [
        ("/daily", {"since": "2026-05-02", "until": "2026-05-01"}, "since"),
        ("/summary", {"since": "2026-05-02", "until": "2026-05-01"}, "since"),
        ("/campaigns", {"since": "2026-05-02", "until": "2026-05-01"}, "since"),
        ("/daily", {"since": "2025-01-01", "until": "2026-01-02"}, "since"),  # 367 days
        ("/summary", {"since": "2025-01-01", "until": "2026-02-05"}, "since"),  # 401 days
        ("/campaigns", {"since": "2025-01-01", "until": "2026-02-05"}, "since"),
        ("/monthly", {"since": "2026-05", "until": "2026-04"}, "since"),
        ("/monthly", {"since": "2023-01", "until": "2026-02"}, "since"),  # 38 months
        ("/monthly", {"since": "2026-13"}, "since"),
        ("/monthly", {"until": "2026-5"}, "until"),
        ("/monthly", {"since": "0000-01"}, "since"),
        ("/daily", {"until": "2026-02-30"}, "until"),
        ("/summary", {"attribution": "last_2d"}, "attribution"),
        ("/campaigns", {"cohort_window": "3d"}, "cohort_window"),
    ],
)
async def test_an_invalid_range_is_a_422_naming_the_parameter(
    client: httpx.AsyncClient, auth: dict[str, str], route: str, params: dict[str, str], field: str
) -> None:
    response = await client.get(BASE + route, params=params, headers=auth)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == PROBLEM + "validation-error"
    assert [(e["field"], e["location"]) for e in problem["errors"]] == [(field, "query")]
    assert field in problem["detail"]


@pytest.mark.parametrize(
    ("route", "params"),
    [
        ("/daily", {"since": "2025-01-01", "until": "2026-01-01"}),  # 366 days
        ("/summary", {"since": "2025-01-01", "until": "2026-02-04"}),  # 400 days
        ("/monthly", {"since": "2023-02", "until": "2026-02"}),  # 37 months
    ],
)
async def test_the_longest_ranges_are_answered(
    client: httpx.AsyncClient, auth: dict[str, str], route: str, params: dict[str, str]
) -> None:
    await get(client, auth, route, **params)


async def test_no_analytics_yet_is_zeros_and_stale(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    for route in ROUTES:
        response = await client.get(BASE + route, headers=auth)
        assert response.status_code == 200, route
        body = response.json()
        assert (body["generated_at"], body["last_event_at"], body["age_seconds"]) == (None, None, None)
        assert (body["stale"], body["stale_reason"], body["rendered_at"]) == (True, "no_heartbeat", None)
        assert body["problems"] == []
        assert "Age" not in response.headers
    summary = await get(client, auth, "/summary")
    assert [p["name"] for p in summary["periods"]] == [
        "today",
        "yesterday",
        "last_7_days",
        "last_30_days",
        "month_to_date",
    ]
    assert all(p["kpis"]["spend"] == "0.00" and p["kpis"]["roas"] is None for p in summary["periods"])
    assert summary["periods"][0]["since"] == datetime.now(BANGKOK).date().isoformat()


async def test_old_snapshots_with_a_recent_heartbeat_are_fresh_and_an_old_heartbeat_is_stale(
    client: httpx.AsyncClient, auth: dict[str, str], cache_dir: Path
) -> None:
    """The cache-writer rewrites only days that changed: files of two hours ago are right while
    its heartbeat says it is up and caught up. Without that, the same files are stale."""
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    write(cache_dir, SUMMARY_PATH, summary_snapshot(two_hours_ago))
    write_day(cache_dir, day(date(2026, 5, 4), {"A1": fig("10.00")}, generated_at=two_hours_ago))
    daily = ("/daily", {"since": "2026-05-01", "until": "2026-05-07"})
    caught_up = datetime.now(UTC) - timedelta(seconds=20)
    heartbeat(cache_dir, caught_up_at=caught_up)
    for route, params in (("/summary", {}), daily):
        response = await client.get(BASE + route, params=params, headers=auth)
        body = response.json()
        assert (body["stale"], body["stale_reason"]) == (False, None), route
        assert 20 <= body["age_seconds"] < 20 + 60  # since it caught up, not since the files were written
        assert response.headers["Age"] == str(body["age_seconds"])

    # The heartbeat stopped three minutes ago (over the default 120 s): the cache-writer is down.
    three_minutes_ago = datetime.now(UTC) - timedelta(minutes=3)
    heartbeat(cache_dir, rendered_at=three_minutes_ago)
    for route, params in (("/summary", {}), daily):
        body = await get(client, auth, route, **params)
        assert (body["stale"], body["stale_reason"]) == (True, "heartbeat_old"), route
        assert 180 <= body["age_seconds"] < 180 + 60

    # Running, but days wait to be rendered: the age is since it last caught up.
    heartbeat(cache_dir, caught_up_at=caught_up - timedelta(minutes=5), pending=3)
    body = await get(client, auth, *daily[:1], **daily[1])
    assert (body["stale"], body["stale_reason"]) == (True, "days_pending")
    assert 320 <= body["age_seconds"] < 320 + 60

    # No heartbeat at all: the newest file used is all there is to go by.
    (cache_dir / RENDER_STATE_PATH).unlink()
    body = await get(client, auth, *daily[:1], **daily[1])
    assert (body["stale"], body["stale_reason"]) == (True, "no_heartbeat")
    assert 7200 <= body["age_seconds"] < 7200 + 60
    assert body["totals"]["spend"] == "10.00"  # served from the files all the same


async def test_a_changed_file_is_read_again_and_an_unchanged_one_is_not(
    client: httpx.AsyncClient, auth: dict[str, str], cache_dir: Path, store: SnapshotStore
) -> None:
    on = date(2026, 6, 1)
    written = datetime.now(UTC).timestamp() - 100
    write_day(cache_dir, day(on, {"A1": fig("10.00")}), mtime=written)
    params = {"since": "2026-06-01", "until": "2026-06-03"}

    parsed = store.parsed
    assert (await get(client, auth, "/daily", **params))["totals"]["spend"] == "10.00"
    assert (await get(client, auth, "/daily", **params))["totals"]["spend"] == "10.00"
    assert (await get(client, auth, "/campaigns", **params))["total"]["kpis"]["spend"] == "10.00"
    assert store.parsed - parsed == 1  # parsed once, served three times

    # Rewritten in place with the same size (in case the inode is kept): a new mtime is enough.
    path = cache_dir / daily_path(on)
    before = path.stat().st_size
    write_day(cache_dir, day(on, {"A1": fig("20.00")}), mtime=written + 1)
    assert path.stat().st_size == before
    assert (await get(client, auth, "/daily", **params))["totals"]["spend"] == "20.00"
    assert store.parsed - parsed == 2


async def test_an_unusable_file_counts_as_missing_and_is_listed(
    client: httpx.AsyncClient, auth: dict[str, str], cache_dir: Path
) -> None:
    write_day(cache_dir, day(date(2026, 7, 1), {"A1": fig("10.00")}))
    write(cache_dir, daily_path(date(2026, 7, 2)), b'{"schema_version": 1, "period": "2026-07-')  # cut short
    # A day's file holding another day's figures is not trusted either.
    write(cache_dir, daily_path(date(2026, 7, 3)), day(date(2026, 7, 1), {"A1": fig("99.00")}))
    # A broken month file: its days are added instead.
    write(cache_dir, monthly_path("2026-07"), b"not json")

    body = await get(client, auth, "/summary", since="2026-07-01", until="2026-07-31")
    assert body["periods"][0]["kpis"]["spend"] == "10.00"
    assert body["problems"] == [
        {"file": "analytics/monthly_2026-07.json", "problem": "invalid"},
        {"file": "analytics/daily_2026-07-02.json", "problem": "invalid"},
        {"file": "analytics/daily_2026-07-03.json", "problem": "mismatched"},
    ]
    assert body["stale"] is True  # no heartbeat
    heartbeat(cache_dir)
    assert (await get(client, auth, "/summary", since="2026-07-01", until="2026-07-31"))["stale"] is False

    write(cache_dir, SUMMARY_PATH, b"[]")
    summary = await get(client, auth, "/summary")  # the periods from the day files instead
    assert {"file": SUMMARY_PATH, "problem": "invalid"} in summary["problems"]
    assert len(summary["periods"]) == 5
