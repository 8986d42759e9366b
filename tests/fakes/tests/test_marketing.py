from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from crm_fakes import FakeServer, MarketingState, MarketingUniverse, create_marketing_app
from crm_fakes.marketing import REDUCE_DATA, insight_rows, parse_insights
from crm_fakes.marketing_data import OMNI_PURCHASE, PIXEL_PURCHASE, days

from .conftest import Fake

TOKEN = "ads-token"
V = "v23.0"
START, END = date(2026, 3, 1), date(2026, 3, 10)
HOURLY = "hourly_stats_aggregated_by_advertiser_time_zone"
USAGE_HEADERS = (
    "x-app-usage",
    "x-ad-account-usage",
    "x-fb-ads-insights-throttle",
    "x-business-use-case-usage",
)


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
    st.max_page_size = None


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


async def post(url: str, path: str, **params: Any) -> httpx.Response:
    data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    data.setdefault("access_token", TOKEN)
    async with httpx.AsyncClient() as http:
        return await http.post(f"{url}/{V}/{path}", data=data)


async def run_report(url: str, node: str, **params: Any) -> tuple[str, dict[str, Any]]:
    """POST node/insights, then poll until the run is no longer pending; (run id, last status)."""
    created = await post(url, f"{node}/insights", **params)
    assert created.status_code == 200, created.text
    run_id = created.json()["report_run_id"]
    for _ in range(10):
        status = (await get(url, run_id)).json()
        if status["async_status"] in ("Job Completed", "Job Failed"):
            return run_id, status
    raise AssertionError(f"run {run_id} never finished: {status}")


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


# -- node insights ------------------------------------------------------------------------------------
def _by_ids(rows: list[dict[str, Any]], key: str, ids: set[str]) -> list[dict[str, Any]]:
    return [r for r in rows if r[key] in ids]


async def test_campaign_adset_and_ad_nodes_restrict_rows_to_their_ads(mk: Fake[MarketingState]) -> None:
    u = mk.state.universe
    tr = {"since": "2026-03-02", "until": "2026-03-03"}
    common: dict[str, Any] = {
        "level": "ad", "time_range": tr, "time_increment": "1", "breakdowns": [HOURLY], "limit": 1000,
        "fields": "ad_id,ad_name,campaign_name,spend,impressions,clicks,cpc,cpm,ctr,actions,action_values",
    }  # fmt: skip
    everything, _ = await follow(mk.url, f"{act(mk)}/insights", **common)
    camp, adset = u.campaigns[2], u.adsets[0]
    for node, ads in ((camp.id, u.ads_under(camp.id)), (adset.id, u.ads_under(adset.id))):
        ids = {a.id for a in ads}
        rows, _ = await follow(mk.url, f"{node}/insights", **common)
        assert rows
        assert rows == _by_ids(everything, "ad_id", ids)  # same rows, same order, same strings
    ad = u.ads[0]
    rows, _ = await follow(mk.url, f"{ad.id}/insights", **common)
    assert rows == _by_ids(everything, "ad_id", {ad.id})
    # Default level is the node's own level; a coarser level sums only the node's ads.
    own, _ = await follow(
        mk.url, f"{camp.id}/insights", time_range=tr, fields="campaign_id,impressions,spend"
    )
    (row,) = own
    assert row["campaign_id"] == camp.id
    truth = u.totals("campaign", camp.id, date(2026, 3, 2), date(2026, 3, 3))
    assert int(row["impressions"]) == truth.impressions
    assert Decimal(row["spend"]) == truth.spend
    (acc_row,) = (await get(mk.url, f"{adset.id}/insights", level="account", time_range=tr)).json()["data"]
    assert int(acc_row["impressions"]) == u.facts(adset.id, date(2026, 3, 2), date(2026, 3, 3)).impressions
    (by_set,) = (await get(mk.url, f"{ad.id}/insights", level="adset", time_range=tr)).json()["data"]
    assert by_set["adset_id"] == ad.adset_id
    assert int(by_set["impressions"]) == u.facts(ad.id, date(2026, 3, 2), date(2026, 3, 3)).impressions
    sets, _ = await follow(mk.url, f"{camp.id}/insights", level="adset", time_range=tr)
    assert {r["adset_id"] for r in sets} == {s.id for s in u.adsets if s.campaign_id == camp.id}


async def test_unknown_node_insights_is_unsupported(mk: Fake[MarketingState]) -> None:
    for r in (await get(mk.url, "120299999999999999/insights"), await post(mk.url, "999/insights")):
        err = r.json()["error"]
        assert r.status_code == 400
        assert (err["code"], err["error_subcode"]) == (100, 33)
        assert "Object with ID" in err["message"]


async def test_sync_size_check_counts_only_the_nodes_ads(mk: Fake[MarketingState]) -> None:
    u = mk.state.universe
    params: dict[str, Any] = {
        "level": "ad", "time_range": {"since": "2026-03-01", "until": "2026-03-01"}, "time_increment": "1",
        "breakdowns": [HOURLY], "limit": 500,
    }  # fmt: skip
    mk.state.max_sync_rows = 24 * 4  # one campaign: 2 ad sets x 2 ads x 24 hours
    too_big = await get(mk.url, f"{act(mk)}/insights", **params)
    assert too_big.status_code == 500
    assert too_big.json()["error"]["message"] == REDUCE_DATA
    ok = await get(mk.url, f"{u.campaigns[0].id}/insights", **params)
    assert ok.status_code == 200, ok.text
    assert {r["ad_id"] for r in ok.json()["data"]} <= {a.id for a in u.ads_under(u.campaigns[0].id)}


async def test_async_run_on_adset_node_is_restricted(mk: Fake[MarketingState]) -> None:
    u = mk.state.universe
    adset = u.adsets[4]
    params: dict[str, Any] = {
        "level": "ad", "time_range": {"since": "2026-03-01", "until": "2026-03-04"}, "time_increment": "1",
        "fields": "ad_id,spend,impressions,actions",
    }  # fmt: skip
    run_id, status = await run_report(mk.url, adset.id, **params)
    assert status["async_status"] == "Job Completed"
    assert status["account_id"] == u.accounts[0].account_id
    rows, _ = await follow(mk.url, f"{run_id}/insights", limit=3)
    sync, _ = await follow(mk.url, f"{adset.id}/insights", **params)
    everything, _ = await follow(mk.url, f"{act(mk)}/insights", **params, limit=100)
    assert rows == sync == _by_ids(everything, "ad_id", {a.id for a in u.ads_under(adset.id)})
    assert rows
    total = sum((u.spend(adset.id, d) for d in days(date(2026, 3, 1), date(2026, 3, 4))), Decimal(0))
    assert _dec(rows, "spend") == total


# -- page size and failing runs ---------------------------------------------------------------------
async def _halving(url: str, path: str, limit: int, **params: Any) -> tuple[list[int], list[dict[str, Any]]]:
    """Like a client: halve `limit` on "reduce the amount of data" until a page comes back."""
    refused: list[int] = []
    while True:
        r = await get(url, path, limit=str(limit), **params)
        if r.status_code == 200:
            return refused, r.json()["data"]
        err = r.json()["error"]
        assert (r.status_code, err["code"], err["message"]) == (500, 1, REDUCE_DATA)
        refused.append(limit)
        limit //= 2


async def test_max_page_size_refuses_big_pages_until_halved(mk: Fake[MarketingState]) -> None:
    mk.state.max_page_size = 5
    every = ["ACTIVE", "PAUSED", "ARCHIVED", "CAMPAIGN_PAUSED", "ADSET_PAUSED"]
    refused, page = await _halving(mk.url, f"{act(mk)}/ads", 40, effective_status=every)
    assert (refused, len(page)) == ([40, 20, 10], 5)
    tr = {"since": "2026-03-01", "until": "2026-03-02"}
    refused, page = await _halving(mk.url, f"{act(mk)}/insights", 8, level="ad", time_range=tr)
    assert (refused, len(page)) == ([8], 4)
    default = await get(mk.url, f"{act(mk)}/campaigns")  # no limit means 25
    assert default.status_code == 500
    mk.state.polls_to_complete = 1
    run_id, _ = await run_report(mk.url, act(mk), level="ad", time_range=tr)
    refused, page = await _halving(mk.url, f"{run_id}/insights", 6)
    assert (refused, len(page)) == ([6], 3)
    mk.state.max_page_size = None
    assert (await get(mk.url, f"{run_id}/insights", limit="1000")).status_code == 200


async def test_fail_runs_on_nodes_forces_splitting_the_job(mk: Fake[MarketingState]) -> None:
    u = mk.state.universe
    mk.state.polls_to_complete = 1
    camp = u.campaigns[0]
    mk.state.fail_runs_on(u.accounts[0].account_id, camp.id)  # bare account id
    params: dict[str, Any] = {
        "level": "ad", "time_range": {"since": "2026-03-01", "until": "2026-03-03"}, "time_increment": "1",
        "fields": "ad_id,spend",
    }  # fmt: skip
    for _ in range(2):  # every run on those nodes fails, not only the next one
        run_id, status = await run_report(mk.url, act(mk), **params)
        assert status["async_status"] == "Job Failed"
        assert status["error_code"] == 2601
        assert (await get(mk.url, f"{run_id}/insights")).status_code == 400
    rows: list[dict[str, Any]] = []
    for c in u.campaigns:
        nodes = [s.id for s in u.adsets if s.campaign_id == c.id] if c.id == camp.id else [c.id]
        for node in nodes:
            run_id, status = await run_report(mk.url, node, **params)
            assert status["async_status"] == "Job Completed", node
            rows += (await follow(mk.url, f"{run_id}/insights", limit=100))[0]
    total = sum((u.spend(act(mk), d) for d in days(date(2026, 3, 1), date(2026, 3, 3))), Decimal(0))
    assert _dec(rows, "spend") == total
    keys = [(r["ad_id"], r["date_start"]) for r in rows]
    assert len(keys) == len(set(keys))  # the split runs do not overlap
    mk.state.fail_next_run()  # still works, and hits a node that is not listed
    assert (await run_report(mk.url, u.adsets[0].id, **params))[1]["async_status"] == "Job Failed"
    mk.state.reset()
    mk.state.polls_to_complete = 1
    assert (await run_report(mk.url, act(mk), **params))[1]["async_status"] == "Job Completed"


# -- headers ----------------------------------------------------------------------------------------------
async def test_usage_headers_on_every_response(mk: Fake[MarketingState]) -> None:
    mk.state.polls_to_complete = 1
    run_id, _ = await run_report(mk.url, act(mk), level="account")
    mk.state.max_page_size = 10
    async with httpx.AsyncClient() as http:
        responses = [
            await get(mk.url, act(mk)),
            await get(mk.url, f"{act(mk)}/insights", limit="5"),
            await get(mk.url, f"{act(mk)}/insights", limit="50"),  # reduce the amount of data
            await get(mk.url, run_id),
            await get(mk.url, f"{run_id}/insights", limit="5"),
            await get(mk.url, f"{mk.state.universe.campaigns[0].id}/insights", limit="5"),
            await get(mk.url, "nope/insights"),
            await get(mk.url, f"{act(mk)}/insights/extra"),
            await get(mk.url, act(mk), access_token="wrong"),
            await http.delete(f"{mk.url}/{V}/{act(mk)}", params={"access_token": TOKEN}),
            await http.post(
                f"{mk.url}/{V}/{act(mk)}/insights", content=b"{", headers={"content-type": "application/json"}
            ),
        ]
    assert [r.status_code for r in responses] == [200, 200, 500, 200, 200, 200, 400, 400, 400, 400, 400]
    for r in responses:
        assert all(h in r.headers for h in USAGE_HEADERS), r.request.url
        assert "error" in r.json() or "data" in r.json() or "id" in r.json()
    assert responses[7].json()["error"]["code"] == 2500
    assert responses[9].json()["error"]["error_subcode"] == 33
    mk.state.throttle_next(601)  # 10 min 1 s -> 11 minutes, also on a management call
    throttled = await get(mk.url, f"{act(mk)}/campaigns", limit="5")
    assert throttled.json()["error"]["code"] == 80000
    (entries,) = json.loads(throttled.headers["x-business-use-case-usage"]).values()
    assert [e["estimated_time_to_regain_access"] for e in entries] == [11, 11]
    after = await get(mk.url, f"{act(mk)}/campaigns", limit="5")
    (entries,) = json.loads(after.headers["x-business-use-case-usage"]).values()
    assert [e["estimated_time_to_regain_access"] for e in entries] == [0, 0]


# -- speed-ups keep every number -----------------------------------------------------------------------------
def test_ad_hourly_rows_equal_universe_hourly() -> None:
    u = universe()
    acc = u.accounts[0].account_id
    q = parse_insights(u, {
        "level": "ad", "time_range": json.dumps({"since": "2026-03-02", "until": "2026-03-03"}),
        "time_increment": "1", "breakdowns": json.dumps([HOURLY]),
        "fields": "ad_id,spend,impressions,clicks,inline_link_clicks,ctr,cpm,cpc,actions,action_values",
    })  # fmt: skip
    rows = insight_rows(u, acc, q)
    checked = 0
    for ad in (u.ads[0], u.ads[9]):
        for day in (date(2026, 3, 2), date(2026, 3, 3)):
            mine = [r for r in rows if r["ad_id"] == ad.id and r["date_start"] == day.isoformat()]
            expected = [
                (h, u.hourly(ad.id, day, h)) for h in range(24) if u.hourly(ad.id, day, h).impressions
            ]
            assert [r[HOURLY][:2] for r in mine] == [f"{h:02d}" for h, _ in expected]
            for row, (_, f) in zip(mine, expected, strict=True):
                assert row["spend"] == str(f.spend)
                assert (row["impressions"], row["clicks"]) == (str(f.impressions), str(f.clicks))
                assert row["inline_link_clicks"] == str(f.inline_link_clicks)
                assert row["ctr"] == str(round(f.clicks * 100 / f.impressions, 6))
                assert row["cpm"] == str(round(f.spend * 1000 / f.impressions, 6))
                assert row.get("cpc") == (str(round(f.spend / f.clicks, 6)) if f.clicks else None)
                actions = {a["action_type"]: a["value"] for a in row.get("actions", [])}
                assert actions == {k: str(v) for k, v in f.actions.items()}
                values = {a["action_type"]: a["value"] for a in row.get("action_values", [])}
                assert values == {k: str(v) for k, v in f.action_values.items()}
                checked += 1
            assert sum(int(r["impressions"]) for r in mine) == u.daily(ad.id, day).impressions
    assert checked > 20


def test_insight_rows_are_pinned() -> None:
    """Byte-for-byte the rows the fake served before its speed-ups (digest taken from that code)."""
    u = universe()
    fields = (
        "account_id,account_name,campaign_name,adset_name,ad_name,objective,spend,impressions,clicks,"
        "inline_link_clicks,reach,ctr,cpm,cpc,actions,action_values,account_currency,date_start"
    )
    digest = hashlib.sha256()
    for level in ("account", "campaign", "adset", "ad"):
        for inc in ("1", "all_days"):
            for breakdowns in ("[]", json.dumps([HOURLY])):
                q = parse_insights(u, {
                    "level": level, "time_increment": inc, "breakdowns": breakdowns, "fields": fields,
                    "time_range": json.dumps({"since": "2026-03-01", "until": "2026-03-10"}),
                    "action_attribution_windows": json.dumps(["7d_click", "1d_view", "28d_click"]),
                })  # fmt: skip
                digest.update(json.dumps(insight_rows(u, u.accounts[0].account_id, q)).encode())
    assert digest.hexdigest() == "a29568c9cb6e38459c958861cbc297fd2fd1579b06b2d764356818100be2ad27"
