"""Deterministic Meta Marketing API universe: accounts, campaigns, ad sets, ads and hourly facts.

Facts are never stored: every (ad, day, hour) cell is derived from a hash of
(seed, ad id, day, hour), so a year of 200 ads costs nothing until it is asked for.
Daily rows are exact sums of the hourly rows; reach exists only for non-hourly rows.

Hot paths (`day_cells`, `ads_under`) work on plain int tuples and per-ad constants cached
on first use; `hourly()` and `facts()` give the same numbers through the same code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

Level = Literal["account", "campaign", "adset", "ad"]
LEVELS: tuple[Level, ...] = ("account", "campaign", "adset", "ad")

MESSAGING = "onsite_conversion.messaging_conversation_started_7d"
LEAD = "lead"
PIXEL_PURCHASE = "offsite_conversion.fb_pixel_purchase"
OMNI_PURCHASE = "omni_purchase"
ACTION_TYPES = (MESSAGING, LEAD, PIXEL_PURCHASE, OMNI_PURCHASE)
VALUE_TYPES = (PIXEL_PURCHASE, OMNI_PURCHASE)
OBJECTIVES = ("OUTCOME_ENGAGEMENT", "OUTCOME_LEADS", "OUTCOME_SALES")
COURSES = (
    "คอร์สภาษาอังกฤษเพื่อการทำงาน",
    "Python for Data Analysis",
    "คอร์สเรียนทำขนมไทย",
    "IELTS Intensive 7.0",
    "คอร์สการตลาดออนไลน์",
    "Digital Photography Basics",
    "คอร์สภาษาญี่ปุ่น N5",
    "Excel for Accountants",
    "คอร์สติวสอบ TCAS",
    "UX/UI Design Bootcamp",
)
# Relative delivery weight per local hour (quiet at night, peaks in the evening).
HOUR_WEIGHT = (2, 1, 0, 0, 0, 1, 2, 4, 6, 7, 7, 8, 9, 8, 7, 7, 8, 9, 11, 12, 12, 10, 7, 4)


def _h(*parts: object) -> int:
    digest = hashlib.blake2b("|".join(str(p) for p in parts).encode(), digest_size=16).digest()
    return int.from_bytes(digest, "big")


# One (ad, day, hour) cell as plain ints, in Facts field order:
# impressions, clicks, inline_link_clicks, spend_minor, messaging, leads, purchases, purchase_value_minor.
Cell = tuple[int, int, int, int, int, int, int, int]
_OBJECTIVE_CODE = {"OUTCOME_ENGAGEMENT": 0, "OUTCOME_LEADS": 1}  # anything else: sales
_DELIVERING_HOURS = tuple(h for h, w in enumerate(HOUR_WEIGHT) if w)


@dataclass(frozen=True)
class _AdConst:
    """Per-ad constants of the fact formula, computed once per ad."""

    prefix: str  # f"{seed}|{ad_id}|": the hash input before "{day}|{hour}"
    delivery_from: date
    delivery_until: date
    scale: int
    objective: int  # 0 engagement, 1 leads, 2 sales (see _OBJECTIVE_CODE)


def _cell(c: _AdConst, day_key: str, hour: int) -> Cell | None:
    """Facts of one delivering cell, None when it has no impressions (caller checks the window)."""
    weight = HOUR_WEIGHT[hour]
    if weight == 0:
        return None
    digest = hashlib.blake2b(f"{c.prefix}{day_key}|{hour}".encode(), digest_size=16).digest()
    r = int.from_bytes(digest, "big")
    impressions = (r % 97) * weight * c.scale // 4
    r //= 97
    if impressions == 0:
        return None
    clicks = impressions * (1 + r % 4) // 100
    r //= 4
    link = clicks * (5 + r % 5) // 10
    r //= 5
    spend = impressions * (8 + r % 17)  # CPM 80-240 THB -> 8-24 satang per impression
    r //= 17
    msg = leads = buys = value = 0
    if clicks:
        conv = r % (clicks + 3)
        r //= clicks + 3
        if c.objective == 0:
            msg = conv // 2
        elif c.objective == 1:
            leads, msg = conv // 3, conv // 6
        else:
            buys = conv // 4
            value = buys * (99000 + (r % 300) * 1000 + r % 100)
    return (impressions, clicks, link, spend, msg, leads, buys, value)


def add_cells(total: list[int], cell: Cell) -> None:
    """total += cell, in place (total is an 8-int list)."""
    for i in range(8):
        total[i] += cell[i]


def _cents(minor: int) -> Decimal:
    return Decimal(minor).scaleb(-2).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Facts:
    """Additive metrics for one cell or an aggregate; money in minor units (satang)."""

    impressions: int = 0
    clicks: int = 0
    inline_link_clicks: int = 0
    spend_minor: int = 0
    messaging: int = 0
    leads: int = 0
    purchases: int = 0
    purchase_value_minor: int = 0

    def __add__(self, other: Facts) -> Facts:
        return Facts(
            self.impressions + other.impressions,
            self.clicks + other.clicks,
            self.inline_link_clicks + other.inline_link_clicks,
            self.spend_minor + other.spend_minor,
            self.messaging + other.messaging,
            self.leads + other.leads,
            self.purchases + other.purchases,
            self.purchase_value_minor + other.purchase_value_minor,
        )

    @property
    def spend(self) -> Decimal:
        return _cents(self.spend_minor)

    @property
    def purchase_value(self) -> Decimal:
        return _cents(self.purchase_value_minor)

    @property
    def actions(self) -> dict[str, int]:
        """Action counts by type; `omni_purchase` overlaps the pixel purchase (never sum both)."""
        out = {MESSAGING: self.messaging, LEAD: self.leads, PIXEL_PURCHASE: self.purchases}
        out[OMNI_PURCHASE] = self.purchases
        return {k: v for k, v in out.items() if v}

    @property
    def action_values(self) -> dict[str, Decimal]:
        if not self.purchase_value_minor:
            return {}
        return {t: self.purchase_value for t in VALUE_TYPES}


ZERO = Facts()


@dataclass(frozen=True)
class Account:
    account_id: str
    name: str
    currency: str
    timezone_name: str
    account_status: int = 1

    @property
    def id(self) -> str:
        return f"act_{self.account_id}"


@dataclass(frozen=True)
class AdObject:
    """A campaign, ad set or ad."""

    kind: Literal["campaign", "adset", "ad"]
    id: str
    name: str
    account_id: str
    status: str
    effective_status: str
    created_time: datetime
    updated_time: datetime
    campaign_id: str
    adset_id: str | None = None
    objective: str | None = None
    daily_budget: str | None = None
    # Delivery happens on [delivery_from, delivery_until) in the account timezone.
    delivery_from: date = date.min
    delivery_until: date = date.max
    ancestors: tuple[str, ...] = field(default=())


def iso(dt: datetime) -> str:
    """Meta's timestamp format: 2026-01-05T10:23:11+0700."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S%z")


class MarketingUniverse:
    """All objects and facts for `seed`; identical seeds give identical numbers."""

    def __init__(
        self,
        seed: int,
        accounts: int = 1,
        campaigns_per_account: int = 3,
        adsets_per_campaign: int = 2,
        ads_per_adset: int = 2,
        *,
        start: date,
        end: date,
        timezone: str = "Asia/Bangkok",
        currency: str = "THB",
    ) -> None:
        if end < start:
            raise ValueError("end must not be before start")
        self.seed = seed
        self.start, self.end = start, end
        self.timezone = timezone
        self.tz = ZoneInfo(timezone)
        self.currency = currency
        self.accounts: list[Account] = []
        self.campaigns: list[AdObject] = []
        self.adsets: list[AdObject] = []
        self.ads: list[AdObject] = []
        self._by_id: dict[str, AdObject] = {}
        self._children: dict[str, list[AdObject]] = {}
        self._ad_const: dict[str, _AdConst] = {}
        self._ads_under: dict[str, tuple[AdObject, ...]] = {}
        self._build(accounts, campaigns_per_account, adsets_per_campaign, ads_per_adset)

    # -- objects -----------------------------------------------------------
    def _id(self, prefix: str, *parts: object) -> str:
        return prefix + str(_h(self.seed, *parts) % 10**14).zfill(14)

    def _at(self, day: date, *parts: object) -> datetime:
        secs = _h(self.seed, "t", *parts) % 86400
        return datetime.combine(day, time(), self.tz) + timedelta(seconds=secs)

    def _build(self, n_acc: int, n_camp: int, n_set: int, n_ad: int) -> None:
        created_base = self.start - timedelta(days=30)
        span = (self.end - self.start).days + 1
        archived_done = False
        for a in range(n_acc):
            acc = Account(
                account_id=str(10**15 + _h(self.seed, "acc", a) % 10**15),
                name=f"Course Academy {a + 1}",
                currency=self.currency,
                timezone_name=self.timezone,
            )
            self.accounts.append(acc)
            for c in range(n_camp):
                cid = self._id("1202", "camp", a, c)
                roll = _h(self.seed, "cstat", a, c) % 10
                status = "ACTIVE"
                if not archived_done and c == n_camp - 1 and n_camp > 1:
                    status, archived_done = "ARCHIVED", True
                elif (c == 1 and n_camp >= 3) or (roll < 2 and c > 0):
                    status = "PAUSED"
                created = self._at(created_base + timedelta(days=c), cid)
                stop = self._stop_day(cid, status, span)
                updated = self._updated(cid, created, stop)
                camp = AdObject(
                    "campaign",
                    cid,
                    f"{COURSES[(a * n_camp + c) % len(COURSES)]} | {OBJECTIVES[c % 3][8:].title()}",
                    acc.account_id,
                    status,
                    status,
                    created,
                    updated,
                    cid,
                    objective=OBJECTIVES[c % 3],
                    daily_budget=str((500 + _h(self.seed, "bud", cid) % 4500) * 100),
                    delivery_from=created.date() + timedelta(days=1),
                    delivery_until=stop,
                )
                self._add(camp, acc.id)
                for s in range(n_set):
                    self._build_adset(acc, camp, s, n_ad, span)

    def _stop_day(self, oid: str, status: str, span: int) -> date:
        if status == "ACTIVE":
            return date.max
        return self.start + timedelta(days=1 + _h(self.seed, "stop", oid) % max(span, 1))

    def _updated(self, oid: str, created: datetime, stop: date) -> datetime:
        if stop != date.max:
            return self._at(stop - timedelta(days=1), "upd", oid)
        day = created.date() + timedelta(days=_h(self.seed, "u", oid) % 20)
        return max(created + timedelta(minutes=5), self._at(day, "upd", oid))

    def _build_adset(self, acc: Account, camp: AdObject, s: int, n_ad: int, span: int) -> None:
        sid = self._id("1202", "set", camp.id, s)
        own = "PAUSED" if _h(self.seed, "sstat", sid) % 7 == 0 else "ACTIVE"
        eff = _effective(camp.effective_status, own, "CAMPAIGN_PAUSED")
        stop = min(camp.delivery_until, self._stop_day(sid, own, span))
        created = camp.created_time + timedelta(minutes=10 + s)
        adset = AdObject(
            "adset",
            sid,
            f"{camp.name.split(' | ')[0]} - กลุ่ม {s + 1} (อายุ 18-{35 + 5 * s})",
            acc.account_id,
            own,
            eff,
            created,
            max(camp.updated_time, self._updated(sid, created, stop)),
            camp.id,
            daily_budget=str((200 + _h(self.seed, "bud", sid) % 1800) * 100),
            delivery_from=camp.delivery_from,
            delivery_until=stop,
        )
        self._add(adset, camp.id)
        for d in range(n_ad):
            aid = self._id("1202", "ad", sid, d)
            own_ad = "PAUSED" if _h(self.seed, "astat", aid) % 9 == 0 else "ACTIVE"
            ad_created = created + timedelta(minutes=5 + d)
            ad_stop = min(stop, self._stop_day(aid, own_ad, span))
            ad = AdObject(
                "ad",
                aid,
                f"{camp.name.split(' | ')[0]} - Creative {chr(65 + d)}",
                acc.account_id,
                own_ad,
                _effective(eff, own_ad, "ADSET_PAUSED"),
                ad_created,
                max(adset.updated_time, self._updated(aid, ad_created, ad_stop)),
                camp.id,
                adset_id=sid,
                delivery_from=camp.delivery_from,
                delivery_until=ad_stop,
            )
            self._add(ad, sid)

    def _add(self, obj: AdObject, parent: str) -> None:
        {"campaign": self.campaigns, "adset": self.adsets, "ad": self.ads}[obj.kind].append(obj)
        self._by_id[obj.id] = obj
        self._children.setdefault(parent, []).append(obj)

    def account(self, account_id: str) -> Account | None:
        aid = account_id.removeprefix("act_")
        return next((a for a in self.accounts if a.account_id == aid), None)

    def get(self, object_id: str) -> AdObject | None:
        return self._by_id.get(object_id)

    def objects(self, level: Level, account_id: str) -> list[AdObject]:
        """Campaigns, ad sets or ads of one account, in creation order."""
        aid = account_id.removeprefix("act_")
        pool = {"campaign": self.campaigns, "adset": self.adsets, "ad": self.ads}.get(level)
        if pool is None:
            raise ValueError(f"no objects at level {level}")
        return [o for o in pool if o.account_id == aid]

    def ads_under(self, object_id: str) -> list[AdObject]:
        """Ads below an account ("act_…" or bare id), campaign, ad set or ad (cached)."""
        cached = self._ads_under.get(object_id)
        if cached is None:
            cached = self._ads_under[object_id] = tuple(self._find_ads_under(object_id))
        return list(cached)

    def _find_ads_under(self, object_id: str) -> list[AdObject]:
        if object_id in self._by_id and self._by_id[object_id].kind == "ad":
            return [self._by_id[object_id]]
        acc = self.account(object_id)
        if acc is not None:
            return self.objects("ad", acc.account_id)
        out: list[AdObject] = []
        for child in self._children.get(object_id, []):
            out.extend(self._find_ads_under(child.id))
        return out

    # -- facts ---------------------------------------------------------------
    def _const(self, ad_id: str) -> _AdConst:
        c = self._ad_const.get(ad_id)
        if c is None:
            ad = self._by_id[ad_id]
            objective = self._by_id[ad.campaign_id].objective
            c = _AdConst(
                f"{self.seed}|{ad_id}|",
                max(ad.delivery_from, self.start),
                ad.delivery_until if self.end >= ad.delivery_until else self.end + timedelta(days=1),
                1 + _h(self.seed, "scale", ad_id) % 4,
                _OBJECTIVE_CODE.get(objective or "", 2),
            )
            self._ad_const[ad_id] = c
        return c

    def hourly(self, ad_id: str, day: date, hour: int) -> Facts:
        """Facts of one ad for one local hour; zero outside its delivery window."""
        c = self._const(ad_id)
        if not c.delivery_from <= day < c.delivery_until:
            return ZERO
        cell = _cell(c, day.isoformat(), hour)
        return ZERO if cell is None else Facts(*cell)

    def day_cells(self, ad_id: str, day: date) -> list[tuple[int, Cell]]:
        """(hour, cell) for every hour of `day` with impressions, in hour order.

        The fast path behind insights: same numbers as `hourly()`, without Facts objects.
        """
        c = self._const(ad_id)
        if not c.delivery_from <= day < c.delivery_until:
            return []
        key = day.isoformat()
        out = []
        for hour in _DELIVERING_HOURS:
            cell = _cell(c, key, hour)
            if cell is not None:
                out.append((hour, cell))
        return out

    def daily(self, ad_id: str, day: date) -> Facts:
        total = [0] * 8
        for _, cell in self.day_cells(ad_id, day):
            add_cells(total, cell)
        return Facts(*total)

    def facts(self, object_id: str, since: date, until: date, hour: int | None = None) -> Facts:
        """Sum over every ad below `object_id` and every day in [since, until] (one hour if given)."""
        total = [0] * 8
        for ad in self.ads_under(object_id):
            for day in days(since, until):
                for h, cell in self.day_cells(ad.id, day):
                    if hour is None or h == hour:
                        add_cells(total, cell)
        return Facts(*total)

    def reach(self, object_id: str, since: date, until: date, impressions: int | None = None) -> int:
        """Deterministic reach for a non-hourly row: 55-90% of impressions."""
        imps = self.facts(object_id, since, until).impressions if impressions is None else impressions
        if imps == 0:
            return 0
        pct = 55 + _h(self.seed, "reach", object_id, since, until) % 36
        return max(1, imps * pct // 100)

    # -- truth helpers for tests ----------------------------------------------
    def spend(self, object_id: str, day: date) -> Decimal:
        """Spend of an ad, ad set, campaign or account ("act_…" or bare id) on one local day."""
        return self.facts(object_id, day, day).spend

    def totals(self, level: Level, object_id: str, since: date, until: date) -> Facts:
        """Totals for the object at `level` over [since, until] inclusive."""
        if level == "account":
            if self.account(object_id) is None:
                raise KeyError(object_id)
        elif (obj := self.get(object_id)) is None or obj.kind != level:
            raise KeyError(object_id)
        return self.facts(object_id, since, until)


def days(since: date, until: date) -> Iterator[date]:
    day = since
    while day <= until:
        yield day
        day += timedelta(days=1)


def _effective(parent_eff: str, own: str, paused_label: str) -> str:
    if parent_eff in ("ARCHIVED", "DELETED"):
        return parent_eff
    if own != "ACTIVE":
        return own
    if parent_eff == "PAUSED":
        return paused_label
    return parent_eff
