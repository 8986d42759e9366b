"""The audit log: every write records who, what, when, and the before/after of the fields it
changed, with personal data masked.

    await audit.record(
        uow.session, actor=staff, action="customer.update", entity=("customer", customer_id),
        before={"phone": "+66812345678"}, after={"phone": "+66898765432"},
    )

Call it in the transaction of the change, so a change is never without its entry (and an entry
never without its change). Masking is by field name: anything in `PERSONAL_FIELDS` is shown only
as much as a person needs to recognise that it changed (`+66******678`, `s***@gmail.com`).

Besides writing: `list_entries` pages the log for `GET /audit`; a merge's undo locks its entry
(`lock_entry`) and marks it undone (`mark_undone`); the legacy import finds the digest its last run
wrote (`last_import`); a PDPA export reads the entries about a customer and their orders
(`entries_about`) and an erasure scrubs them (`scrub_personal`: who did what when stays, the
personal values become ERASED and a merge's undo is dropped). The SQL is in `audit.repository`.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.audit import repository
from crm_gateway.auth.domain import Staff
from crm_gateway.errors import InvalidParameter
from crm_servicekit.pdpa import needle_forms

# Values of these fields are personal data: the audit keeps their shape, never the value.
PERSONAL_FIELDS = frozenset(
    {
        "display_name",
        "name_th",
        "name_latin",
        "nickname",
        "first_name",
        "last_name",
        "phone",
        "email",
        "body",
        "profile_pic",
        "external_id",
        "identities",
        "extra",
        "name",
    }
)


def mask(field: str, value: Any) -> Any:
    """`value` as the audit shows it: unchanged unless `field` holds personal data."""
    value = plain(value)
    if value is None or field not in PERSONAL_FIELDS:
        return value
    if isinstance(value, str):
        return mask_text(field, value)
    if isinstance(value, list):
        return f"[{len(value)} item{'s' if len(value) != 1 else ''}]"
    if isinstance(value, dict):
        return f"[{len(value)} field{'s' if len(value) != 1 else ''}]"
    return "***"


def mask_text(field: str, value: str) -> str:
    if field == "phone":
        return value[:3] + "*" * max(len(value) - 6, 3) + value[-3:] if len(value) > 6 else "***"
    if field == "email":
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}" if domain else "***"
    if field == "body":
        return f"[{len(value)} characters]"
    return value[:1] + "***" if value else ""


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """`{field: {"before": ..., "after": ...}}` for the fields whose value differs, masked."""
    out: dict[str, dict[str, Any]] = {}
    for field in sorted(set(before) | set(after)):
        old, new = plain(before.get(field)), plain(after.get(field))
        if old != new:
            out[field] = {"before": mask(field, old), "after": mask(field, new)}
    return out


async def record(
    session: AsyncSession,
    *,
    actor: Staff | None,
    action: str,
    entity: tuple[str, str],
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    undo: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> uuid.UUID:
    """Write one entry in the caller's transaction; its id (a merge's undo names it).

    `before`/`after` hold the changed fields' values (only those that differ are kept). `undo`
    is what an admin's undo restores, unmasked: only merges keep it, and an erasure clears it.
    """
    entity_type, entity_id = entity
    values: dict[str, Any] = {
        "actor_id": actor.id if actor else None,
        "actor_role": actor.role.value if actor else None,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "changes": changes(before or {}, after or {}),
        "undo": dict(undo) if undo is not None else None,
    }
    if at is not None:
        values["at"] = at
    return await repository.insert_entry(session, values)


def plain(value: Any) -> Any:
    """JSON-ready: decimals as exact strings, times in ISO 8601, enums as their values."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


# --- reading the log ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What `GET /audit` narrows the log to; None: not narrowed by that."""

    entity_type: str | None = None
    entity_id: str | None = None
    actor_id: uuid.UUID | None = None
    action: str | None = None
    since: datetime | None = None
    """At or after."""
    until: datetime | None = None
    """Before."""


async def list_entries(
    session: AsyncSession, filters: Filters, *, limit: int, cursor: str | None
) -> tuple[list[Row[Any]], str | None]:
    """A page of entries, newest first, and the cursor of the next page (None on the last)."""
    rows = await repository.page(
        session,
        equal={
            "entity_type": filters.entity_type,
            "entity_id": filters.entity_id,
            "actor_id": filters.actor_id,
            "action": filters.action,
        },
        since=filters.since,
        until=filters.until,
        before=_decode(cursor) if cursor is not None else None,
        limit=limit + 1,
    )
    items = list(rows[:limit])
    next_cursor = _encode(items[-1].at, items[-1].id) if len(rows) > limit else None
    return items, next_cursor


def _encode(at: datetime, entry_id: uuid.UUID) -> str:
    raw = json.dumps([at.isoformat(), str(entry_id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        at_text, entry_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        at = datetime.fromisoformat(at_text)
        if at.tzinfo is None:
            raise ValueError("naive time")
        return at, uuid.UUID(entry_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, AttributeError) as exc:
        raise InvalidParameter("cursor", "query", "Not a cursor this API returned.") from exc


# --- a merge's undo ----------------------------------------------------------------------------


async def lock_entry(session: AsyncSession, entry_id: uuid.UUID) -> Row[Any] | None:
    """The entry (every column), locked until the transaction ends; None if there is none."""
    return await repository.lock_entry(session, entry_id)


async def mark_undone(session: AsyncSession, entry_id: uuid.UUID, *, by: uuid.UUID, at: datetime) -> None:
    """Record that `by` undid the entry's change at `at` (it is no longer undoable)."""
    await repository.mark_undone(session, entry_id, by=by, at=at)


# --- the legacy import -------------------------------------------------------------------------


async def last_import(session: AsyncSession, entity_type: str, entity_id: str, action: str) -> str | None:
    """The digest of the record the last import of this entity wrote; None if never imported.

    An entity that exists without any import entry was made in the CRM: an import must not
    overwrite it. An import that wrote a record also wrote its digest, so an unchanged record
    is skipped without touching what staff changed since.
    """
    return await repository.last_import(session, entity_type, entity_id, action)


# --- PDPA: export and erasure ------------------------------------------------------------------

ERASED = "[erased]"
# Fields of `changes` whose values are personal data, masked or not: an erasure makes them ERASED.
ERASED_FIELDS = PERSONAL_FIELDS | {
    "tags",
    "reference",
    "reason",
    "consent",
    "consent_status",
    "consent_at",
    "consent_method",
}


async def entries_about(
    session: AsyncSession, *, customer_ids: Sequence[str], order_ids: Sequence[str]
) -> list[dict[str, Any]]:
    """Every entry about these customers or their orders, oldest first, with all its columns."""
    return [dict(r._mapping) for r in await repository.about(session, customer_ids, order_ids)]


async def scrub_personal(
    session: AsyncSession,
    *,
    customer_ids: Sequence[str],
    order_ids: Sequence[str],
    mentioning: Sequence[str],
    needles: Sequence[str],
) -> int:
    """Entries about the customers (or their orders), and any whose `changes` or `undo` mention
    one of `mentioning` elsewhere, keep who did what when; the values of personal fields, and
    values containing one of `needles`, become ERASED and a merge's undo is dropped. Returns how
    many entries changed."""
    rows = await repository.about_or_mentioning(session, customer_ids, order_ids, mentioning)
    scrubbed = 0
    for row in rows:
        changes = scrub_changes(row.changes, needles)
        if changes == row.changes and row.undo is None:
            continue
        await repository.set_scrubbed(session, row.id, changes)
        scrubbed += 1
    return scrubbed


def scrub_changes(changes: dict[str, Any], needles: Sequence[str]) -> dict[str, Any]:
    """`changes` with ERASED for every value of a personal field or one containing a needle (as
    JSON writes it). The caller leaves out needles too short to be the person's alone."""
    forms = needle_forms(needles)

    def names_person(value: Any) -> bool:
        return any(form in str(value) for form in forms)

    out: dict[str, Any] = {}
    for field, change in changes.items():
        if field not in ERASED_FIELDS and not names_person(change):
            out[field] = change
        elif isinstance(change, dict):
            out[field] = {k: None if v is None else ERASED for k, v in change.items()}
        else:
            out[field] = ERASED
    return out
