"""Chat-to-reply: new customers write at a steady rate; how long until the AI's reply reaches Meta,
and how much CPU the whole stack spends per conversation.

The five services run as processes (`crm_localrun.Stack`, as `make up` runs them) on a fresh
database and RabbitMQ vhost, with the Meta and Gemini fakes (instant) and the OTLP fake as their
own processes, tracing on. The school's sample knowledge base is indexed first, so every reply is
grounded as in use. For each rate, that many signed webhooks per second, each from a new PSID
(a new conversation), go to the messenger's webhook (open loop: each starts at its planned time);
latency is from that planned time to the Meta fake receiving the reply's text for that PSID
(both clocks are this machine's `time.time()`). CPU per conversation is summed over every process
of the stack (the five services, PostgreSQL's backends, RabbitMQ) from the step's start until
every reply arrived and the stack went quiet.

The raw baseline, in the same run: the same rate of messages through RabbitMQ from this process to
an echo process and back (`bench.amqp_echo`: publish → consume → publish with a confirm → consume).

    uv run python -m bench reply --rates 10,50 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika

from crm_localrun.ports import free_port
from crm_servicekit.testing import create_database, create_vhost, delete_vhost, drop_database

from .conversations import APP_SECRET, offer, wait_replies
from .loadgen import percentile
from .profile import Profile, Where, print_summary, profile_during, where_text
from .servers import REPO_ROOT, CpuMeter, Server, log_trouble, wait_quiet

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SERVICES = ("gateway", "cache-writer", "marketing", "ai", "messenger")
TARGET_RATE = 50.0
TARGET_P50_MS, TARGET_P99_MS, TARGET_CPU_MS = 25.0, 100.0, 20.0
MAX_RATE, MAX_SECONDS = 200.0, 60.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rates", default="10,50", help="new conversations/s per step (default: 10,50)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each step (default: 10)")
    parser.add_argument("--warmup", type=int, default=20, help="conversations before the steps (default: 20)")
    parser.add_argument("--reply-timeout", type=float, default=60.0, help="wait this long for the last reply")
    parser.add_argument(
        "--sampling", default="1.0", help="OTEL trace sampling ratio for the services (default: 1.0, all)"
    )
    parser.add_argument(
        "--profile",
        default="",
        help="services to profile with py-spy during the last step, comma-separated (e.g. messenger,ai)",
    )
    parser.add_argument(
        "--where-seconds",
        type=float,
        default=5.0,
        help="after the steps, profile every service for this long at the first rate, for the table's"
        " 'where the time goes' (0: skip; default: 5)",
    )
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)


@dataclass
class Step:
    rate: float
    conversations: int
    replied: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    stack_cpu_ms: dict[str, float] = field(default_factory=dict)
    """CPU per conversation by process group (services, postgres, rabbitmq)."""
    fakes_cpu_ms: float = 0.0
    machine_busy_pct: float = 0.0
    baseline_ms: list[float] = field(default_factory=list)

    @property
    def stack_cpu_total_ms(self) -> float:
        return sum(self.stack_cpu_ms.values())

    def summary(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "conversations": self.conversations,
            "replied": self.replied,
            "p50_ms": round(percentile(self.latencies_ms, 50), 1),
            "p99_ms": round(percentile(self.latencies_ms, 99), 1),
            "max_ms": round(max(self.latencies_ms, default=float("nan")), 1),
            "stack_cpu_ms_per_conversation": round(self.stack_cpu_total_ms, 2),
            "stack_cpu_ms_by_process": {k: round(v, 2) for k, v in self.stack_cpu_ms.items()},
            "fakes_cpu_ms_per_conversation": round(self.fakes_cpu_ms, 2),
            "machine_busy_pct": round(self.machine_busy_pct, 1),
            "baseline_p50_ms": round(percentile(self.baseline_ms, 50), 2),
            "baseline_p99_ms": round(percentile(self.baseline_ms, 99), 2),
        }


def fake(name: str, tmp: Path, ready: str) -> Server:
    port = free_port()
    return Server(
        name=f"{name}-fake",
        port=port,
        command=[sys.executable, "-m", "crm_fakes", name, "--port", str(port)],
        env=dict(os.environ),
        cwd=REPO_ROOT,
        log_path=tmp / "logs" / f"{name}-fake.log",
        ready_path=ready,
    )


def stack_env(database_url: str, rabbitmq_url: str, tmp: Path, meta: str, gemini: str, otlp: str,
              sampling: str) -> dict[str, str]:  # fmt: skip
    return {
        "DATABASE_URL": database_url,
        "RABBITMQ_URL": rabbitmq_url,
        "CRM_CACHE_DIR": str(tmp / "cache"),
        "META_APP_SECRET": APP_SECRET,
        "META_VERIFY_TOKEN": "bench-verify",
        "META_PAGE_ACCESS_TOKEN": "bench-page-token",
        "META_GRAPH_API_URL": meta,
        "GEMINI_API_KEY": "bench-gemini-key",
        "GOOGLE_GEMINI_BASE_URL": gemini,
        "CRM_ADMIN_EMAIL": "bench@vschool.test",
        "CRM_ADMIN_PASSWORD": secrets.token_urlsafe(16),
        "CRM_JWT_SECRET": secrets.token_urlsafe(48),
        "CRM_INTERNAL_TOKEN": secrets.token_urlsafe(32),
        "CRM_RATE_LIMITS_ENABLED": "false",
        "SYNC_SCHEDULE_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": sampling,
    }


async def baseline(rabbitmq_url: str, rate: float, count: int) -> list[float]:
    """The same rate through RabbitMQ to `bench.amqp_echo` and back: round trips in ms."""
    tag = uuid.uuid4().hex[:8]
    inbound, outbound = f"bench.echo.in.{tag}", f"bench.echo.out.{tag}"
    echo = subprocess.Popen(  # noqa: S603, ASYNC220 (this interpreter; started once, read below)
        [sys.executable, "-m", "bench.amqp_echo", rabbitmq_url, inbound, outbound],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert echo.stdout is not None
        await asyncio.to_thread(echo.stdout.readline)  # "ready": its queues exist
        connection = await aio_pika.connect(rabbitmq_url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            queue = await channel.declare_queue(outbound, durable=True)
            sent: dict[str, float] = {}
            latencies: list[float] = []
            done = asyncio.Event()

            async def back(message: aio_pika.abc.AbstractIncomingMessage) -> None:
                latencies.append((time.perf_counter() - sent[message.message_id or ""]) * 1000.0)
                await message.ack()
                if len(latencies) == count:
                    done.set()

            await queue.consume(back)

            async def publish(index: int) -> None:
                key = str(index)
                sent[key] = time.perf_counter()
                message = aio_pika.Message(b'{"text": "hello"}', message_id=key, delivery_mode=2)
                await channel.default_exchange.publish(message, routing_key=inbound)

            start = time.perf_counter()
            tasks = []
            for index in range(count):
                await asyncio.sleep(max(0.0, start + index / rate - time.perf_counter()))
                tasks.append(asyncio.create_task(publish(index)))
            await asyncio.gather(*tasks)
            await asyncio.wait_for(done.wait(), 30)
            await channel.queue_delete(inbound)
            await channel.queue_delete(outbound)
        return latencies
    finally:
        echo.terminate()
        await asyncio.to_thread(echo.wait, 10)


async def run(opts: argparse.Namespace) -> int:
    from crm_localrun import Stack

    rates = [float(r) for r in str(opts.rates).split(",")]
    if any(r <= 0 or r > MAX_RATE for r in rates) or not 0 < opts.seconds <= MAX_SECONDS:
        raise SystemExit(f"rates must be in (0, {MAX_RATE:g}] and --seconds in (0, {MAX_SECONDS:g}]")
    started = datetime.now(UTC)
    steps: list[Step] = []
    where: Where = {}
    async with AsyncExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="crm-bench-reply-")))
        database_url = await create_database("crm_bench_reply")
        stack.push_async_callback(drop_database, database_url)
        rabbitmq_url = await asyncio.to_thread(create_vhost, "crm-bench-reply")
        stack.push_async_callback(asyncio.to_thread, delete_vhost, rabbitmq_url)
        fakes = [fake("meta", tmp, "/_fake/messages"), fake("gemini", tmp, "/_fake/requests"),
                 fake("otlp", tmp, "/_fake/spans")]  # fmt: skip
        for server in fakes:
            stack.push_async_callback(asyncio.to_thread, server.stop)
            await asyncio.to_thread(server.start)
        meta, gemini, otlp = (s.url for s in fakes)
        env = stack_env(database_url, rabbitmq_url, tmp, meta, gemini, otlp, str(opts.sampling))
        system = Stack(env=env, ports={s: free_port() for s in SERVICES}, log_dir=tmp / "logs")
        await asyncio.to_thread(system.migrate)
        stack.push_async_callback(asyncio.to_thread, system.stop)
        try:
            await asyncio.to_thread(system.start)
            await asyncio.to_thread(system.ingest_knowledge, SAMPLE_KNOWLEDGE)
        except BaseException:
            for name, text in system.logs().items():
                print(f"--- {name} log ---\n{text[-3000:]}", file=sys.stderr)
            raise
        messenger = system.url("messenger")
        pids = {s: [system.pid(s) or 0] for s in SERVICES}
        meter = CpuMeter(
            {**pids, "fakes": [s.pid for s in fakes]},
            {"postgres": ["postgres"], "rabbitmq": ["beam.smp", "erl_child_setup", "inet_gethost"]},
            trees=[*SERVICES, "fakes"],
        )
        planned, _ = await offer(messenger, 5.0, opts.warmup, "warm")
        await wait_replies(meta, planned, opts.reply_timeout)
        for pid in pids.values():
            await wait_quiet(pid[0], max_s=10)
        print(f"stack ready (sampling {opts.sampling}); steps: {rates} conversations/s × {opts.seconds:g} s")
        for number, rate in enumerate(rates):
            count = max(1, round(rate * opts.seconds))
            step = Step(rate, count)
            profiled = (
                [s for s in str(opts.profile).split(",") if s in SERVICES] if number == len(rates) - 1 else []
            )
            profiles = {
                s: Profile(pids[s][0], opts.results_dir / f"profile-reply-{s}-{started:%Y%m%dT%H%M%SZ}.txt")
                for s in profiled
            }
            for profile in profiles.values():
                profile.__enter__()
            before = meter.snapshot()
            planned, failed = await offer(messenger, rate, count, f"s{number}p")
            replies = await wait_replies(meta, planned, opts.reply_timeout)
            for pid in pids.values():
                await wait_quiet(pid[0], max_s=10)
            usage = CpuMeter.usage(before, meter.snapshot())
            for profile in profiles.values():
                await asyncio.to_thread(profile.stop)
            cores = os.cpu_count() or 1
            wall_ms = usage["wall_s"] * 1000.0
            step.replied = len(replies)
            step.latencies_ms = [(replies[p] - at) * 1000.0 for p, at in planned.items() if p in replies]
            step.stack_cpu_ms = {
                g: usage[g] / 100.0 * wall_ms / count for g in (*SERVICES, "postgres", "rabbitmq")
            }
            step.fakes_cpu_ms = usage["fakes"] / 100.0 * wall_ms / count
            step.machine_busy_pct = usage["machine"] / cores
            step.baseline_ms = await baseline(rabbitmq_url, rate, count)
            steps.append(step)
            if failed:
                print(f"  {failed} webhooks were not answered 200")
            print_step(step)
            for name, profile in profiles.items():
                print_summary(name, profile)
        if opts.where_seconds > 0 and steps:
            where = await profiled_pass(opts, started, pids, messenger, meta, rates[0])
            print(f"  where the time goes (py-spy, {opts.where_seconds:g} s at {rates[0]:g}/s):")
            print(f"    {where_text(where)}")
        if any(s.replied < s.conversations for s in steps):
            for service, trouble in log_trouble(system.logs()).items():
                first = trouble["first"][0][:300]
                print(f"  {service} log: {trouble['lines']} lines with errors, first: {first}")
    write(opts, started, steps, where)
    return 0 if all(s.replied == s.conversations for s in steps) else 1


async def profiled_pass(
    opts: argparse.Namespace,
    started: datetime,
    pids: dict[str, list[int]],
    messenger: str,
    meta: str,
    rate: float,
) -> Where:
    """Every service under py-spy while new conversations come in at `rate`, after the measured
    steps (the profiler's own CPU is not in their figures): each one's samples by library."""

    async def load() -> None:
        planned, _ = await offer(messenger, rate, max(1, round(rate * opts.where_seconds)), "where")
        await wait_replies(meta, planned, opts.reply_timeout)

    out = opts.results_dir / f"profile-reply-{started:%Y%m%dT%H%M%SZ}-where"
    return await profile_during({s: pids[s][0] for s in SERVICES}, out, load)


def print_step(step: Step) -> None:
    s = step.summary()
    by = ", ".join(f"{k} {v:.1f}" for k, v in s["stack_cpu_ms_by_process"].items())
    print(
        f"{s['rate']:>5g}/s: {s['replied']}/{s['conversations']} replied;"
        f" p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms, max {s['max_ms']} ms"
        f" (raw round trip p50 {s['baseline_p50_ms']} ms, p99 {s['baseline_p99_ms']} ms)"
        f"\n        stack CPU per conversation {s['stack_cpu_ms_per_conversation']} ms ({by});"
        f" fakes {s['fakes_cpu_ms_per_conversation']} ms; machine {s['machine_busy_pct']}% busy",
        flush=True,
    )


def verdict(steps: Sequence[Step]) -> dict[str, Any]:
    """The issue's target, judged on the step at 50/s (or the fastest step run)."""
    step = min(steps, key=lambda s: abs(s.rate - TARGET_RATE))
    s = step.summary()
    return {
        "rate": s["rate"],
        "p50_ms": s["p50_ms"],
        "p99_ms": s["p99_ms"],
        "stack_cpu_ms": s["stack_cpu_ms_per_conversation"],
        "baseline_p50_ms": s["baseline_p50_ms"],
        "baseline_p99_ms": s["baseline_p99_ms"],
        "met": step.rate >= TARGET_RATE
        and step.replied == step.conversations
        and s["p50_ms"] <= TARGET_P50_MS
        and s["p99_ms"] <= TARGET_P99_MS
        and s["stack_cpu_ms_per_conversation"] <= TARGET_CPU_MS,
    }


def write(
    opts: argparse.Namespace,
    started: datetime,
    steps: Sequence[Step],
    where: Where,
) -> None:
    opts.results_dir.mkdir(parents=True, exist_ok=True)
    path = opts.results_dir / f"reply-{started:%Y%m%dT%H%M%SZ}.json"
    doc = {
        "benchmark": "reply",
        "started": started.isoformat(),
        "options": {k: str(v) for k, v in vars(opts).items() if k != "results_dir"},
        "steps": [s.summary() for s in steps],
        "verdict": verdict(steps) if steps else None,
        "raw": [asdict(s) for s in steps],
        "where": where,
    }
    path.write_text(json.dumps(doc, indent=2, default=str))
    print(f"results: {path}")


async def main(args: argparse.Namespace) -> int:
    return await run(args)


def _sample_knowledge() -> Path:
    import crm_ai

    return Path(crm_ai.__file__).parent / "knowledge" / "sample" / "documents"


SAMPLE_KNOWLEDGE = _sample_knowledge()
