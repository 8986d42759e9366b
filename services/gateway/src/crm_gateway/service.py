"""The rules about customers: who becomes one, their ids, and where a read is served from."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import (
    ChannelIdentity,
    ContactSeen,
    CustomerCreated,
    CustomerCreatedData,
    CustomerUpdated,
    CustomerUpdatedData,
)
from crm_contracts.snapshots import LATEST_CUSTOMERS_SIZE, CustomerSnapshot
from crm_servicekit.logging import get_logger
from crm_servicekit.outbox import UnitOfWork

from . import cache, repository
from .errors import CustomerNotFound, InvalidParameter
from .ids import bangkok_year, format_customer_id, is_customer_id

log = get_logger(__name__)

CONSUMER = "gateway.contacts"
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


# --- reads: the cache-writer's snapshot first, the database otherwise -------------------------


@dataclass(frozen=True)
class CustomerPage:
    items: list[CustomerSnapshot]
    next_cursor: str | None


async def get_customer(
    session: AsyncSession, cache_dir: Path, customer_id: str
) -> tuple[CustomerSnapshot, Source]:
    if not is_customer_id(customer_id):
        raise CustomerNotFound(customer_id)
    snapshot = await cache.customer(cache_dir, customer_id)
    if snapshot is not None:
        return snapshot, "cache"
    snapshot = await repository.customer(session, customer_id)
    if snapshot is None:
        raise CustomerNotFound(customer_id)
    return snapshot, "database"


async def list_customers(
    session: AsyncSession, cache_dir: Path, *, limit: int, cursor: str | None
) -> tuple[CustomerPage, Source]:
    """Newest first. The first page comes from `customers/latest.json` when it holds enough."""
    if cursor is None:
        latest = await cache.latest_customers(cache_dir)
        if latest is not None and limit <= len(latest.items):
            items = latest.items[:limit]
            # The file holds the newest customers, up to its size: fewer than that means all of them.
            more = limit < len(latest.items) or len(latest.items) >= LATEST_CUSTOMERS_SIZE
            return CustomerPage(items, encode_cursor(items[-1]) if more else None), "cache"
    after = decode_cursor(cursor) if cursor is not None else None
    rows = await repository.customers_page(session, limit=limit + 1, after=after)
    items = rows[:limit]
    next_cursor = encode_cursor(items[-1]) if len(rows) > limit else None
    return CustomerPage(items, next_cursor), "database"


def encode_cursor(last: CustomerSnapshot) -> str:
    """Opaque to clients: the keyset (created_at, id) of the last item of a page."""
    raw = json.dumps([last.created_at.isoformat(), last.customer_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, customer_id = json.loads(raw)
        at = datetime.fromisoformat(created_at)
        if at.tzinfo is None or not isinstance(customer_id, str):
            raise ValueError("incomplete keyset")
        return at, customer_id
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidParameter("cursor", "query", "Not a cursor this API returned.") from exc
