"""Dashboards and marketing syncs in the staff web app: after a backfill through the API, the
dashboard shows the spend the API's summary gives (to the satang, as THB), lists the campaigns and
draws its chart; the syncs screen shows the finished run with its counts; in Thai the KPI labels
are Thai and money is still "฿"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from .helpers import admin_api, shot, wait_until

FINISHED = ("succeeded", "failed", "stopped")
SETTLE = 120.0  # s: the marketing worker syncs, then the cache-writer renders the days


def thb(amount: str | Decimal) -> str:
    """As the app's formatTHB shows it: "฿12,345.50"."""
    value = Decimal(amount)
    sign = "-" if value < 0 else ""
    return f"{sign}฿{abs(value):,.2f}"


@dataclass
class Synced:
    run: dict[str, Any]
    since: str
    until: str
    spend: str
    campaigns: list[str]

    @property
    def dashboard_path(self) -> str:
        return f"/dashboards?range=custom&since={self.since}&until={self.until}"


def _summary_spend(api: httpx.Client, since: str, until: str) -> str:
    response = api.get("/api/v1/dashboards/summary", params={"since": since, "until": until})
    assert response.status_code == 200, response.text
    [period] = [p for p in response.json()["periods"] if p["name"] == "range"]
    spend: str = period["kpis"]["spend"]
    return spend


@pytest.fixture(scope="module")
def synced(system: Any) -> Synced:
    """Every day of the Marketing fake backfilled through the API (as an admin would), the run
    finished, and the dashboards caught up with the fake's spend."""
    u = system.marketing.universe()
    since, until = u.start.isoformat(), u.end.isoformat()
    truth = u.facts(f"act_{u.accounts[0].account_id}", u.start, u.end).spend
    with admin_api(system) as api:
        response = api.post(
            "/api/v1/marketing/syncs",
            json={"kind": "backfill", "since": since, "until": until, "granularities": ["day"]},
        )
        assert response.status_code == 202, response.text
        [queued] = response.json()["items"]

        def finished() -> dict[str, Any] | None:
            got = api.get(f"/api/v1/marketing/syncs/{queued['id']}")
            assert got.status_code == 200, got.text
            run: dict[str, Any] = got.json()
            return run if run["status"] in FINISHED else None

        run = wait_until(finished, timeout=90)
        assert run["status"] == "succeeded", run
        # The cache-writer renders the synced days a moment later: wait until the API agrees with Meta.
        wait_until(lambda: Decimal(_summary_spend(api, since, until)) == truth, timeout=SETTLE, interval=0.5)
        spend = _summary_spend(api, since, until)

        def described() -> list[str] | None:
            """The campaigns' names once the structure has arrived too. Orders no ad brought sit
            under `unknown` (other modules take some on the same stack): not a campaign."""
            got = api.get("/api/v1/dashboards/campaigns", params={"since": since, "until": until})
            assert got.status_code == 200, got.text
            from_ads = [c for c in got.json()["campaigns"] if c["campaign_id"] != "unknown"]
            named = [c["campaign_name"] for c in from_ads if c["campaign_name"]]
            return named if from_ads and len(named) == len(from_ads) else None

        names = wait_until(described, timeout=SETTLE, interval=0.5)
    return Synced(run, since, until, spend, names)


def test_the_dashboard_shows_the_synced_spend_campaigns_and_a_chart(synced: Synced, admin_page: Page) -> None:
    page = admin_page
    page.goto(synced.dashboard_path)
    expect(page.get_by_role("heading", name="Dashboards", level=1)).to_be_visible()
    expect(page.get_by_test_id("kpi-spend-value")).to_have_text(thb(synced.spend))
    expect(page.get_by_test_id("kpi-spend")).to_contain_text("Spend")
    for label in ("Revenue", "ROAS", "CAC", "Conversion", "Cost per lead", "Cost per conversation"):
        expect(page.get_by_test_id("kpi-cards")).to_contain_text(label)
    # Every figure says how fresh it is.
    expect(page.get_by_test_id("summary-freshness")).to_contain_text(re.compile(r"updated|age unknown"))
    expect(page.get_by_test_id("campaigns-freshness")).to_be_visible()

    table = page.get_by_test_id("campaign-table")
    for name in synced.campaigns:
        expect(table.get_by_test_id("campaign-row").filter(has_text=name)).to_be_visible()
    expect(page.get_by_test_id("campaign-total")).to_contain_text(thb(synced.spend))
    # Campaign → ad sets → ads.
    first = table.get_by_test_id("campaign-row").first
    first.get_by_role("button", name=re.compile(r"^Show the ad sets of ")).click()
    expect(table.get_by_test_id("adset-row").first).to_be_visible()
    adset = table.get_by_test_id("adset-row").first
    adset.get_by_role("button", name=re.compile(r"^Show the ads of ")).click()
    expect(table.get_by_test_id("ad-row").first).to_be_visible()
    # Sortable: spend ascending puts the smallest campaign first.
    table.get_by_role("button", name="Spend", exact=True).click()
    spend_header = table.get_by_role("columnheader", name="Spend", exact=True)
    expect(spend_header).to_have_attribute("aria-sort", "ascending")

    # ECharts is loaded on demand and draws on a canvas.
    expect(page.get_by_test_id("daily-chart").locator("canvas").first).to_be_visible()
    shot(page, "dashboards")


def test_the_sync_screen_shows_the_finished_run_with_its_counts(synced: Synced, admin_page: Page) -> None:
    page = admin_page
    run = synced.run
    page.goto("/syncs")
    row = page.locator(f"[data-testid='sync-run'][data-run-id='{run['id']}']")
    expect(row).to_contain_text("Done")
    expect(row).to_contain_text("Backfill")
    counts = f"{run['rows_fetched']:,} / {run['rows_changed']:,}"
    expect(row.get_by_test_id("sync-run-rows")).to_have_text(counts)
    row.get_by_role("button", name=f"Details of run {run['id']}").click()
    detail = page.get_by_test_id("sync-detail")
    expect(detail).to_contain_text(f"Run {run['id']}")
    expect(detail).to_contain_text("Done")
    expect(detail.get_by_test_id("sync-rows-fetched")).to_have_text(f"{run['rows_fetched']:,}")
    expect(detail.get_by_test_id("sync-rows-changed")).to_have_text(f"{run['rows_changed']:,}")
    expect(detail.get_by_test_id("sync-api-calls")).to_have_text(f"{run['api_calls']:,}")
    expect(detail).to_contain_text(f"{run['jobs_done']} of {run['jobs_total']}")
    expect(page.get_by_test_id("sync-error")).to_have_count(0)
    # The backfill form checks itself before asking the API.
    form = page.get_by_test_id("backfill-form")
    form.get_by_label("Last day").fill("2030-01-02")
    form.get_by_role("button", name="Start backfill").click()
    expect(form).to_contain_text("Choose today or an earlier day.")
    shot(page, "syncs")


def test_in_thai_the_kpis_are_thai_and_money_is_baht(synced: Synced, page_as: Any) -> None:
    page = page_as("admin", lang="th")
    page.goto(synced.dashboard_path)
    expect(page.get_by_role("heading", name="แดชบอร์ด", level=1)).to_be_visible()
    expect(page.get_by_test_id("kpi-spend")).to_contain_text("ค่าโฆษณา")
    expect(page.get_by_test_id("kpi-revenue")).to_contain_text("รายได้")
    expect(page.get_by_test_id("kpi-cost_per_lead")).to_contain_text("ต้นทุนต่อลีด")
    expect(page.get_by_test_id("kpi-spend-value")).to_have_text(thb(synced.spend))
    expect(page.get_by_test_id("campaign-total")).to_contain_text("฿")
    shot(page, "dashboards-th")
