"""The ai's copy of the catalog: kept from `catalog.product_changed`, read when composing a reply.

The gateway owns the catalog and publishes every change with the price. Events may arrive twice
or out of order: each is claimed once through the inbox, and a product is replaced only by a
newer change (`changed_at`), so a late, older event never brings an old price back. A reply
lists the products the conversation mentions (`mentioned`) with their current prices, which the
model is told are authoritative.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import ProductChanged
from crm_servicekit.outbox import UnitOfWork

from . import repository
from .matching import mentioned_names

CONSUMER = "ai.catalog"


@dataclass(frozen=True)
class PackageItem:
    product_id: uuid.UUID
    name_th: str
    quantity: int


@dataclass(frozen=True)
class Product:
    product_id: uuid.UUID
    kind: str
    name_th: str
    name_en: str | None
    category: str | None
    price: Decimal
    items: tuple[PackageItem, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.name_th, self.name_en) if n)


async def apply(uow: UnitOfWork, event: ProductChanged) -> None:
    """Store the product if this change is newer than the one we have; once per event."""
    d = event.data
    if not await uow.claim(event.event_id, CONSUMER):
        return
    await repository.upsert_if_newer(
        uow.session,
        {
            "product_id": d.product_id,
            "kind": d.kind,
            "name_th": d.name_th,
            "name_en": d.name_en,
            "category": d.category,
            "price": d.price,
            "active": d.active,
            "changed_at": d.changed_at,
            "items": [i.model_dump(mode="json") for i in d.items],
        },
    )
    await uow.commit()


def _product(row: Any) -> Product:
    return Product(
        product_id=row.product_id,
        kind=row.kind,
        name_th=row.name_th,
        name_en=row.name_en,
        category=row.category,
        price=Decimal(row.price),
        items=tuple(
            PackageItem(uuid.UUID(i["product_id"]), i["name_th"], int(i.get("quantity", 1)))
            for i in row.items
        ),
    )


async def active(session: AsyncSession) -> list[Product]:
    return [_product(r) for r in await repository.active_products(session)]


async def mentioned(session: AsyncSession, texts: Iterable[str]) -> list[Product]:
    """The products sold now that the texts (the question, recent turns, passages) name."""
    products = await active(session)
    return pick_mentioned(products, texts)


def pick_mentioned(products: Sequence[Product], texts: Iterable[str]) -> list[Product]:
    return [products[i] for i in mentioned_names([p.names for p in products], texts)]
