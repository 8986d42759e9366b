"""Two records of one person become one, and only an admin can take it back.

A merge keeps the survivor's id and moves the other customer's identities, orders, notes and
timeline to it; the survivor's empty fields are filled from the other, tags are joined, the
earlier first touch and the further lifecycle stage win. The merged customer stays as a row in
state `merged` (so its id still answers "merged into ..."), and the audit entry of the merge keeps
what an undo needs: the survivor's fields before and after, and the ids of everything moved.
`customer.merged` tells every service to re-key; an undo publishes `customer.merge_undone`.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import CustomerMerged, CustomerMergedData, CustomerMergeUndone, CustomerMergeUndoneData
from crm_contracts.snapshots import CustomerSnapshot
from crm_gateway.audit import service as audit
from crm_gateway.auth.domain import Staff
from crm_gateway.customers.errors import AuditEntryNotFound, CustomerConflict, CustomerNotFound
from crm_gateway.orders import service as orders
from crm_servicekit.outbox import UnitOfWork

from . import merges_repository, repository, timeline
from . import profile as customers
from .ids import is_customer_id

# Columns a merge may fill in the survivor, with how their values are kept in the audit's undo.
FILLED = ("name_th", "name_latin", "nickname", "display_name", "phone", "email", "assigned_staff_id")
CONSENT = ("consent_status", "consent_at", "consent_method")
# Further along wins; `lost` only when both were lost.
STAGE_RANK = {"lost": 0, "lead": 1, "contacted": 2, "qualified": 3, "enrolled": 4, "alumni": 5}
MERGE_ACTION = "customer.merge"


async def duplicates(session: AsyncSession, customer_id: str) -> list[merges_repository.Candidate]:
    state = await repository.customer_state(session, customer_id) if is_customer_id(customer_id) else None
    if state is None or state.state != "active":
        raise CustomerNotFound(customer_id)
    return await merges_repository.duplicate_candidates(session, customer_id)


async def merge(
    uow: UnitOfWork, survivor_id: str, merged_id: str, *, staff: Staff, now: datetime | None = None
) -> tuple[CustomerSnapshot, uuid.UUID]:
    """Merge `merged_id` into `survivor_id`; the survivor as it is now and the merge's id."""
    now = now or datetime.now(UTC)
    if survivor_id == merged_id:
        raise CustomerConflict("A customer cannot be merged into itself.")
    rows = await _lock_active_pair(uow.session, survivor_id, merged_id)
    survivor, other = rows[survivor_id], rows[merged_id]
    fill = merged_values(survivor, other)
    before = {column: audit.plain(getattr(survivor, column)) for column in fill}
    moved = await _move_everything(uow.session, merged_id, survivor_id)
    await repository.update_customer(uow.session, survivor_id, fill, now)

    await merges_repository.set_merged_into(uow.session, merged_id, survivor_id, now)
    if "lifecycle_stage" in fill:
        await repository.add_stage_change(
            uow.session, survivor_id, survivor.lifecycle_stage, fill["lifecycle_stage"], staff.id, now
        )
    after = {column: audit.plain(value) for column, value in fill.items()}
    merge_id = await audit.record(
        uow.session,
        actor=staff,
        action=MERGE_ACTION,
        entity=("customer", survivor_id),
        before=before | {"merged_id": None},
        after=after | {"merged_id": merged_id},
        undo={
            "merged_id": merged_id,
            "survivor_before": before,
            "survivor_after": after,
            "moved": moved.as_json(),
        },
        at=now,
    )
    await timeline.add(
        uow.session, survivor_id, "merged", now, {"merged_id": merged_id, "merge_id": str(merge_id)}
    )
    snapshot = await repository.customer(uow.session, survivor_id)
    assert snapshot is not None
    identities = await merges_repository.identities_by_id(uow.session, moved.identities)
    uow.emit(
        CustomerMerged(
            correlation_id=str(merge_id),
            data=CustomerMergedData(
                merge_id=merge_id,
                survivor_id=survivor_id,
                merged_id=merged_id,
                identities=identities,
                merged_at=now,
            ),
        )
    )
    customers.emit_updated(uow, snapshot, changed=sorted({*customers.changed_fields(fill), "identities"}))
    return snapshot, merge_id


async def undo(
    uow: UnitOfWork, entry_id: uuid.UUID, *, staff: Staff, now: datetime | None = None
) -> tuple[CustomerSnapshot, CustomerSnapshot]:
    """Undo the merge recorded as audit entry `entry_id`: (survivor, restored) as they are now.

    Fields staff changed on the survivor since the merge keep their new value; everything moved
    that is still on the survivor goes back.
    """
    now = now or datetime.now(UTC)
    entry = await audit.lock_entry(uow.session, entry_id)
    if entry is None or entry.action != MERGE_ACTION:
        raise AuditEntryNotFound(f"No merge was recorded as audit entry {entry_id}.")
    if entry.undone_at is not None:
        raise CustomerConflict("This merge was undone already.")
    if entry.undo is None:
        raise CustomerConflict("This merge can no longer be undone (the customer was erased).")
    survivor_id, merged_id = entry.entity_id, entry.undo["merged_id"]
    rows = await merges_repository.lock_pair(uow.session, survivor_id, merged_id)
    survivor, merged = rows.get(survivor_id), rows.get(merged_id)
    if survivor is None or merged is None or survivor.state != "active":
        raise CustomerConflict(f"Customer {survivor_id} is no longer active; the merge cannot be undone.")
    if merged.state != "merged" or merged.merged_into != survivor_id:
        raise CustomerConflict(f"Customer {merged_id} is no longer merged into {survivor_id}.")
    restore = {
        column: _column(column, value)
        for column, value in entry.undo["survivor_before"].items()
        if audit.plain(getattr(survivor, column)) == entry.undo["survivor_after"].get(column)
    }
    moved = await _move_everything(
        uow.session, survivor_id, merged_id, merges_repository.MovedIds.from_json(entry.undo["moved"])
    )
    await repository.update_customer(uow.session, survivor_id, restore, now)
    await merges_repository.set_merged_into(uow.session, merged_id, None, now)
    await audit.mark_undone(uow.session, entry_id, by=staff.id, at=now)
    await audit.record(
        uow.session,
        actor=staff,
        action="customer.merge_undo",
        entity=("customer", survivor_id),
        before={"merged_id": merged_id},
        after={"merged_id": None, "undone_merge": str(entry_id)},
        at=now,
    )
    detail = {"restored_id": merged_id, "merge_id": str(entry_id)}
    await timeline.add(uow.session, survivor_id, "merge_undone", now, detail)
    await timeline.add(uow.session, merged_id, "merge_undone", now, detail | {"survivor_id": survivor_id})
    identities = await merges_repository.identities_by_id(uow.session, moved.identities)
    uow.emit(
        CustomerMergeUndone(
            correlation_id=str(entry_id),
            data=CustomerMergeUndoneData(
                merge_id=entry_id,
                survivor_id=survivor_id,
                restored_id=merged_id,
                identities=identities,
                undone_at=now,
            ),
        )
    )
    survivor_now = await repository.customer(uow.session, survivor_id)
    restored_now = await repository.customer(uow.session, merged_id)
    assert survivor_now is not None
    assert restored_now is not None
    customers.emit_updated(
        uow, survivor_now, changed=sorted({*customers.changed_fields(restore), "identities"})
    )
    customers.emit_updated(uow, restored_now, changed=["identities", "state"])
    return survivor_now, restored_now


async def _move_everything(
    session: AsyncSession, source: str, target: str, only: merges_repository.MovedIds | None = None
) -> merges_repository.MovedIds:
    """Identities, notes and timeline (this capability's rows), then the orders (the orders
    capability's), from `source` to `target`: all of them, or only the ids in `only` (an undo)."""
    moved = await merges_repository.move_children(session, source, target, only)
    orders_moved = await orders.move_customer_orders(session, source, target, only.orders if only else None)
    return dataclasses.replace(moved, orders=orders_moved)


def merged_values(survivor: Any, other: Any) -> dict[str, Any]:
    """The survivor's columns that change: gaps filled, tags joined, earlier first touch, further stage."""
    out: dict[str, Any] = {}
    for column in FILLED:
        if getattr(survivor, column) is None and getattr(other, column) is not None:
            out[column] = getattr(other, column)
    if survivor.consent_status is None and other.consent_status is not None:
        out |= {column: getattr(other, column) for column in CONSENT}
    tags = list(survivor.tags or []) + [t for t in other.tags or [] if t not in (survivor.tags or [])]
    if tags != list(survivor.tags or []):
        out["tags"] = tags
    if other.first_touch and (survivor.first_touch is None or other.created_at < survivor.created_at):
        out["first_touch"] = other.first_touch
    if survivor.latest_touch is None and other.latest_touch is not None:
        out["latest_touch"] = other.latest_touch
    if STAGE_RANK[other.lifecycle_stage] > STAGE_RANK[survivor.lifecycle_stage]:
        out["lifecycle_stage"] = other.lifecycle_stage
    extra = dict(other.extra or {}) | dict(survivor.extra or {})
    if extra != dict(survivor.extra or {}):
        out["extra"] = extra
    return out


async def _lock_active_pair(session: AsyncSession, survivor_id: str, merged_id: str) -> dict[str, Any]:
    for customer_id in (survivor_id, merged_id):
        if not is_customer_id(customer_id):
            raise CustomerNotFound(customer_id)
    rows = await merges_repository.lock_pair(session, survivor_id, merged_id)
    for customer_id in (survivor_id, merged_id):
        row = rows.get(customer_id)
        if row is None:
            raise CustomerNotFound(customer_id)
        if row.state != "active":
            raise CustomerConflict(
                f"Customer {customer_id} is {row.state}; only active customers can be merged."
            )
    return rows


def _column(column: str, value: Any) -> Any:
    """A value kept in the audit's JSON back in its column's type."""
    if value is None:
        return None
    if column == "consent_at":
        return datetime.fromisoformat(value)
    if column == "assigned_staff_id":
        return uuid.UUID(value)
    return value
