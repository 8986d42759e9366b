"""Import the old system's customers: one transaction per file or CSV row, safe to run again.

- The customer id is the file's name. Before any customer is written, each (channel, year)
  counter is raised to the highest imported number, so the CRM never hands out an old id.
- A record is compared with what is stored before anything is written: a second run with the same
  files changes nothing (no version bump, note, stage row, timeline entry, audit entry or event).
  Each import's audit entry keeps the digest of the record it wrote; a record whose digest is the
  last one imported is skipped whole, so a rerun does not undo what staff changed since.
- A changed record sets the fields it gives and leaves the others as they are; `extra` is
  replaced (it holds what this import did not recognise). Notes are added when their text is new.
- An id held by a customer made in the CRM (not by an import) is not overwritten; erased and
  merged customers are not imported again.
- Each created or changed customer publishes `customer.created`/`customer.updated` with the
  whole customer through the outbox, so the cache-writer's snapshots and other services follow.

The writes go through the customers capability (`customers.imports`) and the audit log
(`audit.service`, which also finds the last import's digest); the catalog is `catalog_import`'s.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import (
    ChannelIdentity,
    CustomerCreated,
    CustomerCreatedData,
    CustomerUpdated,
    CustomerUpdatedData,
)
from crm_gateway.audit import service as audit
from crm_gateway.customers import imports
from crm_servicekit.logging import get_logger
from crm_servicekit.outbox import UnitOfWork

from .catalog_import import import_catalog
from .mapping import CustomerRecord, Problem, map_customer
from .report import Item, Report, Status
from .sources import Source, csv_rows, customer_files

log = get_logger(__name__)

NewUnitOfWork = Callable[[], UnitOfWork]
NEW_CUSTOMER_STAGE = "lead"
IMPORT_ACTION = "customer.import"
PROFILE_COLUMNS = ("display_name", "name_th", "name_latin", "nickname", "phone", "email")


@dataclass(frozen=True)
class Options:
    folder: Path | None = None
    customers_csv: Path | None = None
    catalog: Path | None = None
    # The Facebook page a PSID without its own page id belongs to (PSIDs are page-scoped).
    page_id: str | None = None


async def run(new_uow: NewUnitOfWork, options: Options, *, now: datetime | None = None) -> Report:
    now = now or datetime.now(UTC)
    correlation_id = f"legacy-import-{uuid.uuid4().hex}"
    sources = await asyncio.to_thread(read_customers, options)
    report = Report()
    await reserve_numbers(new_uow, sources)
    first_source: dict[str, str] = {}
    for source in sources:
        item = await import_source(new_uow, source, options, first_source, now, correlation_id)
        log.info(
            "legacy customer",
            source=source.name if source.customer_id else "(not an id)",
            status=item.status,
            problems=[p.field for p in item.problems],
        )
        report.items.append(item)
    if options.catalog is not None:
        report.items.extend(await import_catalog(new_uow, options.catalog, now))
    return report


def read_customers(options: Options) -> list[Source]:
    skip = {p.resolve() for p in (options.catalog, options.customers_csv) if p is not None}
    sources = customer_files(options.folder, skip) if options.folder is not None else []
    if options.customers_csv is not None:
        sources += csv_rows(options.customers_csv)
    return sources


async def reserve_numbers(new_uow: NewUnitOfWork, sources: list[Source]) -> None:
    """In one transaction before any customer: new customers never take an id being imported."""
    highest: dict[tuple[str, int], int] = {}
    for s in sources:
        if s.customer_id is not None:
            _, _, channel, year, number = s.customer_id.split("-")
            key = (channel, int(year))
            highest[key] = max(highest.get(key, 0), int(number))
    async with new_uow() as uow:
        await imports.reserve_numbers(uow.session, highest)
        await uow.commit()


async def import_source(
    new_uow: NewUnitOfWork,
    source: Source,
    options: Options,
    first_source: dict[str, str],
    now: datetime,
    correlation_id: str,
) -> Item:
    customer_id = source.customer_id
    if source.skipped is not None:
        return Item(source.name, "file", "skipped", None, [source.skipped])
    if source.failure is not None or source.raw is None or customer_id is None:
        failure = source.failure or Problem("file", "unreadable")
        return Item(source.name, "customer", "failed", customer_id, [failure])
    if customer_id in first_source:
        why = f"the same customer as {first_source[customer_id]}, which was imported instead"
        return Item(source.name, "customer", "failed", customer_id, [Problem("id", why)])
    first_source[customer_id] = source.name
    mapped = map_customer(source.raw, customer_id=customer_id, default_page_id=options.page_id)
    problems = list(mapped.problems)
    try:
        async with new_uow() as uow:
            status = await upsert_customer(uow, customer_id, mapped.record, problems, now, correlation_id)
            await uow.commit()
    except SQLAlchemyError as exc:  # the message could quote a value: only its kind is shown
        log.warning("legacy customer not stored", customer_id=customer_id, error=type(exc).__name__)
        why = f"not stored ({type(exc).__name__}); run the import again"
        return Item(source.name, "customer", "failed", customer_id, [*problems, Problem("customer", why)])
    return Item(source.name, "customer", status, customer_id, problems)


async def upsert_customer(
    uow: UnitOfWork,
    customer_id: str,
    record: CustomerRecord,
    problems: list[Problem],
    now: datetime,
    correlation_id: str,
) -> Status:
    """Create, update or leave the customer; appends what could not be done to `problems`."""
    session = uow.session
    current = await imports.lock_customer(session, customer_id)
    if current is None:
        await _create(uow, customer_id, record, problems, now, correlation_id)
        return "created"
    if current.state != "active":
        why = "erased on request" if current.state == "erased" else f"merged into {current.merged_into}"
        problems.append(Problem("customer", f"{why}; not imported again"))
        return "unchanged"
    last_digest = await audit.last_import(session, "customer", customer_id, IMPORT_ACTION)
    if last_digest is None:
        why = "the id belongs to a customer made in the CRM, not by an import; not overwritten"
        problems.append(Problem("id", why))
        return "failed"
    identities = await _free_identities(session, customer_id, record.identities, problems)
    digest = record.digest()
    if last_digest == digest:
        return "unchanged"
    desired = _columns(record)
    if record.touch is not None and current.latest_touch in (None, current.first_touch):
        desired["latest_touch"] = desired["first_touch"]  # nothing newer came since
    changed = {k: v for k, v in desired.items() if current._mapping[k] != v}
    known = await imports.note_bodies(session, customer_id)
    notes = [n for n in record.notes if n.body not in known]
    if not changed and not identities and not notes:
        return "unchanged"
    await imports.update_customer(session, customer_id, changed, now)
    await _add_identities(session, customer_id, identities)
    await _add_notes(session, customer_id, notes, now)
    if "lifecycle_stage" in changed:
        before_stage, stage = current.lifecycle_stage, changed["lifecycle_stage"]
        await imports.add_stage_change(session, customer_id, before_stage, stage, now)
        await imports.add_timeline_entry(
            session,
            customer_id,
            "stage_changed",
            now,
            {"from": before_stage, "to": stage, "by": "import"},
            source_id=f"legacy:{customer_id}:stage:{digest[:16]}",
        )
    await audit.record(
        session,
        actor=None,
        action=IMPORT_ACTION,
        entity=("customer", customer_id),
        before={**{k: current._mapping[k] for k in changed}, "import_digest": last_digest},
        after={**changed, "import_digest": digest, **_added(identities, notes)},
    )
    snapshot = await imports.customer(session, customer_id)
    assert snapshot is not None
    names = [*_event_names(changed), *(["identities"] if identities else []), *(["notes"] if notes else [])]
    data = CustomerUpdatedData(**snapshot.model_dump(), changed=names)
    uow.emit(CustomerUpdated(correlation_id=correlation_id, data=data))
    return "updated"


async def _create(
    uow: UnitOfWork,
    customer_id: str,
    record: CustomerRecord,
    problems: list[Problem],
    now: datetime,
    correlation_id: str,
) -> None:
    session = uow.session
    values = _columns(record)
    stage = values.setdefault("lifecycle_stage", NEW_CUSTOMER_STAGE)
    created_at = values.setdefault("created_at", now)
    channel = customer_id.split("-")[2]
    touch = values.get("first_touch")
    await imports.insert_customer(
        session, {**values, "id": customer_id, "channel": channel, "latest_touch": touch, "updated_at": now}
    )
    identities = await _free_identities(session, customer_id, record.identities, problems)
    await _add_identities(session, customer_id, identities)
    await _add_notes(session, customer_id, list(record.notes), now)
    await imports.add_stage_change(session, customer_id, None, stage, now)
    await imports.add_timeline_entry(
        session,
        customer_id,
        "customer_created",
        created_at,
        {"channel": channel, "by": "import", "stage": stage},
        source_id=f"legacy:{customer_id}:created",
    )
    await audit.record(
        session,
        actor=None,
        action=IMPORT_ACTION,
        entity=("customer", customer_id),
        after={**values, "import_digest": record.digest(), **_added(identities, list(record.notes))},
    )
    snapshot = await imports.customer(session, customer_id)
    assert snapshot is not None
    data = CustomerCreatedData(**snapshot.model_dump(exclude={"updated_at"}))
    uow.emit(CustomerCreated(correlation_id=correlation_id, data=data))


def _columns(record: CustomerRecord) -> dict[str, Any]:
    """The `customers` columns the record gives a value for (and `extra`, always)."""
    out: dict[str, Any] = {c: getattr(record, c) for c in PROFILE_COLUMNS if getattr(record, c) is not None}
    if record.tags is not None:
        out["tags"] = list(record.tags)
    if record.stage is not None:
        out["lifecycle_stage"] = record.stage
    if record.consent is not None:
        consent = record.consent
        out |= {"consent_status": consent.status, "consent_at": consent.at, "consent_method": consent.method}
    if record.touch is not None:
        out["first_touch"] = record.touch.model_dump(mode="json", exclude_none=True)
    if record.created_at is not None:
        out["created_at"] = record.created_at
    out["extra"] = record.extra
    return out


def _event_names(changed: dict[str, Any]) -> list[str]:
    """Column names as the customer's snapshot names its fields (`consent` is three columns)."""
    names = ["consent" if c.startswith("consent_") else c for c in changed]
    return list(dict.fromkeys(names))


def _added(identities: list[ChannelIdentity], notes: list[Any]) -> dict[str, int]:
    return {k: n for k, n in (("identities_added", len(identities)), ("notes_added", len(notes))) if n}


async def _free_identities(
    session: AsyncSession, customer_id: str, identities: tuple[ChannelIdentity, ...], problems: list[Problem]
) -> list[ChannelIdentity]:
    """The identities to add: not this customer's yet, and nobody else's (that is reported)."""
    free = []
    for identity in identities:
        owner = await imports.customer_for_identity(session, identity)
        if owner is None:
            free.append(identity)
        elif owner != customer_id:
            field = "psid" if identity.channel == "messenger" else f"{identity.channel}_id"
            problems.append(Problem(field, f"belongs to customer {owner} already; not added"))
    return free


async def _add_identities(session: AsyncSession, customer_id: str, identities: list[ChannelIdentity]) -> None:
    for identity in identities:
        await imports.add_identity(session, customer_id, identity)


async def _add_notes(session: AsyncSession, customer_id: str, notes: list[Any], now: datetime) -> None:
    for note in notes:
        at = note.at or now
        note_id = await imports.add_note(session, customer_id, note.body, at)
        body_key = hashlib.sha256(note.body.encode()).hexdigest()[:16]
        await imports.add_timeline_entry(
            session,
            customer_id,
            "note_added",
            at,
            {"note_id": str(note_id), "by": "import"},
            source_id=f"legacy:{customer_id}:note:{body_key}",
        )
