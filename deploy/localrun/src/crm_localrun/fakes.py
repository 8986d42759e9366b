"""Fakes that run as processes next to the services: the Meta Marketing API fake.

`python -m crm_fakes marketing` serves one deterministic ad account whose numbers depend only on
the seed, the shape (campaigns, ad sets, ads) and the days it covers (ending today in Bangkok).
So whoever started it can rebuild the same universe in its own process and know the truth to the
satang (`MarketingFake.universe()`), while the services talk to the fake over HTTP.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Self
from zoneinfo import ZoneInfo

from crm_fakes import MarketingUniverse

from .processes import Child, stop_all

BANGKOK = ZoneInfo("Asia/Bangkok")


def bangkok_today() -> date:
    """The fake's universe ends on this day (it asks the same clock when it starts)."""
    return datetime.now(BANGKOK).date()


@dataclass
class MarketingFake:
    """The Meta Marketing API fake as a process on 127.0.0.1:`port`, accepting only `token`."""

    port: int
    token: str
    seed: int = 1
    campaigns: int = 6
    adsets: int = 2
    ads: int = 2
    days: int = 90
    polls: int = 2
    """Status polls until a report run completes."""
    log_path: Path | None = None
    """Where the fake's output goes; None: its log lines to this terminal."""
    startup_timeout: float = 30.0
    today: date = field(default_factory=bangkok_today)
    """The last day of the universe; set again when the process starts."""
    _child: Child | None = field(default=None, init=False, repr=False)
    _log: IO[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def since(self) -> date:
        """The first day with numbers."""
        return self.today - timedelta(days=self.days - 1)

    @property
    def account_id(self) -> str:
        """The fake's ad account, without `act_` (it depends on the seed only)."""
        return MarketingUniverse(self.seed, start=self.today, end=self.today).accounts[0].account_id

    def universe(self) -> MarketingUniverse:
        """The same objects and numbers the fake serves."""
        return MarketingUniverse(
            self.seed,
            campaigns_per_account=self.campaigns,
            adsets_per_campaign=self.adsets,
            ads_per_adset=self.ads,
            start=self.since,
            end=self.today,
        )

    def service_env(self) -> dict[str, str]:
        """What the marketing service needs to sync this fake's ad account."""
        return {
            "META_GRAPH_API_URL": self.url,
            "META_MARKETING_ACCESS_TOKEN": self.token,
            "META_AD_ACCOUNT_IDS": f"act_{self.account_id}",
        }

    def command(self) -> list[str]:
        shape = {
            "--port": self.port,
            "--token": self.token,
            "--seed": self.seed,
            "--campaigns": self.campaigns,
            "--adsets": self.adsets,
            "--ads": self.ads,
            "--days": self.days,
            "--polls": self.polls,
        }
        return [sys.executable, "-m", "crm_fakes", "marketing", *(str(x) for kv in shape.items() for x in kv)]

    def start(self) -> Self:
        """Start the process; returns once it answers (its control API, never a Graph call).

        Like the services, it never outlives the process that started it (`processes.py`)."""
        if self._child is not None:
            raise RuntimeError("the marketing fake is already running")
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("ab")
        self.today = bangkok_today()
        self._child = Child(
            "Marketing API fake",
            self.command(),
            env=dict(os.environ),
            ready_url=f"{self.url}/_fake/calls",
            # It prints only its URL on stdout; its log lines go to stderr.
            stdout=self._log if self._log is not None else subprocess.DEVNULL,
            stderr=subprocess.STDOUT if self._log is not None else None,
        )
        try:
            self._child.start()
            self._child.wait_ready(self.startup_timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL after 10 s); safe to call more than once."""
        child, log = self._child, self._log
        self._child = self._log = None
        try:
            if child is not None:
                stop_all([child], 10.0, _tell)
        finally:
            if log is not None:
                log.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _tell(line: str) -> None:
    # To stderr, and never in the way of stopping: stdout may be a pipe whose reader is gone.
    with contextlib.suppress(OSError, ValueError):
        print(line, file=sys.stderr, flush=True)
