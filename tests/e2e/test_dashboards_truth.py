"""Issue 14's fake truth across processes: staff backfill Meta's numbers through the gateway, marketing
syncs them from the Marketing API fake and publishes structure and insights, the cache-writer renders
its snapshots, and the dashboards show for every campaign, ad set, ad and day the fake's truth to the
satang, named as in Ads Manager; a customer from one of the fake's ads who paid through the gateway is
that ad's lead and revenue, with the KPIs of docs/metrics.md.

The stack is shared with the other e2e modules, in any order: test_marketing_sync needs to be the
first to sync the fake's days 2 to 4, so this module syncs day 1 (every ad delivers, the archived
campaign's too) and days 5 to 10, and expects what the succeeded runs the gateway lists covered.
Other modules' customers come from ads the fake does not have: the account's leads and revenue are
theirs too, and are checked only against the ratios' definitions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from crm_fakes import MarketingUniverse
from crm_fakes.marketing_data import days as day_range
from crm_fakes.webhooks import meta_json, page_webhook, referral, text_message_event
from crm_servicekit.testing import eventually

from .conftest import PAGE_ID, System, customer_for, post_webhook
from .test_marketing_sync import finished, fresh_fake, gateway, queue_backfill

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

BANGKOK = ZoneInfo("Asia/Bangkok")
PSID = "7300900800700600"
PAYMENTS = (Decimal("1000.00"), Decimal("2456.78"))  # one order of 3,456.78, paid in two parts
CENT, RATE = Decimal("0.01"), Decimal("0.0001")


@dataclass
class Expected:
    """What one ad (or a sum of ads) should show over some days: the fake's numbers plus the CRM's."""

    spend: Decimal = Decimal("0.00")
    impressions: int = 0
    clicks: int = 0
    meta_conversations_started: int = 0
    meta_leads: int = 0
    purchases: int = 0
    purchase_value: Decimal = Decimal("0.00")
    leads: int = 0
    conversations_started: int = 0
    revenue: Decimal = Decimal("0.00")
    paid_orders: int = 0
    new_paying_customers: int = 0
    converted_leads: int = 0

    def __add__(self, other: Expected) -> Expected:
        return Expected(**{name: getattr(self, name) + getattr(other, name) for name in vars(self)})


def half_up(top: Decimal | int, bottom: Decimal | int, step: Decimal) -> Decimal | None:
    """A ratio as docs/metrics.md rounds it: half-up, none when the bottom is zero."""
    return None if not bottom else (Decimal(top) / Decimal(bottom)).quantize(step, rounding=ROUND_HALF_UP)


@dataclass
class World:
    universe: MarketingUniverse
    synced: set[date]
    """Days a succeeded run brought daily rows for (this module's and any other's)."""
    synced_hours: set[date]
    ad_id: str
    """The fake's ad the customer came from."""
    lead_day: date
    paid_day: date
    crm: dict[tuple[str, date], Expected] = field(default_factory=dict)

    def ad(self, ad_id: str, first: date, last: date) -> Expected:
        total = Expected()
        for day in day_range(first, last):
            total += self.crm.get((ad_id, day), Expected())
            if day not in self.synced:
                continue
            f = self.universe.daily(ad_id, day)
            total += Expected(
                spend=f.spend,
                impressions=f.impressions,
                clicks=f.clicks,
                meta_conversations_started=f.messaging,
                meta_leads=f.leads,
                purchases=f.purchases,
                purchase_value=f.purchase_value,
            )
        return total

    def under(self, object_id: str, first: date, last: date) -> Expected:
        total = Expected()
        for ad in self.universe.ads_under(object_id):
            total += self.ad(ad.id, first, last)
        return total

    def spend(self, first: date, last: date) -> Decimal:
        return self.under(f"act_{self.universe.accounts[0].account_id}", first, last).spend


def node_mismatches(label: str, node: dict[str, Any], want: Expected) -> list[str]:
    """How a campaign, ad set or ad of the tree differs from what it should show (none: equal)."""
    shown = {**meta_of(node["meta"]), **{name: _num(value) for name, value in node["kpis"].items()}}
    # An ad, ad set or campaign: all its revenue is what it is credited with (docs/metrics.md).
    wanted = {
        **{name: getattr(want, name) for name in vars(want)},
        "attributed_revenue": want.revenue,
        "roas": half_up(want.revenue, want.spend, CENT),
        "cac": half_up(want.spend, want.new_paying_customers, CENT),
        "aov": half_up(want.revenue, want.paid_orders, CENT),
        "cost_per_lead": half_up(want.spend, want.leads, CENT),
        "cost_per_conversation": half_up(want.spend, want.conversations_started, CENT),
        "conversion_rate": half_up(want.converted_leads, want.leads, RATE),
    }
    return [
        f"{label} {name}: {shown.get(name)} != {value}"
        for name, value in wanted.items()
        if shown.get(name) != value
    ]


# Meta's numbers as the dashboards name them (`meta`), by the name `Expected` gives them.
META = {
    "impressions": "impressions",
    "clicks": "clicks",
    "meta_conversations_started": "conversations_started",
    "meta_leads": "leads",
    "purchases": "purchases",
    "purchase_value": "purchase_value",
}


def meta_of(shown: dict[str, Any]) -> dict[str, object]:
    return {name: _num(shown[key]) for name, key in META.items()}


def _num(value: object) -> object:
    """Money and ratios come as decimal strings: compared as Decimals."""
    return Decimal(value) if isinstance(value, str) else value


def tree_mismatches(world: World, tree: dict[str, Any], first: date, last: date) -> list[str]:
    """Every campaign, ad set and ad with numbers from `first` to `last` is in the tree under its
    own names and status, and shows the fake's truth (plus the CRM's figures of its customer)."""
    u, out = world.universe, []
    ours = [c for c in tree["campaigns"] if u.get(c["campaign_id"]) is not None]
    shown_ads = {ad["ad_id"]: (c, adset, ad) for c in ours for adset in c["adsets"] for ad in adset["ads"]}
    # Ads the fake does not have (other modules' customers' ads) have no structure: `unknown`.
    strangers = {c["campaign_id"] for c in tree["campaigns"]} - {c["campaign_id"] for c in ours}
    if strangers - {"unknown"}:
        out.append(f"{first}..{last}: campaigns the fake does not have: {sorted(strangers)}")
    wanted_ads = {ad.id for ad in u.ads if world.ad(ad.id, first, last) != Expected()}
    if set(shown_ads) != wanted_ads:
        return [f"{first}..{last}: ads {sorted(shown_ads)} != {sorted(wanted_ads)}"]
    for ad_id, (campaign, adset, ad) in shown_ads.items():
        obj = u.get(ad_id)
        assert obj is not None
        assert obj.adset_id is not None
        owner, group = u.get(obj.campaign_id), u.get(obj.adset_id)
        assert owner is not None
        assert group is not None
        names = (campaign["campaign_id"], campaign["campaign_name"], adset["adset_id"], adset["adset_name"])
        if names != (owner.id, owner.name, group.id, group.name):
            out.append(f"{ad_id} is under {names}")
        if (ad["ad_name"], ad["status"]) != (obj.name, obj.effective_status):
            out.append(
                f"{ad_id} named {ad['ad_name']!r} {ad['status']}, not {obj.name!r} {obj.effective_status}"
            )
        out += node_mismatches(f"{first}..{last} ad {ad_id}", ad, world.ad(ad_id, first, last))
    for campaign in ours:
        out += node_mismatches(
            f"{first}..{last} campaign {campaign['campaign_id']}",
            campaign,
            world.under(campaign["campaign_id"], first, last),
        )
        for adset in campaign["adsets"]:
            want = world.under(adset["adset_id"], first, last)
            out += node_mismatches(f"{first}..{last} ad set {adset['adset_id']}", adset, want)
    return out


async def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: {response.text}"
    )
    body: dict[str, Any] = response.json()
    return body


async def backfill(http: httpx.AsyncClient, since: date, until: date) -> None:
    run = await finished(http, (await queue_backfill(http, since, until, ["day", "hour"]))["id"])
    assert run["status"] == "succeeded", run


async def synced_days(http: httpx.AsyncClient, granularity: str) -> set[date]:
    """Days the succeeded runs covered with rows of this granularity (every module's runs)."""
    page = await ok(await http.get("/api/v1/marketing/syncs", params={"status": "succeeded", "limit": 200}))
    assert page["next_cursor"] is None
    return {
        day
        for run in page["items"]
        if granularity in run["granularities"]
        for day in day_range(date.fromisoformat(run["since"]), date.fromisoformat(run["until"]))
    }


async def customer_from_ad(system: System, http: httpx.AsyncClient, ad_id: str) -> tuple[str, datetime]:
    """A person clicks the fake's ad into Messenger and writes: the gateway's customer, created."""
    event = text_message_event(PAGE_ID, PSID, "สนใจคอร์สค่ะ", referral=referral(ad_id, ref="dashboards"))
    assert (await post_webhook(system, meta_json(page_webhook(PAGE_ID, [event])))).status_code == 200

    async def touched() -> dict[str, Any] | None:
        customer = await customer_for(system, PSID)
        return customer if customer and customer["first_touch"] else None

    customer = await eventually(touched, timeout=30)
    assert customer["first_touch"]["ad_id"] == ad_id
    return customer["customer_id"], datetime.fromisoformat(customer["created_at"])


async def paid_order(http: httpx.AsyncClient, customer_id: str, received_at: datetime) -> None:
    product = {"kind": "equipment", "name_th": "ชุดมีดญี่ปุ่น (dashboards e2e)", "price": str(sum(PAYMENTS))}
    product_id = (await ok(await http.post("/api/v1/products", json=product), 201))["id"]
    lines = [{"product_id": product_id, "quantity": 1}]
    order = await ok(
        await http.post("/api/v1/orders", json={"customer_id": customer_id, "lines": lines}), 201
    )
    for n, amount in enumerate(PAYMENTS):
        payment = {"method": "transfer", "amount": str(amount), "received_at": received_at.isoformat()}
        payment["reference"] = f"DASH-E2E-{n}"
        await ok(await http.post(f"/api/v1/orders/{order['id']}/payments", json=payment), 201)
    assert (await ok(await http.get(f"/api/v1/orders/{order['id']}")))["status"] == "paid"


@pytest.fixture(scope="module")
async def world(system: System) -> World:
    u = system.marketing.universe()
    await fresh_fake(system)
    async with await gateway(system) as http:
        await backfill(http, u.start, u.start)
        await backfill(http, u.start + timedelta(days=4), u.end)
        synced, synced_hours = await synced_days(http, "day"), await synced_days(http, "hour")
        # The customer comes from an ad of the active campaign that delivers today.
        [ad_id, *_] = [ad.id for ad in u.ads if u.daily(ad.id, u.end).impressions]
        customer_id, created_at = await customer_from_ad(system, http, ad_id)
        received_at = datetime.now(UTC)
        await paid_order(http, customer_id, received_at)
    lead_day, paid_day = created_at.astimezone(BANGKOK).date(), received_at.astimezone(BANGKOK).date()
    world = World(u, synced, synced_hours, ad_id, lead_day, paid_day)
    # Attribution `last_28d`: the order was taken minutes after the touch. The lead paid within a
    # day of becoming one: converted, counted on the lead's day (the cohort).
    # The customer's first message came through the ad: a conversation it opened, that day.
    world.crm[ad_id, lead_day] = Expected(leads=1, converted_leads=1, conversations_started=1)
    world.crm[ad_id, paid_day] = world.crm.get((ad_id, paid_day), Expected()) + Expected(
        revenue=sum(PAYMENTS, Decimal("0.00")), paid_orders=1, new_paying_customers=1
    )
    return world


async def campaigns(http: httpx.AsyncClient, first: date, last: date) -> dict[str, Any]:
    tree = await ok(
        await http.get("/api/v1/dashboards/campaigns", params={"since": str(first), "until": str(last)})
    )
    assert tree["attribution"] == "last_28d"
    assert tree["problems"] == []
    return tree


async def settled(system: System, world: World) -> None:
    """Wait until the cache-writer has rendered everything: each day's tree equals the truth."""
    last: list[str] = []

    async def every_day_right() -> bool:
        nonlocal last
        last = []
        async with await gateway(system) as http:
            for day in sorted(world.synced | {world.lead_day, world.paid_day}):
                last += tree_mismatches(world, await campaigns(http, day, day), day, day)
        return not last

    try:
        await eventually(every_day_right, timeout=120, interval=0.5)
    except AssertionError:
        raise AssertionError("\n".join(last[:40])) from None


async def test_every_campaign_ad_set_and_ad_equals_the_fakes_truth_day_by_day(
    system: System, world: World
) -> None:
    u = world.universe
    assert world.synced >= {u.start, *day_range(u.start + timedelta(days=4), u.end)}
    await settled(system, world)
    async with await gateway(system) as http:
        for day in sorted(world.synced):
            tree = await campaigns(http, day, day)
            assert not tree_mismatches(world, tree, day, day)
            assert tree["stale"] is False
            assert tree["campaigns"], f"{day}: the fake delivers every day"
            spends = [Decimal(c["kpis"]["spend"]) for c in tree["campaigns"]]
            assert spends == sorted(spends, reverse=True), "by spend, highest first"
            assert tree["total"]["kpis"]["spend"] == f"{world.spend(day, day):.2f}", "THB, to the satang"


async def test_the_whole_range_names_every_campaign_ad_set_and_ad_of_the_fake(
    system: System, world: World
) -> None:
    u = world.universe
    await settled(system, world)
    async with await gateway(system) as http:
        tree = await campaigns(http, u.start, u.end)
    assert tree_mismatches(world, tree, u.start, u.end) == []
    # Day 1 is synced and every ad delivers on it, so the whole universe is in the tree.
    ours = [c for c in tree["campaigns"] if c["campaign_id"] != "unknown"]
    assert {c["campaign_id"] for c in ours} == {c.id for c in u.campaigns}
    assert {s["adset_id"] for c in ours for s in c["adsets"]} == {s.id for s in u.adsets}
    assert {a["ad_id"] for c in ours for s in c["adsets"] for a in s["ads"]} == {a.id for a in u.ads}
    assert {c["campaign_name"] for c in ours} == {c.name for c in u.campaigns}
    [archived] = [c for c in u.campaigns if c.status == "ARCHIVED"]
    [shown] = [c for c in ours if c["campaign_id"] == archived.id]
    assert {a["status"] for s in shown["adsets"] for a in s["ads"]} == {"ARCHIVED"}
    assert Decimal(tree["total"]["kpis"]["spend"]) == world.spend(u.start, u.end)


async def test_the_customer_from_an_ad_is_its_lead_and_its_revenue(system: System, world: World) -> None:
    await settled(system, world)
    ad = world.universe.get(world.ad_id)
    assert ad is not None
    day = world.lead_day
    async with await gateway(system) as http:
        tree = await campaigns(http, day, world.paid_day)
    [campaign] = [c for c in tree["campaigns"] if c["campaign_id"] == ad.campaign_id]
    [mine] = [a for s in campaign["adsets"] for a in s["ads"] if a["ad_id"] == world.ad_id]
    revenue = sum(PAYMENTS, Decimal("0.00"))
    spend = world.ad(world.ad_id, day, world.paid_day).spend
    for node in (mine, campaign):
        k = node["kpis"]
        assert (k["leads"], k["paid_orders"], k["new_paying_customers"], k["converted_leads"]) == (1, 1, 1, 1)
        assert Decimal(k["revenue"]) == Decimal(k["attributed_revenue"]) == revenue
        assert Decimal(k["aov"]) == revenue
        assert Decimal(k["conversion_rate"]) == Decimal("1.0000")
    assert Decimal(mine["kpis"]["cost_per_lead"]) == Decimal(mine["kpis"]["cac"]) == spend
    assert _num(mine["kpis"]["roas"]) == half_up(revenue, spend, CENT)
    # The fake's other campaigns have spend and no customer: ROAS 0.00, nothing else defined.
    for other in tree["campaigns"]:
        if other["campaign_id"] in (ad.campaign_id, "unknown"):
            continue
        k = other["kpis"]
        undefined = [k[name] for name in ("cac", "aov", "cost_per_lead", "conversion_rate")]
        assert (k["leads"], k["revenue"], undefined) == (0, "0.00", [None] * 4)
        assert k["roas"] == ("0.00" if Decimal(k["spend"]) else None)


async def test_series_and_summaries_add_up_to_the_fakes_spend(system: System, world: World) -> None:
    u = world.universe
    await settled(system, world)
    range_ = {"since": u.start.isoformat(), "until": u.end.isoformat()}
    async with await gateway(system) as http:
        daily = await ok(await http.get("/api/v1/dashboards/daily", params=range_))
        months = {"since": u.start.strftime("%Y-%m"), "until": u.end.strftime("%Y-%m")}
        monthly = await ok(await http.get("/api/v1/dashboards/monthly", params=months))
        summary = await ok(await http.get("/api/v1/dashboards/summary"))
        one_day = {
            day: await ok(
                await http.get("/api/v1/dashboards/summary", params={"since": str(day), "until": str(day)})
            )
            for day in sorted(world.synced_hours)
        }

    assert [p["day"] for p in daily["points"]] == [d.isoformat() for d in day_range(u.start, u.end)]
    for point in daily["points"]:
        day = date.fromisoformat(point["day"])
        assert Decimal(point["spend"]) == world.spend(day, day), day
        # The account's ratios follow docs/metrics.md from the point's own sums (other modules'
        # customers are the account's too, so its leads and revenue are theirs as well).
        assert _num(point["roas"]) == half_up(
            Decimal(point["attributed_revenue"]), Decimal(point["spend"]), CENT
        )
        assert _num(point["cost_per_lead"]) == half_up(Decimal(point["spend"]), point["leads"], CENT)
        if day == world.lead_day:
            assert point["leads"] >= 1
        # Not the account's revenue on the paid day: another module's refunds made today lower
        # it (its ad's own revenue is checked in the campaign tree above).
    assert Decimal(daily["totals"]["spend"]) == world.spend(u.start, u.end)

    for point in monthly["points"]:
        first, last = (
            max(date.fromisoformat(point["since"]), u.start),
            min(date.fromisoformat(point["until"]), u.end),
        )
        assert Decimal(point["spend"]) == world.spend(first, last), point["month"]
    assert Decimal(monthly["totals"]["spend"]) == world.spend(u.start, u.end)

    account = f"act_{u.accounts[0].account_id}"
    for day, answer in one_day.items():
        [period] = answer["periods"]
        truth = world.under(account, day, day)
        assert Decimal(period["spend"]) == Decimal(period["spend_hourly"]) == truth.spend, day
        assert Decimal(period["spend_hourly_difference"]) == 0, "the fake's hours add up to its days"
        assert meta_of(period["meta"]) == {name: getattr(truth, name) for name in META}, day

    periods = {p["name"]: p for p in summary["periods"]}
    today = date.fromisoformat(periods["today"]["since"])  # the cache-writer's Bangkok day
    assert today in (datetime.now(BANGKOK).date(), datetime.now(BANGKOK).date() - timedelta(days=1))
    for name, (first, last) in {
        "today": (today, today),
        "yesterday": (today - timedelta(days=1), today - timedelta(days=1)),
        "last_7_days": (today - timedelta(days=6), today),
    }.items():
        assert (periods[name]["since"], periods[name]["until"]) == (first.isoformat(), last.isoformat())
        assert Decimal(periods[name]["spend"]) == world.spend(first, last), name
    assert summary["stale"] is False
