"""Every SQL statement about customers."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, bindparam, desc, insert, literal, literal_column, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import AdReferral, ChannelIdentity, MarketingConsent
from crm_contracts.snapshots import CustomerSnapshot
from crm_gateway.customers.ids import CustomerChannel
from crm_gateway.customers.models import customer_id_sequences as seq
from crm_gateway.customers.models import customer_identities as ident
from crm_gateway.customers.models import customer_notes as notes_t
from crm_gateway.customers.models import customer_stage_changes as stages
from crm_gateway.customers.models import customer_timeline as tl
from crm_gateway.customers.models import customers as cust
from crm_servicekit.sqlcache import bound, frozen

# Built once: SQLAlchemy compiles an ON CONFLICT statement again on every execution unless frozen
# (`crm_servicekit.sqlcache`); they run for every new customer and conversation.
_ONE = literal_column("1", Integer)  # in the SQL itself: a literal value cannot be frozen
_NEXT_NUMBER = frozen(
    upsert(seq)
    .values(channel=bindparam("channel"), year=bindparam("year"), last_value=_ONE)
    .on_conflict_do_update(
        index_elements=[seq.c.channel, seq.c.year], set_={"last_value": seq.c.last_value + _ONE}
    )
    .returning(seq.c.last_value)
)
_ADD_TIMELINE_ENTRY = frozen(
    upsert(tl)
    .values(bound("customer_id", "kind", "occurred_at", "detail", "source_id"))
    .on_conflict_do_nothing(index_elements=[tl.c.source_id])
)


async def customer_for_identity(session: AsyncSession, identity: ChannelIdentity) -> str | None:
    # `= NULL` never matches and IS NOT DISTINCT FROM cannot use the unique index: pick per case.
    page = ident.c.page_id.is_(None) if identity.page_id is None else ident.c.page_id == identity.page_id
    row = await session.execute(
        select(ident.c.customer_id).where(
            ident.c.channel == identity.channel, page, ident.c.external_id == identity.external_id
        )
    )
    return row.scalar_one_or_none()


async def next_customer_number(session: AsyncSession, channel: CustomerChannel, year: int) -> int:
    """The next number of (channel, year), with no gaps.

    The upsert locks the counter row until this transaction ends, so allocators queue up behind
    each other; a rollback gives the number back. Call it in the transaction that inserts the
    customer, as late as possible, since the lock is held until commit.
    """
    number: int = (await session.execute(_NEXT_NUMBER, {"channel": channel, "year": year})).scalar_one()
    return number


async def insert_customer(
    session: AsyncSession,
    *,
    customer_id: str,
    channel: CustomerChannel,
    lifecycle_stage: str,
    touch: AdReferral | None,
    identity: ChannelIdentity,
    now: datetime,
) -> None:
    """Raises IntegrityError if the identity belongs to a customer already (a concurrent insert)."""
    touch_json = _json(touch)
    await session.execute(
        insert(cust).values(
            id=customer_id,
            channel=channel,
            lifecycle_stage=lifecycle_stage,
            first_touch=touch_json,
            latest_touch=touch_json,
            created_at=now,
            updated_at=now,
        )
    )
    await session.execute(
        insert(ident).values(
            customer_id=customer_id,
            channel=identity.channel,
            page_id=identity.page_id,
            external_id=identity.external_id,
        )
    )


async def set_latest_touch(session: AsyncSession, customer_id: str, touch: AdReferral, now: datetime) -> None:
    await session.execute(
        update(cust).where(cust.c.id == customer_id).values(latest_touch=_json(touch), updated_at=now)
    )


@dataclass(frozen=True)
class Profile:
    """A customer's public Messenger profile, as last fetched by the messenger."""

    first_name: str | None
    last_name: str | None
    profile_pic: str | None
    fetched_at: datetime | None


@dataclass(frozen=True)
class NamedCustomer:
    display_name: str | None
    profile: Profile


async def lock_names(session: AsyncSession, customer_id: str) -> NamedCustomer | None:
    """The customer's display name and profile, row-locked until the transaction ends."""
    row = (
        await session.execute(
            select(
                cust.c.display_name,
                cust.c.first_name,
                cust.c.last_name,
                cust.c.profile_pic,
                cust.c.profile_fetched_at,
            )
            .where(cust.c.id == customer_id)
            .with_for_update()
        )
    ).first()
    if row is None:
        return None
    profile = Profile(row.first_name, row.last_name, row.profile_pic, row.profile_fetched_at)
    return NamedCustomer(row.display_name, profile)


async def set_names(
    session: AsyncSession,
    customer_id: str,
    *,
    display_name: str | None,
    profile: Profile,
    updated_at: datetime | None,
) -> None:
    """Store the profile and display name; `updated_at` None leaves it as it is (nothing changed)."""
    values: dict[str, Any] = {
        "display_name": display_name,
        "first_name": profile.first_name,
        "last_name": profile.last_name,
        "profile_pic": profile.profile_pic,
        "profile_fetched_at": profile.fetched_at,
    }
    if updated_at is not None:
        values["updated_at"] = updated_at
    await session.execute(update(cust).where(cust.c.id == customer_id).values(**values))


async def customer(session: AsyncSession, customer_id: str) -> CustomerSnapshot | None:
    rows = (await session.execute(select(cust).where(cust.c.id == customer_id))).all()
    snapshots = await with_identities(session, rows)
    return snapshots[0] if snapshots else None


async def touches(session: AsyncSession, customer_id: str) -> Any:
    """The customer's first and latest ad touch as stored (JSONB) and its state, the row share-locked
    until the transaction ends (a merge, which locks it for update, waits); None without it."""
    stmt = (
        select(cust.c.first_touch, cust.c.latest_touch, cust.c.state, cust.c.merged_into)
        .where(cust.c.id == customer_id)
        .with_for_update(read=True)
    )
    return (await session.execute(stmt)).one_or_none()


async def with_identities(session: AsyncSession, rows: Sequence[Any]) -> list[CustomerSnapshot]:
    if not rows:
        return []
    found = await session.execute(
        select(ident.c.customer_id, ident.c.channel, ident.c.page_id, ident.c.external_id)
        .where(ident.c.customer_id.in_([r.id for r in rows]))
        .order_by(ident.c.id)
    )
    identities: dict[str, list[ChannelIdentity]] = defaultdict(list)
    for i in found:
        identities[i.customer_id].append(
            ChannelIdentity(channel=i.channel, page_id=i.page_id, external_id=i.external_id)
        )
    return [snapshot(r, identities[r.id]) for r in rows]


def snapshot(r: Any, identities: list[ChannelIdentity]) -> CustomerSnapshot:
    """The customer as events and the cache carry it, from a `customers` row."""
    consent = (
        MarketingConsent(status=r.consent_status, at=r.consent_at, method=r.consent_method or "unknown")
        if r.consent_status is not None and r.consent_at is not None
        else None
    )
    return CustomerSnapshot(
        customer_id=r.id,
        channel=r.channel,
        display_name=r.display_name,
        lifecycle_stage=r.lifecycle_stage,
        identities=identities,
        first_touch=r.first_touch,
        latest_touch=r.latest_touch,
        created_at=r.created_at,
        updated_at=r.updated_at,
        name_th=r.name_th,
        name_latin=r.name_latin,
        nickname=r.nickname,
        phone=r.phone,
        email=r.email,
        tags=list(r.tags or ()),
        assigned_staff_id=r.assigned_staff_id,
        consent=consent,
        version=r.version,
    )


def _json(touch: AdReferral | None) -> dict[str, Any] | None:
    return touch.model_dump(mode="json", exclude_none=True) if touch else None


# --- the profile staff keep ----------------------------------------------------------------------


async def insert_staff_customer(
    session: AsyncSession,
    *,
    customer_id: str,
    channel: CustomerChannel,
    lifecycle_stage: str,
    values: dict[str, Any],
    identities: Sequence[ChannelIdentity],
    now: datetime,
) -> None:
    """Raises IntegrityError if an identity belongs to a customer already (a concurrent insert)."""
    await session.execute(
        insert(cust).values(
            id=customer_id,
            channel=channel,
            lifecycle_stage=lifecycle_stage,
            created_at=now,
            updated_at=now,
            **values,
        )
    )
    if identities:
        await session.execute(
            insert(ident),
            [
                {
                    "customer_id": customer_id,
                    "channel": i.channel,
                    "page_id": i.page_id,
                    "external_id": i.external_id,
                }
                for i in identities
            ],
        )


@dataclass(frozen=True)
class CustomerState:
    state: str
    merged_into: str | None
    version: int


async def customer_state(
    session: AsyncSession, customer_id: str, *, lock: bool = False
) -> CustomerState | None:
    """The customer's state; with `lock`, its row stays locked until the transaction ends."""
    query = select(cust.c.state, cust.c.merged_into, cust.c.version).where(cust.c.id == customer_id)
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    return CustomerState(row.state, row.merged_into, row.version) if row else None


async def update_customer(
    session: AsyncSession, customer_id: str, values: dict[str, Any], now: datetime
) -> None:
    """Set `values`, bump the version (the ETag) and `updated_at`."""
    await session.execute(
        update(cust)
        .where(cust.c.id == customer_id)
        .values(**values, version=cust.c.version + 1, updated_at=now)
    )


async def add_stage_change(
    session: AsyncSession,
    customer_id: str,
    from_stage: str | None,
    to_stage: str,
    staff_id: uuid.UUID | None,
    at: datetime,
) -> None:
    await session.execute(
        insert(stages).values(
            customer_id=customer_id,
            from_stage=from_stage,
            to_stage=to_stage,
            changed_by=staff_id,
            changed_at=at,
        )
    )


@dataclass(frozen=True)
class Note:
    id: uuid.UUID
    body: str
    author_id: uuid.UUID | None
    created_at: datetime


async def insert_note(
    session: AsyncSession, customer_id: str, body: str, author_id: uuid.UUID | None, at: datetime
) -> Note:
    row = (
        await session.execute(
            insert(notes_t)
            .values(customer_id=customer_id, body=body, author_id=author_id, created_at=at)
            .returning(notes_t.c.id)
        )
    ).one()
    return Note(row.id, body, author_id, at)


async def notes(session: AsyncSession, customer_id: str, *, limit: int = 200) -> list[Note]:
    rows = await session.execute(
        select(notes_t.c.id, notes_t.c.body, notes_t.c.author_id, notes_t.c.created_at)
        .where(notes_t.c.customer_id == customer_id)
        .order_by(desc(notes_t.c.created_at), desc(notes_t.c.id))
        .limit(limit)
    )
    return [Note(r.id, r.body, r.author_id, r.created_at) for r in rows]


@dataclass(frozen=True)
class TimelineEntry:
    id: int
    kind: str
    occurred_at: datetime
    detail: dict[str, Any]


async def timeline_page(
    session: AsyncSession, customer_id: str, *, limit: int, before: tuple[datetime, int] | None
) -> list[TimelineEntry]:
    """Newest first, strictly before the keyset `before`."""
    query = (
        select(tl.c.id, tl.c.kind, tl.c.occurred_at, tl.c.detail)
        .where(tl.c.customer_id == customer_id)
        .order_by(desc(tl.c.occurred_at), desc(tl.c.id))
        .limit(limit)
    )
    if before is not None:
        at, entry_id = before
        query = query.where(
            tuple_(tl.c.occurred_at, tl.c.id)
            < tuple_(literal(at, tl.c.occurred_at.type), literal(entry_id, tl.c.id.type))
        )
    return [TimelineEntry(r.id, r.kind, r.occurred_at, r.detail) for r in await session.execute(query)]


async def add_timeline_entry(
    session: AsyncSession,
    customer_id: str,
    kind: str,
    occurred_at: datetime,
    detail: Mapping[str, Any] | None,
    *,
    source_id: str | None,
) -> None:
    """One timeline entry; a second entry with the same `source_id` is dropped."""
    params = {
        "customer_id": customer_id,
        "kind": kind,
        "occurred_at": occurred_at,
        "detail": dict(detail or {}),
        "source_id": source_id,
    }
    await session.execute(_ADD_TIMELINE_ENTRY, params)
