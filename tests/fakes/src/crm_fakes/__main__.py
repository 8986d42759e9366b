"""`python -m crm_fakes {meta,gemini,otlp} --port N [--host 127.0.0.1]`: run one fake."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

from fastapi import FastAPI

from crm_fakes.gemini import create_gemini_app
from crm_fakes.meta import create_meta_app
from crm_fakes.otlp import create_otlp_app
from crm_fakes.server import FakeServer

APPS: dict[str, Callable[[], FastAPI]] = {
    "meta": create_meta_app,
    "gemini": create_gemini_app,
    "otlp": create_otlp_app,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crm_fakes", description=__doc__)
    parser.add_argument("fake", choices=sorted(APPS))
    parser.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    with FakeServer(APPS[args.fake](), host=args.host, port=args.port, log_level=args.log_level) as fake:
        print(fake.url, flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
