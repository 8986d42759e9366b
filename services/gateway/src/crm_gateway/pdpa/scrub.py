"""What an erasure does to each of the gateway's tables (see `pdpa` for the request around it).

The customer row becomes a stub: every column is cleared unless `KEPT_CUSTOMER_COLUMNS` names it,
so a personal field added later is erased without anyone remembering this module. Identities and
notes are deleted; timeline entries only when they name the person; orders, lines and payments
stay for the school's accounts (payment references and refund reasons cleared); audit entries
keep who did what when, with the values of personal fields replaced; unpublished outbox events
naming the person are dropped. Values are searched for as JSON writes them, and never logged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Text, case, cast, delete, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import ChannelIdentity
from crm_gateway.audit import service as audit
from crm_gateway.audit.models import audit_log
from crm_gateway.customers.models import customer_identities as ident
from crm_gateway.customers.models import customer_notes as notes
from crm_gateway.customers.models import customer_timeline as timeline
from crm_gateway.customers.models import customers as cust
from crm_gateway.db import outbox
from crm_gateway.orders.models import orders, payments
from crm_servicekit.pdpa import needle_forms, purge_outbox

ERASED = "[erased]"

# Columns of `customers` an erasure keeps: the id, what the school counts (stage, channel, the ad
# that brought them, minus its free-form `ref`), bookkeeping, and who on staff looked after them.
KEPT_CUSTOMER_COLUMNS = frozenset(
    {
        "id",
        "channel",
        "lifecycle_stage",
        "first_touch",
        "latest_touch",
        "created_at",
        "updated_at",
        "version",
        "state",
        "merged_into",
        "assigned_staff_id",
        "search_names",  # computed from the names, so empty once they are
    }
)
# Columns that cannot be NULL are emptied instead.
EMPTY_VALUES: dict[str, Any] = {"tags": [], "extra": {}}
# Fields of audit `changes` whose values are personal data, masked or not: all become ERASED.
ERASED_AUDIT_FIELDS = audit.PERSONAL_FIELDS | {
    "tags",
    "reference",
    "reason",
    "consent",
    "consent_status",
    "consent_at",
    "consent_method",
}
# Cleared, but values from a fixed vocabulary ("form", "vip"): not searched for elsewhere.
NOT_NEEDLES = frozenset({"tags", "consent_status", "consent_method"})
# Needles shorter than this would match unrelated text ("Bo" in "Book"), so they are not searched
# for; the fields holding them are cleared by name anyway.
MIN_NEEDLE_CHARS = 3


def _cleared_customer_values() -> dict[str, Any]:
    values: dict[str, Any] = {}
    for column in cust.c:
        if column.name in KEPT_CUSTOMER_COLUMNS:
            continue
        if column.name in EMPTY_VALUES:
            values[column.name] = EMPTY_VALUES[column.name]
        elif column.nullable:
            values[column.name] = None
        else:  # fails at import, i.e. in every test run, rather than leave a field unerased
            raise RuntimeError(f"customers.{column.name} is NOT NULL: say how an erasure empties it")
    return values


CLEARED_CUSTOMER_VALUES = _cleared_customer_values()


@dataclass(frozen=True)
class GatewayErasure:
    identities: list[ChannelIdentity]
    """The identities the customers had, for the other services to find their copies by."""
    counts: dict[str, int]
    """What was erased, by kind (no data)."""
    needles: list[str]
    """Values unique to the person (PSIDs, phones, e-mails, quoted customer ids)."""


async def erase_gateway_copy(
    session: AsyncSession, customer_ids: list[str], *, now: datetime
) -> GatewayErasure:
    """Everything the gateway holds on these customers that names the person, gone or anonymised
    in the caller's transaction."""
    needles = await _personal_values(session, customer_ids)
    found = await session.execute(
        delete(ident)
        .where(ident.c.customer_id.in_(customer_ids))
        .returning(ident.c.channel, ident.c.page_id, ident.c.external_id)
    )
    identities = [
        ChannelIdentity(channel=i.channel, page_id=i.page_id, external_id=i.external_id) for i in found
    ]
    # Unique to this person wherever they appear, unlike a first name.
    distinctive = [
        *(i.external_id for i in identities),
        *needles.distinctive,
        *(f'"{c}"' for c in customer_ids),
    ]
    counts = {"identities": len(identities)}
    counts["notes"] = await _rowcount(
        session.execute(delete(notes).where(notes.c.customer_id.in_(customer_ids)))
    )
    counts["timeline_entries"] = await _delete_personal_timeline(
        session, customer_ids, [*needles.all, *distinctive]
    )
    order_ids = list(
        (await session.execute(select(orders.c.id).where(orders.c.customer_id.in_(customer_ids)))).scalars()
    )
    counts["orders_anonymised"] = len(order_ids)
    # Amounts, methods and dates stay; the bank reference and a refund's free-text reason go.
    counts["payments_anonymised"] = await _rowcount(
        session.execute(
            update(payments)
            .where(
                payments.c.order_id.in_(order_ids),
                or_(payments.c.reference.is_not(None), payments.c.reason.is_not(None)),
            )
            .values(reference=None, reason=None)
        )
    )
    if order_ids:
        # The ad that brought the order stays (marketing counts it); its free-form `ref` may not.
        attribution = orders.c.attribution.delete_path(["first_touch", "ref"]).delete_path(
            ["latest_touch", "ref"]
        )
        await session.execute(
            update(orders).where(orders.c.id.in_(order_ids)).values(attribution=attribution)
        )
    counts["audit_entries"] = await _scrub_audit(
        session, customer_ids, [str(o) for o in order_ids], needles.all, distinctive
    )
    counts["outbox_events"] = await purge_outbox(session, outbox, distinctive)
    counts["customers"] = await _rowcount(
        session.execute(
            update(cust)
            .where(cust.c.id.in_(customer_ids))
            .values(
                **CLEARED_CUSTOMER_VALUES,
                first_touch=_without_ref(cust.c.first_touch),
                latest_touch=_without_ref(cust.c.latest_touch),
                state="erased",
                merged_into=None,
                version=cust.c.version + 1,
                updated_at=now,
            )
        )
    )
    return GatewayErasure(identities, counts, distinctive)


def _without_ref(touch: Any) -> Any:
    """SQL: an ad touch without its free-form `ref` (a touch can be JSON null: no ad)."""
    return case((func.jsonb_typeof(touch) == "object", touch.op("-")(literal("ref", Text))), else_=touch)


@dataclass(frozen=True)
class _Needles:
    all: list[str]
    """Every personal value of the customers: searched for in their own rows only."""
    distinctive: list[str]
    """Phones and e-mails: searched for wherever the person could appear."""


async def _personal_values(session: AsyncSession, customer_ids: list[str]) -> _Needles:
    rows = (await session.execute(select(cust).where(cust.c.id.in_(customer_ids)))).all()
    values: list[str] = []
    distinctive: list[str] = []
    for row in rows:
        for name in CLEARED_CUSTOMER_VALUES.keys() - NOT_NEEDLES:
            values.extend(_strings(row._mapping[name]))
        distinctive.extend(v for v in (row.phone, row.email) if v)
    bodies = await session.execute(select(notes.c.body).where(notes.c.customer_id.in_(customer_ids)))
    values.extend(bodies.scalars())
    keep = [v for v in dict.fromkeys(values) if len(v.strip()) >= MIN_NEEDLE_CHARS]
    return _Needles(keep, distinctive)


def _strings(value: Any) -> Iterable[str]:
    """The strings in a column's value (an `extra` document or `tags` array included)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _mentions(column: Any, needles: Sequence[str]) -> Any:
    """SQL: the column's JSON text contains one of the needles (as JSON writes them)."""
    text = cast(column, Text)
    return or_(*(func.strpos(text, form) > 0 for form in needle_forms(needles)))


async def _delete_personal_timeline(
    session: AsyncSession, customer_ids: list[str], needles: list[str]
) -> int:
    """The timeline keeps what happened (stages, orders, payments); an entry about a note, or one
    whose detail names the person, goes."""
    personal = timeline.c.kind == "note_added"
    if needle_forms(needles):
        personal = or_(personal, _mentions(timeline.c.detail, needles))
    return await _rowcount(
        session.execute(delete(timeline).where(timeline.c.customer_id.in_(customer_ids), personal))
    )


async def _scrub_audit(
    session: AsyncSession,
    customer_ids: list[str],
    order_ids: list[str],
    needles: list[str],
    distinctive: list[str],
) -> int:
    """Audit entries about the customers (or their orders), and any naming them elsewhere, keep who
    did what when; the values of personal fields become ERASED and a merge's undo is dropped."""
    about = or_(
        (audit_log.c.entity_type == "customer") & audit_log.c.entity_id.in_(customer_ids),
        (audit_log.c.entity_type == "order") & audit_log.c.entity_id.in_(order_ids),
        _mentions(audit_log.c.changes, distinctive),
        _mentions(audit_log.c.undo, distinctive),
    )
    rows = (
        await session.execute(select(audit_log.c.id, audit_log.c.changes, audit_log.c.undo).where(about))
    ).all()
    scrubbed = 0
    for row in rows:
        changes = scrub_changes(row.changes, [*needles, *distinctive])
        if changes == row.changes and row.undo is None:
            continue
        await session.execute(
            update(audit_log).where(audit_log.c.id == row.id).values(changes=changes, undo=None)
        )
        scrubbed += 1
    return scrubbed


def scrub_changes(changes: dict[str, Any], needles: Sequence[str]) -> dict[str, Any]:
    """`changes` with ERASED for every value of a personal field or one naming the person."""
    forms = needle_forms(v for v in needles if len(v.strip()) >= MIN_NEEDLE_CHARS)

    def names_person(value: Any) -> bool:
        return any(form in str(value) for form in forms)

    out: dict[str, Any] = {}
    for field, change in changes.items():
        if field not in ERASED_AUDIT_FIELDS and not names_person(change):
            out[field] = change
        elif isinstance(change, dict):
            out[field] = {k: None if v is None else ERASED for k, v in change.items()}
        else:
            out[field] = ERASED
    return out


async def merged_into(session: AsyncSession, customer_id: str) -> list[str]:
    """The customers merged into this one, directly or through another merged one."""
    tree = select(cust.c.id).where(cust.c.merged_into == customer_id).cte("merged", recursive=True)
    tree = tree.union(select(cust.c.id).where(cust.c.merged_into == tree.c.id))
    return sorted((await session.execute(select(tree.c.id))).scalars())


async def _rowcount(result: Any) -> int:
    rowcount: int = (await result).rowcount
    return rowcount
