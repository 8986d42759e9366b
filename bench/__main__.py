"""`python -m bench` runs every benchmark with its defaults; `python -m bench NAME [options]` one.

uv run python -m bench
uv run python -m bench webhook --rates 100,250,500,750 --seconds 10
uv run python -m bench reply --rates 10,50 --seconds 10
uv run python -m bench insights --days 365
uv run python -m bench gateway --customers 50000 --orders 200000 --concurrency 1,4,16
uv run python -m bench retrieval --chunks 10000 --queries 500
uv run python -m bench dashboards --customers 50000 --orders 200000 --ads 200 --days 365
uv run python -m bench ui --customers 50000 --conversations 3000 --runs 20 --messages 40
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from . import dashboards, gateway, insights, reply, retrieval, ui, webhook


@dataclass(frozen=True)
class Benchmark:
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    main: Callable[[argparse.Namespace], Coroutine[Any, Any, int]]


BENCHMARKS: dict[str, Benchmark] = {
    "webhook": Benchmark(
        "signed Meta webhooks at rising rates: messenger vs a bare FastAPI endpoint",
        webhook.add_arguments,
        webhook.main,
    ),
    "reply": Benchmark(
        "new conversations at 10 and 50/s: webhook to the AI's reply at the Send API fake, and the whole"
        " stack's CPU per conversation, vs a raw RabbitMQ round trip",
        reply.add_arguments,
        reply.main,
    ),
    "insights": Benchmark(
        "a year of hourly insights for 200 ads from the fake Marketing API vs raw COPY",
        insights.add_arguments,
        insights.main,
    ),
    "gateway": Benchmark(
        "customer search, customer 360, list pages and orders on 50,000 loaded customers vs bare FastAPI",
        gateway.add_arguments,
        gateway.main,
    ),
    "retrieval": Benchmark(
        "knowledge retrieval on 10,000 chunks (query embedding + hybrid search) vs brute-force numpy cosine",
        retrieval.add_arguments,
        retrieval.main,
    ),
    "dashboards": Benchmark(
        "a year's marketing for 200 ads: full render, a 10,000-fact burst, dashboard reads vs bare FastAPI",
        dashboards.add_arguments,
        dashboards.main,
    ),
    "ui": Benchmark(
        "the staff web app in chromium on 50,000 customers: JS shipped, time to interactive, webhook to"
        " visible vs a bare page and the raw SSE push",
        ui.add_arguments,
        ui.main,
    ),
}


def run_async(coro: Coroutine[Any, Any, int]) -> int:
    """On uvloop when it is installed (the servers' uvicorn uses it too): a cheaper client."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def _raise_open_files_limit() -> None:
    """Up to 2000 connections in flight need as many descriptors (servers inherit the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 20_000 if hard == resource.RLIM_INFINITY else min(hard, 20_000)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="name", metavar="NAME", help="one benchmark (default: all)")
    parsers: dict[str, argparse.ArgumentParser] = {}
    for name, bench in BENCHMARKS.items():
        parsers[name] = sub.add_parser(name, help=bench.help, description=bench.help)
        bench.add_arguments(parsers[name])
    args = parser.parse_args(argv)
    runs = [(args.name, args)] if args.name else [(n, p.parse_args([])) for n, p in parsers.items()]
    _raise_open_files_limit()
    status = 0
    for name, options in runs:
        print(f"== {name} ==", flush=True)
        try:
            status = max(status, run_async(BENCHMARKS[name].main(options)))
        except KeyboardInterrupt:
            print("interrupted; servers stopped, database and vhost dropped", file=sys.stderr)
            return 130
    return status


if __name__ == "__main__":
    sys.exit(main())
