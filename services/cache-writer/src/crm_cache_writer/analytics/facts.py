"""Store the facts events bring, and say which Bangkok days' figures they change.

Each function runs inside the consumer's unit of work (after its inbox claim) and returns the
days to render again; the renderer coalesces them (`render.py`). Events of one order or one ad
may arrive in any order: every store is an upsert that keeps the newest knowledge.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Table, delete, func, select, union
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import (
    AdReferral,
    ChannelIdentity,
    CustomerCreatedData,
    CustomerMergedData,
    CustomerMergeUndoneData,
    InsightsChangedData,
    OrderCreatedData,
    OrderStatusChangedData,
    StructureChangedData,
)

from . import statements
from .tables import (
    ad_conversations,
    ad_days,
    ad_hours,
    ad_structure,
    customer_psids,
    customers,
    dirty_days,
    leads,
    money,
    order_lines,
    orders,
)

BANGKOK = ZoneInfo("Asia/Bangkok")


def bangkok_day(moment: datetime) -> date:
    return moment.astimezone(BANGKOK).date()


async def structure_changed(session: AsyncSession, data: StructureChangedData, at: datetime) -> None:
    """Keep the newest description of every ad; the structure file is written again."""
    rows = [
        {
            "ad_id": ad.ad_id,
            "account_id": data.account_id,
            "ad_name": ad.ad_name,
            "adset_id": ad.adset_id,
            "adset_name": ad.adset_name,
            "campaign_id": ad.campaign_id,
            "campaign_name": ad.campaign_name,
            "status": ad.status,
            "described_at": at,
        }
        for ad in data.ads
    ]
    if rows:
        stmt = insert(ad_structure).values(rows)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[ad_structure.c.ad_id],
                set_={c: stmt.excluded[c] for c in rows[0] if c != "ad_id"},
                where=ad_structure.c.described_at <= stmt.excluded.described_at,
            )
        )
    await _state(session, at, structure=True)


async def insights_changed(session: AsyncSession, data: InsightsChangedData) -> set[date]:
    """Meta's numbers per ad and day (or hour); a later sync run's row wins."""
    if data.granularity == "day":
        rows = [
            {
                "ad_id": f.ad_id,
                "day": f.day,
                "account_id": data.account_id,
                "sync_run_id": data.sync_run_id,
                "spend": f.spend,
                "impressions": f.impressions,
                "clicks": f.clicks,
                "meta_conversations_started": f.messaging_conversations_started,
                "meta_leads": f.leads,
                "meta_purchases": f.purchases,
                "meta_purchase_value": f.purchase_value,
            }
            for f in data.facts
        ]
        await _upsert_newest(session, ad_days, rows, ["ad_id", "day"])
    else:
        rows = [
            {
                "ad_id": f.ad_id,
                "day": f.day,
                "hour": f.hour,
                "sync_run_id": data.sync_run_id,
                "spend": f.spend,
            }
            for f in data.facts
            if f.hour is not None
        ]
        await _upsert_newest(session, ad_hours, rows, ["ad_id", "day", "hour"])
    # Structure named on facts fills in ads marketing has not described (yet).
    described = [f for f in data.facts if f.adset_id and f.campaign_id]
    if described:
        stmt = insert(ad_structure).values(
            [
                {
                    "ad_id": f.ad_id,
                    "account_id": data.account_id,
                    "ad_name": f.ad_name,
                    "adset_id": f.adset_id,
                    "adset_name": f.adset_name,
                    "campaign_id": f.campaign_id,
                    "campaign_name": f.campaign_name,
                    "status": None,
                    "described_at": datetime.min.replace(tzinfo=UTC),  # any real description wins
                }
                for f in {f.ad_id: f for f in described}.values()
            ]
        )
        await session.execute(stmt.on_conflict_do_nothing(index_elements=[ad_structure.c.ad_id]))
    return {f.day for f in data.facts}


async def _upsert_newest(
    session: AsyncSession, table: Table, rows: list[dict[str, object]], keys: list[str]
) -> None:
    if not rows:
        return
    stmt = insert(table).values(rows)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=keys,
            set_={c: stmt.excluded[c] for c in rows[0] if c not in keys},
            where=table.c.sync_run_id <= stmt.excluded.sync_run_id,
        )
    )


async def customer_created(session: AsyncSession, data: CustomerCreatedData) -> set[date]:
    """Every customer is kept (channel, first touch, PSID digests); one created from an ad touch
    is also a lead of that ad on their creation day."""
    await _store_customer(session, data)
    touch = data.first_touch
    if touch is None or not touch.ad_id:
        return set()
    day = bangkok_day(data.created_at)
    stmt = insert(leads).values(
        customer_id=data.customer_id, ad_id=touch.ad_id, created_at=data.created_at, day=day
    )
    await session.execute(stmt.on_conflict_do_nothing(index_elements=[leads.c.customer_id]))
    return {day}


async def conversation_from_ad(
    session: AsyncSession, conversation_id: uuid.UUID, ad_id: str, referred_at: datetime
) -> set[date]:
    """An ad opened a Messenger conversation: counted once per conversation, ad and Bangkok day
    (a returning customer's new click counts; the same click told twice does not)."""
    day = bangkok_day(referred_at)
    stmt = insert(ad_conversations).values(
        conversation_id=conversation_id, ad_id=ad_id, day=day, referred_at=referred_at
    )
    inserted = await session.execute(stmt.on_conflict_do_nothing().returning(ad_conversations.c.day))
    return {day} if inserted.first() is not None else set()


async def _store_customer(session: AsyncSession, data: CustomerCreatedData) -> None:
    first_ad, first_at = _touch(data.first_touch)
    row = {
        "customer_id": data.customer_id,
        "channel": data.channel,
        "created_at": data.created_at,
        "first_ad_id": first_ad,
        "first_touch_at": first_at,
    }
    await session.execute(statements.STORE_CUSTOMER, row)
    await _add_psids(session, data.customer_id, data.identities)


def psid_digest(identity: ChannelIdentity) -> str:
    """What the read model keeps of a PSID: equal PSIDs of one Page have equal digests."""
    return hashlib.sha256(f"{identity.page_id or ''}:{identity.external_id}".encode()).hexdigest()


async def _add_psids(session: AsyncSession, customer_id: str, identities: list[ChannelIdentity]) -> None:
    rows = [
        {"psid_digest": psid_digest(i), "customer_id": customer_id}
        for i in identities
        if i.channel == "messenger" and i.external_id
    ]
    if rows:
        await session.execute(statements.ADD_PSID, rows)


async def _move_psids(
    session: AsyncSession, identities: list[ChannelIdentity], source: str, target: str
) -> None:
    digests = [psid_digest(i) for i in identities if i.channel == "messenger" and i.external_id]
    if digests:
        await session.execute(
            delete(customer_psids).where(
                customer_psids.c.customer_id == source, customer_psids.c.psid_digest.in_(digests)
            )
        )
    await _add_psids(session, target, identities)


async def customer_merged(session: AsyncSession, data: CustomerMergedData) -> None:
    """The merged customer's PSIDs go to the survivor: one person is no longer two customers."""
    await _move_psids(session, data.identities, data.merged_id, data.survivor_id)
    await session.execute(
        customers.update()
        .where(customers.c.customer_id == data.merged_id)
        .values(merged_into=data.survivor_id)
    )


async def customer_merge_undone(session: AsyncSession, data: CustomerMergeUndoneData) -> None:
    await _move_psids(session, data.identities, data.survivor_id, data.restored_id)
    await session.execute(
        customers.update()
        .where(customers.c.customer_id == data.restored_id, customers.c.merged_into == data.survivor_id)
        .values(merged_into=None)
    )


async def customer_erased(session: AsyncSession, customer_id: str) -> None:
    await session.execute(delete(customer_psids).where(customer_psids.c.customer_id == customer_id))


def _touch(touch: AdReferral | None) -> tuple[str | None, datetime | None]:
    if touch is None or not touch.ad_id:
        return None, None
    return touch.ad_id, touch.referred_at


async def _upsert_order(session: AsyncSession, values: dict[str, object]) -> None:
    """Fill what is known of an order; a known value is never replaced by a null."""
    stmt = insert(orders).values(values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[orders.c.order_id],
            set_={
                c: func.coalesce(stmt.excluded[c], orders.c[c])
                for c in values
                if c not in ("order_id", "customer_id", "paid_at", "paid_day")
            },
        )
    )


async def order_created(session: AsyncSession, data: OrderCreatedData) -> set[date]:
    first_ad, first_at = _touch(data.first_touch)
    latest_ad, latest_at = _touch(data.latest_touch)
    await _upsert_order(
        session,
        {
            "order_id": data.order_id,
            "customer_id": data.customer_id,
            "created_at": data.created_at,
            "total": data.total,
            "first_ad_id": first_ad,
            "first_touch_at": first_at,
            "latest_ad_id": latest_ad,
            "latest_touch_at": latest_at,
        },
    )
    await _store_lines(session, data)
    # Payments that arrived first are attributed (and split by product) now that the order is known.
    return await _days_of_customer(session, data.customer_id)


async def _store_lines(session: AsyncSession, data: OrderCreatedData) -> None:
    """The order's lines, numbered as the event lists them; an order's lines never change, so a
    second delivery (or a rebuild's copy) finds them stored and changes nothing."""
    rows = [
        {
            "order_id": data.order_id,
            "line_no": number,
            "product_id": line.product_id,
            "product_name": line.product_name,
            "product_kind": line.product_kind,
            "quantity": line.quantity,
            "line_total": line.line_total,
            "ordered_at": data.created_at,
        }
        for number, line in enumerate(data.lines, start=1)
    ]
    if rows:
        await session.execute(insert(order_lines).values(rows).on_conflict_do_nothing())


async def order_status_changed(
    session: AsyncSession, event_id: object, data: OrderStatusChangedData
) -> set[date]:
    first_ad, first_at = _touch(data.first_touch)
    latest_ad, latest_at = _touch(data.latest_touch)
    await _upsert_order(
        session,
        {
            "order_id": data.order_id,
            "customer_id": data.customer_id,
            "created_at": data.order_created_at,
            "total": data.total,
            "first_ad_id": first_ad,
            "first_touch_at": first_at,
            "latest_ad_id": latest_ad,
            "latest_touch_at": latest_at,
        },
    )
    moved_at = data.moved_at or data.changed_at
    signed = _signed_amount(data)
    if signed is not None:
        stmt = insert(money).values(
            event_id=event_id,
            order_id=data.order_id,
            customer_id=data.customer_id,
            amount=signed,
            moved_at=moved_at,
            day=bangkok_day(moved_at),
        )
        await session.execute(stmt.on_conflict_do_nothing(index_elements=[money.c.event_id]))
    if data.status == "paid" and data.previous_status == "pending":
        # Became paid: the first time counts (a later event of an earlier moment wins too).
        await session.execute(
            orders.update()
            .where(orders.c.order_id == data.order_id)
            .where((orders.c.paid_at.is_(None)) | (orders.c.paid_at > moved_at))
            .values(paid_at=moved_at, paid_day=bangkok_day(moved_at))
        )
    return await _days_of_customer(session, data.customer_id)


def _signed_amount(data: OrderStatusChangedData) -> Decimal | None:
    if data.amount is None or data.kind == "cancel":
        return None
    if data.kind == "refund":
        return -data.amount
    if data.kind == "payment":
        return data.amount
    # Events from before `kind`: a payment moves a pending order, a refund is what else moves money.
    refund = data.status == "refunded" or (data.previous_status == "paid" and data.status == "paid")
    return -data.amount if refund else data.amount


async def _days_of_customer(session: AsyncSession, customer_id: str) -> set[date]:
    """Every day whose figures a customer's orders and payments touch: their money days, paid
    days (paid orders, new paying customer) and lead day (the cohort's conversions)."""
    query = union(
        select(money.c.day).where(money.c.customer_id == customer_id),
        select(orders.c.paid_day).where(orders.c.customer_id == customer_id, orders.c.paid_day.is_not(None)),
        select(leads.c.day).where(leads.c.customer_id == customer_id),
        # The day an order was taken: its reconciliation with Meta counts payments made later.
        select(func.date(func.timezone("Asia/Bangkok", orders.c.created_at))).where(
            orders.c.customer_id == customer_id, orders.c.created_at.is_not(None)
        ),
    )
    return set((await session.execute(query)).scalars())


async def mark_dirty(session: AsyncSession, days: Iterable[date], at: datetime) -> None:
    # The statement's time, not the transaction's (`now()`): a mark must never go back in time, or
    # a render that claimed a later mark would delete this one, made by a transaction that
    # started before it and committed after the render read its facts (the day would stay stale).
    rows = [{"day": d, "marked_at": func.clock_timestamp()} for d in sorted(set(days))]
    if rows:
        stmt = insert(dirty_days).values(rows)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[dirty_days.c.day], set_={"marked_at": func.clock_timestamp()}
            )
        )
    await _state(session, at)


async def _state(session: AsyncSession, at: datetime, *, structure: bool = False) -> None:
    stmt = statements.STATE_STRUCTURE_DIRTY if structure else statements.STATE
    await session.execute(stmt, {"id": 1, "last_event_at": at})
