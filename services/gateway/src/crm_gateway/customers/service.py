"""The rules about customers: who becomes one, their ids, their names, and where a read is served from."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import (
    ChannelIdentity,
    ContactProfileUpdated,
    ContactSeen,
    CustomerCreated,
    CustomerCreatedData,
    CustomerUpdated,
    CustomerUpdatedData,
)
from crm_contracts.snapshots import LATEST_CUSTOMERS_SIZE
from crm_gateway.customers import cache, hot_reads, leads, repository, timeline
from crm_gateway.customers import search as customer_search
from crm_gateway.customers.errors import CustomerConflict, CustomerNotFound
from crm_gateway.customers.ids import bangkok_year, format_customer_id, is_customer_id
from crm_gateway.customers.leads import CustomerView, Insights
from crm_gateway.customers.models import (
    LIFECYCLE_STAGES as LIFECYCLE_STAGES,  # the legacy import checks stages
)
from crm_gateway.errors import InvalidParameter
from crm_gateway.reads import HotReads
from crm_servicekit.logging import get_logger
from crm_servicekit.outbox import UnitOfWork

log = get_logger(__name__)

CONSUMER = "gateway.contacts"
PROFILES_CONSUMER = "gateway.profiles"
NEW_CUSTOMER_STAGE = "lead"
MAX_PAGE_SIZE = 200

Source = Literal["cache", "database"]


# --- contacts become customers --------------------------------------------------------------


async def contact_seen(uow: UnitOfWork, event: ContactSeen, *, now: datetime | None = None) -> str | None:
    """Make a Messenger contact a customer once; later ad referrals update its latest touch.

    Returns the customer's id, or None when this event was handled before. Two first contacts
    of one PSID racing each other: the identity's UNIQUE constraint fails the second, whose
    message is retried and then finds the customer the first one created.
    """
    if not await uow.claim(event.event_id, CONSUMER):
        return None
    now = now or datetime.now(UTC)
    data = event.data
    identity = ChannelIdentity(channel="messenger", page_id=data.page_id, external_id=data.psid)
    existing = await repository.customer_for_identity(uow.session, identity)
    if existing is not None:
        if data.referral is not None:
            await repository.set_latest_touch(uow.session, existing, data.referral, now)
            await timeline.add(
                uow.session,
                existing,
                "ad_touch",
                data.first_seen_at,
                {"ad_id": data.referral.ad_id, "conversation_id": str(data.conversation_id)},
                source_id=f"contact.seen:{event.event_id}",
            )
            customer = await repository.customer(uow.session, existing)
            assert customer is not None
            uow.emit(
                CustomerUpdated(
                    correlation_id=event.correlation_id,
                    data=CustomerUpdatedData(
                        **customer.model_dump(exclude={"updated_at"}),
                        updated_at=now,
                        changed=["latest_touch"],
                    ),
                )
            )
        await uow.commit()
        return existing

    year = bangkok_year(now)
    # Allocated last before the inserts: the counter row stays locked until the commit.
    number = await repository.next_customer_number(uow.session, "FB", year)
    customer_id = format_customer_id("FB", year, number)
    await repository.insert_customer(
        uow.session,
        customer_id=customer_id,
        channel="FB",
        lifecycle_stage=NEW_CUSTOMER_STAGE,
        touch=data.referral,
        identity=identity,
        now=now,
    )
    await repository.add_stage_change(uow.session, customer_id, None, NEW_CUSTOMER_STAGE, None, now)
    created = {"channel": "FB", "by": "messenger"}
    await timeline.add(uow.session, customer_id, "customer_created", now, created)
    await timeline.add(
        uow.session,
        customer_id,
        "conversation_started",
        data.first_seen_at,
        {
            "conversation_id": str(data.conversation_id),
            "ad_id": data.referral.ad_id if data.referral else None,
        },
        source_id=f"contact.seen:{event.event_id}",
    )

    uow.emit(
        CustomerCreated(
            correlation_id=event.correlation_id,
            data=CustomerCreatedData(
                customer_id=customer_id,
                channel="FB",
                lifecycle_stage=NEW_CUSTOMER_STAGE,
                identities=[identity],
                first_touch=data.referral,
                latest_touch=data.referral,
                created_at=now,
            ),
        )
    )
    await uow.commit()
    log.info("customer created", customer_id=customer_id, event_id=str(event.event_id))
    return customer_id


# --- Messenger profiles name customers --------------------------------------------------------


class CustomerNotYetKnown(Exception):
    """A profile arrived before the `contact.seen` that creates its customer: retried later."""


async def profile_updated(
    uow: UnitOfWork, event: ContactProfileUpdated, *, now: datetime | None = None
) -> list[str] | None:
    """Store a customer's Messenger profile; name the customer after it unless named otherwise.

    The display name follows the profile while it is empty or still the name of the previous
    profile, so a name someone typed is never overwritten. A profile fetched before the one
    stored (a retried, older event) changes nothing. Returns the fields that changed, or None
    when this event was handled before.
    """
    if not await uow.claim(event.event_id, PROFILES_CONSUMER):
        return None
    data = event.data
    identity = ChannelIdentity(channel="messenger", page_id=data.page_id, external_id=data.psid)
    customer_id = await repository.customer_for_identity(uow.session, identity)
    if customer_id is None:
        raise CustomerNotYetKnown(f"no customer yet for event {event.event_id}")  # rolls back the claim
    current = await repository.lock_names(uow.session, customer_id)
    assert current is not None, "an identity's customer exists (foreign key)"
    last_fetch = current.profile.fetched_at
    if last_fetch is not None and data.fetched_at <= last_fetch:
        await uow.commit()
        log.info("older profile ignored", customer_id=customer_id, event_id=str(event.event_id))
        return []

    profile = repository.Profile(data.first_name, data.last_name, data.profile_pic, data.fetched_at)
    display_name, changed = apply_profile(current, profile)
    now = now or datetime.now(UTC)
    await repository.set_names(
        uow.session,
        customer_id,
        display_name=display_name,
        profile=profile,
        updated_at=now if changed else None,
    )
    if changed:
        customer = await repository.customer(uow.session, customer_id)
        assert customer is not None
        # `changed` may name profile fields the event's data does not carry (yet): the shape
        # is CustomerSnapshot's, owned by the contracts.
        uow.emit(
            CustomerUpdated(
                correlation_id=event.correlation_id,
                data=CustomerUpdatedData(
                    **customer.model_dump(exclude={"updated_at"}), updated_at=now, changed=changed
                ),
            )
        )
    await uow.commit()
    log.info("customer profile stored", customer_id=customer_id, changed=changed)
    return changed


def apply_profile(
    current: repository.NamedCustomer, profile: repository.Profile
) -> tuple[str | None, list[str]]:
    """The display name after `profile`, and the names of the fields it changes."""
    display_name = current.display_name
    profile_name = full_name(profile)
    if profile_name and (not display_name or display_name == full_name(current.profile)):
        display_name = profile_name
    changed = [
        name
        for name, before, after in (
            ("display_name", current.display_name, display_name),
            ("first_name", current.profile.first_name, profile.first_name),
            ("last_name", current.profile.last_name, profile.last_name),
            ("profile_pic", current.profile.profile_pic, profile.profile_pic),
        )
        if before != after
    ]
    return display_name, changed


def full_name(profile: repository.Profile) -> str | None:
    """The name a profile gives: "First Last", or the part there is; None without either."""
    parts = [p.strip() for p in (profile.first_name, profile.last_name) if p and p.strip()]
    return " ".join(parts) or None


# --- reads: the cache-writer's snapshot first, the database otherwise -------------------------


@dataclass(frozen=True)
class CustomerPage:
    items: list[CustomerView]
    next_cursor: str | None


async def get_customer(reads: HotReads, cache_dir: Path, customer_id: str) -> tuple[CustomerView, Source]:
    """The cache-writer's snapshot while the customer is active (one indexed lookup says so: a
    merged or erased customer's file can outlive the change a moment, and it brings the lead,
    which snapshots do not carry); the database otherwise."""
    if not is_customer_id(customer_id):
        raise CustomerNotFound(customer_id)
    snapshot = await cache.customer(cache_dir, customer_id)
    if snapshot is not None:
        state = await hot_reads.customer_state(reads, customer_id)
        if state is not None and state.state == "active":
            return leads.view(snapshot, state.lead), "cache"
    customer, _ = await customer_from_database(reads, customer_id)
    return customer, "database"


async def customer_from_database(reads: HotReads, customer_id: str) -> tuple[CustomerView, Insights | None]:
    """The customer as the database holds it now, with the ai's latest insights (one statement);
    404 when there is none or it was merged into another."""
    if not is_customer_id(customer_id):
        raise CustomerNotFound(customer_id)
    found = await hot_reads.customer(reads, customer_id)
    if found is None:
        raise CustomerNotFound(customer_id)
    if found.state.state == "merged":
        raise CustomerNotFound(customer_id, merged_into=found.state.merged_into)
    return found.customer, found.insights


async def require_customer(session: AsyncSession, customer_id: str) -> None:
    """404 unless the customer exists and is not merged into another (the message names that one)."""
    state = await repository.customer_state(session, customer_id) if is_customer_id(customer_id) else None
    if state is None:
        raise CustomerNotFound(customer_id)
    if state.state == "merged":
        raise CustomerNotFound(customer_id, merged_into=state.merged_into)


@dataclass(frozen=True)
class OrderAttribution:
    """What an order taken now is credited to: the customer's first and latest ad touch (JSONB)."""

    first_touch: Any
    latest_touch: Any


async def order_attribution(session: AsyncSession, customer_id: str) -> OrderAttribution | None:
    """The customer's ad touches, its row share-locked until the order's transaction ends (so a
    merge cannot move the customer's orders between this check and the order's insert); None
    when no customer has this id. Raises `CustomerConflict` (409) for a customer merged into
    another (naming it) or erased: nothing may be added to either record."""
    row = await repository.touches(session, customer_id)
    if row is None:
        return None
    if row.state == "merged":
        raise CustomerConflict(
            f"Customer {customer_id!r} was merged into {row.merged_into!r}; use {row.merged_into!r}."
        )
    if row.state == "erased":
        raise CustomerConflict(
            f"Customer {customer_id!r} was erased (PDPA); nothing may be added to that record."
        )
    return OrderAttribution(row.first_touch, row.latest_touch)


async def overview(reads: HotReads, customer_id: str, *, items: int) -> hot_reads.Overview:
    """The customer 360 around the profile: stage history, the latest notes, orders and timeline."""
    return await hot_reads.overview(reads, customer_id, items=items)


async def notes(session: AsyncSession, customer_id: str) -> list[repository.Note]:
    """A customer's notes, newest first (404 unless the customer is there)."""
    await require_customer(session, customer_id)
    return await repository.notes(session, customer_id)


async def timeline_page(
    session: AsyncSession, customer_id: str, *, limit: int, cursor: str | None
) -> tuple[list[repository.TimelineEntry], str | None]:
    before = _decode_timeline_cursor(cursor) if cursor else None
    rows = await repository.timeline_page(session, customer_id, limit=limit + 1, before=before)
    items = rows[:limit]
    if len(rows) <= limit:
        return items, None
    last = items[-1]
    raw = json.dumps([last.occurred_at.isoformat(), last.id], separators=(",", ":"))
    return items, base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_timeline_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        at_text, entry_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        at = datetime.fromisoformat(at_text)
        if at.tzinfo is None or not isinstance(entry_id, int):
            raise ValueError("incomplete keyset")
        return at, entry_id
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidParameter("cursor", "query", "Not a cursor this API returned.") from exc


async def list_customers(
    reads: HotReads,
    cache_dir: Path,
    *,
    filters: customer_search.Filters | None = None,
    sort: customer_search.Sort = customer_search.DEFAULT_SORT,
    limit: int,
    cursor: str | None,
) -> tuple[CustomerPage, Source]:
    """Search and list. The unfiltered first page, newest first, comes from
    `customers/latest.json` when it holds enough; everything else from the database."""
    filters = filters or customer_search.Filters()
    if cursor is None and filters.is_default and sort == customer_search.DEFAULT_SORT:
        latest = await cache.latest_customers(cache_dir)
        cached = latest.items[:limit] if latest is not None and limit <= len(latest.items) else None
        found = await hot_reads.leads_if_active(reads, [c.customer_id for c in cached]) if cached else None
        if latest is not None and cached and found is not None:
            items = [leads.view(c, found[c.customer_id]) for c in cached]
            # The file holds the newest customers, up to its size: fewer than that means all of them.
            more = limit < len(latest.items) or len(latest.items) >= LATEST_CUSTOMERS_SIZE
            next_cursor = customer_search.encode_cursor(sort, items[-1]) if more else None
            return CustomerPage(items, next_cursor), "cache"

    after = customer_search.decode_cursor(cursor) if cursor is not None else None
    rows = await customer_search.search(reads, filters, sort=sort, limit=limit + 1, after=after)
    items = rows[:limit]
    next_cursor = customer_search.encode_cursor(sort, items[-1]) if len(rows) > limit else None
    return CustomerPage(items, next_cursor), "database"
