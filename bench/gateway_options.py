"""`python -m bench gateway`'s options (its module holds the passes and the report)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .profile import add_where_argument

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customers", type=int, default=50_000, help="customers loaded (default: 50000)")
    parser.add_argument(
        "--orders", type=int, default=200_000, help="orders loaded, spread evenly (default: 200000)"
    )
    parser.add_argument("--seconds", type=float, default=6.0, help="length of each measurement (default: 6)")
    parser.add_argument(
        "--concurrency",
        default="1,4,16",
        help="concurrent clients, one run per value, comma-separated (default: 1,4,16)",
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="uvicorn worker processes per server (default: 2)"
    )
    parser.add_argument(
        "--warmup", type=float, default=1.0, help="unmeasured seconds before each scenario (default: 1)"
    )
    parser.add_argument(
        "--pages", type=int, default=5, help="list pages followed by `next_cursor` (default: 5)"
    )
    parser.add_argument(
        "--no-cache-pass", action="store_true", help="skip the pass with the snapshots written"
    )
    parser.add_argument("--only", default="", help="scenario keys to run, comma-separated (default: all)")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for the gateway, to compare settings (e.g. OTEL_SDK_DISABLED=true)",
    )
    parser.add_argument(
        "--seed", type=int, default=1, help="seed of the data and of the requests (default: 1)"
    )
    add_where_argument(parser, "each scenario once more, the gateway and its workers")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where the JSON goes")


@dataclass(frozen=True)
class Options:
    customers: int
    orders_per_customer: int
    seconds: float
    concurrency: list[int]
    workers: int
    warmup: float
    pages: int
    cache_pass: bool
    only: list[str]
    env: dict[str, str]
    seed: int
    results_dir: Path
    where: bool = True

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        levels = concurrency_levels(args.concurrency, most=256)
        if not 10 <= args.customers <= 1_000_000 or args.orders < 0:
            raise SystemExit("--customers must be in [10, 1000000], --orders at least 0")
        if not 0 < args.seconds <= 120:
            raise SystemExit("--seconds in (0, 120]")
        if not 1 <= args.workers <= 16 or not 0 <= args.warmup <= 30 or not 1 <= args.pages <= 100:
            raise SystemExit("--workers in [1, 16], --warmup in [0, 30], --pages in [1, 100]")
        return cls(
            customers=int(args.customers),
            orders_per_customer=round(args.orders / args.customers),
            seconds=float(args.seconds),
            concurrency=levels,
            workers=int(args.workers),
            warmup=float(args.warmup),
            pages=int(args.pages),
            cache_pass=not args.no_cache_pass,
            only=[k.strip() for k in str(args.only).split(",") if k.strip()],
            env=_env_pairs(args.env),
            seed=int(args.seed),
            results_dir=Path(args.results_dir),
            where=bool(args.where),
        )


def concurrency_levels(text: str, *, most: int) -> list[int]:
    """`--concurrency` as sorted distinct levels, each in [1, most]."""
    try:
        levels = sorted({int(c) for c in str(text).split(",") if c.strip()})
    except ValueError:
        levels = []
    if not levels or not all(1 <= c <= most for c in levels):
        raise SystemExit(f"--concurrency: comma-separated values in [1, {most}]")
    return levels


def _env_pairs(pairs: Sequence[str]) -> dict[str, str]:
    if not all("=" in p and p.index("=") > 0 for p in pairs):
        raise SystemExit("--env takes KEY=VALUE")
    return dict(p.split("=", 1) for p in pairs)
