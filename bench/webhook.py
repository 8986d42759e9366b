"""Meta webhook ingestion: sustained webhooks/s with every event stored, and p50/p99 time to the 200.

Target (issue): p99 under 50 ms at 500 webhooks/s on the 2-core machine.

The messenger runs as its own process (`python -m crm_messenger migrate`, then
`python -m crm_messenger`, on a fresh database and RabbitMQ vhost that are dropped at the end),
and next to it, as the raw baseline, a bare FastAPI endpoint (`bench.bare_app`) served by uvicorn
the same way. For each rate, each server gets the same open-loop load from this process (see
`bench.loadgen`): distinct, signed Meta text-message webhooks (Thai text, Meta's escaping, one
`messaging` item, a unique mid, a PSID from a pool so conversations repeat). After each messenger
step the bench waits until the messenger has processed every stored webhook (they are stored
before the 200 and applied right after, ADR 8), reports how long that took, and counts the rows of
that step's mids in `messenger.messages`: every 200 must be stored. CPU per webhook includes that
processing.

    uv run python -m bench webhook --rates 100,250,500,750 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from crm_fakes.webhooks import meta_json, new_mid, page_webhook, sign, text_message_event
from crm_localrun.ports import free_port
from crm_servicekit.testing import create_database, create_vhost, delete_vhost, drop_database

from .loadgen import PlannedRequest, StepResult, percentile, run_step
from .profile import Where, add_where_argument, profile_during, where_text
from .servers import REPO_ROOT, CpuMeter, Server, run_module, wait_quiet

TARGET_P99_MS = 50.0
TARGET_RATE = 500.0
PAGE_ID = "104857600123456"
# Throwaway, for this run's messenger only; as long as Meta's (a short one is refused at start).
APP_SECRET = "be0c4a7e19f3d52b86a0e7c1f4d9b2a3"  # noqa: S105
PATH = "/webhooks/meta"
RESULTS_DIR = Path(__file__).resolve().parent / "results"
THAI = [
    "สวัสดีค่ะ อยากทราบรายละเอียดคอร์สราเมงค่ะ 🍜",
    "คอร์สนี้เรียนกี่วันคะ แล้วราคาเท่าไหร่",
    "มีรอบเรียนวันเสาร์อาทิตย์ไหมครับ",
    "สมัครเรียนยังไงคะ ต้องโอนมัดจำก่อนไหม",
    "ขอที่อยู่โรงเรียนหน่อยค่ะ จอดรถได้ไหม",
    "เรียนจบแล้วได้ใบประกาศไหมครับ",
    "อยากเปิดร้านซูชิ มีคอร์สแนะนำไหมคะ",
    "ขอบคุณค่ะ เดี๋ยวปรึกษาที่บ้านก่อนนะคะ",
]
# Hard bounds on the options, so no invocation runs unbounded.
MAX_RATE = 5000.0
MAX_SECONDS = 60.0
MAX_STEPS = 10
# Busier than this with the servers idle: another workload shares the machine, say so.
IDLE_BUSY_WARN_PCT = 15.0
WARMUP_MAX_RATE = 50.0
# The sender's connections are spread over this many httpx pools (see bench.loadgen).
CLIENT_POOLS = 16


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rates",
        default="100,250,500",
        help="offered webhooks/s per step, rising, comma-separated (default: 100,250,500)",
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each step (default: 8)")
    add_where_argument(parser, "one more step at the rate nearest 500/s, the messenger")
    parser.add_argument(
        "--split",
        action="store_true",
        help="run the messenger as a web process and a worker process (default: one process, both roles)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="HTTP processes for both servers (WEB_CONCURRENCY / uvicorn --workers; default: 1)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=2.0,
        help="warm-up seconds per server, at the lowest rate or 50/s if lower (default: 2)",
    )
    parser.add_argument("--max-in-flight", type=int, default=2000, help="in-flight cap (default: 2000)")
    parser.add_argument("--psids", type=int, default=200, help="size of the PSID pool (default: 200)")
    parser.add_argument(
        "--late-ms", type=float, default=10.0, help="a start this much after plan counts as late"
    )
    parser.add_argument(
        "--drain-timeout", type=float, default=15.0, help="wait this long for responses after a step"
    )
    parser.add_argument("--pause", type=float, default=1.0, help="idle seconds between steps (default: 1)")
    parser.add_argument(
        "--request-timeout",
        type=float,
        default=10.0,
        help="a request with no response after this many seconds is an error (default: 10)",
    )
    parser.add_argument(
        "--settle-max",
        type=float,
        default=20.0,
        help="after a step, wait at most this long for the server to go quiet (default: 20)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed for PSIDs and texts (default: 1)")
    parser.add_argument(
        "--results-dir", type=Path, default=RESULTS_DIR, help="where the JSON goes (default: bench/results)"
    )


@dataclass(frozen=True)
class Options:
    rates: list[float]
    seconds: float
    workers: int
    single_process: bool
    warmup: float
    max_in_flight: int
    psids: int
    late_ms: float
    drain_timeout: float
    pause: float
    request_timeout: float
    settle_max: float
    seed: int
    results_dir: Path
    where: bool = True

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        rates = sorted(float(r) for r in str(args.rates).split(",") if r.strip())
        if not rates or len(rates) > MAX_STEPS or not all(0 < r <= MAX_RATE for r in rates):
            raise SystemExit(f"--rates: 1 to {MAX_STEPS} rates, each in (0, {MAX_RATE:g}]")
        if not 0 < args.seconds <= MAX_SECONDS:
            raise SystemExit(f"--seconds must be in (0, {MAX_SECONDS:g}]")
        if not all(0 <= v <= 30 for v in (args.warmup, args.pause)) or not all(
            0 < v <= 60 for v in (args.drain_timeout, args.settle_max, args.request_timeout)
        ):
            raise SystemExit(
                "--warmup, --pause: [0, 30]; --drain-timeout, --settle-max, --request-timeout: (0, 60]"
            )
        if not 1 <= args.max_in_flight <= 10_000 or not 1 <= args.psids <= 100_000:
            raise SystemExit("--max-in-flight must be in [1, 10000], --psids in [1, 100000]")
        return cls(
            rates=rates,
            seconds=float(args.seconds),
            workers=max(1, int(args.workers)),
            single_process=not bool(args.split),
            warmup=float(args.warmup),
            max_in_flight=int(args.max_in_flight),
            psids=int(args.psids),
            late_ms=float(args.late_ms),
            drain_timeout=float(args.drain_timeout),
            pause=float(args.pause),
            request_timeout=float(args.request_timeout),
            settle_max=float(args.settle_max),
            seed=int(args.seed),
            results_dir=Path(args.results_dir),
            where=bool(args.where),
        )


class Webhooks:
    """Distinct signed Meta deliveries: one text message each, unique mid, PSIDs from a pool."""

    def __init__(self, psids: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.psids = [str(24_000_000_000_000_000 + 7919 * i) for i in range(psids)]
        self.count = 0

    def make(self, n: int) -> tuple[list[PlannedRequest], list[str]]:
        requests: list[PlannedRequest] = []
        mids: list[str] = []
        for _ in range(n):
            self.count += 1
            mid = new_mid()
            text = f"{self.rng.choice(THAI)} ({self.count})"
            event = text_message_event(PAGE_ID, self.rng.choice(self.psids), text, mid=mid)
            body = meta_json(page_webhook(PAGE_ID, [event]))
            headers = {"content-type": "application/json", "x-hub-signature-256": sign(APP_SECRET, body)}
            requests.append(PlannedRequest(body, headers))
            mids.append(mid)
        return requests, mids


@dataclass
class StepReport:
    server: str
    rate: float
    seconds: float
    planned: int
    sent: int
    ok: int
    non_200: int
    errors: int
    skipped: int
    late: int
    max_start_lag_ms: float
    achieved_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int]
    error_kinds: dict[str, int]
    cpu_pct_of_one_core: dict[str, float]
    server_cpu_ms_per_webhook: float
    stored_acked: int | None = None
    """Rows in messenger.messages for the mids answered 200 (messenger only)."""
    stored_all: int | None = None
    """Rows for every mid of the step, answered or not (messenger only)."""
    processing_drain_s: float | None = None
    """After the step: until every stored webhook was processed (messenger only; ADR 8)."""
    body_bytes_avg: float = 0.0
    settle_s: float = 0.0
    """How long the server kept working after the step (requests its client gave up on)."""

    @property
    def durable(self) -> bool:
        return self.stored_acked is None or self.stored_acked == self.ok

    @property
    def held(self) -> bool:
        """The step's rate was sustained: all planned webhooks answered 200, stored, on pace."""
        return (
            self.ok == self.planned
            and self.durable
            and self.achieved_per_s >= 0.95 * self.rate
            and self.skipped == 0
        )

    @property
    def collapsed(self) -> bool:
        """So far behind that a higher rate would only measure its backlog."""
        failed = self.errors + self.skipped + self.non_200
        return self.achieved_per_s < 0.5 * self.rate or failed >= 0.1 * self.planned

    @classmethod
    def of(
        cls, server: str, result: StepResult, seconds: float, cpu: dict[str, float], body_bytes: float
    ) -> StepReport:
        lat = result.ok_latencies_ms
        # Over everything the snapshots spanned (the step and the processing after it), web and worker.
        wall = cpu.get("wall_s", result.elapsed_s)
        server_cpu_s = (cpu.get("server", 0.0) + cpu.get("worker", 0.0)) / 100.0 * wall
        return cls(
            server=server,
            rate=result.rate,
            seconds=seconds,
            planned=result.planned,
            sent=result.sent,
            ok=result.ok,
            non_200=result.non_200,
            errors=result.error_count,
            skipped=result.skipped,
            late=result.late,
            max_start_lag_ms=round(result.max_start_lag_ms, 2),
            achieved_per_s=round(result.achieved_per_s, 1),
            p50_ms=round(percentile(lat, 50), 2),
            p90_ms=round(percentile(lat, 90), 2),
            p99_ms=round(percentile(lat, 99), 2),
            max_ms=round(max(lat), 2) if lat else math.nan,
            statuses={str(k): v for k, v in sorted(result.statuses.items())},
            error_kinds=dict(result.errors),
            cpu_pct_of_one_core={k: round(v, 1) for k, v in cpu.items()},
            server_cpu_ms_per_webhook=round(1000.0 * server_cpu_s / result.sent, 3) if result.sent else 0.0,
            body_bytes_avg=round(body_bytes, 1),
        )


async def count_stored(conn: Any, mids: Sequence[str]) -> int:
    if not mids:
        return 0
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM messenger.messages"
            " WHERE page_id = $1 AND direction = 'in' AND mid = ANY($2::text[])",
            PAGE_ID,
            list(mids),
        )
    )


async def wait_processed(conn: Any, max_s: float = 120.0) -> float:
    """Seconds until the messenger's webhook inbox is empty (bounded)."""
    start = time.monotonic()
    while time.monotonic() - start < max_s:
        if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM messenger.webhook_inbox)"):
            break
        await asyncio.sleep(0.05)
    return round(time.monotonic() - start, 2)


@dataclass(frozen=True)
class NotRun:
    server: str
    rate: float
    reason: str


@dataclass
class Target:
    name: str
    server: Server
    clients: list[httpx.AsyncClient]
    meter: CpuMeter


async def measure(
    target: Target, rate: float, seconds: float, opts: Options, webhooks: Webhooks, db: Any | None
) -> StepReport:
    requests, mids = webhooks.make(max(1, round(rate * seconds)))
    body_bytes = sum(len(r.body) for r in requests) / len(requests)
    before = target.meter.snapshot()
    result = await run_step(
        target.clients,
        target.server.url + PATH,
        requests,
        rate,
        max_in_flight=opts.max_in_flight,
        late_ms=opts.late_ms,
        drain_timeout=opts.drain_timeout,
    )
    drain_s = await wait_processed(db) if db is not None else None
    # CPU until processing caught up: the work per webhook, not only the part before the 200.
    cpu = CpuMeter.usage(before, target.meter.snapshot())
    report = StepReport.of(target.name, result, seconds, cpu, body_bytes)
    report.processing_drain_s = drain_s
    if db is not None:
        report.stored_acked = await count_stored(db, [mids[i] for i in result.ok_indices])
        report.stored_all = await count_stored(db, mids)
    return report


def _fmt(value: float, digits: int = 1) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


SERVER_ORDER = {"bare": 0, "messenger": 1}


def latency_table(reports: Sequence[StepReport], not_run: Sequence[NotRun] = ()) -> str:
    head = (
        f"{'server':<10} {'offered/s':>9} {'achieved/s':>10} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8}"
        f" {'max ms':>8} {'200s':>6} {'non200':>6} {'errors':>6} {'skipped':>7} {'late':>5}"
        f" {'stored/200s':>12} {'processed in s':>14}"
    )
    lines = [head, "-" * len(head)]
    rows: list[StepReport | NotRun] = [*reports, *not_run]
    rows.sort(key=lambda r: (r.rate, SERVER_ORDER.get(r.server, 9)))
    for r in rows:
        if isinstance(r, NotRun):
            lines.append(f"{r.server:<10} {r.rate:>9g}  not run: {r.reason}")
            continue
        stored = "-" if r.stored_acked is None else f"{r.stored_acked}/{r.ok}"
        lines.append(
            f"{r.server:<10} {r.rate:>9g} {r.achieved_per_s:>10.1f} {_fmt(r.p50_ms):>8} {_fmt(r.p90_ms):>8}"
            f" {_fmt(r.p99_ms):>8} {_fmt(r.max_ms):>8} {r.ok:>6} {r.non_200:>6} {r.errors:>6}"
            f" {r.skipped:>7} {r.late:>5} {stored:>12}"
            f" {'-' if r.processing_drain_s is None else f'{r.processing_drain_s:.1f}':>14}"
        )
    return "\n".join(lines)


def cpu_table(reports: Sequence[StepReport]) -> str:
    head = (
        f"{'server':<10} {'offered/s':>9} {'server%':>8} {'worker%':>8} {'postgres%':>9} {'rabbitmq%':>9}"
        f" {'client%':>8} {'other%':>7} {'machine%':>9} {'server ms/webhook':>17}"
    )
    lines = [head, "-" * len(head)]
    for r in reports:
        c = r.cpu_pct_of_one_core
        lines.append(
            f"{r.server:<10} {r.rate:>9g} {c.get('server', 0):>8.1f} {c.get('worker', 0):>8.1f}"
            f" {c.get('postgres', 0):>9.1f}"
            f" {c.get('rabbitmq', 0):>9.1f} {c.get('client', 0):>8.1f} {c.get('other', 0):>7.1f}"
            f" {c.get('machine', 0):>9.1f} {r.server_cpu_ms_per_webhook:>17.3f}"
        )
    return "\n".join(lines)


def verdicts(reports: Sequence[StepReport], not_run: Sequence[NotRun], rates: Sequence[float]) -> list[str]:
    lines: list[str] = []
    by = {(r.server, r.rate): r for r in reports}
    skipped = {(n.server, n.rate): n for n in not_run}
    for rate in rates:
        m, b = by.get(("messenger", rate)), by.get(("bare", rate))
        bare = f"bare FastAPI p99 {_fmt(b.p99_ms)} ms" if b else "bare FastAPI not run"
        if m is None:
            why = skipped[("messenger", rate)].reason if ("messenger", rate) in skipped else "?"
            line = (
                f"messenger not run at {rate:g}/s ({why}) (target < {TARGET_P99_MS:g} ms at"
                f" {TARGET_RATE:g}/s); {bare}"
            )
            if rate == TARGET_RATE:
                line += " -> target MISSED"
            lines.append(line)
            continue
        ratio = math.nan
        if b is not None and b.p99_ms > 0 and not math.isnan(m.p99_ms + b.p99_ms):
            ratio = m.p99_ms / b.p99_ms
        line = (
            f"messenger p99 {_fmt(m.p99_ms)} ms at {rate:g}/s (target < {TARGET_P99_MS:g} ms at"
            f" {TARGET_RATE:g}/s); {bare}; ratio {_fmt(ratio)}x;"
            f" stored {m.stored_acked}/{m.ok} of the 200s"
        )
        if rate == TARGET_RATE:
            met = m.p99_ms < TARGET_P99_MS and m.held
            line += " -> target met" if met else " -> target MISSED"
        if not m.durable:
            line += " -> DURABILITY FAILURE: a 200 without its row"
        lines.append(line)
    for server, label in (("messenger", "messenger"), ("bare", "bare FastAPI")):
        steps = [r for r in reports if r.server == server]
        best: StepReport | None = None
        for r in steps:  # rising rates: the highest step before the first one that was not held
            if not r.held:
                break
            best = r
        if best is None:
            lowest = f" ({steps[0].rate:g}/s, achieved {steps[0].achieved_per_s:.1f}/s)" if steps else ""
            lines.append(f"sustained: {label}: not even the lowest step{lowest} was held")
        else:
            stored = " with every event durably stored" if server == "messenger" else ""
            lines.append(
                f"sustained: {label} {best.achieved_per_s:.1f} webhooks/s{stored}"
                f" (highest step held: {best.rate:g}/s offered; all 200, achieved >= 95% of offered)"
            )
    for server, label in (("messenger", "messenger"), ("bare", "bare FastAPI")):
        costs = sorted(r.server_cpu_ms_per_webhook for r in reports if r.server == server and r.sent)
        if costs and costs[len(costs) // 2] > 0:
            cost = costs[len(costs) // 2]
            lines.append(
                f"cpu: {label} process {cost:.2f} ms CPU per webhook (median of steps): at most"
                f" ~{1000.0 / cost:.0f} webhooks/s on one core, before the database and the client"
            )
    if TARGET_RATE not in rates:
        lines.append(f"target rate {TARGET_RATE:g}/s was not among the measured rates")
    return lines


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607 - git from PATH, read-only
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def write_results(
    opts: Options,
    reports: Sequence[StepReport],
    not_run: Sequence[NotRun],
    started: datetime,
    idle_busy_pct: float,
    where: Where,
) -> Path:
    opts.results_dir.mkdir(parents=True, exist_ok=True)
    path = opts.results_dir / f"webhook-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    doc = {
        "benchmark": "webhook",
        "started_at": started.isoformat(),
        "target": {"p99_ms": TARGET_P99_MS, "rate_per_s": TARGET_RATE},
        "options": {**asdict(opts), "results_dir": str(opts.results_dir)},
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "git_commit": _git_commit(),
            "busy_pct_before_first_step": round(idle_busy_pct, 1),
        },
        "latency": "from each request's planned start to the end of its 200 response (open loop)",
        "cpu": "percent of one core over the step; `other` = machine busy minus the listed processes",
        "steps": [
            {**asdict(r), "held": r.held, "durable": r.durable, "collapsed": r.collapsed} for r in reports
        ],
        "not_run": [asdict(n) for n in not_run],
        "where": where,
    }
    path.write_text(
        json.dumps(_json_safe(doc), indent=2, ensure_ascii=False, allow_nan=False, default=str) + "\n"
    )
    return path


def _json_safe(value: Any) -> Any:
    """NaN (a step without any 200) as null, so the file is strict JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


async def machine_busy_pct(seconds: float) -> float:
    """Whole-machine busy percent over `seconds`, while this benchmark sends nothing."""
    meter = CpuMeter({}, {})
    before = meter.snapshot()
    await asyncio.sleep(seconds)
    return CpuMeter.usage(before, meter.snapshot())["machine"]


async def _start(server: Server) -> None:
    try:
        await asyncio.to_thread(server.start)
    except BaseException:
        print(f"{server.name} did not start; its log ends with:\n{server.log_tail()}", file=sys.stderr)
        raise


async def run(opts: Options) -> int:
    started = datetime.now(UTC)
    t0 = time.monotonic()
    reports: list[StepReport] = []
    not_run: list[NotRun] = []
    where: Where = {}
    idle_busy = math.nan
    async with AsyncExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="crm-bench-")))
        print("setup: fresh database and RabbitMQ vhost, messenger migrate, both servers ...", flush=True)
        database_url = await create_database("crm_bench")
        stack.push_async_callback(drop_database, database_url)
        rabbitmq_url = await asyncio.to_thread(create_vhost, "crm-bench")
        stack.push_async_callback(asyncio.to_thread, delete_vhost, rabbitmq_url)

        port = free_port()
        env = {
            "DATABASE_URL": database_url,
            "RABBITMQ_URL": rabbitmq_url,
            "PORT": str(port),
            "META_APP_SECRET": APP_SECRET,
            "CRM_INTERNAL_TOKEN": secrets.token_urlsafe(32),
            "META_VERIFY_TOKEN": "bench-verify-token",
            "META_PAGE_ACCESS_TOKEN": "bench-page-token",
            # Nothing listens there; no replies are sent without the ai service.
            "META_GRAPH_API_URL": f"http://127.0.0.1:{free_port()}",
            "LOG_LEVEL": "WARNING",
            "OTEL_SERVICE_NAME": "crm-messenger",
            # Spans are made as in production, but exported nowhere (traffic stays on 127.0.0.1).
            "OTEL_EXPORTER_OTLP_ENDPOINT": "",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "",
            "WEB_CONCURRENCY": str(opts.workers),
        }
        # The messenger runs in an empty directory, so no developer's `.env` changes it.
        await asyncio.to_thread(run_module, "crm_messenger", ["migrate"], env, tmp, 120.0)
        worker: Server | None = None
        if not opts.single_process:
            # Deployed as ADR 8 suggests for heavy webhook traffic: a web process answers Meta and
            # a worker process of the same service applies what was stored (woken by PostgreSQL).
            env["WEBHOOK_PROCESSING"] = "false"
            worker_port = free_port()
            worker_env = {
                **env,
                "PORT": str(worker_port),
                "WEBHOOK_PROCESSING": "true",
                "WEB_CONCURRENCY": "1",
            }
            worker = Server(
                "messenger-worker",
                worker_port,
                [sys.executable, "-m", "crm_messenger"],
                worker_env,
                tmp,
                tmp / "messenger-worker.log",
            )
            stack.push_async_callback(asyncio.to_thread, worker.stop)
            await _start(worker)
        messenger = Server(
            "messenger", port, [sys.executable, "-m", "crm_messenger"], env, tmp, tmp / "messenger.log"
        )
        stack.push_async_callback(asyncio.to_thread, messenger.stop)
        await _start(messenger)

        bare_port = free_port()
        bare = Server(
            "bare",
            bare_port,
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.bare_app:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(bare_port),
                "--log-level",
                "warning",
                "--no-access-log",
                "--workers",
                str(opts.workers),
            ],
            {},
            REPO_ROOT,
            tmp / "bare.log",
            ready_path=PATH,
            ready_method="POST",
        )
        stack.push_async_callback(asyncio.to_thread, bare.stop)
        await _start(bare)

        db = await asyncpg.connect(database_url)
        stack.push_async_callback(db.close)

        def client() -> httpx.AsyncClient:
            per_pool = math.ceil(opts.max_in_flight / CLIENT_POOLS)
            return httpx.AsyncClient(
                limits=httpx.Limits(max_connections=per_pool, max_keepalive_connections=per_pool),
                timeout=httpx.Timeout(opts.request_timeout),
                trust_env=False,  # no proxy: 127.0.0.1 only
            )

        named = {"postgres": ["postgres"], "rabbitmq": ["beam.smp"]}
        targets: list[Target] = []
        for name, server in (("bare", bare), ("messenger", messenger)):
            clients = [await stack.enter_async_context(client()) for _ in range(CLIENT_POOLS)]
            groups = {"server": [server.pid], "client": [os.getpid()]}
            if name == "messenger" and worker is not None:
                groups["worker"] = [worker.pid]
            meter = CpuMeter(groups, named, trees=["server", "worker"])
            targets.append(Target(name, server, clients, meter))
        webhooks = Webhooks(opts.psids, opts.seed)
        print(f"ready in {time.monotonic() - t0:.1f} s; messenger pid {messenger.pid}, bare pid {bare.pid}")
        idle_busy = await machine_busy_pct(1.0)
        print(f"machine {idle_busy:.0f}% busy (of 100 per core) over 1 s before the first step", flush=True)
        if idle_busy > IDLE_BUSY_WARN_PCT:
            print(
                f"WARNING: something else is using the CPU ({idle_busy:.0f}% with the servers idle);"
                " the figures below share the machine with it (see other% per step)",
                flush=True,
            )

        warmup_rate = min(opts.rates[0], WARMUP_MAX_RATE)
        if opts.warmup > 0:
            for target in targets:
                db_or_none = db if target.name == "messenger" else None
                w = await measure(target, warmup_rate, opts.warmup, opts, webhooks, db_or_none)
                print(f"  warm-up {target.name:<10} {w.rate:g}/s, {opts.warmup:g} s: p99 {_fmt(w.p99_ms)} ms")
                await wait_quiet(target.server.pid, max_s=opts.settle_max)
                await asyncio.sleep(opts.pause)

        collapsed: dict[str, StepReport] = {}
        for rate in opts.rates:
            for target in targets:
                if target.name in collapsed:
                    at = collapsed[target.name]
                    reason = f"collapsed at {at.rate:g}/s: achieved {at.achieved_per_s:.1f}/s"
                    not_run.append(NotRun(target.name, rate, reason))
                    print(f"  {target.name:<10} {rate:>6g}/s: not run, {reason}", flush=True)
                    continue
                db_or_none = db if target.name == "messenger" else None
                r = await measure(target, rate, opts.seconds, opts, webhooks, db_or_none)
                r.settle_s = round(await wait_quiet(target.server.pid, max_s=opts.settle_max), 2)
                reports.append(r)
                if r.collapsed:
                    collapsed[target.name] = r
                stored = "" if r.stored_acked is None else f", stored {r.stored_acked}/{r.ok}"
                if r.processing_drain_s is not None:
                    stored += f" (all processed {r.processing_drain_s:.1f} s after the step)"
                print(
                    f"  {r.server:<10} {rate:>6g}/s: achieved {r.achieved_per_s:.1f}/s, p50 {_fmt(r.p50_ms)}"
                    f" p99 {_fmt(r.p99_ms)} ms, errors {r.errors}, non-200 {r.non_200},"
                    f" skipped {r.skipped}{stored}; busy {r.settle_s:.1f} s after",
                    flush=True,
                )
                await asyncio.sleep(opts.pause)
        ours = next(t for t in targets if t.name == "messenger")
        if opts.where and "messenger" not in collapsed:
            where = await profiled_step(opts, ours, worker, webhooks, db, started)
            print(f"  where the time goes (py-spy, a step more): {where_text(where)}", flush=True)
        print("teardown ...", flush=True)

    print()
    print(
        f"webhook benchmark: {os.cpu_count()} CPUs; messenger as "
        f"{'one process' if opts.single_process else 'a web and a worker process'},"
        f" {opts.workers} HTTP process(es) per server; {opts.seconds:g} s per step, open loop; latency from"
        " planned start to the 200"
    )
    print(latency_table(reports, not_run))
    print()
    print("CPU during each step, percent of one core (machine% is all cores: 100 per core):")
    print(cpu_table(reports))
    print()
    for line in verdicts(reports, not_run, opts.rates):
        print(line)
    path = write_results(opts, reports, not_run, started, idle_busy, where)
    print(f"\nresults: {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}")
    print(f"total {time.monotonic() - t0:.0f} s")
    return 0 if all(r.durable for r in reports) else 1


async def profiled_step(
    opts: Options, ours: Target, worker: Server | None, webhooks: Webhooks, db: Any, started: datetime
) -> Where:
    """One more step at the rate nearest 500/s with the messenger's processes under py-spy, after
    the measured ones (the profiler's CPU is in none of their figures): samples by library."""
    rate = min(opts.rates, key=lambda r: abs(r - 500))
    pids = {"messenger": ours.server.pid, **({"worker": worker.pid} if worker is not None else {})}
    out = opts.results_dir / f"profile-webhook-{started:%Y%m%dT%H%M%SZ}"
    return await profile_during(
        pids, out, lambda: measure(ours, rate, opts.seconds, opts, webhooks, db), subprocesses=True
    )


async def main(args: argparse.Namespace) -> int:
    return await run(Options.from_args(args))
