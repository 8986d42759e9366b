"""The staff API on a loaded CRM: customer search, customer 360, list pages and order creation.

Target (issue): with 50,000 customers and 200,000 orders loaded, p99 under 20 ms for search and
360 reads; list pages and orders per second are reported next to the baseline.

A fresh database gets the gateway's migrations (`python -m crm_gateway migrate`, on a throwaway
RabbitMQ vhost too) and a realistic CRM loaded with COPY (`bench.crm_data`). The gateway then
runs as its own uvicorn process(es), `python -m crm_gateway` with `WEB_CONCURRENCY` workers and
its settings from the environment, its cache directory empty so every read reaches PostgreSQL.
Next to it, as the raw baseline, a bare FastAPI endpoint (`bench.bare_app`, `/bench/json`)
served by uvicorn with the same number of workers answers the same number of concurrent
clients with a JSON body of the size the gateway's answers had. Each scenario runs closed loop
(`bench.closedloop`): C clients, each sending its next request when the last one answered, every
request for a random customer, name, phone number, tag or product from the loaded data.

A second pass writes every customer's snapshot the way the cache-writer does
(`crm_contracts.snapshots`) and measures the reads the gateway serves from them again.

    uv run python -m bench gateway --customers 50000 --orders 200000 --seconds 6 --concurrency 1,4,16
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from crm_localrun.ports import free_port
from crm_servicekit.testing import create_database, create_vhost, delete_vhost, drop_database

from . import closedloop, crm_data
from .closedloop import Result
from .gateway_options import Options
from .gateway_scenarios import Scenario, bare_script, scenarios
from .profile import Where, profile_during, where_text
from .servers import REPO_ROOT, CpuMeter, Server, run_module, wait_quiet
from .webhook import _git_commit, _json_safe, machine_busy_pct

TARGET_P99_MS = 20.0
TARGET_GROUPS = {"search": "search", "360": "customer 360"}
ADMIN = ("bench-admin@vschool.test", secrets.token_urlsafe(16))
IDLE_BUSY_WARN_PCT = 15.0
CONCURRENCY_JUDGED = 4  # the clients for the gateway's rows (the table reads these)


@dataclass
class Row:
    scenario: str
    group: str
    server: str
    cache: str
    concurrency: int
    ok: int
    failed: int
    per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    body_bytes: float
    served_from: str
    server_cpu_ms_per_req: float
    postgres_cpu_ms_per_req: float
    cpu_pct_of_one_core: dict[str, float] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, sc: Scenario, server: str, cache: str, r: Result, cpu: dict[str, float]) -> Row:
        wall = cpu.get("wall_s", r.elapsed_s)

        def per_request(group: str) -> float:
            return round(1000.0 * cpu.get(group, 0.0) / 100.0 * wall / r.ok, 2) if r.ok else 0.0

        total = sum(r.served_from.values())
        served = (
            ", ".join(f"{k} {100 * n / total:.0f}%" for k, n in r.served_from.most_common()) if total else "-"
        )
        return cls(
            scenario=sc.label, group=sc.group, server=server, cache=cache, concurrency=r.concurrency,
            ok=r.ok, failed=r.failed, per_s=round(r.per_s, 1), p50_ms=round(r.p(50), 2),
            p95_ms=round(r.p(95), 2), p99_ms=round(r.p(99), 2),
            max_ms=round(max(r.latencies_ms), 2) if r.latencies_ms else float("nan"),
            body_bytes=round(r.mean_body_bytes), served_from=served if server == "gateway" else "-",
            server_cpu_ms_per_req=per_request("server"), postgres_cpu_ms_per_req=per_request("postgres"),
            cpu_pct_of_one_core={k: round(v, 1) for k, v in cpu.items()},
            statuses={str(k): v for k, v in sorted(r.statuses.items())}, errors=dict(r.errors),
        )  # fmt: skip


@dataclass
class Target:
    name: str
    server: Server
    meter: CpuMeter
    headers: dict[str, str]


async def measure(target: Target, sc: Scenario, script: Callable[[int], closedloop.Script],
                  concurrency: int, seconds: float, cache: str) -> Row:  # fmt: skip
    before = target.meter.snapshot()
    result = await closedloop.run(
        target.server.url, script, concurrency=concurrency, seconds=seconds, headers=target.headers
    )
    row = Row.of(sc, target.name, cache, result, CpuMeter.usage(before, target.meter.snapshot()))
    await wait_quiet(target.server.pid, max_s=10.0)
    return row


async def run_pass(
    opts: Options, gateway: Target, bare: Target, chosen: Sequence[Scenario], cache: str
) -> list[Row]:
    rows: list[Row] = []
    for concurrency in opts.concurrency:
        for sc in chosen:
            if opts.warmup > 0:
                await closedloop.run(
                    gateway.server.url, sc.script, concurrency=concurrency, seconds=opts.warmup,
                    headers=gateway.headers,
                )  # fmt: skip
            g = await measure(gateway, sc, sc.script, concurrency, opts.seconds, cache)
            b = await measure(bare, sc, bare_script(sc, int(g.body_bytes)), concurrency, opts.seconds, cache)
            rows += [g, b]
            print(
                f"  {sc.label:<28} c={concurrency:<3} gateway {g.per_s:>7.1f}/s p99 {g.p99_ms:>7.2f} ms"
                f" ({g.served_from}; {g.failed} failed) | bare {b.per_s:>7.1f}/s p99 {b.p99_ms:>6.2f} ms",
                flush=True,
            )
    return rows


async def profiled_pass(
    g: Target,
    chosen: Sequence[Scenario],
    *,
    concurrency: int,
    seconds: float,
    out_dir: Path,
    started: datetime,
) -> Where:
    """Each scenario again with the gateway (and its workers) under py-spy, after the measured
    passes so the profiler's CPU is in none of their figures: its samples by library."""
    where: Where = {}
    for sc in chosen:
        out = out_dir / f"profile-gateway-{started:%Y%m%dT%H%M%SZ}-{sc.key}"
        load = functools.partial(
            closedloop.run,
            g.server.url,
            sc.script,
            concurrency=concurrency,
            seconds=seconds,
            headers=g.headers,
        )
        where[sc.label] = (await profile_during({"gateway": g.server.pid}, out, load, subprocesses=True))[
            "gateway"
        ]
        print(f"  where the time goes, {sc.label}: {where_text({'gateway': where[sc.label]})}", flush=True)
    return where


async def sign_in(url: str) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=30.0) as client:
        response = await client.post("/api/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]})
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


def gateway_env(
    database_url: str, rabbitmq_url: str, port: int, cache_dir: Path, workers: int
) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "RABBITMQ_URL": rabbitmq_url,
        "PORT": str(port),
        # Its internal door (ADR 17), where /metrics and the OpenAPI document answer.
        "INTERNAL_PORT": str(free_port()),
        "CRM_CACHE_DIR": str(cache_dir),
        "CRM_ADMIN_EMAIL": ADMIN[0],
        "CRM_ADMIN_PASSWORD": ADMIN[1],
        "CRM_JWT_SECRET": secrets.token_urlsafe(48),
        "CRM_INTERNAL_TOKEN": secrets.token_urlsafe(32),
        # One sign-in lasts the whole run (the default access token lasts 15 minutes).
        "CRM_ACCESS_TOKEN_TTL_SECONDS": "86400",
        # One staff member asking as fast as the machine answers: the rate limits would refuse it.
        "CRM_RATE_LIMITS_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "OTEL_SERVICE_NAME": "crm-gateway",
        # Spans are made as in production, but exported nowhere (traffic stays on 127.0.0.1).
        "OTEL_EXPORTER_OTLP_ENDPOINT": "",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "",
        "WEB_CONCURRENCY": str(workers),
    }


def bare_server(tmp: Path, workers: int) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--host", "127.0.0.1", "--port",
               str(port), "--log-level", "warning", "--no-access-log", "--workers", str(workers)]  # fmt: skip
    return Server("bare", port, command, {}, REPO_ROOT, tmp / "bare.log", ready_path="/bench/json")


async def start(server: Server) -> None:
    try:
        await asyncio.to_thread(server.start)
    except BaseException:
        print(f"{server.name} did not start; its log ends with:\n{server.log_tail()}", file=sys.stderr)
        raise


async def run(opts: Options) -> int:
    started = datetime.now(UTC)
    t0 = time.monotonic()
    rows: list[Row] = []
    setup: dict[str, Any] = {}
    async with AsyncExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="crm-bench-")))
        cache_dir = tmp / "cache"
        cache_dir.mkdir()
        database_url = await create_database("crm_bench")
        stack.push_async_callback(drop_database, database_url)
        rabbitmq_url = await asyncio.to_thread(create_vhost, "crm-bench")
        stack.push_async_callback(asyncio.to_thread, delete_vhost, rabbitmq_url)
        port = free_port()
        env = gateway_env(database_url, rabbitmq_url, port, cache_dir, opts.workers) | opts.env
        # The gateway runs in an empty directory, so no developer's `.env` changes it.
        await asyncio.to_thread(run_module, "crm_gateway", ["migrate"], env, tmp, 180.0)

        t = time.monotonic()
        generator = crm_data.Generator(opts.customers, opts.orders_per_customer, opts.seed)
        tables, terms = await asyncio.to_thread(generator.generate)
        setup["generate_s"] = round(time.monotonic() - t, 1)
        t = time.monotonic()
        setup["rows"] = await crm_data.load(database_url, tables)
        setup["copy_s"] = round(time.monotonic() - t, 1)
        del tables
        print(
            f"loaded in {setup['copy_s']} s (generated in {setup['generate_s']} s): {setup['rows']}",
            flush=True,
        )

        gateway = Server(
            "gateway", port, [sys.executable, "-m", "crm_gateway"], env, tmp, tmp / "gateway.log"
        )
        stack.push_async_callback(asyncio.to_thread, gateway.stop)
        await start(gateway)
        bare = bare_server(tmp, opts.workers)
        stack.push_async_callback(asyncio.to_thread, bare.stop)
        await start(bare)
        named = {"postgres": ["postgres"], "rabbitmq": ["beam.smp"]}
        client = {"client": [os.getpid()]}
        g = Target("gateway", gateway, CpuMeter({"server": [gateway.pid], **client}, named, ["server"]), {})
        g.headers = await sign_in(gateway.url)
        b = Target("bare", bare, CpuMeter({"server": [bare.pid], **client}, named, ["server"]), {})

        chosen = [s for s in scenarios(terms, opts.pages, opts.seed) if not opts.only or s.key in opts.only]
        setup["idle_busy_pct"] = round(await machine_busy_pct(1.0), 1)
        print(
            f"ready in {time.monotonic() - t0:.0f} s; machine {setup['idle_busy_pct']:.0f}% busy while idle"
        )
        if setup["idle_busy_pct"] > IDLE_BUSY_WARN_PCT:
            print("WARNING: something else is using the CPU; the figures below share the machine with it")
        await closedloop.run(bare.url, bare_script(chosen[0], 1000), concurrency=4, seconds=opts.warmup)

        print("pass 1: cache directory empty, every read from PostgreSQL", flush=True)
        rows += await run_pass(opts, g, b, chosen, "empty")
        cached = [s for s in chosen if s.cached]
        if opts.cache_pass and cached:
            t = time.monotonic()
            setup["snapshots"] = await crm_data.write_snapshots(database_url, cache_dir)
            setup["snapshots_s"] = round(time.monotonic() - t, 1)
            print(f"pass 2: {setup['snapshots']} snapshots written in {setup['snapshots_s']} s", flush=True)
            rows += await run_pass(opts, g, b, cached, "warm")
        if opts.where:
            concurrency = min(opts.concurrency, key=lambda c: abs(c - CONCURRENCY_JUDGED))
            setup["where"] = await profiled_pass(
                g,
                chosen,
                concurrency=concurrency,
                seconds=opts.seconds,
                out_dir=opts.results_dir,
                started=started,
            )
        print("teardown ...", flush=True)

    print_report(opts, rows, setup)
    path = write_results(opts, rows, setup, started)
    print(f"\nresults: {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}")
    print(f"total {time.monotonic() - t0:.0f} s")
    return 0 if all(r.failed == 0 for r in rows) else 1


def _f(value: float, digits: int = 1) -> str:
    return "-" if value != value else f"{value:.{digits}f}"  # NaN: no 2xx at all


def table(rows: Sequence[Row]) -> str:
    head = (f"{'scenario':<28} {'cache':<5} {'c':>3} {'server':<7} {'requests':>8} {'req/s':>7} {'p50 ms':>7}"
            f" {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'failed':>6} {'bytes':>6} {'cpu ms/req':>10}"
            f" {'pg ms/req':>9}  served from")  # fmt: skip
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.scenario:<28} {r.cache:<5} {r.concurrency:>3} {r.server:<7} {r.ok:>8} {r.per_s:>7.1f}"
            f" {_f(r.p50_ms, 2):>7} {_f(r.p95_ms, 2):>7} {_f(r.p99_ms, 2):>7} {_f(r.max_ms):>7} {r.failed:>6}"
            f" {r.body_bytes:>6.0f} {r.server_cpu_ms_per_req:>10.2f} {r.postgres_cpu_ms_per_req:>9.2f}"
            f"  {r.served_from}"
        )
    return "\n".join(lines)


def verdicts(rows: Sequence[Row]) -> list[str]:
    lines = []
    keys = sorted({(r.cache, r.concurrency) for r in rows}, key=lambda k: (k[0] != "empty", k[1]))
    for group, label in TARGET_GROUPS.items():
        for cache, concurrency in keys:
            mine = [
                r
                for r in rows
                if (r.group, r.server, r.cache, r.concurrency) == (group, "gateway", cache, concurrency)
            ]
            if not mine:
                continue
            worst = max(mine, key=lambda r: r.p99_ms if r.p99_ms == r.p99_ms else float("inf"))
            met = worst.p99_ms < TARGET_P99_MS and all(r.failed == 0 for r in mine)
            lines.append(
                f"{label}, cache {cache}, {concurrency} clients: worst p99 {_f(worst.p99_ms, 2)} ms"
                f" ({worst.scenario}) -> target < {TARGET_P99_MS:g} ms {'met' if met else 'MISSED'}"
            )
    for r in rows:
        if r.group == "order" and r.server == "gateway":
            lines.append(
                f"orders created: {r.per_s:.1f}/s with {r.concurrency} clients (p99 {_f(r.p99_ms)} ms)"
            )
    return lines


def print_report(opts: Options, rows: Sequence[Row], setup: dict[str, Any]) -> None:
    print()
    print(
        f"gateway benchmark: {opts.customers} customers, {opts.customers * opts.orders_per_customer} orders;"
        f" {os.cpu_count()} CPUs shared by the gateway ({opts.workers} uvicorn workers), the bare FastAPI"
        f" baseline ({opts.workers} workers, idle while the gateway is measured), PostgreSQL and this client"
        f" (one process); closed loop, {', '.join(map(str, opts.concurrency))} concurrent clients;"
        f" {opts.seconds:g} s per measurement; latency from send to the end of the body"
    )
    print(table(rows))
    print(
        "cpu ms/req: the server's processes; pg ms/req: all postgres processes (the machine's whole cluster)"
    )
    print()
    for line in verdicts(rows):
        print(line)


def write_results(opts: Options, rows: Sequence[Row], setup: dict[str, Any], started: datetime) -> Path:
    opts.results_dir.mkdir(parents=True, exist_ok=True)
    path = opts.results_dir / f"gateway-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    doc = {
        "benchmark": "gateway",
        "started_at": started.isoformat(),
        "target": {"p99_ms": TARGET_P99_MS, "groups": list(TARGET_GROUPS)},
        "options": {**asdict(opts), "results_dir": str(opts.results_dir)},
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "git_commit": _git_commit()},
        "setup": setup,
        "rows": [asdict(r) for r in rows],
        "verdicts": verdicts(rows),
    }
    path.write_text(json.dumps(_json_safe(doc), indent=2, ensure_ascii=False, default=str) + "\n")
    return path


async def main(args: argparse.Namespace) -> int:
    return await run(Options.from_args(args))
