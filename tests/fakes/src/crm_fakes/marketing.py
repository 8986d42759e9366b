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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI, Request, Response
from pydantic import BaseModel

from crm_fakes.graph_errors import GraphError, default_message, fbtrace_id
from crm_fakes.marketing_data import (
    LEVELS,
    Facts,
    Level,
    MarketingUniverse,
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
        "objective", "daily_budget", "created_time", "updated_time", "start_time",
    ),
    "adset": (
        "id", "name", "account_id", "campaign_id", "status", "effective_status",
        "configured_status", "daily_budget", "created_time", "updated_time", "start_time",
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
        "action_values", "account_name", "account_currency", "objective", "cpc", "ctr", "cpm",
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
    account_id: str
    params: dict[str, str]
    created: float
    fail: bool = False
    polls: int = 0
    rows: list[dict[str, Any]] | None = None  # computed once, on the first results page


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


def _default_universe() -> MarketingUniverse:
    return MarketingUniverse(1, start=date(2026, 1, 1), end=date(2026, 1, 31))


class MarketingState:
    """Universe, settings, recorded calls, injected failures, async runs; thread-safe.

    Settings (plain attributes, change any time):
    `max_sync_rows` (sync insights larger than this fail with "reduce the amount of data"),
    `polls_to_complete` (the N-th status poll of a run returns Job Completed),
    `empty_page_every` (0 = off; else every N-th page request that still has data is empty
    but carries `paging.next`), `usage_increment` (percentage points added per call).
    """

    def __init__(
        self,
        universe: MarketingUniverse | None = None,
        *,
        access_token: str | None = None,
        max_sync_rows: int = 5000,
        polls_to_complete: int = 3,
        empty_page_every: int = 0,
        usage_increment: float = 1.0,
    ) -> None:
        self.universe = universe if universe is not None else _default_universe()
        self.access_token = access_token
        self.max_sync_rows = max_sync_rows
        self.polls_to_complete = polls_to_complete
        self.empty_page_every = empty_page_every
        self.usage_increment = usage_increment
        self._lock = threading.Lock()
        self._calls: list[RecordedCall] = []
        self._failures: list[_Pending] = []
        self._runs: dict[str, ReportRun] = {}
        self._fail_runs = 0
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

    def calls(self) -> list[RecordedCall]:
        with self._lock:
            return list(self._calls)

    def reset_usage(self) -> None:
        with self._lock:
            self._usage = _Usage()

    def reset(self) -> None:
        """Forget calls, failures, runs and usage (settings and universe are kept)."""
        with self._lock:
            self._calls.clear()
            self._failures.clear()
            self._runs.clear()
            self._fail_runs = 0
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

    def create_run(self, account_id: str, params: dict[str, str]) -> ReportRun:
        with self._lock:
            self._run_seq += 1
            fail = self._fail_runs > 0
            if fail:
                self._fail_runs -= 1
            rid = str(6044775548468 + self._run_seq * 7919)
            run = ReportRun(rid, account_id, dict(params), time.time(), fail)
            self._runs[rid] = run
            return run

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


def _page(
    state: MarketingState, request: Request, params: dict[str, str], items: list[dict[str, Any]]
) -> dict[str, Any]:
    """Meta cursor paging over `items`: `after` = cursor of the previous page's last item."""
    limit = _limit(params)
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


def parse_insights(u: MarketingUniverse, params: dict[str, str]) -> InsightQuery:
    level = params.get("level", "account")
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


def _targets(u: MarketingUniverse, account_id: str, level: Level) -> list[tuple[str, dict[str, str]]]:
    acc = u.account(account_id)
    assert acc is not None
    if level == "account":
        return [(acc.id, {"account_id": acc.account_id, "account_name": acc.name})]
    out = []
    for obj in u.objects(level, acc.account_id):
        camp = u.get(obj.campaign_id)
        keys = {"account_id": acc.account_id, "account_name": acc.name, "campaign_id": obj.campaign_id}
        keys["campaign_name"] = camp.name if camp else ""
        keys["objective"] = camp.objective or "" if camp else ""
        if obj.kind in ("adset", "ad"):
            adset = u.get(obj.adset_id or obj.id)
            keys["adset_id"] = adset.id if adset else ""
            keys["adset_name"] = adset.name if adset else ""
        if obj.kind == "ad":
            keys["ad_id"], keys["ad_name"] = obj.id, obj.name
        out.append((obj.id, keys))
    return out


def estimate_rows(u: MarketingUniverse, account_id: str, q: InsightQuery) -> int:
    n_days = (q.until - q.since).days + 1
    return len(_targets(u, account_id, q.level)) * (n_days if q.daily else 1) * (24 if q.hourly else 1)


def insight_rows(u: MarketingUniverse, account_id: str, q: InsightQuery) -> list[dict[str, Any]]:
    """Rows ordered by date, then object, then hour; rows without impressions are omitted."""
    periods = [(d, d) for d in days(q.since, q.until)] if q.daily else [(q.since, q.until)]
    targets = _targets(u, account_id, q.level)
    currency = u.accounts[0].currency
    rows: list[dict[str, Any]] = []
    for since, until in periods:
        for oid, keys in targets:
            for hour in range(24) if q.hourly else [None]:
                facts = u.facts(oid, since, until, hour)
                if facts.impressions == 0:
                    continue
                row: dict[str, Any] = {k: keys[k] for k in LEVEL_KEYS[q.level]}
                reach = None if hour is not None else u.reach(oid, since, until, facts.impressions)
                metrics = _metrics(facts, reach, q.windows)
                extra = {**keys, "account_currency": currency}
                for f in q.fields:
                    if f in metrics:
                        row[f] = metrics[f]
                    elif f in extra and f not in row:
                        row[f] = extra[f]
                row["date_start"], row["date_stop"] = since.isoformat(), until.isoformat()
                if hour is not None:
                    row[HOURLY] = f"{hour:02d}:00:00 - {hour:02d}:59:59"
                rows.append(row)
    return rows


def _metrics(f: Facts, reach: int | None, windows: list[str]) -> dict[str, Any]:
    def items(values: dict[str, Any]) -> list[dict[str, str]]:
        out = []
        for action_type, value in values.items():
            item = {"action_type": action_type, "value": str(value)}
            for w in windows:
                item[w] = "0" if w in VIEW_WINDOWS else str(value)
            out.append(item)
        return out

    m: dict[str, Any] = {
        "spend": str(f.spend),
        "impressions": str(f.impressions),
        "clicks": str(f.clicks),
        "inline_link_clicks": str(f.inline_link_clicks),
        "ctr": str(round(f.clicks * 100 / f.impressions, 6)),
        "cpm": str(round(f.spend * 1000 / f.impressions, 6)),
    }
    if f.clicks:
        m["cpc"] = str(round(f.spend / f.clicks, 6))
    if reach is not None:
        m["reach"] = str(reach)
    if f.actions:
        m["actions"] = items(f.actions)
    if f.action_values:
        m["action_values"] = items(f.action_values)
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
        if request.method == "POST":
            params.update(_body_params(await request.body(), request.headers.get("content-type", "")))
        insights = path[-1] == "insights" or (len(path) == 1 and st.get_run(path[0]) is not None)
        status, body, throttle = 200, None, 0
        try:
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
    edge = path[1]
    if acc is not None and edge in ("campaigns", "adsets", "ads") and request.method == "GET":
        level: Level = {"campaigns": "campaign", "adsets": "adset", "ads": "ad"}[edge]  # type: ignore[assignment]
        return _page(st, request, params, _object_listing(u, level, acc.account_id, params))
    if acc is not None and edge == "insights":
        q = parse_insights(u, params)
        if request.method == "POST":
            run = st.create_run(acc.account_id, params)
            return {"report_run_id": run.id}
        if estimate_rows(u, acc.account_id, q) > st.max_sync_rows:
            raise GraphError(1, REDUCE_DATA, http_status=500)
        return _page(st, request, params, insight_rows(u, acc.account_id, q))
    run = st.get_run(node)
    if run is not None and edge == "insights" and request.method == "GET":
        if run.fail or run.polls < st.polls_to_complete:
            raise GraphError(100, f"(#100) Report run {run.id} is not completed")
        if run.rows is None:
            run.rows = insight_rows(u, run.account_id, parse_insights(u, run.params))
        page_params = {k: v for k, v in params.items() if k in ("limit", "after", "before", "access_token")}
        return _page(st, request, page_params, run.rows)
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
