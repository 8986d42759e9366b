"""`python -m crm_gateway.legacy <folder> [--customers-csv F] [--catalog F] [--report F.json]
[--page-id ID]`: import the old system's customers and catalog into the gateway's database.

Reads the gateway's settings from the environment (DATABASE_URL, RABBITMQ_URL, ...). Events go
out as soon as each record is committed; with the broker unreachable they wait in the outbox for
the running gateway's relay. Exit code 0 when every file and row was read, 1 when some could not
be (the others are imported all the same), 2 when the import could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from crm_contracts import CustomerCreated, CustomerUpdated, ProductChanged
from crm_gateway.config import GatewaySettings
from crm_gateway.db import metadata
from crm_servicekit.logging import configure_logging, get_logger
from crm_servicekit.outbox import OutboxPublisher, UnitOfWork
from crm_servicekit.runtime import Runtime, build_runtime

from .importer import Options, run
from .report import Report

log = get_logger(__name__)
BROKER_TIMEOUT_SECONDS = 10.0


class RelayLater(OutboxPublisher):
    """Leaves committed events in the outbox: the gateway's relay publishes them."""

    async def publish_committed(self, rows: list[Any]) -> None:
        return None


async def import_all(settings: GatewaySettings, options: Options) -> Report:
    runtime: Runtime = build_runtime(
        settings, metadata, emits=[CustomerCreated, CustomerUpdated, ProductChanged]
    )
    outbox = runtime.outbox
    try:
        await asyncio.wait_for(runtime.broker.connect(), BROKER_TIMEOUT_SECONDS)
    except Exception as exc:
        log.warning(
            "broker unreachable: events wait for the gateway's outbox relay", error=type(exc).__name__
        )
        outbox = RelayLater(runtime.sessionmaker, outbox.table, {})

    def new_uow() -> UnitOfWork:
        return UnitOfWork(runtime.sessionmaker, outbox, runtime.inbox)

    try:
        return await run(new_uow, options)
    finally:
        await runtime.broker.stop()
        await runtime.engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m crm_gateway.legacy", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("folder", type=Path, nargs="?", help="one <customer id>.json file per customer")
    parser.add_argument("--customers-csv", type=Path, help="customers as CSV (a header row, an id column)")
    parser.add_argument("--catalog", type=Path, help="the product catalog (JSON)")
    parser.add_argument("--report", type=Path, help="also write the report here as JSON")
    parser.add_argument("--page-id", help="the Facebook page of PSIDs written without one")
    args = parser.parse_args(argv)
    if args.folder is None and args.customers_csv is None and args.catalog is None:
        parser.error("give a folder, --customers-csv or --catalog")
    for path in (args.folder, args.customers_csv, args.catalog):
        if path is not None and not path.exists():
            parser.error(f"{path} does not exist")
    settings = GatewaySettings()
    configure_logging(settings.service_name, settings.log_level)
    options = Options(args.folder, args.customers_csv, args.catalog, args.page_id)
    try:
        report = asyncio.run(import_all(settings, options))
    except (OSError, SQLAlchemyError) as exc:  # no database: nothing was imported
        print(f"import not run: {type(exc).__name__} (is DATABASE_URL right and migrated?)", file=sys.stderr)
        return 2
    print(report.summary())
    if args.report is not None:
        args.report.write_text(report.dumps() + "\n", encoding="utf-8")
        print(f"\nreport written to {args.report}")
    return 0 if report.all_read else 1


if __name__ == "__main__":
    sys.exit(main())
