"""Import the old product catalog: upsert by the old id (else by Thai name), one transaction each.

Like customers: compared before writing (a rerun changes nothing), the digest of what was written
kept in the audit entry (a rerun does not undo staff's price changes), and every created or changed
product published as `catalog.product_changed` so the AI quotes the imported prices. The rows
are the catalog's (`catalog.service`'s import functions lock, insert and update them); the last
import's digest is read from the audit log (`audit.service.last_import`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from crm_gateway.audit import service as audit
from crm_gateway.catalog.service import (
    insert_imported_product,
    lock_product_for_import,
    package_items,
    product_event,
    update_imported_product,
)
from crm_servicekit.logging import get_logger
from crm_servicekit.outbox import UnitOfWork

from .mapping import Problem
from .products import ProductRecord, map_product
from .report import Item, Status
from .sources import catalog_items

log = get_logger(__name__)

PRODUCT_IMPORT_ACTION = "product.import"


async def import_catalog(new_uow: Callable[[], UnitOfWork], path: Path, now: datetime) -> list[Item]:
    entries, failure = await asyncio.to_thread(catalog_items, path)
    if failure is not None:
        return [Item(path.name, "product", "failed", None, [failure])]
    items: list[Item] = []
    first: dict[str, str] = {}
    for number, raw in enumerate(entries, 1):
        source = f"{path.name}#{number}"
        if not isinstance(raw, dict):
            items.append(Item(source, "product", "failed", None, [Problem("product", "not a JSON object")]))
            continue
        mapped = map_product(raw)
        problems = list(mapped.problems)
        record = mapped.record
        if record is None:
            items.append(Item(source, "product", "failed", None, problems))
            continue
        key = record.legacy_id or record.name_th
        if key in first:
            why = f"the same product as {first[key]}, which was imported instead"
            items.append(Item(source, "product", "failed", key, [*problems, Problem("id", why)]))
            continue
        first[key] = source
        try:
            async with new_uow() as uow:
                status = await upsert_product(uow, record, now)
                await uow.commit()
        except SQLAlchemyError as exc:
            why = f"not stored ({type(exc).__name__}); run the import again"
            items.append(Item(source, "product", "failed", key, [*problems, Problem("product", why)]))
            continue
        items.append(Item(source, "product", status, key, problems))
    for item in items:
        fields = [p.field for p in item.problems]
        log.info("legacy product", source=item.source, status=item.status, problems=fields)
    return items


async def upsert_product(uow: UnitOfWork, record: ProductRecord, now: datetime) -> Status:
    session = uow.session
    row = None
    if record.legacy_id is not None:
        row = await lock_product_for_import(session, record.legacy_id, record.name_th)
    if row is None:  # never imported: perhaps entered by hand already, under its Thai name
        row = await lock_product_for_import(session, None, record.name_th)
    digest = record.digest()
    values = record.columns()
    if row is None:
        new = await insert_imported_product(session, values, now)
        await audit.record(
            session,
            actor=None,
            action=PRODUCT_IMPORT_ACTION,
            entity=("product", str(new.id)),
            after={**values, "import_digest": digest},
        )
        uow.emit(product_event(new))
        return "created"
    last = await audit.last_import(session, "product", str(row.id), PRODUCT_IMPORT_ACTION)
    if last == digest:
        return "unchanged"
    changed = {k: v for k, v in values.items() if row._mapping[k] != v}
    if not changed:
        return "unchanged"
    updated = await update_imported_product(session, row.id, changed, now)
    await audit.record(
        session,
        actor=None,
        action=PRODUCT_IMPORT_ACTION,
        entity=("product", str(row.id)),
        before={**{k: row._mapping[k] for k in changed}, "import_digest": last},
        after={**changed, "import_digest": digest},
    )
    # A package keeps its courses through an import: they travel with the event.
    uow.emit(product_event(updated, await package_items(session, row.id)))
    return "updated"
