"""`python -m crm_fakes {meta,gemini,otlp,marketing} --port N [--host 127.0.0.1]`: run one fake.

The marketing fake's universe is chosen with `--seed`, `--campaigns`, `--adsets`, `--ads`
(per parent), `--days` (ending today in Bangkok) and `--token` (required access token).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from types import FrameType
from zoneinfo import ZoneInfo

from fastapi import FastAPI

from crm_fakes.gemini import create_gemini_app
from crm_fakes.marketing import MarketingState, create_marketing_app
from crm_fakes.marketing_data import MarketingUniverse
from crm_fakes.meta import create_meta_app
from crm_fakes.otlp import create_otlp_app
from crm_fakes.server import FakeServer

APPS: dict[str, Callable[[], FastAPI]] = {
    "meta": create_meta_app,
    "gemini": create_gemini_app,
    "otlp": create_otlp_app,
    "marketing": create_marketing_app,
}


def marketing_app(args: argparse.Namespace) -> FastAPI:
    end = datetime.now(ZoneInfo("Asia/Bangkok")).date()
    universe = MarketingUniverse(
        args.seed,
        campaigns_per_account=args.campaigns,
        adsets_per_campaign=args.adsets,
        ads_per_adset=args.ads,
        start=end - timedelta(days=args.days - 1),
        end=end,
    )
    state = MarketingState(
        universe,
        access_token=args.token or None,
        polls_to_complete=args.polls,
        usage_increment=args.usage_increment,
    )
    return create_marketing_app(state)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crm_fakes", description=__doc__)
    parser.add_argument("fake", choices=sorted(APPS))
    parser.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--log-level", default="warning")
    marketing = parser.add_argument_group("marketing")
    marketing.add_argument("--seed", type=int, default=1)
    marketing.add_argument("--campaigns", type=int, default=6)
    marketing.add_argument("--adsets", type=int, default=2)
    marketing.add_argument("--ads", type=int, default=2)
    marketing.add_argument("--days", type=int, default=90)
    marketing.add_argument("--token", default="")
    marketing.add_argument("--polls", type=int, default=2, help="status polls until a report run completes")
    marketing.add_argument(
        "--usage-increment", type=float, default=1.0, help="usage percentage points each call adds"
    )
    args = parser.parse_args(argv)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    app = marketing_app(args) if args.fake == "marketing" else APPS[args.fake]()
    with FakeServer(app, host=args.host, port=args.port, log_level=args.log_level) as fake:
        print(fake.url, flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
