from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from crm_fakes import FakeServer, MarketingState, MarketingUniverse, create_marketing_app
from crm_fakes.marketing_data import OMNI_PURCHASE, PIXEL_PURCHASE

from .conftest import Fake

TOKEN = "ads-token"
V = "v23.0"
START, END = date(2026, 3, 1), date(2026, 3, 10)


def universe(seed: int = 42) -> MarketingUniverse:
    return MarketingUniverse(seed, campaigns_per_account=4, start=START, end=END)


@pytest.fixture(scope="module")
def _server() -> Iterator[Fake[MarketingState]]:
    state = MarketingState(universe(), access_token=TOKEN)
    with FakeServer(create_marketing_app(state)) as server:
        yield Fake(server.url, state)


@pytest.fixture
def mk(_server: Fake[MarketingState]) -> Iterator[Fake[MarketingState]]:
    st = _server.state
    st.reset()
    yield _server
    st.max_sync_rows, st.polls_to_complete, st.empty_page_every, st.usage_increment = 5000, 3, 0, 1.0


def act(mk: Fake[MarketingState]) -> str:
    return mk.state.universe.accounts[0].id


async def get(url: str, path: str, **params: Any) -> httpx.Response:
    q = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    q.setdefault("access_token", TOKEN)
    async with httpx.AsyncClient() as http:
        return await http.get(f"{url}/{V}/{path}", params=q)


async def follow(url: str, path: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
    """Every row across pages, following `paging.next` until it disappears; also page count."""
    first = await get(url, path, **params)
    assert first.status_code == 200, first.text
    body, rows, pages = first.json(), [], 1
    rows.extend(body["data"])
    async with httpx.AsyncClient() as http:
        while "next" in body.get("paging", {}):
            r = await http.get(body["paging"]["next"])
            assert r.status_code == 200, r.text
            body = r.json()
            rows.extend(body["data"])
            pages += 1
    return rows, pages


# -- data --------------------------------------------------------------------------
def test_same_seed_same_numbers_and_daily_equals_hourly() -> None:
    a, b, c = universe(7), universe(7), universe(8)
    assert [x.id for x in a.ads] == [x.id for x in b.ads]
    assert [x.id for x in a.ads] != [x.id for x in c.ads]
    ad = a.ads[0].id
    day = date(2026, 3, 2)
    assert a.daily(ad, day) == b.daily(ad, day)
    hourly = [a.hourly(ad, day, h) for h in range(24)]
    assert sum((h.spend for h in hourly), Decimal(0)) == a.daily(ad, day).spend
    assert all(h.spend == h.spend.quantize(Decimal("0.01")) for h in hourly)
    acc = a.accounts[0]
    assert a.spend(acc.id, day) == sum((a.spend(x.id, day) for x in a.campaigns), Decimal(0))
    assert a.totals("account", acc.id, START, END).impressions > 0
    for obj in a.campaigns + a.adsets + a.ads:
        assert obj.id.isdigit()
        assert obj.created_time.strftime("%z") == "+0700"
    statuses = {x.status for x in a.campaigns}
    assert {"ARCHIVED", "PAUSED", "ACTIVE"} <= statuses
    facts = a.totals("account", acc.id, START, END)
    assert facts.actions.get(OMNI_PURCHASE) == facts.actions.get(PIXEL_PURCHASE)


# -- objects -----------------------------------------------------------------------------
async def test_account_and_auth(mk: Fake[MarketingState]) -> None:
    r = await get(mk.url, act(mk), fields="name,currency,timezone_name,account_status")
    assert r.status_code == 200
    body = r.json()
    assert body["id"] == act(mk)
    assert body["currency"] == "THB"
    assert body["timezone_name"] == "Asia/Bangkok"
    async with httpx.AsyncClient() as http:
        missing = await http.get(f"{mk.url}/{V}/{act(mk)}")
        bearer = await http.get(f"{mk.url}/{V}/{act(mk)}", headers={"Authorization": f"Bearer {TOKEN}"})
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == 190
    assert bearer.status_code == 200
    bad = await get(mk.url, act(mk), access_token="nope")
    assert bad.json()["error"]["code"] == 190


async def test_listing_fields_default_excludes_archived(mk: Fake[MarketingState]) -> None:
    u = mk.state.universe
    rows, _ = await follow(mk.url, f"{act(mk)}/campaigns", fields="name,objective,daily_budget")
    live = [c for c in u.campaigns if c.effective_status not in ("ARCHIVED", "DELETED")]
    assert [r["id"] for r in rows] == [c.id for c in live]
    assert set(rows[0]) == {"id", "name", "objective", "daily_budget"}
    assert rows[0]["daily_budget"].isdigit()
    every, _ = await follow(
        mk.url, f"{act(mk)}/campaigns", effective_status=["ACTIVE", "PAUSED", "ARCHIVED"], fields="status"
    )
    assert len(every) == len(u.campaigns)
    assert "ARCHIVED" in {r["status"] for r in every}


async def test_updated_time_filter(mk: Fake[MarketingState]) -> None:
    u = mk.state.universe
    cutoff = sorted(a.updated_time for a in u.ads)[len(u.ads) // 2]
    flt = [{"field": "updated_time", "operator": "GREATER_THAN", "value": int(cutoff.timestamp())}]
    every = ["ACTIVE", "PAUSED", "ARCHIVED", "CAMPAIGN_PAUSED", "ADSET_PAUSED"]
    rows, _ = await follow(mk.url, f"{act(mk)}/ads", filtering=flt, effective_status=every, limit=3)
    newer = {a.id for a in u.ads if a.updated_time.timestamp() > int(cutoff.timestamp())}
    assert {r["id"] for r in rows} == newer


async def test_paging_with_empty_pages_returns_each_object_once(mk: Fake[MarketingState]) -> None:
    mk.state.empty_page_every = 2
    every = ["ACTIVE", "PAUSED", "ARCHIVED", "CAMPAIGN_PAUSED", "ADSET_PAUSED"]
    rows, pages = await follow(mk.url, f"{act(mk)}/ads", limit=3, effective_status=every)
    ids = [r["id"] for r in rows]
    assert sorted(ids) == sorted(a.id for a in mk.state.universe.ads)
    assert len(ids) == len(set(ids))
    assert pages > -(-len(ids) // 3)  # empty pages were served
    mk.state.empty_page_every = 0
    last = (await get(mk.url, f"{act(mk)}/ads", limit=1000, effective_status=every)).json()
    assert "next" not in last["paging"]
    assert set(last["paging"]["cursors"]) == {"before", "after"}


# -- insights ------------------------------------------------------------------------------
def _dec(rows: list[dict[str, Any]], key: str) -> Decimal:
    return sum((Decimal(r[key]) for r in rows), Decimal(0))


async def test_sync_insights_daily_equals_hourly_and_truth(mk: Fake[MarketingState]) -> None:
    u = mk.state.universe
    tr = {"since": "2026-03-02", "until": "2026-03-03"}
    fields = "spend,impressions,clicks,reach,actions,action_values,campaign_name"
    daily, _ = await follow(
        mk.url, f"{act(mk)}/insights", level="ad", time_range=tr, time_increment="1", fields=fields,
        action_attribution_windows=["7d_click", "1d_view"], limit=50,
    )  # fmt: skip
    hourly, _ = await follow(
        mk.url, f"{act(mk)}/insights", level="ad", time_range=tr, time_increment="1", fields=fields,
        breakdowns=["hourly_stats_aggregated_by_advertiser_time_zone"], limit=500,
    )  # fmt: skip
    assert all(isinstance(r["spend"], str) and "reach" in r for r in daily)
    assert all("reach" not in r for r in hourly)
    assert hourly[0]["hourly_stats_aggregated_by_advertiser_time_zone"].endswith(":59:59")
    for row in daily:
        assert {"account_id", "campaign_id", "adset_id", "ad_id", "ad_name", "date_start"} <= set(row)
        same = [h for h in hourly if h["ad_id"] == row["ad_id"] and h["date_start"] == row["date_start"]]
        assert _dec(same, "spend") == Decimal(row["spend"])
        assert sum(int(h["impressions"]) for h in same) == int(row["impressions"])
        assert int(row["reach"]) <= int(row["impressions"])
        assert Decimal(row["spend"]) == u.spend(row["ad_id"], date.fromisoformat(row["date_start"]))
        for item in row.get("actions", []):
            assert item["7d_click"] == item["value"]
            assert item["1d_view"] == "0"
    total = u.spend(act(mk), date(2026, 3, 2)) + u.spend(act(mk), date(2026, 3, 3))
    assert _dec(daily, "spend") == total


async def test_too_large_sync_request_asks_to_reduce_data(mk: Fake[MarketingState]) -> None:
    mk.state.max_sync_rows = 100
    r = await get(
        mk.url, f"{act(mk)}/insights", level="ad", time_range={"since": "2026-03-01", "until": "2026-03-10"},
        time_increment="1", breakdowns=["hourly_stats_aggregated_by_advertiser_time_zone"],
    )  # fmt: skip
    assert r.status_code == 500
    err = r.json()["error"]
    assert err["code"] == 1
    assert "reduce the amount of data" in err["message"]


async def test_async_run_completes_after_n_polls_and_matches_sync(mk: Fake[MarketingState]) -> None:
    params = {
        "level": "campaign", "time_range": json.dumps({"since": "2026-03-01", "until": "2026-03-04"}),
        "time_increment": "1", "fields": "spend,impressions,actions", "access_token": TOKEN,
    }  # fmt: skip
    async with httpx.AsyncClient() as http:
        created = await http.post(f"{mk.url}/{V}/{act(mk)}/insights", data=params)
        run_id = created.json()["report_run_id"]
        statuses = []
        for _ in range(3):
            s = (await http.get(f"{mk.url}/{V}/{run_id}", params={"access_token": TOKEN})).json()
            statuses.append(s["async_status"])
    assert statuses == ["Job Not Started", "Job Started", "Job Completed"]
    assert s["async_percent_completion"] == 100
    assert s["account_id"] == act(mk).removeprefix("act_")
    rows, _ = await follow(mk.url, f"{run_id}/insights", limit=5)
    sync_params = {k: v for k, v in params.items() if k != "access_token"}
    sync, _ = await follow(mk.url, f"{act(mk)}/insights", **sync_params)
    assert rows == sync
    assert rows


async def test_async_run_failure_injected(mk: Fake[MarketingState]) -> None:
    mk.state.fail_next_run()
    mk.state.polls_to_complete = 1
    async with httpx.AsyncClient() as http:
        created = await http.post(
            f"{mk.url}/{V}/{act(mk)}/insights", data={"level": "account", "access_token": TOKEN}
        )
        run_id = created.json()["report_run_id"]
        s = (await http.get(f"{mk.url}/{V}/{run_id}", params={"access_token": TOKEN})).json()
    assert s["async_status"] == "Job Failed"
    assert s["error_code"]
    assert s["error_message"]


# -- failures and usage ---------------------------------------------------------------------------
async def test_failure_injection_shapes(mk: Fake[MarketingState]) -> None:
    mk.state.fail_next(80000, 2446079)
    r = await get(mk.url, f"{act(mk)}/insights")
    err = r.json()["error"]
    assert r.status_code == 400
    assert err["code"] == 80000
    assert err["error_subcode"] == 2446079
    assert err["type"] == "OAuthException"
    assert err["message"].startswith("(#80000) There have been too many calls from this ad-account")
    assert "fbtrace_id" in err
    async with httpx.AsyncClient() as http:
        ok = await http.post(f"{mk.url}/_fake/fail", json={"code": 190, "subcode": 463, "times": 2})
        assert ok.json() == {"ok": True}
    for _ in range(2):
        err = (await get(mk.url, act(mk))).json()["error"]
        assert err["code"] == 190
        assert err["error_subcode"] == 463
    assert (await get(mk.url, act(mk))).status_code == 200
    mk.state.fail_next(2, http_status=500)
    transient = await get(mk.url, act(mk))
    assert transient.status_code == 500
    assert transient.json()["error"]["is_transient"] is True


async def test_usage_headers_climb_and_throttle(mk: Fake[MarketingState]) -> None:
    mk.state.usage_increment = 5
    h1 = (await get(mk.url, f"{act(mk)}/insights")).headers
    h2 = (await get(mk.url, f"{act(mk)}/insights")).headers
    t1, t2 = json.loads(h1["x-fb-ads-insights-throttle"]), json.loads(h2["x-fb-ads-insights-throttle"])
    assert t2["acc_id_util_pct"] > t1["acc_id_util_pct"]
    assert t2["app_id_util_pct"] > t1["app_id_util_pct"]
    assert json.loads(h2["x-app-usage"])["call_count"] > json.loads(h1["x-app-usage"])["call_count"]
    assert "acc_id_util_pct" in json.loads(h2["x-ad-account-usage"])
    buc = json.loads(h2["x-business-use-case-usage"])
    (entries,) = buc.values()
    assert {e["type"] for e in entries} == {"ads_insights", "ads_management"}
    mk.state.throttle_next(120)
    r = await get(mk.url, f"{act(mk)}/insights")
    assert r.json()["error"]["code"] == 80000
    (entries,) = json.loads(r.headers["x-business-use-case-usage"]).values()
    assert all(e["estimated_time_to_regain_access"] == 2 for e in entries)
    async with httpx.AsyncClient() as http:
        await http.post(f"{mk.url}/_fake/reset")
        calls = (await http.get(f"{mk.url}/_fake/calls")).json()
    assert calls == []
    h3 = (await get(mk.url, f"{act(mk)}/insights", level="account")).headers
    assert json.loads(h3["x-fb-ads-insights-throttle"])["acc_id_util_pct"] == 5
    async with httpx.AsyncClient() as http:
        (call,) = (await http.get(f"{mk.url}/_fake/calls")).json()
    assert call["method"] == "GET"
    assert call["params"] == {"level": "account"}
