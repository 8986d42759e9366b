"""The rules about the profile staff keep: creating a customer by hand, changing their profile
(with If-Match), their lifecycle stage history, tags, notes, consent and assigned staff member.

Every change bumps the customer's version (its ETag), is audited with personal data masked,
shows in the timeline when it is one of its kinds, and publishes `customer.created/updated` with
the whole customer, so the cache-writer's snapshot and every other service follow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from crm_contracts import (
    ChannelIdentity,
    CustomerCreated,
    CustomerCreatedData,
    CustomerUpdated,
    CustomerUpdatedData,
    MarketingConsent,
)
from crm_contracts.snapshots import CustomerSnapshot
from crm_gateway.audit import service as audit
from crm_gateway.auth.domain import Staff
from crm_gateway.conversations.service import check_assignee
from crm_gateway.customers import repository, timeline
from crm_gateway.customers.errors import CustomerConflict, CustomerNotFound
from crm_gateway.customers.ids import CustomerChannel, bangkok_year, format_customer_id, is_customer_id
from crm_gateway.etags import check_if_match
from crm_servicekit.outbox import UnitOfWork

# Fields staff may set; `consent` is stored as three columns, the rest one column each.
PROFILE_FIELDS = (
    "name_th",
    "name_latin",
    "nickname",
    "display_name",
    "phone",
    "email",
    "tags",
    "lifecycle_stage",
    "assigned_staff_id",
)


@dataclass
class ProfileChange:
    """Validated values to set (a field absent from `values` is left as it is; None clears it)."""

    values: dict[str, Any] = field(default_factory=dict)
    consent: MarketingConsent | None = None
    consent_set: bool = False


@dataclass(frozen=True)
class NewCustomer:
    channel: CustomerChannel
    change: ProfileChange
    identities: list[ChannelIdentity]


async def create(
    uow: UnitOfWork, new: NewCustomer, *, staff: Staff, now: datetime | None = None
) -> CustomerSnapshot:
    """A customer entered by staff (walk-in, LINE, web form...): a gapless id of its channel."""
    now = now or datetime.now(UTC)
    values = dict(new.change.values)
    await check_assignee(uow.session, values.get("assigned_staff_id"))
    stage = values.pop("lifecycle_stage", None) or "lead"
    for identity in new.identities:
        owner = await repository.customer_for_identity(uow.session, identity)
        if owner is not None:
            raise CustomerConflict(f"This {identity.channel} identity already belongs to customer {owner}.")
    year = bangkok_year(now)
    # Allocated last before the insert: the counter row stays locked until the commit.
    number = await repository.next_customer_number(uow.session, new.channel, year)
    customer_id = format_customer_id(new.channel, year, number)
    consent = new.change.consent
    try:
        async with uow.savepoint():
            await repository.insert_staff_customer(
                uow.session,
                customer_id=customer_id,
                channel=new.channel,
                lifecycle_stage=stage,
                values=values | _consent_columns(consent),
                identities=new.identities,
                now=now,
            )
    except IntegrityError as exc:  # a concurrent request took one of the identities
        raise CustomerConflict("One of these identities was just given to another customer.") from exc
    await repository.add_stage_change(uow.session, customer_id, None, stage, staff.id, now)
    detail = {"channel": new.channel, "by": "staff"}
    await timeline.add(uow.session, customer_id, "customer_created", now, detail)
    snapshot = await _snapshot(uow, customer_id)
    await audit.record(
        uow.session,
        actor=staff,
        action="customer.create",
        entity=("customer", customer_id),
        after=_auditable(snapshot),
        at=now,
    )
    data = CustomerCreatedData(**snapshot.model_dump(exclude={"updated_at"}))
    uow.emit(CustomerCreated(correlation_id=customer_id, data=data))
    return snapshot


async def update(
    uow: UnitOfWork,
    customer_id: str,
    change: ProfileChange,
    *,
    if_match: str | None,
    staff: Staff,
    now: datetime | None = None,
) -> CustomerSnapshot:
    """Apply `change` if `if_match` names the current version (412/428 otherwise)."""
    now = now or datetime.now(UTC)
    current = await lock_active(uow, customer_id)
    check_if_match(if_match, current.version)
    values = dict(change.values)
    if change.consent_set:
        values |= _consent_columns(change.consent)
    if "assigned_staff_id" in values:
        await check_assignee(uow.session, values["assigned_staff_id"])
    before = _auditable(current)
    differing = {k: v for k, v in values.items() if _column_value(current, k) != v}
    if not differing:
        return current
    await repository.update_customer(uow.session, customer_id, differing, now)
    stage = differing.get("lifecycle_stage")
    if stage is not None:
        previous = current.lifecycle_stage
        await repository.add_stage_change(uow.session, customer_id, previous, stage, staff.id, now)
        await timeline.add(
            uow.session, customer_id, "stage_changed", now, {"from": current.lifecycle_stage, "to": stage}
        )
    snapshot = await _snapshot(uow, customer_id)
    await audit.record(
        uow.session,
        actor=staff,
        action="customer.update",
        entity=("customer", customer_id),
        before=before,
        after=_auditable(snapshot),
        at=now,
    )
    emit_updated(uow, snapshot, changed=changed_fields(differing))
    return snapshot


async def add_note(
    uow: UnitOfWork, customer_id: str, body: str, *, staff: Staff, now: datetime | None = None
) -> repository.Note:
    now = now or datetime.now(UTC)
    await lock_active(uow, customer_id)
    note = await repository.insert_note(uow.session, customer_id, body, staff.id, now)
    await timeline.add(uow.session, customer_id, "note_added", now, {"note_id": str(note.id)})
    await audit.record(
        uow.session,
        actor=staff,
        action="customer.note_add",
        entity=("customer", customer_id),
        after={"body": body},
        at=now,
    )
    return note


async def lock_active(uow: UnitOfWork, customer_id: str) -> CustomerSnapshot:
    """The customer, row-locked until the transaction ends; 404 unless it exists and is active."""
    if not is_customer_id(customer_id):
        raise CustomerNotFound(customer_id)
    state = await repository.customer_state(uow.session, customer_id, lock=True)
    if state is None:
        raise CustomerNotFound(customer_id)
    if state.state == "merged":
        raise CustomerConflict(f"Customer {customer_id} was merged into {state.merged_into}; use that one.")
    if state.state == "erased":
        raise CustomerConflict(f"Customer {customer_id} was erased (PDPA); nothing can be changed.")
    return await _snapshot(uow, customer_id)


def emit_updated(uow: UnitOfWork, snapshot: CustomerSnapshot, *, changed: list[str]) -> None:
    data = CustomerUpdatedData(**snapshot.model_dump(), changed=changed)
    uow.emit(CustomerUpdated(correlation_id=snapshot.customer_id, data=data))


def changed_fields(values: dict[str, Any]) -> list[str]:
    names = {"consent" if k.startswith("consent_") else k for k in values}
    return sorted(names)


async def _snapshot(uow: UnitOfWork, customer_id: str) -> CustomerSnapshot:
    snapshot = await repository.customer(uow.session, customer_id)
    if snapshot is None:
        raise CustomerNotFound(customer_id)
    return snapshot


def _consent_columns(consent: MarketingConsent | None) -> dict[str, Any]:
    if consent is None:
        return {"consent_status": None, "consent_at": None, "consent_method": None}
    return {"consent_status": consent.status, "consent_at": consent.at, "consent_method": consent.method}


def _column_value(snapshot: CustomerSnapshot, column: str) -> Any:
    if column.startswith("consent_"):
        consent = snapshot.consent
        if consent is None:
            return None
        return _consent_columns(consent)[column]
    value = getattr(snapshot, column)
    return list(value) if isinstance(value, list) else value


def _auditable(snapshot: CustomerSnapshot) -> dict[str, Any]:
    """The fields the audit compares (it masks the personal ones)."""
    out: dict[str, Any] = {name: getattr(snapshot, name) for name in PROFILE_FIELDS}
    out["consent"] = snapshot.consent.model_dump(mode="json") if snapshot.consent else None
    return out
