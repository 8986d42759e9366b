"""What the orders capability holds on a person, for the PDPA rights (`crm_gateway.pdpa`
orchestrates them; the SQL is in `orders.privacy_repository`).

- Access: `export` gives a set of customers' orders, each with its `lines` (with the product's
  Thai name, asked of the catalog) and `payments`, every row with all its columns.
- Erasure: `erase` keeps orders, lines and payments for the school's accounts (amounts, methods,
  dates) and clears what could name the person: payment references, refund reasons, and the
  free-form `ref` of the ad touches an order was attributed to.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row as SqlRow
from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.catalog.service import product_names
from crm_gateway.orders import privacy_repository as repository

Row = dict[str, Any]


async def export(session: AsyncSession, customer_ids: Sequence[str]) -> list[Row]:
    """The customers' orders, oldest first, each with its `lines` and `payments`."""
    order_rows = _plain(await repository.orders_of(session, customer_ids))
    order_ids = [o["id"] for o in order_rows]
    line_rows = _plain(await repository.lines_of(session, order_ids))
    names = await product_names(session, {line["product_id"] for line in line_rows})
    lines: dict[Any, list[Row]] = defaultdict(list)
    for line in line_rows:
        lines[line["order_id"]].append({**line, "product_name": names[line["product_id"]]})
    paid: dict[Any, list[Row]] = defaultdict(list)
    for payment in _plain(await repository.payments_of(session, order_ids)):
        paid[payment["order_id"]].append(payment)
    return [{**o, "lines": lines[o["id"]], "payments": paid[o["id"]]} for o in order_rows]


def _plain(rows: Iterable[SqlRow[Any]]) -> list[Row]:
    return [dict(r._mapping) for r in rows]


@dataclass(frozen=True)
class ErasedOrders:
    order_ids: list[uuid.UUID]
    """The customers' orders (kept, anonymised)."""
    payments: int
    """Payments and refunds whose reference or reason was cleared."""


async def erase(session: AsyncSession, customer_ids: Sequence[str]) -> ErasedOrders:
    """Anonymise the customers' orders in the caller's transaction: amounts, methods and dates
    stay; the bank reference, a refund's free-text reason and the ad touches' `ref` go."""
    order_ids = await repository.order_ids_of(session, customer_ids)
    cleared = await repository.clear_payment_texts(session, order_ids)
    if order_ids:
        # The ad that brought the order stays (marketing counts it); its free-form `ref` may not.
        await repository.drop_attribution_refs(session, order_ids)
    return ErasedOrders(order_ids, cleared)
