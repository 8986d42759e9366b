"""The customers capability's side of the legacy import (`crm_gateway.legacy.importer` decides
what to write; this is how it is written; the SQL is in `customers.imports_repository`).

Before any customer, `reserve_numbers` raises the id counters past the imported ids. Then, per
customer in one transaction: `lock_customer`, `insert_customer` or `update_customer`, identities
(`customer_for_identity` says whose one is, `add_identity`), notes (`note_bodies` to skip known
text, `add_note`), `add_stage_change` and their `add_timeline_entry`; `customer` reads the
snapshot the import's event carries. Nothing here is done by staff: no author, no `changed_by`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import ChannelIdentity
from crm_contracts.snapshots import CustomerSnapshot
from crm_gateway.customers import imports_repository, repository, timeline


async def reserve_numbers(session: AsyncSession, highest: Mapping[tuple[str, int], int]) -> None:
    """Raise each (channel, year) counter to at least the highest imported number, never lower it,
    so the CRM's next customer of that channel and year gets a number no old customer has."""
    await imports_repository.reserve_numbers(session, highest)


async def lock_customer(session: AsyncSession, customer_id: str) -> Row[Any] | None:
    """The customer's row (every column), locked until the transaction ends; None if there is none."""
    return await imports_repository.lock_customer(session, customer_id)


async def insert_customer(session: AsyncSession, values: Mapping[str, Any]) -> None:
    """A customer row with these column values (the id among them)."""
    await imports_repository.insert_customer(session, values)


async def update_customer(
    session: AsyncSession, customer_id: str, values: Mapping[str, Any], now: datetime
) -> None:
    """Set `values`, bump the version (the ETag) and `updated_at`."""
    await imports_repository.update_customer(session, customer_id, values, now)


async def customer_for_identity(session: AsyncSession, identity: ChannelIdentity) -> str | None:
    """The id of the customer holding this channel identity; None if nobody does."""
    return await repository.customer_for_identity(session, identity)


async def add_identity(session: AsyncSession, customer_id: str, identity: ChannelIdentity) -> None:
    await imports_repository.add_identity(session, customer_id, identity)


async def note_bodies(session: AsyncSession, customer_id: str) -> set[str]:
    """The text of the customer's notes."""
    return await imports_repository.note_bodies(session, customer_id)


async def add_note(session: AsyncSession, customer_id: str, body: str, at: datetime) -> uuid.UUID:
    """A note without an author; its id."""
    return await imports_repository.add_note(session, customer_id, body, at)


async def add_stage_change(
    session: AsyncSession, customer_id: str, from_stage: str | None, to_stage: str, at: datetime
) -> None:
    """A stage change by no one on staff."""
    await imports_repository.add_stage_change(session, customer_id, from_stage, to_stage, at)


async def add_timeline_entry(
    session: AsyncSession,
    customer_id: str,
    kind: timeline.Kind,
    occurred_at: datetime,
    detail: Mapping[str, Any],
    *,
    source_id: str,
) -> None:
    """A timeline entry; a second one with the same `source_id` (a rerun) is dropped."""
    await timeline.add(session, customer_id, kind, occurred_at, detail, source_id=source_id)


async def customer(session: AsyncSession, customer_id: str) -> CustomerSnapshot | None:
    """The customer as its events carry it; None if there is none."""
    return await repository.customer(session, customer_id)
