"""`python -m crm_cache_writer [serve|migrate]` runs the service; `python -m crm_cache_writer
integrity` checks the analytics read model once, writes `analytics/integrity.json` and prints a
short summary (exit 1 when a check of severity `error` found something); `python -m
crm_cache_writer rebuild` rebuilds the analytics read model and its files from the producers'
internal APIs (`analytics/rebuild.py`), printing its progress (exit 1 when a producer failed)."""

from __future__ import annotations

import asyncio
import sys

from crm_servicekit.db import create_engine, create_sessionmaker
from crm_servicekit.logging import configure_logging
from crm_servicekit.runtime import run_cli
from crm_servicekit.secrets_check import enforce as enforce_secrets

from .analytics.integrity import IntegrityChecker, summary_lines
from .analytics.producers import ProducerFailed
from .analytics.rebuild import rebuild
from .app import build, create_app
from .config import CacheWriterSettings, RebuildSettings


async def integrity(settings: CacheWriterSettings) -> int:
    engine = create_engine(settings.async_database_url, pool_size=1, application_name=settings.service_name)
    try:
        checker = IntegrityChecker(create_sessionmaker(engine), settings.crm_cache_dir)
        snapshot = await checker.run_once()
    finally:
        await engine.dispose()
    if snapshot is None:
        print("another replica is checking right now; try again in a moment")
        return 2
    print("\n".join(summary_lines(snapshot)))
    print(f"written to {settings.crm_cache_dir / 'analytics/integrity.json'}")
    return 1 if any(c.count and c.severity == "error" for c in snapshot.checks) else 0


def rebuild_command() -> int:
    settings = RebuildSettings()
    configure_logging(settings.service_name, settings.log_level)
    enforce_secrets(settings)  # the token it sends: refused when unsafe, as the services refuse it
    try:
        asyncio.run(rebuild(settings))
    except ProducerFailed as exc:
        print(f"rebuild failed, nothing changed in the read model: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> None:
    if argv[:1] == ["rebuild"]:
        sys.exit(rebuild_command())
    settings = CacheWriterSettings()
    if argv[:1] == ["integrity"]:
        configure_logging(settings.service_name, settings.log_level)
        sys.exit(asyncio.run(integrity(settings)))
    run_cli("crm_cache_writer", settings, create_app, build, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
