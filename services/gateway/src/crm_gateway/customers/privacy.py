"""What the customers capability holds on a person, for the PDPA rights (`crm_gateway.pdpa`
orchestrates them; the SQL is in `customers.privacy_repository`).

- Access: `export` reads every row about the customer and the customers merged into it
  (`merged_into`) column by column, so a column added later is exported without anyone
  remembering this module.
- Erasure, step by step in the caller's transaction (the request locks the customer first with
  `state(lock=True)`): `personal_values` gathers the values to search free text for,
  `delete_identities`, `delete_notes` and `delete_personal_timeline` remove what names the person,
  and `make_stubs` leaves each customer row as an anonymous stub: every column is cleared unless
  `KEPT_CUSTOMER_COLUMNS` names it, so a personal field added later is erased too.

Values are never logged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row as SqlRow
from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import ChannelIdentity
from crm_gateway.customers import privacy_repository as repository
from crm_gateway.customers.models import customers as cust

Row = dict[str, Any]

# Derived from the names (which are exported), for search only.
NOT_EXPORTED = frozenset({"search_names"})
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
# Cleared, but values from a fixed vocabulary ("form", "vip") or the ai's words about the person
# (lead reasons, insights), not the person's own: not searched for elsewhere.
NOT_NEEDLES = frozenset(
    {"tags", "consent_status", "consent_method", "lead_temperature", "lead_reasons", "insights"}
)
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


# --- state and merges --------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerState:
    state: str
    merged_into: str | None


async def state(session: AsyncSession, customer_id: str, *, lock: bool = False) -> CustomerState | None:
    """The customer's state and the customer it was merged into; None if there is no such customer.
    `lock`: its row stays locked until the transaction ends (an erasure takes this lock first)."""
    row = await repository.state(session, customer_id, lock=lock)
    return CustomerState(row.state, row.merged_into) if row else None


async def merged_into(session: AsyncSession, customer_id: str) -> list[str]:
    """The customers merged into this one, directly or through another merged one."""
    return await repository.merged_into(session, customer_id)


# --- access ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerCopy:
    """Every row the customers capability holds on a customer and those merged into it."""

    profile: Row
    """Every field of the customer, with its channel `identities`."""
    merged_customers: list[Row]
    identities: list[ChannelIdentity]
    """Of all of them, for the other services to find their copies by."""
    stage_history: list[Row]
    notes: list[Row]
    timeline: list[Row]


async def export(session: AsyncSession, customer_id: str, merged: Sequence[str]) -> CustomerCopy | None:
    """The customer's rows and those of the customers `merged` into it; None if it does not exist."""
    ids = [customer_id, *merged]
    customers = {r["id"]: r for r in _plain(await repository.customers(session, ids))}
    if customer_id not in customers:
        return None
    identity_rows = _plain(await repository.identities(session, ids))
    by_customer: dict[str, list[Row]] = defaultdict(list)
    for i in identity_rows:
        by_customer[i["customer_id"]].append({k: i[k] for k in ("channel", "page_id", "external_id")})
    profiles = {c: {**row, "identities": by_customer[c]} for c, row in customers.items()}
    return CustomerCopy(
        profile=profiles.pop(customer_id),
        merged_customers=list(profiles.values()),
        identities=[
            ChannelIdentity(channel=i["channel"], page_id=i["page_id"], external_id=i["external_id"])
            for i in identity_rows
        ],
        stage_history=_plain(await repository.stage_changes(session, ids)),
        notes=_plain(await repository.notes_of(session, ids)),
        timeline=_plain(await repository.timeline_of(session, ids)),
    )


def _plain(rows: Iterable[SqlRow[Any]]) -> list[Row]:
    return [{k: v for k, v in r._mapping.items() if k not in NOT_EXPORTED} for r in rows]


# --- erasure -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Needles:
    all: list[str]
    """Every personal value of the customers (long enough to search for): searched for in their
    own rows only."""
    distinctive: list[str]
    """Phones and e-mails: searched for wherever the person could appear."""


async def personal_values(session: AsyncSession, customer_ids: Sequence[str]) -> Needles:
    """The values of the customers' cleared columns and their notes' text, to find free text that
    names the person; read before anything is erased."""
    rows = await repository.customers(session, customer_ids)
    values: list[str] = []
    distinctive: list[str] = []
    for row in rows:
        for name in CLEARED_CUSTOMER_VALUES.keys() - NOT_NEEDLES:
            values.extend(_strings(row._mapping[name]))
        distinctive.extend(v for v in (row.phone, row.email) if v)
    values.extend(await repository.note_bodies(session, customer_ids))
    return Needles(searchable(dict.fromkeys(values)), distinctive)


def searchable(values: Iterable[str]) -> list[str]:
    """The values long enough to be the person's alone when found inside other text."""
    return [v for v in values if len(v.strip()) >= MIN_NEEDLE_CHARS]


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


async def delete_identities(session: AsyncSession, customer_ids: Sequence[str]) -> list[ChannelIdentity]:
    """Delete the customers' channel identities; the ones they had."""
    return [
        ChannelIdentity(channel=i.channel, page_id=i.page_id, external_id=i.external_id)
        for i in await repository.delete_identities(session, customer_ids)
    ]


async def delete_notes(session: AsyncSession, customer_ids: Sequence[str]) -> int:
    """Delete the customers' notes; how many there were."""
    return await repository.delete_notes(session, customer_ids)


async def delete_personal_timeline(
    session: AsyncSession, customer_ids: Sequence[str], needles: Sequence[str]
) -> int:
    """The timeline keeps what happened (stages, orders, payments); an entry about a note or the
    ai's profile of the person (lead scores, insights), or one whose detail mentions a needle,
    goes. How many went."""
    return await repository.delete_personal_timeline(session, customer_ids, needles)


async def make_stubs(session: AsyncSession, customer_ids: Sequence[str], *, now: datetime) -> int:
    """Each customer row becomes an anonymous, erased stub (see `KEPT_CUSTOMER_COLUMNS`); how many."""
    return await repository.make_stubs(session, customer_ids, CLEARED_CUSTOMER_VALUES, now)
