"""The audit log: every write records who, what, when, and the before/after of the fields it
changed, with personal data masked.

    await audit.record(
        uow.session, actor=staff, action="customer.update", entity=("customer", customer_id),
        before={"phone": "+66812345678"}, after={"phone": "+66898765432"},
    )

Call it in the transaction of the change, so a change is never without its entry (and an entry
never without its change). Masking is by field name: anything in `PERSONAL_FIELDS` is shown only
as much as a person needs to recognise that it changed (`+66******678`, `s***@gmail.com`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.audit.models import audit_log
from crm_gateway.auth.domain import Staff

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
    entry_id: uuid.UUID = (
        await session.execute(insert(audit_log).values(**values).returning(audit_log.c.id))
    ).scalar_one()
    return entry_id


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
