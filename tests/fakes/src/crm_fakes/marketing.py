"""Fake Meta Marketing API (Graph `/{version}/...`): objects, insights, async report runs.

Numbers in insights are strings, like Meta. Listings use Meta's cursor paging. Every
response carries usage headers whose percentages climb per call. Control API under `/_fake/`.
"""

from __future__ import annotations

import base64
import json
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI, Request, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from crm_fakes.graph_errors import GraphError, default_message, fbtrace_id
from crm_fakes.marketing_data import (
    LEAD,
    LEVELS,
    MESSAGING,
    OMNI_PURCHASE,
    PIXEL_PURCHASE,
    VALUE_TYPES,
    Cell,
    Level,
    MarketingUniverse,
    add_cells,
    days,
    iso,
)
from crm_fakes.webhooks import meta_json

_VERSION = re.compile(r"^v\d+\.\d+$")
_RATE_URL = "https://developers.facebook.com/docs/graph-api/overview/rate-limiting"
REDUCE_DATA = "Please reduce the amount of data you're asking for, then retry your request"
HOURLY = "hourly_stats_aggregated_by_advertiser_time_zone"
RUN_STATUSES = ("Job Not Started", "Job Started", "Job Running")

# Marketing-specific messages, checked before graph_errors.MESSAGES.
MARKETING_MESSAGES: dict[tuple[int, int | None], str] = {
    (80000, None): "(#80000) There have been too many calls from this ad-account. Wait a bit and "
    f"try again. For more info, please refer to {_RATE_URL}.",
    (80004, None): "(#80004) There have been too many calls to this ad-account. Wait a bit and "
    f"try again. For more info, please refer to {_RATE_URL}.",
    (17, 2446079): "(#17) User request limit reached",
    (4, 1504022): "(#4) There have been too many calls from this ad-account. Please wait a bit "
    "and try again.",
    (1, None): "An unknown error has occurred.",
}

OBJECT_FIELDS: dict[str, tuple[str, ...]] = {
    "campaign": (
        "id", "name", "account_id", "status", "effective_status", "configured_status",
        "objective", "daily_budget", "lifetime_budget", "created_time", "updated_time", "start_time",
    ),
    "adset": (
        "id", "name", "account_id", "campaign_id", "status", "effective_status",
        "configured_status", "daily_budget", "lifetime_budget", "created_time", "updated_time",
        "start_time",
    ),
    "ad": (
        "id", "name", "account_id", "campaign_id", "adset_id", "status", "effective_status",
        "configured_status", "created_time", "updated_time",
    ),
}  # fmt: skip
DEFAULT_OBJECT_FIELDS = ("id",)
ACCOUNT_FIELDS = ("id", "account_id", "name", "currency", "timezone_name", "account_status")
INSIGHT_METRICS = frozenset(
    {
        "spend", "impressions", "clicks", "inline_link_clicks", "reach", "actions",
        "action_values", "purchase_roas", "account_name", "account_currency", "objective", "cpc",
        "ctr", "cpm",
        "account_id", "campaign_id", "campaign_name", "adset_id", "adset_name", "ad_id",
        "ad_name", "date_start", "date_stop",
    }
)  # fmt: skip
DEFAULT_INSIGHT_FIELDS = ("impressions", "spend")
LEVEL_KEYS: dict[str, tuple[str, ...]] = {
    "account": ("account_id",),
    "campaign": ("account_id", "campaign_id", "campaign_name"),
    "adset": ("account_id", "campaign_id", "campaign_name", "adset_id", "adset_name"),
    "ad": ("account_id", "campaign_id", "campaign_name", "adset_id", "adset_name", "ad_id", "ad_name"),
}
VIEW_WINDOWS = frozenset({"1d_view", "7d_view", "28d_view"})


def marketing_error(
    code: int, subcode: int | None = None, *, http_status: int = 400, message: str | None = None
) -> GraphError:
    """A GraphError with Marketing API wording (80000, 4/1504022, ...)."""
    text = (
        message
        or MARKETING_MESSAGES.get((code, subcode))
        or MARKETING_MESSAGES.get((code, None))
        or default_message(code, subcode)
    )
    return GraphError(code, text, subcode=subcode, http_status=http_status)


class MarketingFailSpec(BaseModel):
    code: int
    subcode: int | None = None
    times: int = 1
    http_status: int = 400
    message: str | None = None


class RecordedCall(BaseModel):
    method: str
    path: str
    params: dict[str, str]
    status: int
    received_at: float


@dataclass
class ReportRun:
    id: str
    account_id: str  # bare ad account id of the node (what the run status reports)
    params: dict[str, str]
    created: float
    fail: bool = False
    polls: int = 0
    node_id: str = ""  # node the run was created on: "act_<id>", campaign, ad set or ad id


@dataclass
class _Pending:
    error: GraphError
    remaining: int
    throttle_minutes: int = 0


@dataclass
class _Usage:
    management: float = 0.0
    insights: float = 0.0
    app: float = 0.0
    regain_minutes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


_CACHED_RUNS = 4  # runs whose result rows are kept in memory


def _default_universe() -> MarketingUniverse:
    return MarketingUniverse(1, start=date(2026, 1, 1), end=date(2026, 1, 31))


class MarketingState:
    """Universe, settings, recorded calls, injected failures, async runs; thread-safe.

    Settings (plain attributes, change any time):
    `max_sync_rows` (sync insights larger than this fail with "reduce the amount of data";
    only the ads under the queried node count),
    `max_page_size` (None = off; else any paged request — object listings, sync insights,
    report-run results — whose `limit` (default 25) is greater fails with code 1, HTTP 500,
    "Please reduce the amount of data you're asking for, then retry your request", so a client
    that halves its page size eventually succeeds),
    `polls_to_complete` (the N-th status poll of a run returns Job Completed),
    `empty_page_every` (0 = off; else every N-th page request that still has data is empty
    but carries `paging.next`), `usage_increment` (percentage points added per call),
    `usage_decay_per_second` (points recovered per second, as Meta's rolling hour recovers).

    Insights work on `act_<id>`, campaign, ad set and ad nodes (sync GET, async POST); rows
    only count the ads under the node. Failing runs: `fail_next_run(times)` (the next runs,
    whatever their node) and `fail_runs_on(*node_ids)` (every run created on those nodes).
    """

    def __init__(
        self,
        universe: MarketingUniverse | None = None,
        *,
        access_token: str | None = None,
        max_sync_rows: int = 5000,
        max_page_size: int | None = None,
        polls_to_complete: int = 3,
        empty_page_every: int = 0,
        usage_increment: float = 1.0,
        usage_decay_per_second: float = 1.0,
    ) -> None:
        self.universe = universe if universe is not None else _default_universe()
        self.access_token = access_token
        self.max_sync_rows = max_sync_rows
        self.max_page_size = max_page_size
        self.polls_to_complete = polls_to_complete
        self.empty_page_every = empty_page_every
        self.usage_increment = usage_increment
        self.usage_decay_per_second = usage_decay_per_second
        self._usage_at = time.monotonic()
        self._lock = threading.Lock()
        self._calls: list[RecordedCall] = []
        self._failures: list[_Pending] = []
        self._runs: dict[str, ReportRun] = {}
        self._fail_runs = 0
        self._fail_nodes: set[str] = set()
        self._garble = 0
        self._run_rows: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        self._usage = _Usage()
        self._pages = 0
        self._run_seq = 0

    # -- public controls ---------------------------------------------------
    def fail_next(
        self,
        code: int,
        subcode: int | None = None,
        times: int = 1,
        http_status: int = 400,
        message: str | None = None,
    ) -> None:
        """Answer the next `times` Graph calls with this error (Marketing wording)."""
        err = marketing_error(code, subcode, http_status=http_status, message=message)
        with self._lock:
            self._failures.append(_Pending(err, times))

    def throttle_next(self, seconds: float, times: int = 1) -> None:
        """Answer the next calls with 80000/2446079; BUC header says when access returns."""
        err = marketing_error(80000, 2446079)
        with self._lock:
            self._failures.append(_Pending(err, times, max(1, math.ceil(seconds / 60))))

    def fail_next_run(self, times: int = 1) -> None:
        """The next `times` async report runs end in `Job Failed`."""
        with self._lock:
            self._fail_runs += times

    def fail_runs_on(self, *node_ids: str) -> None:
        """Every async run created on one of these nodes ends in `Job Failed`, until `reset()`.

        Nodes: an ad account ("act_<id>" or bare id), campaign or ad set (or ad) id. Only runs on
        exactly that node fail, so a client that splits the job (account -> campaigns -> ad
        sets) gets the data. Adds to earlier calls.
        """
        with self._lock:
            self._fail_nodes.update(self._node_key(n) for n in node_ids)

    def garble_next_rows(self, rows: int = 1) -> None:
        """The next completed run's first `rows` rows carry a spend no client can read exactly
        (`"12,50"`), as a broken upstream would send; the run's other rows are intact."""
        with self._lock:
            self._garble += rows

    def _node_key(self, node_id: str) -> str:
        acc = self.universe.account(node_id) if self.universe.get(node_id) is None else None
        return acc.id if acc is not None else node_id

    def calls(self) -> list[RecordedCall]:
        with self._lock:
            return list(self._calls)

    def reset_usage(self) -> None:
        with self._lock:
            self._usage = _Usage()

    def reset(self) -> None:
        """Forget calls, failures (incl. `fail_runs_on`), runs and usage; keep settings, universe."""
        with self._lock:
            self._calls.clear()
            self._failures.clear()
            self._runs.clear()
            self._run_rows.clear()
            self._fail_runs = 0
            self._fail_nodes.clear()
            self._garble = 0
            self._usage = _Usage()
            self._pages = 0

    # -- used by the app -----------------------------------------------------
    def record(self, call: RecordedCall) -> None:
        with self._lock:
            self._calls.append(call)

    def take_failure(self) -> tuple[GraphError, int] | None:
        with self._lock:
            if not self._failures:
                return None
            pending = self._failures[0]
            pending.remaining -= 1
            if pending.remaining <= 0:
                self._failures.pop(0)
            return pending.error, pending.throttle_minutes

    def bump_usage(self, insights: bool, throttle_minutes: int = 0) -> dict[str, str]:
        with self._lock:
            u = self._usage
            now = time.monotonic()
            recovered = (now - self._usage_at) * self.usage_decay_per_second
            self._usage_at = now
            u.app, u.insights, u.management = (
                max(0.0, v - recovered) for v in (u.app, u.insights, u.management)
            )
            inc = self.usage_increment
            u.app = min(100.0, u.app + inc)
            if insights:
                u.insights = min(100.0, u.insights + inc)
            else:
                u.management = min(100.0, u.management + inc)
            if throttle_minutes:
                u.regain_minutes = throttle_minutes
                if insights:
                    u.insights = 100.0
            else:
                u.regain_minutes = 0
            return usage_headers(self.universe.accounts[0].account_id, u)

    def next_page_is_empty(self) -> bool:
        with self._lock:
            if self.empty_page_every <= 0:
                return False
            self._pages += 1
            return self._pages % self.empty_page_every == 0

    def create_run(self, account_id: str, params: dict[str, str], node_id: str | None = None) -> ReportRun:
        """A run on `node_id` (default: the account) of ad account `account_id` (bare id)."""
        node = self._node_key(node_id if node_id is not None else f"act_{account_id}")
        with self._lock:
            self._run_seq += 1
            fail = node in self._fail_nodes
            if not fail and self._fail_runs > 0:
                fail = True
                self._fail_runs -= 1
            rid = str(6044775548468 + self._run_seq * 7919)
            run = ReportRun(rid, account_id, dict(params), time.time(), fail, node_id=node)
            self._runs[rid] = run
            return run

    def run_rows(self, run: ReportRun, compute: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
        """Rows of a completed run, computed on first use; only the latest few runs stay cached
        (rows are deterministic, so an evicted run is recomputed identically)."""
        with self._lock:
            rows = self._run_rows.get(run.id)
            if rows is not None:
                self._run_rows.move_to_end(run.id)
                return rows
        rows = compute()
        with self._lock:
            if self._garble:
                rows = [{**r, "spend": "12,50"} if i < self._garble else r for i, r in enumerate(rows)]
                self._garble = 0
            self._run_rows[run.id] = rows
            while len(self._run_rows) > _CACHED_RUNS:
                self._run_rows.popitem(last=False)
        return rows

    def poll_run(self, run_id: str) -> ReportRun | None:
        with self._lock:
            run = self._runs.get(run_id)
            if run is not None:
                run.polls += 1
            return run

    def get_run(self, run_id: str) -> ReportRun | None:
        with self._lock:
            return self._runs.get(run_id)


def _num(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 2)


def usage_headers(account_id: str, u: _Usage) -> dict[str, str]:
    """x-app-usage, x-ad-account-usage, x-fb-ads-insights-throttle, x-business-use-case-usage."""

    def dump(obj: Any) -> str:
        return json.dumps(obj, separators=(",", ":"))

    app = _num(u.app)
    tier = "standard_access"

    def buc(kind: str, pct: float) -> dict[str, Any]:
        p = _num(pct)
        return {
            "type": kind,
            "call_count": p,
            "total_cputime": _num(pct / 2),
            "total_time": _num(pct / 2),
            "estimated_time_to_regain_access": u.regain_minutes,
            "ads_api_access_tier": tier,
        }

    return {
        "x-app-usage": dump(
            {"call_count": app, "total_time": _num(u.app / 2), "total_cputime": _num(u.app / 2)}
        ),
        "x-ad-account-usage": dump(
            {"acc_id_util_pct": _num(u.management), "reset_time_duration": 100 if u.management else 0,
             "ads_api_access_tier": tier}
        ),
        "x-fb-ads-insights-throttle": dump(
            {"app_id_util_pct": app, "acc_id_util_pct": _num(u.insights), "ads_api_access_tier": tier}
        ),
        "x-business-use-case-usage": dump(
            {account_id: [buc("ads_management", u.management), buc("ads_insights", u.insights)]}
        ),
    }  # fmt: skip


# -- request helpers ---------------------------------------------------------
def _token(request: Request, params: dict[str, str]) -> str | None:
    token = params.get("access_token")
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if not token and scheme.lower() in ("bearer", "oauth") and value.strip():
        token = value.strip()
    return token or None


def _json_param(params: dict[str, str], name: str, default: Any) -> Any:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return json.loads(raw)
    except ValueError:
        if name in ("fields", "breakdowns", "action_attribution_windows") and "[" not in raw:
            return [x.strip() for x in raw.split(",") if x.strip()]
        raise GraphError(100, f"(#100) param {name} must be valid JSON") from None


def _fields(params: dict[str, str], allowed: tuple[str, ...] | frozenset[str], node: str) -> list[str]:
    raw = params.get("fields")
    if not raw:
        return []
    out = [f.strip() for f in raw.split(",") if f.strip()]
    for f in out:
        if f not in allowed:
            raise GraphError(100, f"(#100) Tried accessing nonexisting field ({f}) on node type ({node})")
    return out


def _cursor(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def _offset(cursor: str) -> int:
    try:
        return int(base64.b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except ValueError:
        raise GraphError(100, "(#100) Invalid cursor") from None


def _limit(params: dict[str, str]) -> int:
    try:
        limit = int(params.get("limit", "25"))
    except ValueError:
        raise GraphError(100, "(#100) Param limit must be a non-negative integer") from None
    if limit < 1:
        raise GraphError(100, "(#100) Param limit must be a positive integer")
    return limit


def _page_limit(state: MarketingState, params: dict[str, str]) -> int:
    """The page size asked for; code 1 / HTTP 500 "reduce the amount of data" above max_page_size."""
    limit = _limit(params)
    if state.max_page_size is not None and limit > state.max_page_size:
        raise GraphError(1, REDUCE_DATA, http_status=500)
    return limit


def _page(
    state: MarketingState, request: Request, params: dict[str, str], items: list[dict[str, Any]]
) -> dict[str, Any]:
    """Meta cursor paging over `items`: `after` = cursor of the previous page's last item."""
    limit = _page_limit(state, params)
    start = _offset(params["after"]) + 1 if params.get("after") else 0
    if params.get("before") and not params.get("after"):
        start = max(0, _offset(params["before"]) - limit)
    base = str(request.url).split("?")[0]

    def link(after: str | None, before: str | None) -> str:
        q = {k: v for k, v in params.items() if k not in ("after", "before")}
        if after is not None:
            q["after"] = after
        if before is not None:
            q["before"] = before
        return f"{base}?{urlencode(q)}"

    if start < len(items) and state.next_page_is_empty():
        here = _cursor(start - 1)
        return {"data": [], "paging": {"cursors": {"before": here, "after": here}, "next": link(here, None)}}
    chunk = items[start : start + limit]
    if not chunk:
        return {"data": [], "paging": {"cursors": {}}}
    before, after = _cursor(start), _cursor(start + len(chunk) - 1)
    paging: dict[str, Any] = {"cursors": {"before": before, "after": after}}
    if start > 0:
        paging["previous"] = link(None, before)
    if start + len(chunk) < len(items):
        paging["next"] = link(after, None)
    return {"data": chunk, "paging": paging}


# -- objects -------------------------------------------------------------------
_ARCHIVED = frozenset({"ARCHIVED", "DELETED"})


def _object_listing(
    u: MarketingUniverse, level: Level, account_id: str, params: dict[str, str]
) -> list[dict[str, Any]]:
    fields = _fields(params, OBJECT_FIELDS[level], level.capitalize() if level != "adset" else "AdSet")
    statuses = _json_param(params, "effective_status", None)
    if statuses is not None and not isinstance(statuses, list):
        raise GraphError(100, "(#100) param effective_status must be an array")
    filters = _json_param(params, "filtering", [])
    if not isinstance(filters, list):
        raise GraphError(100, "(#100) param filtering must be an array")
    out: list[dict[str, Any]] = []
    for obj in u.objects(level, account_id):
        if statuses is None and obj.effective_status in _ARCHIVED:
            continue
        if statuses is not None and obj.effective_status not in statuses:
            continue
        if all(_match(obj.__dict__, f) for f in filters):
            out.append(_render_object(obj.__dict__, fields))
    return out


def _match(obj: dict[str, Any], flt: Any) -> bool:
    if not isinstance(flt, dict) or not {"field", "operator", "value"} <= flt.keys():
        raise GraphError(100, "(#100) Filtering field, operator and value are required")
    name, op, value = str(flt["field"]).split(".")[-1], flt["operator"], flt["value"]
    if name not in ("updated_time", "created_time", "effective_status", "id", "name"):
        raise GraphError(100, f"(#100) Filtering field {flt['field']} is invalid")
    actual: Any = obj.get(name)
    if isinstance(actual, datetime):
        actual, value = actual.timestamp(), float(value)
    ops: dict[str, Callable[[], bool]] = {
        "GREATER_THAN": lambda: actual > value,
        "LESS_THAN": lambda: actual < value,
        "EQUAL": lambda: actual == value,
        "NOT_EQUAL": lambda: actual != value,
        "IN": lambda: actual in value,
        "NOT_IN": lambda: actual not in value,
        "CONTAIN": lambda: str(value) in str(actual),
    }
    if op not in ops:
        raise GraphError(100, f"(#100) Filtering operator {op} is invalid")
    return bool(ops[op]())


def _render_object(obj: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields or DEFAULT_OBJECT_FIELDS:
        key = {"configured_status": "status", "start_time": "created_time"}.get(f, f)
        value = obj.get(key)
        if isinstance(value, datetime):
            value = iso(value)
        if value is not None:
            out[f] = value
    out["id"] = obj["id"]
    return out


# -- insights --------------------------------------------------------------------
@dataclass(frozen=True)
class InsightQuery:
    level: Level
    since: date
    until: date
    daily: bool
    hourly: bool
    fields: list[str]
    windows: list[str]


def parse_insights(
    u: MarketingUniverse, params: dict[str, str], default_level: Level = "account"
) -> InsightQuery:
    """Validate insights params; `level` defaults to the queried node's own level."""
    level = params.get("level", default_level)
    if level not in LEVELS:
        raise GraphError(
            100, "(#100) level must be one of the following values: ad, adset, campaign, account"
        )
    tr = _json_param(params, "time_range", None)
    if tr is None:
        until = u.end
        since = until - timedelta(days=29)
    else:
        try:
            since, until = date.fromisoformat(tr["since"]), date.fromisoformat(tr["until"])
        except (TypeError, KeyError, ValueError):
            raise GraphError(100, "(#100) time_range must have since and until as YYYY-MM-DD") from None
    if until < since:
        raise GraphError(100, "(#100) time_range since must be on or before until")
    inc = params.get("time_increment", "all_days")
    if inc not in ("1", "all_days"):
        raise GraphError(100, "(#100) The fake supports time_increment=1 or all_days only")
    breakdowns = _json_param(params, "breakdowns", [])
    if breakdowns not in ([], [HOURLY]):
        raise GraphError(100, f"(#100) The fake supports only the {HOURLY} breakdown")
    fields = _fields(params, INSIGHT_METRICS, "AdsInsights") or list(DEFAULT_INSIGHT_FIELDS)
    windows = _json_param(params, "action_attribution_windows", [])
    if not isinstance(windows, list):
        raise GraphError(100, "(#100) action_attribution_windows must be an array")
    if "default" in windows:
        windows = [w for w in windows if w != "default"] + ["7d_click", "1d_view"]
    return InsightQuery(
        level, since, until, inc == "1", bool(breakdowns), fields, list(dict.fromkeys(windows))
    )


_LEVEL_RANK: dict[str, int] = {lvl: i for i, lvl in enumerate(LEVELS)}
_METRIC_NAMES = frozenset(
    {"spend", "impressions", "clicks", "inline_link_clicks", "ctr", "cpm", "cpc", "reach", "actions",
     "action_values", "purchase_roas"}
)  # fmt: skip
_HOUR_LABELS = tuple(f"{h:02d}:00:00 - {h:02d}:59:59" for h in range(24))


@dataclass(frozen=True)
class InsightNode:
    """The node an insights request is made on: an ad account, campaign, ad set or ad."""

    id: str  # "act_<id>" for an account, else the object id
    kind: Level
    account_id: str  # bare ad account id


def resolve_node(u: MarketingUniverse, node_id: str) -> InsightNode | None:
    """The account ("act_<id>" or bare id), campaign, ad set or ad behind `node_id`, if any."""
    obj = u.get(node_id)
    if obj is not None:
        return InsightNode(obj.id, obj.kind, obj.account_id)
    acc = u.account(node_id)
    if acc is not None:
        return InsightNode(acc.id, "account", acc.account_id)
    return None


@dataclass(frozen=True)
class _Target:
    """One row object at the query level, with the ads whose facts its rows sum."""

    id: str
    keys: dict[str, str]
    ad_ids: tuple[str, ...]


def _object_keys(u: MarketingUniverse, oid: str, account_name: str) -> dict[str, str]:
    obj = u.get(oid)
    assert obj is not None
    camp = u.get(obj.campaign_id)
    keys = {"account_id": obj.account_id, "account_name": account_name, "campaign_id": obj.campaign_id}
    keys["campaign_name"] = camp.name if camp else ""
    keys["objective"] = camp.objective or "" if camp else ""
    if obj.kind in ("adset", "ad"):
        adset = u.get(obj.adset_id or obj.id)
        keys["adset_id"] = adset.id if adset else ""
        keys["adset_name"] = adset.name if adset else ""
    if obj.kind == "ad":
        keys["ad_id"], keys["ad_name"] = obj.id, obj.name
    return keys


def _targets(u: MarketingUniverse, node_id: str, level: Level) -> list[_Target]:
    """Row objects at `level` restricted to the ads under `node_id`, in creation order.

    A level finer than (or equal to) the node gives the objects under it; a coarser level gives
    the node's ancestor at that level, summing only the node's ads (Meta filters the same way).
    """
    node = resolve_node(u, node_id)
    if node is None:
        raise KeyError(node_id)
    acc = u.account(node.account_id)
    assert acc is not None
    node_ads = tuple(a.id for a in u.ads_under(node.id))
    if level == "account":
        return [_Target(acc.id, {"account_id": acc.account_id, "account_name": acc.name}, node_ads)]
    if _LEVEL_RANK[level] < _LEVEL_RANK[node.kind]:
        obj = u.get(node.id)
        assert obj is not None
        oid = obj.campaign_id if level == "campaign" else obj.adset_id
        assert oid is not None
        return [_Target(oid, _object_keys(u, oid, acc.name), node_ads)]
    return [
        _Target(obj.id, _object_keys(u, obj.id, acc.name), tuple(a.id for a in u.ads_under(obj.id)))
        for obj in u.objects(level, acc.account_id)
        if node.kind == "account" or node.id in (obj.id, obj.campaign_id, obj.adset_id)
    ]


def estimate_rows(u: MarketingUniverse, node_id: str, q: InsightQuery) -> int:
    """Upper bound of rows for `q` on `node_id` (only the ads under the node count)."""
    n_days = (q.until - q.since).days + 1
    return len(_targets(u, node_id, q.level)) * (n_days if q.daily else 1) * (24 if q.hourly else 1)


def insight_rows(u: MarketingUniverse, node_id: str, q: InsightQuery) -> list[dict[str, Any]]:
    """Rows ordered by date, then object, then hour; rows without impressions are omitted.

    `node_id` is the account ("act_<id>" or bare id), campaign, ad set or ad queried; only the
    ads under it count. Every (ad, day) is computed once, as int cells, then summed per row.
    """
    periods = [(d, d) for d in days(q.since, q.until)] if q.daily else [(q.since, q.until)]
    targets = _targets(u, node_id, q.level)
    currency = u.accounts[0].currency
    fields, windows = q.fields, q.windows
    wanted = frozenset(fields)
    want_reach = "reach" in wanted
    level_keys = LEVEL_KEYS[q.level]
    # Per target: the row's leading keys, then each requested field as (name, static value or
    # None for a metric). Metrics absent from a row (cpc without clicks, ...) are skipped.
    plans = []
    for t in targets:
        extra = {**t.keys, "account_currency": currency}
        steps = [
            (f, None if f in _METRIC_NAMES else extra[f]) for f in fields if f in _METRIC_NAMES or f in extra
        ]
        plans.append((t, {k: t.keys[k] for k in level_keys}, steps))
    rows: list[dict[str, Any]] = []
    for since, until in periods:
        period_days = list(days(since, until))
        start_s, stop_s = since.isoformat(), until.isoformat()
        for t, base, steps in plans:
            if q.hourly:
                cells = _hour_totals(u, t.ad_ids, period_days)
            else:
                total = _period_total(u, t.ad_ids, period_days)
                cells = [(-1, total)] if total[0] else []
            for hour, cell in cells:
                reach = None
                if hour < 0 and want_reach:
                    reach = u.reach(t.id, since, until, cell[0])
                m = _metrics(cell, reach, wanted, windows)
                row: dict[str, Any] = dict(base)
                for f, static in steps:
                    if static is not None:
                        row[f] = static
                    elif f in m:
                        row[f] = m[f]
                row["date_start"], row["date_stop"] = start_s, stop_s
                if hour >= 0:
                    row[HOURLY] = _HOUR_LABELS[hour]
                rows.append(row)
    return rows


def _hour_totals(u: MarketingUniverse, ad_ids: tuple[str, ...], period: list[date]) -> list[tuple[int, Cell]]:
    """(hour, summed cell) for hours with impressions, in hour order."""
    if len(ad_ids) == 1 and len(period) == 1:
        return u.day_cells(ad_ids[0], period[0])
    acc: dict[int, list[int]] = {}
    for ad_id in ad_ids:
        for day in period:
            for hour, cell in u.day_cells(ad_id, day):
                total = acc.get(hour)
                if total is None:
                    acc[hour] = list(cell)
                else:
                    add_cells(total, cell)
    return [(h, _as_cell(acc[h])) for h in sorted(acc)]


def _period_total(u: MarketingUniverse, ad_ids: tuple[str, ...], period: list[date]) -> Cell:
    total = [0] * 8
    for ad_id in ad_ids:
        for day in period:
            for _, cell in u.day_cells(ad_id, day):
                add_cells(total, cell)
    return _as_cell(total)


def _as_cell(v: list[int]) -> Cell:
    return (v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7])


def _money(minor: int) -> str:
    """str(Decimal) of minor units with two places: 12345 -> "123.45", 5 -> "0.05"."""
    return f"{minor // 100}.{minor % 100:02d}"


def _ratio6(num: int, den: int) -> str:
    """num/den rounded half-even to 6 places, formatted like str(round(Decimal, 6))."""
    q, r = divmod(num * 1_000_000, den)
    if 2 * r > den or (2 * r == den and q % 2):
        q += 1
    return f"{q // 1_000_000}.{q % 1_000_000:06d}"


def _action_items(values: list[tuple[str, str]], windows: list[str]) -> list[dict[str, str]]:
    """`actions` / `action_values` list items; view windows are 0, click windows the full value."""
    out = []
    for action_type, v in values:
        item = {"action_type": action_type, "value": v}
        for w in windows:
            item[w] = "0" if w in VIEW_WINDOWS else v
        out.append(item)
    return out


def _metrics(c: Cell, reach: int | None, wanted: frozenset[str], windows: list[str]) -> dict[str, Any]:
    """Metric strings of a cell, only those in `wanted` (absent when Meta would omit them)."""
    imps, clicks, link, spend, msg, leads, buys, value = c
    m: dict[str, Any] = {}
    if "spend" in wanted:
        m["spend"] = _money(spend)
    if "impressions" in wanted:
        m["impressions"] = str(imps)
    if "clicks" in wanted:
        m["clicks"] = str(clicks)
    if "inline_link_clicks" in wanted:
        m["inline_link_clicks"] = str(link)
    if "ctr" in wanted:
        m["ctr"] = str(round(clicks * 100 / imps, 6))
    if "cpm" in wanted:
        m["cpm"] = _ratio6(spend * 10, imps)  # spend/100 * 1000 / impressions
    if clicks and "cpc" in wanted:
        m["cpc"] = _ratio6(spend, clicks * 100)
    if reach is not None:
        m["reach"] = str(reach)
    if "actions" in wanted and (msg or leads or buys):
        acts = [(MESSAGING, str(msg))] if msg else []
        if leads:
            acts.append((LEAD, str(leads)))
        if buys:
            acts += [(PIXEL_PURCHASE, str(buys)), (OMNI_PURCHASE, str(buys))]
        m["actions"] = _action_items(acts, windows)
    if value and "action_values" in wanted:
        money = _money(value)
        m["action_values"] = _action_items([(t, money) for t in VALUE_TYPES], windows)
    if value and spend and "purchase_roas" in wanted:
        # Meta reports ROAS (purchase value / spend) as a ratio string, per purchase type.
        m["purchase_roas"] = _action_items([(OMNI_PURCHASE, _ratio6(value, spend))], windows)
    return m


# -- app ---------------------------------------------------------------------------
def _graph_response(body: Any, status: int, headers: dict[str, str]) -> Response:
    return Response(
        meta_json(body),
        status_code=status,
        media_type="application/json; charset=UTF-8",
        headers={**headers, "x-fb-trace-id": fbtrace_id()},
    )


def create_marketing_app(state: MarketingState | None = None) -> FastAPI:
    st = state if state is not None else MarketingState()
    app = FastAPI(title="fake-meta-marketing", openapi_url=None)
    _add_control_routes(app, st)

    async def handle(request: Request, version: str, path: list[str]) -> Response:
        params = dict(request.query_params)
        insights = path[-1] == "insights" or (len(path) == 1 and st.get_run(path[0]) is not None)
        status, body, throttle = 200, None, 0
        try:
            if request.method == "POST":
                params.update(_body_params(await request.body(), request.headers.get("content-type", "")))
            taken = st.take_failure()
            if taken is not None:
                err, throttle = taken
                raise err
            if not _VERSION.match(version):
                raise GraphError(2500, f"Unknown path components: /{version}")
            token = _token(request, params)
            if token is None:
                raise GraphError(
                    190, "An active access token must be used to query information about the current user."
                )
            if st.access_token is not None and token != st.access_token:
                raise GraphError(190)
            body = _dispatch(st, request, params, path)
        except GraphError as err:
            status, body = err.http_status, err.body()
        headers = st.bump_usage(insights, throttle)
        safe = {k: v for k, v in params.items() if k != "access_token"}
        st.record(RecordedCall(method=request.method, path=request.url.path, params=safe, status=status,
                               received_at=time.time()))  # fmt: skip
        return _graph_response(body, status, headers)

    @app.api_route("/{version}/{node}", methods=["GET", "POST"])
    async def node(version: str, node: str, request: Request) -> Response:
        return await handle(request, version, [node])

    @app.api_route("/{version}/{node}/{edge}", methods=["GET", "POST"])
    async def edge(version: str, node: str, edge: str, request: Request) -> Response:
        return await handle(request, version, [node, edge])

    @app.api_route("/{version}/{node}/{edge}/{rest:path}", methods=["GET", "POST"])
    async def deeper(version: str, node: str, edge: str, rest: str, request: Request) -> Response:
        return await handle(request, version, [node, edge, *rest.split("/")])

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # Routing misses (405 method, 404 path) still look like Graph and carry usage headers.
        parts = [p for p in request.url.path.split("/") if p]
        if exc.status_code == 405 and len(parts) >= 2:
            err = _unsupported(request, parts[1])
        else:
            err = GraphError(2500, f"Unknown path components: /{'/'.join(parts)}")
        return _graph_response(err.body(), err.http_status, st.bump_usage(False))

    return app


def _body_params(raw: bytes, content_type: str) -> dict[str, str]:
    """POST params: form-encoded (facebook_business SDK) or a JSON object."""
    if not raw:
        return {}
    text = raw.decode("utf-8", "replace")
    if "json" in content_type:
        try:
            data = json.loads(text)
        except ValueError:
            raise GraphError(100, "(#100) Invalid JSON body") from None
        if not isinstance(data, dict):
            raise GraphError(100, "(#100) Invalid JSON body")
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
    return dict(parse_qsl(text, keep_blank_values=True))


def _unsupported(request: Request, node: str) -> GraphError:
    return GraphError(
        100,
        f"Unsupported {request.method.lower()} request. Object with ID '{node}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation. Please read the "
        "Graph API documentation at https://developers.facebook.com/docs/graph-api",
        subcode=33,
    )


def _dispatch(st: MarketingState, request: Request, params: dict[str, str], path: list[str]) -> Any:
    u = st.universe
    node = path[0]
    acc = u.account(node) if node.startswith("act_") else None
    if len(path) == 1:
        if request.method != "GET":
            raise _unsupported(request, node)
        if acc is not None:
            fields = _fields(params, ACCOUNT_FIELDS, "AdAccount") or ["id", "account_id", "name"]
            full = {"id": acc.id, "account_id": acc.account_id, "name": acc.name, "currency": acc.currency,
                    "timezone_name": acc.timezone_name, "account_status": acc.account_status}  # fmt: skip
            return {f: full[f] for f in [*fields, "id"]}
        run = st.poll_run(node)
        if run is not None:
            return _run_status(st, run)
        obj = u.get(node)
        if obj is None:
            raise _unsupported(request, node)
        return _render_object(obj.__dict__, _fields(params, OBJECT_FIELDS[obj.kind], obj.kind))
    if len(path) > 2:
        raise GraphError(2500, f"Unknown path components: /{'/'.join(path[2:])}")
    edge = path[1]
    if acc is not None and edge in ("campaigns", "adsets", "ads") and request.method == "GET":
        level: Level = {"campaigns": "campaign", "adsets": "adset", "ads": "ad"}[edge]  # type: ignore[assignment]
        _page_limit(st, params)
        return _page(st, request, params, _object_listing(u, level, acc.account_id, params))
    target = resolve_node(u, node) if acc is not None or u.get(node) is not None else None
    if target is not None and edge == "insights":
        q = parse_insights(u, params, target.kind)
        if request.method == "POST":
            run = st.create_run(target.account_id, params, target.id)
            return {"report_run_id": run.id}
        _page_limit(st, params)
        if estimate_rows(u, target.id, q) > st.max_sync_rows:
            raise GraphError(1, REDUCE_DATA, http_status=500)
        return _page(st, request, params, insight_rows(u, target.id, q))
    run = st.get_run(node)
    if run is not None and edge == "insights" and request.method == "GET":
        if run.fail or run.polls < st.polls_to_complete:
            raise GraphError(100, f"(#100) Report run {run.id} is not completed")
        page_params = {k: v for k, v in params.items() if k in ("limit", "after", "before", "access_token")}
        _page_limit(st, page_params)
        on = resolve_node(u, run.node_id or run.account_id)
        assert on is not None
        rows = st.run_rows(run, lambda: insight_rows(u, on.id, parse_insights(u, run.params, on.kind)))
        return _page(st, request, page_params, rows)
    raise _unsupported(request, node)


def _run_status(st: MarketingState, run: ReportRun) -> dict[str, Any]:
    n = max(1, st.polls_to_complete)
    out: dict[str, Any] = {"id": run.id, "account_id": run.account_id, "time_ref": int(run.created)}
    params = run.params
    tr = params.get("time_range")
    if tr:
        try:
            parsed = json.loads(tr)
            out["date_start"], out["date_stop"] = parsed.get("since"), parsed.get("until")
        except ValueError:
            pass
    if run.polls >= n:
        if run.fail:
            out.update(
                async_status="Job Failed",
                async_percent_completion=0,
                error_code=2601,
                error_subcode=1815107,
                error_message="Error accessing adreport job.",
                error_user_title="Report failed",
                error_user_msg="The report could not be generated. Please try again.",
            )
        else:
            out.update(
                async_status="Job Completed", async_percent_completion=100, time_completed=int(time.time())
            )
        return out
    out["async_status"] = RUN_STATUSES[min(run.polls - 1, 2)]
    out["async_percent_completion"] = 0 if run.polls <= 1 else int(100 * (run.polls - 1) / n)
    return out


def _add_control_routes(app: FastAPI, st: MarketingState) -> None:
    @app.post("/_fake/fail")
    async def fail(spec: MarketingFailSpec) -> dict[str, bool]:
        st.fail_next(spec.code, spec.subcode, spec.times, spec.http_status, spec.message)
        return {"ok": True}

    @app.post("/_fake/reset")
    async def reset() -> dict[str, bool]:
        st.reset()
        return {"ok": True}

    @app.get("/_fake/calls")
    async def calls() -> list[RecordedCall]:
        return st.calls()
