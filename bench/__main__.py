"""`python -m bench` runs every benchmark with its defaults, then prints the table of the hot paths;
`python -m bench NAME [options]` runs one.

uv run python -m bench                       # all (`make bench`), then the table
uv run python -m bench --quick               # the table's benchmarks at a tiny size (`make test`)
uv run python -m bench table                 # the newest results' table again
uv run python -m bench compare [--accept]    # beside bench/baseline.json (--accept: make it the baseline)
uv run python -m bench webhook --rates 100,250,500,750 --seconds 10
uv run python -m bench reply --rates 10,50 --seconds 10
uv run python -m bench consumer --events 20000
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from . import consumer, dashboards, gateway, gateway_options, insights, reply, retrieval, table, ui, webhook


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
    "consumer": Benchmark(
        "an event consumer with the inbox (claim + effect + commit + ack) vs raw aio-pika consume + ack",
        consumer.add_arguments,
        consumer.main,
    ),
    "insights": Benchmark(
        "a year of hourly insights for 200 ads from the fake Marketing API vs raw COPY",
        insights.add_arguments,
        insights.main,
    ),
    "gateway": Benchmark(
        "customer search, customer 360, list pages and orders on 50,000 loaded customers vs bare FastAPI",
        gateway_options.add_arguments,
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


# A few seconds per path: proves each benchmark still runs end to end (`make test`); its figures
# are printed, never judged.
QUICK: dict[str, list[str]] = {
    "webhook": ["--rates", "50", "--seconds", "1", "--warmup", "0.5", "--pause", "0.2", "--psids", "20"],
    "reply": ["--rates", "5", "--seconds", "2", "--warmup", "3"],
    "consumer": ["--events", "300"],
    "insights": ["--days", "3", "--campaigns", "1", "--adsets", "2", "--ads", "2", "--sample-days", "2"],
    "gateway": ["--customers", "500", "--orders", "1000", "--seconds", "0.5", "--warmup", "0.1",
                "--concurrency", "4", "--pages", "3", "--only", "search-name,customer,overview,list,order"],
    "dashboards": ["--customers", "300", "--orders", "1200", "--ads", "20", "--days", "35", "--burst", "500",
                   "--render-seconds", "0.5", "--seconds", "0.3", "--warmup", "0.1", "--concurrency", "1"],
}  # fmt: skip
TABLE_BENCHMARKS = tuple(QUICK)


def _parsers() -> dict[str, argparse.ArgumentParser]:
    parsers: dict[str, argparse.ArgumentParser] = {}
    for name, bench in BENCHMARKS.items():
        parsers[name] = argparse.ArgumentParser(prog=f"python -m bench {name}", description=bench.help)
        bench.add_arguments(parsers[name])
    return parsers


def run_one(name: str, options: argparse.Namespace) -> int:
    print(f"== {name} ==", flush=True)
    return run_async(BENCHMARKS[name].main(options))


def run_many(argv: list[str]) -> int:
    """`python -m bench [--quick] [--results-dir DIR] [NAME ...]`: run them (default: every one),
    then print the table of the hot paths."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"default: all of {', '.join(BENCHMARKS)}")
    parser.add_argument("--quick", action="store_true", help="a few seconds per benchmark (proves they run)")
    parser.add_argument("--results-dir", type=Path, default=table.RESULTS_DIR)
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    names = args.names or (list(TABLE_BENCHMARKS) if args.quick else list(BENCHMARKS))
    parsers = _parsers()
    started = datetime.now(UTC) - timedelta(seconds=1)
    status = 0
    for name in names:
        extra = QUICK.get(name, []) if args.quick else []
        try:  # one broken benchmark must not cost the others' figures and the table
            options = parsers[name].parse_args([*extra, "--results-dir", str(args.results_dir)])
            status = max(status, run_one(name, options))
        except SystemExit as exc:
            print(f"== {name} stopped: {exc.code} ==", flush=True)
            status = max(status, exc.code if isinstance(exc.code, int) else 1)
    rows = table.rows_of(table.newest_results(args.results_dir, since=started))
    print("\n== the hot paths (issue 16): ours beside the raw baseline of the same run ==")
    print(table.render(rows))
    print(f"table: {table.write(rows, args.results_dir)}")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    _raise_open_files_limit()
    try:
        if args and args[0] in ("table", "compare"):
            parser = argparse.ArgumentParser(prog=f"python -m bench {args[0]}", description=table.__doc__)
            table.add_arguments(parser)
            options = parser.parse_args(args[1:])
            return table.show(options) if args[0] == "table" else table.compare_main(options)
        if (
            args
            and args[0] in BENCHMARKS
            and not any(a in BENCHMARKS for a in args[1:])
            and "--quick" not in args
        ):
            return run_one(args[0], _parsers()[args[0]].parse_args(args[1:]))
        return run_many(args)
    except KeyboardInterrupt:
        print("interrupted; servers stopped, database and vhost dropped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
