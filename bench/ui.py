"""The staff web app in a browser, on a loaded CRM: JavaScript shipped, time to interactive, and
how long a customer's Messenger message takes to show in an open inbox.

Targets (ADR 22, issue 15): the first screen ships at most 300 KB of gzipped JavaScript; a
message posted to the webhook is visible in the open inbox within 500 ms at p95 (instant fakes).

The system runs as processes, started the way the end-to-end tests start it (`crm_localrun.Stack`:
each service migrates, then runs): the gateway (serving the built app from a copy of `web/dist`),
the messenger, the cache-writer and the marketing service, with the Meta Graph API and an OTLP
collector faked in this process (tracing on, exported to the fake, as the services normally run).
The ai is not started: the conversation the bench writes to is in human mode (staff answer), and
new customers' messages wait for it in its queue like on a day the ai is slow.

Data: `bench.crm_data` loads N customers (COPY, as `bench gateway` does) and the messenger's
conversations (with a few messages each) are COPYed into its own tables, each for a loaded
Messenger customer's PSID while there are some; 15% of them wait for a person (the inbox's first
tab).

1. JS: a fresh browser context (empty cache) signs in through the form and lands on the inbox;
   every JavaScript response's encoded (gzip) size is summed: the first screen. Then the customers
   list, a customer 360 and the dashboards are opened in the app (lazy chunks, ECharts); the total.
   Baseline: the JS the same build ships for its sign-in page served by a bare server (below), and
   every JS file of the build gzipped (what the app could ship at most).
2. TTI: N times a fresh page (tab) in the signed-in context (its cache warm after the first run,
   the session restored from the refresh token as on a reload), from navigation start to the
   main content being visible (the first conversation row / the customer's name heading), taken
   by a MutationObserver in the page (`performance.now()`). Baseline: the same built app from a
   bare server (`index.html` and gzipped assets, no API behind it) loaded the same way, until its
   sign-in button is visible.
3. Webhook -> visible: the page is open on a conversation (thread and list, tab "All"); a signed
   Meta webhook with a new message is posted at a steady pace; the latency runs from just before
   the POST to the text being in the page (MutationObserver, the browser's clock calibrated to
   this process's). The same for new customers: until their row is in the list. Baseline: the same
   SSE stream's raw push, an event published to RabbitMQ straight (`catalog.product_changed`, which
   only the gateway's live feed and the ai consume) until its `change` arrives at an httpx client on
   `GET /api/v1/live`.

    uv run python -m bench ui --customers 50000 --conversations 3000 --runs 20 --messages 40
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import math
import os
import random
import secrets
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from crm_localrun.ports import free_port
from crm_servicekit.testing import create_database, create_vhost, delete_vhost, drop_database

from . import crm_data
from .servers import REPO_ROOT, Server, log_trouble
from .webhook import _git_commit, _json_safe, machine_busy_pct

RESULTS_DIR = Path(__file__).resolve().parent / "results"
WEB_DIST = REPO_ROOT / "web" / "dist"
TARGET_FIRST_SCREEN_KB = 300.0
TARGET_VISIBLE_P95_MS = 500.0
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 900}
ADMIN = ("bench-admin@vschool.test", secrets.token_urlsafe(16))
APP_SECRET = secrets.token_hex(16)
INTERNAL_TOKEN = secrets.token_urlsafe(32)
PAGE_TOKEN = "bench-page-token"  # noqa: S105 - the Graph API fake's, not a secret
SERVICES = ("gateway", "cache-writer", "marketing", "messenger")
WAIT_MS = 30_000
VISIBLE_TIMEOUT_S = 10.0
IDLE_BUSY_WARN_PCT = 15.0
# What the screens show when their main content is there (data-testids of web/src/features/*).
INBOX_READY = '[data-testid="conversation-row"]'
C360_READY = '[data-testid="customer-360"] h1'
SIGNIN_READY = 'form button[type="submit"]'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customers", type=int, default=50_000, help="customers loaded (default: 50000)")
    parser.add_argument(
        "--conversations", type=int, default=3_000, help="messenger conversations loaded (default: 3000)"
    )
    parser.add_argument(
        "--runs", type=int, default=20, help="page loads per time-to-interactive measurement (default: 20)"
    )
    parser.add_argument(
        "--messages", type=int, default=40, help="webhooks posted to the open conversation (default: 40)"
    )
    parser.add_argument(
        "--new-customers",
        type=int,
        default=None,
        help="webhooks from new customers (default: a quarter of --messages, at least 3)",
    )
    parser.add_argument(
        "--pace", type=float, default=0.5, help="seconds between webhooks, a steady pace (default: 0.5)"
    )
    parser.add_argument(
        "--seed", type=int, default=1, help="seed of the data and of the choices (default: 1)"
    )
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where the JSON goes")


@dataclass(frozen=True)
class Options:
    customers: int
    conversations: int
    runs: int
    messages: int
    new_customers: int
    pace: float
    seed: int
    results_dir: Path

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        if not 10 <= args.customers <= 1_000_000 or not 1 <= args.conversations <= 200_000:
            raise SystemExit("--customers in [10, 1000000], --conversations in [1, 200000]")
        if not 1 <= args.runs <= 500 or not 1 <= args.messages <= 1000 or not 0 <= args.pace <= 10:
            raise SystemExit("--runs in [1, 500], --messages in [1, 1000], --pace in [0, 10]")
        new = args.new_customers if args.new_customers is not None else max(3, args.messages // 4)
        return cls(
            customers=int(args.customers),
            conversations=int(args.conversations),
            runs=int(args.runs),
            messages=int(args.messages),
            new_customers=max(0, int(new)),
            pace=float(args.pace),
            seed=int(args.seed),
            results_dir=Path(args.results_dir),
        )


@dataclass
class Row:
    """One line of the table: our figure beside the baseline's, measured in the same run."""

    key: str
    metric: str
    unit: str
    ours: float | None
    baseline: float | None
    baseline_label: str
    target: str = "-"
    met: bool | None = None
    samples: int = 0
    baseline_samples: int = 0
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ours is None or self.baseline is None or self.baseline == 0:
            return None
        return self.ours / self.baseline


@dataclass
class Sample:
    """Latencies (ms) of one kind, with the ones that never came."""

    values: list[float] = field(default_factory=list)
    missed: int = 0
    api: list[list[dict[str, Any]]] = field(default_factory=list)
    """Per page load: what it fetched before it was ready (Resource Timing, ms)."""

    def p(self, q: float) -> float | None:
        if not self.values:
            return None
        ordered = sorted(self.values)
        rank = max(1, math.ceil(q / 100.0 * len(ordered)))
        return round(ordered[min(rank, len(ordered)) - 1], 1)

    def max(self) -> float | None:
        return round(max(self.values), 1) if self.values else None


# --- the bare baseline server ------------------------------------------------------------------


class BareStatic:
    """ASGI: the built app with no API behind it. `index.html` for any page, `/assets/*` gzipped
    once in memory (as the gateway serves them), 404 JSON under `/api/`. Run by uvicorn:
    `BENCH_UI_WEB_DIR=... python -m uvicorn bench.ui:bare_static --factory`."""

    def __init__(self, directory: Path) -> None:
        self.index = (directory / "index.html").read_bytes()
        self.assets: dict[str, tuple[bytes, bytes, str]] = {}
        for path in (directory / "assets").iterdir():
            body = path.read_bytes()
            kind = {".js": "text/javascript", ".css": "text/css"}.get(path.suffix, "application/octet-stream")
            self.assets["/assets/" + path.name] = (body, gzip.compress(body, 9, mtime=0), kind)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        path: str = scope["path"]
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        status, body, out = 200, self.index, [(b"content-type", b"text/html; charset=utf-8")]
        if path.startswith("/api/"):
            status, body, out = 404, b'{"detail":"Not Found"}', [(b"content-type", b"application/json")]
        elif path.startswith("/assets/"):
            found = self.assets.get(path)
            if found is None:
                status, body, out = 404, b"Not Found", [(b"content-type", b"text/plain")]
            else:
                out = [(b"content-type", found[2].encode()), (b"cache-control", b"public, max-age=31536000")]
                body = found[0]
                if "gzip" in headers.get("accept-encoding", ""):
                    body = found[1]
                    out.append((b"content-encoding", b"gzip"))
        out.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": body})


def bare_static() -> BareStatic:
    return BareStatic(Path(os.environ.get("BENCH_UI_WEB_DIR", str(WEB_DIST))))


def bare_server(tmp: Path, web_dir: Path) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "bench.ui:bare_static", "--factory", "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "warning", "--no-access-log"]  # fmt: skip
    env = {**os.environ, "BENCH_UI_WEB_DIR": str(web_dir), "PYTHONPATH": str(REPO_ROOT)}
    return Server("bare", port, command, env, REPO_ROOT, tmp / "bare.log", ready_path="/signin")


# --- data --------------------------------------------------------------------------------------


CONVERSATION_COLUMNS = [
    "id", "page_id", "psid", "status", "mode", "needs_human", "handover_reason",
    "last_customer_message_at", "last_message_at", "unread_count", "first_name", "last_name",
    "profile_fetched_at", "profile_next_attempt_at", "human_since", "created_at", "updated_at",
]  # fmt: skip
MESSAGE_COLUMNS = [
    "id", "conversation_id", "page_id", "direction", "kind", "mid", "text", "sent_at", "status",
    "sent_by", "created_at", "updated_at",
]  # fmt: skip
ASKS = [
    "สวัสดีค่ะ อยากทราบรายละเอียดคอร์สราเมงค่ะ",
    "คอร์สซูชิเรียนวันเสาร์ได้ไหมครับ",
    "ราคาเท่าไหร่คะ มีผ่อนไหม",
    "Hi, is the Saturday bread class still open?",
    "ขอที่อยู่โรงเรียนหน่อยค่ะ",
]
ANSWERS = [
    "สวัสดีค่ะ คอร์สราเมงเรียน 2 วัน ราคา 12,900 บาทค่ะ",
    "รอบวันเสาร์ยังมีที่ว่างค่ะ สนใจจองไหมคะ",
    "Yes, there are 4 seats left on Saturday.",
]


@dataclass
class Conversations:
    rows: list[tuple[Any, ...]]
    messages: list[tuple[Any, ...]]
    open_id: uuid.UUID
    open_psid: str
    open_name: str


def make_conversations(tables: crm_data.Tables, count: int, seed: int) -> Conversations:
    """`count` conversations, the newest first in time, for loaded Messenger customers' PSIDs (then
    made-up ones), 2–6 messages each. The newest waits for a person, in human mode: the one the
    bench keeps open."""
    rng = random.Random(seed)
    names = {c[0]: (c[8], c[9]) for c in tables.rows["customers"]}
    known = [(i[3], names.get(i[0], (None, None))) for i in tables.rows["customer_identities"]]
    rng.shuffle(known)
    now = datetime.now(UTC)
    rows: list[tuple[Any, ...]] = []
    messages: list[tuple[Any, ...]] = []
    for n in range(count):
        psid, (first, last) = known[n] if n < len(known) else (str(25 * 10**15 + n), (None, None))
        cid = uuid.UUID(int=rng.getrandbits(128), version=4)
        last_at = now - timedelta(minutes=n * 7 + rng.random() * 5)
        created = last_at - timedelta(days=rng.random() * 30)
        human = n == 0 or rng.random() < 0.15
        rows.append((
            cid, crm_data.PAGE_ID, psid, "open", "human" if human else "ai", human,
            "customer_asked" if human else None, last_at, last_at, rng.randrange(0, 3) if human else 0,
            first, last, created, now + timedelta(days=30), last_at if human else None, created, last_at,
        ))  # fmt: skip
        parts = rng.randrange(2, 7)
        for k in range(parts):
            inbound = k % 2 == 0
            at = last_at - timedelta(minutes=(parts - 1 - k) * 3)
            messages.append((
                uuid.UUID(int=rng.getrandbits(128), version=4), cid, crm_data.PAGE_ID,
                "in" if inbound else "out", "text", f"m_bench_{cid.hex}_{k}",
                rng.choice(ASKS if inbound else ANSWERS), at, "received" if inbound else "sent",
                "customer" if inbound else "ai", at, at,
            ))  # fmt: skip
    first_row = rows[0]
    name = " ".join(p for p in (first_row[10], first_row[11]) if p) or "Messenger customer"
    return Conversations(rows, messages, first_row[0], first_row[2], name)


async def load_conversations(database_url: str, data: Conversations) -> dict[str, int]:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.copy_records_to_table(
            "conversations", schema_name="messenger", columns=CONVERSATION_COLUMNS, records=data.rows
        )
        await conn.copy_records_to_table(
            "messages", schema_name="messenger", columns=MESSAGE_COLUMNS, records=data.messages
        )
        await conn.execute("ANALYZE messenger.conversations; ANALYZE messenger.messages")
    finally:
        await conn.close()
    return {"conversations": len(data.rows), "messages": len(data.messages)}


# --- the browser -------------------------------------------------------------------------------


def seen_script(selector: str) -> str:
    """Init script: `window.__benchSeen` = `performance.now()` when `selector` first has a box."""
    return (
        "(() => { const sel = " + json.dumps(selector) + ";"
        " const check = () => { if (window.__benchSeen !== undefined) return;"
        " const el = document.querySelector(sel);"
        " if (el && el.getClientRects().length > 0) {"
        " window.__benchSeen = performance.now(); obs.disconnect(); } };"
        " const obs = new MutationObserver(check);"
        " obs.observe(document, { childList: true, subtree: true, attributes: true }); })();"
    )  # fmt: skip


# Records the epoch time (ms, high resolution) `window.__benchWant` shows up: a text or a selector.
WATCH_SCRIPT = """(() => {
  window.__benchAt = {};
  const check = () => {
    const want = window.__benchWant;
    if (!want || window.__benchAt[want.key] !== undefined || !document.body) return;
    const found = want.selector ? document.querySelector(want.selector) !== null
                                : document.body.textContent.includes(want.text);
    if (found) window.__benchAt[want.key] = performance.timeOrigin + performance.now();
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true, characterData: true });
})();"""


@dataclass
class Shipped:
    """Encoded (gzip) bytes of every JavaScript file a context received, by URL."""

    sizes: dict[str, int] = field(default_factory=dict)
    # Script requests whose size is not in yet.
    pending: set[Any] = field(default_factory=set)

    def kb(self) -> float:
        return round(sum(self.sizes.values()) / 1024, 1)

    def attach(self, context: Any) -> None:
        def on_request(request: Any) -> None:
            if request.resource_type == "script":
                self.pending.add(request)

        async def on_response(response: Any) -> None:
            request = response.request
            if request.resource_type != "script":
                return
            try:
                if response.url not in self.sizes:
                    self.sizes[response.url] = await self._size(response)
            finally:
                self.pending.discard(request)

        context.on("request", on_request)
        context.on("response", on_response)
        context.on("requestfailed", lambda request: self.pending.discard(request))

    @staticmethod
    async def _size(response: Any) -> int:
        size = 0
        try:
            size = int((await response.request.sizes())["responseBodySize"])
        except Exception:
            size = 0
        if size <= 0:
            header = await response.header_value("content-length")
            size = int(header) if header else len(await response.body())
        return size

    async def settle(self, quiet_s: float = 0.5) -> None:
        """Until no script is loading and none was asked for in `quiet_s` (the sizes are in).
        Not `networkidle`: the app's live feed (SSE) keeps a request open for as long as it runs,
        so the network is never idle and every wait ran to its timeout."""
        deadline = time.monotonic() + WAIT_MS / 1000
        seen, quiet_since = len(self.sizes), time.monotonic()
        while time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            if self.pending or len(self.sizes) != seen:
                seen, quiet_since = len(self.sizes), time.monotonic()
            elif time.monotonic() - quiet_since >= quiet_s:
                return


def dist_js_kb(web_dir: Path) -> float:
    total = sum(len(gzip.compress(p.read_bytes(), 9)) for p in (web_dir / "assets").glob("*.js"))
    return round(total / 1024, 1)


async def sign_in(page: Any, url: str) -> None:
    await page.goto(url + "/signin")
    await page.get_by_label("E-mail").fill(ADMIN[0])
    await page.get_by_label("Password").fill(ADMIN[1])
    await page.get_by_role("button", name="Sign in").click()


async def time_to_interactive(
    context: Any, url: str, ready: str, runs: int, check: Callable[[Any], Awaitable[None]] | None = None
) -> Sample:
    """`runs` fresh pages (tabs) of `context` opening `url`: ms from navigation start until `ready`."""
    sample = Sample()
    for _ in range(runs):
        page = await context.new_page()
        try:
            await page.add_init_script(seen_script(ready))
            await page.goto(url, wait_until="commit")
            await page.locator(ready).first.wait_for(state="visible", timeout=WAIT_MS)
            if check is not None:
                await check(page)
            seen = await page.evaluate("() => window.__benchSeen ?? performance.now()")
            sample.values.append(float(seen))
            sample.api.append(await page.evaluate(API_TIMINGS, float(seen)))
        except Exception as exc:
            sample.missed += 1
            print(f"    {url}: not ready ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})")
        finally:
            await page.close()
    return sample


# What a page fetched before `ready` (ms after navigation start; Resource Timing), and when its
# document was parsed: where the time to interactive went.
API_TIMINGS = """ready => {
  const nav = performance.getEntriesByType("navigation")[0];
  const got = performance.getEntriesByType("resource")
    .filter(e => e.startTime < ready)
    .map(e => ({ path: new URL(e.name).pathname, start: Math.round(e.startTime),
                 end: Math.round(e.responseEnd), ms: Math.round(e.duration),
                 bytes: e.transferSize }));
  return [{ path: "(document: DOMContentLoaded)", start: 0,
            end: Math.round(nav ? nav.domContentLoadedEventEnd : 0), ms: 0, bytes: 0 }, ...got];
}"""


def watch_errors(context: Any, found: list[str]) -> None:
    """Console errors and uncaught exceptions of every page of `context` go into `found`."""

    def on_console(message: Any) -> None:
        if message.type == "error":
            found.append(f"console: {message.text[:300]}")

    def on_error(error: Any) -> None:
        found.append(f"uncaught: {str(error.error)[:300]}")

    context.on("console", on_console)
    context.on("weberror", on_error)


async def clock_offset_ms(page: Any) -> float:
    """The page's epoch clock minus this process's (ms), from the tightest of a few round trips."""
    best: tuple[float, float] | None = None
    for _ in range(7):
        before = time.time() * 1000
        theirs = float(await page.evaluate("() => performance.timeOrigin + performance.now()"))
        after = time.time() * 1000
        if best is None or after - before < best[0]:
            best = (after - before, theirs - (before + after) / 2)
    assert best is not None
    return best[1]


async def post_webhook(http: httpx.AsyncClient, psid: str, text: str) -> int:
    from crm_fakes.webhooks import meta_json, page_webhook, sign, text_message_event

    body = meta_json(page_webhook(crm_data.PAGE_ID, [text_message_event(crm_data.PAGE_ID, psid, text)]))
    headers = {"content-type": "application/json", "x-hub-signature-256": sign(APP_SECRET, body)}
    return (await http.post("/webhooks/meta", content=body, headers=headers)).status_code


async def webhook_to_visible(
    page: Any, messenger_url: str, psid: str, messages: int, new_customers: int, pace: float
) -> tuple[Sample, Sample, list[int]]:
    """Post webhooks at a steady pace; ms from just before each POST to its text (or new row)
    being in the page."""
    offset = await clock_offset_ms(page)
    thread, rows, statuses = Sample(), Sample(), []
    kinds = ["thread"] * messages + ["new"] * new_customers
    random.Random(7).shuffle(kinds)
    async with httpx.AsyncClient(base_url=messenger_url, trust_env=False, timeout=30.0) as http:
        for n, kind in enumerate(kinds):
            started = time.monotonic()
            key = f"bench-{n}-{secrets.token_hex(4)}"
            if kind == "thread":
                want: dict[str, str] = {"key": key, "text": key}
                to, text, sample = psid, f"ขอสอบถามเพิ่มเติมค่ะ {key}", thread
                locator = page.get_by_test_id("thread").get_by_text(key)
            else:
                to = str(26 * 10**15 + secrets.randbelow(10**15))
                want = {"key": key, "selector": f'[data-testid="conversation-row"][data-psid="{to}"]'}
                text, sample = f"สวัสดีค่ะ สนใจคอร์สค่ะ {key}", rows
                locator = page.locator(want["selector"])
            await page.evaluate("want => { window.__benchWant = want; }", want)
            t0 = time.time() * 1000
            post = asyncio.create_task(post_webhook(http, to, text))
            try:
                await locator.first.wait_for(state="visible", timeout=VISIBLE_TIMEOUT_S * 1000)
                at = await page.evaluate("key => window.__benchAt[key] ?? null", key)
                latency = (float(at) - offset - t0) if at is not None else time.time() * 1000 - t0
                sample.values.append(max(0.0, latency))
            except Exception:
                sample.missed += 1
            statuses.append(await post)
            await asyncio.sleep(max(0.0, pace - (time.monotonic() - started)))
    return thread, rows, statuses


async def raw_push(gateway_url: str, rabbitmq_url: str, token: str, count: int, pace: float) -> Sample:
    """An event published to `crm.events` straight until its `change` arrives on GET /api/v1/live."""
    import aio_pika

    sample = Sample()
    arrived: dict[str, float] = {}
    waiting: dict[str, asyncio.Event] = {}
    ready = asyncio.Event()

    async def listen() -> None:
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        async with (
            httpx.AsyncClient(
                base_url=gateway_url, trust_env=False, timeout=httpx.Timeout(30.0, read=None)
            ) as http,
            http.stream("GET", "/api/v1/live", headers=headers) as response,
        ):
            async for line in response.aiter_lines():
                if line.startswith("event: ready"):
                    ready.set()
                if line.startswith("data: ") and "bench-push-" in line:
                    now = time.monotonic()
                    marker = json.loads(line[6:]).get("product_id", "")
                    if marker in waiting:
                        arrived[marker] = now
                        waiting[marker].set()

    listener = asyncio.create_task(listen())
    connection = await aio_pika.connect(rabbitmq_url)
    try:
        await asyncio.wait_for(ready.wait(), 30)
        channel = await connection.channel()
        exchange = await channel.get_exchange("crm.events")
        for n in range(count):
            started = time.monotonic()
            marker = f"bench-push-{n}-{secrets.token_hex(4)}"
            waiting[marker] = asyncio.Event()
            body = json.dumps({"type": "catalog.product_changed", "data": {"product_id": marker}}).encode()
            t0 = time.monotonic()
            await exchange.publish(
                aio_pika.Message(body, content_type="application/json"), routing_key="catalog.product_changed"
            )
            try:
                await asyncio.wait_for(waiting[marker].wait(), VISIBLE_TIMEOUT_S)
                sample.values.append((arrived[marker] - t0) * 1000)
            except TimeoutError:
                sample.missed += 1
            await asyncio.sleep(max(0.0, pace - (time.monotonic() - started)))
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        await connection.close()
    return sample


# --- the run -----------------------------------------------------------------------------------


def stack_env(database_url: str, rabbitmq_url: str, cache_dir: Path, meta_url: str, otlp_url: str,
              web_dir: Path) -> dict[str, str]:  # fmt: skip
    return {
        "DATABASE_URL": database_url,
        "RABBITMQ_URL": rabbitmq_url,
        "CRM_CACHE_DIR": str(cache_dir),
        "CRM_WEB_DIR": str(web_dir),
        "META_APP_SECRET": APP_SECRET,
        "META_VERIFY_TOKEN": "bench-verify",
        "META_PAGE_ACCESS_TOKEN": PAGE_TOKEN,
        "META_GRAPH_API_URL": meta_url,
        "CRM_ADMIN_EMAIL": ADMIN[0],
        "CRM_ADMIN_PASSWORD": ADMIN[1],
        "CRM_JWT_SECRET": secrets.token_urlsafe(48),
        "CRM_INTERNAL_TOKEN": INTERNAL_TOKEN,
        "CRM_ACCESS_TOKEN_TTL_SECONDS": "86400",
        # One staff member reloading as fast as the browser does: the rate limits would refuse it.
        "CRM_RATE_LIMITS_ENABLED": "false",
        "SYNC_SCHEDULE_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        # Tracing on, exported to the OTLP fake in this process (traffic stays on 127.0.0.1).
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_url,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
    }


async def api_token(url: str) -> str:
    async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=30.0) as client:
        response = await client.post("/api/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]})
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token


def preflight() -> None:
    if not (WEB_DIST / "index.html").is_file():
        raise SystemExit(f"{WEB_DIST / 'index.html'} is missing: build the app (`cd web && npm run build`)")
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")


async def run(opts: Options) -> int:
    from playwright.async_api import async_playwright

    from crm_fakes import FakeServer, MetaState, OtlpState, create_meta_app, create_otlp_app
    from crm_localrun import Stack

    preflight()
    started = datetime.now(UTC)
    t0 = time.monotonic()
    setup: dict[str, Any] = {}
    samples: dict[str, Any] = {}
    rows: list[Row] = []
    notes: list[str] = []
    async with AsyncExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="crm-bench-ui-")))
        # A copy of the build: others may rebuild web/dist while this runs.
        web_dir = tmp / "web-dist"
        shutil.copytree(WEB_DIST, web_dir)
        setup["web_assets"] = sorted(p.name for p in (web_dir / "assets").glob("*.js"))
        database_url = await create_database("crm_bench_ui")
        stack.push_async_callback(drop_database, database_url)
        rabbitmq_url = await asyncio.to_thread(create_vhost, "crm-bench-ui")
        stack.push_async_callback(asyncio.to_thread, delete_vhost, rabbitmq_url)
        meta = stack.enter_context(
            FakeServer(create_meta_app(MetaState(page_id=crm_data.PAGE_ID, access_token=PAGE_TOKEN)))
        )
        otlp_state = OtlpState()
        otlp = stack.enter_context(FakeServer(create_otlp_app(otlp_state)))
        env = stack_env(database_url, rabbitmq_url, tmp / "cache", meta.url, otlp.url, web_dir)
        system = Stack(env=env, ports={s: free_port() for s in SERVICES}, log_dir=tmp / "logs")
        await asyncio.to_thread(system.migrate)

        t = time.monotonic()
        generator = crm_data.Generator(opts.customers, 1, opts.seed)
        tables, terms = await asyncio.to_thread(generator.generate)
        conversations = make_conversations(tables, opts.conversations, opts.seed)
        setup["generate_s"] = round(time.monotonic() - t, 1)
        t = time.monotonic()
        setup["rows"] = await crm_data.load(database_url, tables)
        setup["rows"] |= await load_conversations(database_url, conversations)
        setup["copy_s"] = round(time.monotonic() - t, 1)
        del tables
        print(f"loaded in {setup['copy_s']} s (generated in {setup['generate_s']} s): {setup['rows']}")

        stack.push_async_callback(asyncio.to_thread, system.stop)
        try:
            await asyncio.to_thread(system.start)
        except BaseException:
            for name, text in system.logs().items():
                print(f"--- {name} log ---\n{text[-3000:]}", file=sys.stderr)
            raise
        bare = bare_server(tmp, web_dir)
        stack.push_async_callback(asyncio.to_thread, bare.stop)
        await asyncio.to_thread(bare.start)
        gateway_url, messenger_url = system.url("gateway"), system.url("messenger")
        token = await api_token(gateway_url)

        pw = await stack.enter_async_context(async_playwright())
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        stack.push_async_callback(browser.close)
        setup["browser"] = f"chromium {browser.version}"
        setup["idle_busy_pct"] = round(await machine_busy_pct(1.0), 1)
        print(
            f"ready in {time.monotonic() - t0:.0f} s; machine {setup['idle_busy_pct']:.0f}% busy while idle"
        )
        if setup["idle_busy_pct"] > IDLE_BUSY_WARN_PCT:
            print("WARNING: something else is using the CPU; the figures below share the machine with it")

        def new_context(base: str) -> Any:
            return browser.new_context(
                viewport={"width": VIEWPORT["width"], "height": VIEWPORT["height"]},
                locale="en-GB",
                timezone_id="Asia/Bangkok",
                base_url=base,
            )

        # 1. JavaScript shipped.
        print("1. JavaScript shipped (gzip) ...", flush=True)
        ours = await new_context(gateway_url)
        stack.push_async_callback(ours.close)
        ours.set_default_timeout(WAIT_MS)
        browser_errors: list[str] = []
        watch_errors(ours, browser_errors)
        shipped = Shipped()
        shipped.attach(ours)
        page = await ours.new_page()
        first_kb = total_kb = None
        opened: list[str] = []
        try:
            await sign_in(page, gateway_url)
            await page.wait_for_url("**/inbox**")
            await page.locator(INBOX_READY).first.wait_for(state="visible")
            await shipped.settle()
            first_kb = shipped.kb()
            first_files = dict(shipped.sizes)
            opened.append("inbox")
            nav = page.get_by_role("navigation")
            try:
                await nav.get_by_role("link", name="Customers", exact=True).click()
                await (
                    page.get_by_role("searchbox").or_(page.get_by_label("Search customers")).first.wait_for()
                )
                await page.locator('a[href^="/customers/"]').first.click()
                await page.locator(C360_READY).wait_for(state="visible")
                await shipped.settle()
                opened.append("customer 360")
            except Exception as exc:
                notes.append(f"customer 360 not opened for the JS total: {str(exc).splitlines()[0][:200]}")
            try:
                await nav.get_by_role("link", name="Dashboards", exact=True).click()
                await page.get_by_role("heading", name="Dashboards").first.wait_for()
                await shipped.settle()
                await page.locator("canvas").first.wait_for(timeout=10_000)
                opened.append("dashboards")
            except Exception as exc:
                notes.append(f"dashboards' chart not seen for the JS total: {str(exc).splitlines()[0][:200]}")
            await shipped.settle()
            total_kb = shipped.kb()
        except Exception as exc:
            notes.append(f"inbox not reached after sign-in: {str(exc).splitlines()[0][:200]}")
            first_files = dict(shipped.sizes)
        await page.close()
        samples["js_first_screen_files"] = first_files
        samples["js_all_files"] = dict(shipped.sizes)
        samples["js_screens_opened"] = opened

        bare_ctx = await new_context(bare.url)
        stack.push_async_callback(bare_ctx.close)
        bare_shipped = Shipped()
        bare_shipped.attach(bare_ctx)
        page = await bare_ctx.new_page()
        await page.goto(bare.url + "/signin")
        await page.locator(SIGNIN_READY).wait_for(state="visible", timeout=WAIT_MS)
        await bare_shipped.settle()
        await page.close()
        bare_kb = bare_shipped.kb()
        all_kb = dist_js_kb(web_dir)
        rows.append(Row("js_first_screen", "JS for the first screen (sign in -> inbox)", "KB gzip", first_kb,
                        bare_kb, "bare: the build's sign-in page, no API",
                        f"<= {TARGET_FIRST_SCREEN_KB:g}",
                        None if first_kb is None else first_kb <= TARGET_FIRST_SCREEN_KB,
                        len(first_files), len(bare_shipped.sizes)))  # fmt: skip
        rows.append(Row("js_total", f"JS after {' + '.join(opened[1:]) or 'nothing more'} (lazy chunks)",
                        "KB gzip", total_kb, all_kb, "every JS file of the build, gzipped",
                        samples=len(shipped.sizes), baseline_samples=len(setup["web_assets"])))  # fmt: skip
        print(
            f"   first screen {first_kb} KB, with {', '.join(opened)} {total_kb} KB;"
            f" bare sign-in {bare_kb} KB"
        )

        # 2. Time to interactive.
        print(f"2. time to interactive, {opts.runs} fresh pages each ...", flush=True)
        bare_tti = await time_to_interactive(bare_ctx, bare.url + "/signin", SIGNIN_READY, opts.runs)
        inbox_tti = await time_to_interactive(ours, gateway_url + "/inbox", INBOX_READY, opts.runs)
        rng = random.Random(opts.seed)
        ids = iter(rng.sample(terms.customer_ids, min(len(terms.customer_ids), opts.runs * 2)))
        c360_tti = Sample()
        for _ in range(opts.runs):
            one = await time_to_interactive(ours, f"{gateway_url}/customers/{next(ids)}", C360_READY, 1)
            c360_tti.values += one.values
            c360_tti.missed += one.missed
            c360_tti.api += one.api
        samples["tti_ms"] = {
            "bare": bare_tti.values,
            "inbox": inbox_tti.values,
            "customer_360": c360_tti.values,
        }
        for key, label, sample in (("tti_inbox", "inbox", inbox_tti), ("tti_360", "customer 360", c360_tti)):
            for q in (50, 95):
                rows.append(Row(f"{key}_p{q}", f"time to interactive: {label}, p{q}", "ms", sample.p(q),
                                bare_tti.p(q), "bare: the built app's sign-in page, no API",
                                samples=len(sample.values), baseline_samples=len(bare_tti.values),
                                note=f"{sample.missed} never ready" if sample.missed else ""))  # fmt: skip
        print(f"   inbox p50 {inbox_tti.p(50)} ms, 360 p50 {c360_tti.p(50)} ms, bare p50 {bare_tti.p(50)} ms")

        # 3. Webhook -> visible in the open inbox, and the raw SSE push.
        print(
            f"3. webhook -> visible: {opts.messages} + {opts.new_customers} webhooks,"
            f" one per {opts.pace:g} s ..."
        )
        page = await ours.new_page()
        await page.add_init_script(WATCH_SCRIPT)
        await page.goto(f"{gateway_url}/inbox/{conversations.open_id}?f=all")
        thread = Sample(missed=opts.messages)
        new_rows = Sample(missed=opts.new_customers)
        statuses: list[int] = []
        try:
            await page.get_by_test_id("thread").wait_for(state="visible", timeout=WAIT_MS)
            await page.locator(INBOX_READY).first.wait_for(state="visible", timeout=WAIT_MS)
            await page.wait_for_timeout(1000)  # the live stream connects
            thread, new_rows, statuses = await webhook_to_visible(
                page, messenger_url, conversations.open_psid, opts.messages, opts.new_customers, opts.pace
            )
        except Exception as exc:
            notes.append(f"the open inbox never showed: {str(exc).splitlines()[0][:200]}")
        await page.close()
        push = await raw_push(gateway_url, rabbitmq_url, token, max(opts.messages, 1), opts.pace)
        samples["visible_ms"] = {
            "thread": thread.values,
            "new_customer_row": new_rows.values,
            "raw_push": push.values,
        }
        setup["webhook_statuses"] = {str(s): statuses.count(s) for s in sorted(set(statuses))}
        for key, label, sample in (
            ("visible_thread", "webhook -> message in the open thread", thread),
            ("visible_new_row", "webhook -> new customer's row in the list", new_rows),
        ):
            for q in (50, 95, 100):
                value = sample.max() if q == 100 else sample.p(q)
                base = push.max() if q == 100 else push.p(q)
                met = None
                if q == 95:
                    met = value is not None and value <= TARGET_VISIBLE_P95_MS and sample.missed == 0
                rows.append(Row(f"{key}_{'max' if q == 100 else f'p{q}'}",
                                f"{label}, {'max' if q == 100 else f'p{q}'}", "ms", value, base,
                                "raw: RabbitMQ -> change on GET /api/v1/live (httpx)",
                                f"<= {TARGET_VISIBLE_P95_MS:g}" if q == 95 else "-", met,
                                len(sample.values), len(push.values),
                                missed_note(sample)))  # fmt: skip
        setup["spans_exported"] = len(otlp_state.spans())
        setup["tti_breakdown"] = [breakdown("inbox", inbox_tti), breakdown("customer 360", c360_tti)]
        setup["browser_errors"] = {"count": len(browser_errors), "first": browser_errors[:10]}
        setup["service_log_trouble"] = log_trouble(system.logs())
        samples["tti_fetches_ms"] = {"inbox": inbox_tti.api, "customer_360": c360_tti.api}
        print("teardown ...", flush=True)

    print_report(opts, rows, setup, notes)
    path = write_results(opts, rows, setup, notes, samples, started)
    print(f"\nresults: {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}")
    print(f"total {time.monotonic() - t0:.0f} s")
    measured = all(r.ours is not None and r.baseline is not None for r in rows)
    return 0 if measured and all(s == 200 for s in statuses) else 1


def breakdown(label: str, sample: Sample) -> str:
    """Medians over the page loads: DOMContentLoaded, the first and the last API answer, ready."""

    def median(values: list[float]) -> str:
        return f"{sorted(values)[len(values) // 2]:.0f}" if values else "-"

    dcl, first_api, last_api = [], [], []
    for fetched in sample.api:
        dcl.append(float(fetched[0]["end"]))
        api = [f for f in fetched[1:] if str(f["path"]).startswith("/api/")]
        if api:
            first_api.append(float(min(f["start"] for f in api)))
            last_api.append(float(max(f["end"] for f in api)))
    return (
        f"{label}: DOMContentLoaded {median(dcl)} ms, first API request sent {median(first_api)} ms,"
        f" last API answer {median(last_api)} ms, ready {median(sample.values)} ms (medians)"
    )


def missed_note(sample: Sample) -> str:
    return f"{sample.missed} never visible in {VISIBLE_TIMEOUT_S:g} s" if sample.missed else ""


def _f(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(rows: Sequence[Row]) -> str:
    head = (f"{'metric':<52} {'unit':<7} {'ours':>8} {'baseline':>8} {'ratio':>6} {'target':>7} {'met?':>6}"
            f" {'n':>4} {'base n':>6}")  # fmt: skip
    lines = [head, "-" * len(head)]
    for r in rows:
        met = "-" if r.met is None else ("met" if r.met else "MISSED")
        lines.append(
            f"{r.metric:<52} {r.unit:<7} {_f(r.ours):>8} {_f(r.baseline):>8} {_f(r.ratio, 2):>6}"
            f" {r.target:>7} {met:>6} {r.samples:>4} {r.baseline_samples:>6}"
            + (f"  ({r.note})" if r.note else "")
        )
    return "\n".join(lines)


def print_report(opts: Options, rows: Sequence[Row], setup: dict[str, Any], notes: Sequence[str]) -> None:
    print()
    print(
        f"staff web app benchmark: {opts.customers} customers, {opts.conversations} conversations"
        f" ({setup.get('rows', {}).get('messages', 0)} messages);"
        f" {setup.get('browser', 'chromium')} headless,"
        f" {os.cpu_count()} CPUs shared by the browser, the services, PostgreSQL and RabbitMQ;"
        f" {opts.runs} page loads per TTI (a fresh tab each; the browser cache warm after the first);"
        f" {opts.messages} + {opts.new_customers} webhooks, one per {opts.pace:g} s; tracing on"
    )
    print(table(rows))
    print("baselines: " + "; ".join(dict.fromkeys(r.baseline_label for r in rows)))
    for line in setup.get("tti_breakdown", []):
        print(f"where the time to interactive went, {line}")
    if setup.get("idle_busy_pct", 0) > IDLE_BUSY_WARN_PCT:
        print(f"WARNING: the machine was {setup['idle_busy_pct']:.0f}% busy (of one core) before the run")
    errors = setup.get("browser_errors", {})
    if errors.get("count"):
        print(f"browser errors: {errors['count']}, first: {errors['first'][0]}")
    for service, trouble in setup.get("service_log_trouble", {}).items():
        print(f"{service} log: {trouble['lines']} lines with errors, first: {trouble['first'][0][:200]}")
    for note in notes:
        print(f"NOT MEASURED / NOTE: {note}")


def write_results(opts: Options, rows: Sequence[Row], setup: dict[str, Any], notes: Sequence[str],
                  samples: dict[str, Any], started: datetime) -> Path:  # fmt: skip
    opts.results_dir.mkdir(parents=True, exist_ok=True)
    path = opts.results_dir / f"ui-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    doc = {
        "benchmark": "ui",
        "started_at": started.isoformat(),
        "target": {"first_screen_js_kb": TARGET_FIRST_SCREEN_KB, "visible_p95_ms": TARGET_VISIBLE_P95_MS},
        "options": {**asdict(opts), "results_dir": str(opts.results_dir)},
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "git_commit": _git_commit()},
        "setup": setup,
        "rows": [{**asdict(r), "ratio": r.ratio} for r in rows],
        "notes": list(notes),
        "samples": samples,
    }
    path.write_text(json.dumps(_json_safe(doc), indent=2, ensure_ascii=False, default=str) + "\n")
    return path


async def main(args: argparse.Namespace) -> int:
    return await run(Options.from_args(args))
