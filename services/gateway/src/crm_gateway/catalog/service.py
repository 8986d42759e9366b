"""The catalog: courses, packages, equipment, menu items and course sessions.

The catalog is the single truth for prices: an order line's unit price is the product's price when
the order is taken, and every product change is published (`catalog.product_changed`) so the AI
quotes current prices only. A package bundles courses (`package_items`) and is sold at its own
price. A product's `version` is its ETag: a change must name the version it was made against
(If-Match), so two staff editing the same product never overwrite each other silently. Every
write is audited in its own transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import ProductChanged, ProductChangedData
from crm_gateway.audit import service as audit
from crm_gateway.auth.domain import Staff
from crm_gateway.catalog.models import course_sessions, package_items, products
from crm_gateway.errors import Problem
from crm_gateway.etags import check_if_match
from crm_servicekit.outbox import UnitOfWork

# What the audit shows of a product: every field a person edits (not ids or timestamps).
AUDITED = (
    "kind",
    "name_th",
    "name_en",
    "description_th",
    "description_en",
    "category",
    "price",
    "duration_minutes",
    "image_urls",
    "active",
)


class CatalogNotFound(Problem):
    status = 404
    slug = "not-found"
    title = "Not found"


class ProductRejected(Problem):
    """The product cannot be saved as asked (e.g. a package item that is not a course)."""

    status = 422
    slug = "product-rejected"
    title = "The product cannot be saved"

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail, errors=[{"field": field, "location": "body", "detail": detail}])


class SessionRejected(Problem):
    status = 422
    slug = "session-rejected"
    title = "The session cannot be scheduled"


@dataclass(frozen=True)
class PackageItem:
    course_id: uuid.UUID
    quantity: int


@dataclass(frozen=True)
class ProductView:
    """A product as staff read it: its row, its ETag version and (for a package) its courses."""

    row: Any
    items: list[Any]


def product_event(row: Any) -> ProductChanged:
    return ProductChanged(
        correlation_id=str(row.id),
        data=ProductChangedData(
            product_id=row.id,
            kind=row.kind,
            name_th=row.name_th,
            name_en=row.name_en,
            category=row.category,
            price=row.price,
            active=row.active,
            changed_at=row.updated_at,
        ),
    )


async def get_product(session: AsyncSession, product_id: uuid.UUID) -> ProductView:
    row = (await session.execute(select(products).where(products.c.id == product_id))).one_or_none()
    if row is None:
        raise CatalogNotFound(f"No product has the id {str(product_id)!r}.")
    return ProductView(row, await _items_of(session, product_id))


async def create_product(
    uow: UnitOfWork, staff: Staff, values: dict[str, Any], items: Sequence[PackageItem] | None
) -> ProductView:
    """A package must list at least one course; any other kind lists none."""
    if values["kind"] == "package":
        if not items:
            raise ProductRejected("items", "A package needs at least one course in `items`.")
    elif items:
        raise ProductRejected("items", f"Only a package has items; this is a {values['kind']}.")
    session = uow.session
    row = (await session.execute(insert(products).values(**values).returning(products))).one()
    if items:
        await _replace_items(session, row.id, items)
    view = ProductView(row, await _items_of(session, row.id))
    await audit.record(
        session,
        actor=staff,
        action="product.create",
        entity=("product", str(row.id)),
        after=_audited(view),
    )
    uow.emit(product_event(row))
    await uow.commit()
    return view


async def update_product(
    uow: UnitOfWork,
    staff: Staff,
    product_id: uuid.UUID,
    if_match: str | None,
    values: dict[str, Any],
    items: Sequence[PackageItem] | None,
) -> ProductView:
    """Change the fields in `values` (and replace a package's items when `items` is given) if
    `if_match` names the current version; the version grows by one."""
    session = uow.session
    current = (
        await session.execute(select(products).where(products.c.id == product_id).with_for_update())
    ).one_or_none()
    if current is None:
        raise CatalogNotFound(f"No product has the id {str(product_id)!r}.")
    check_if_match(if_match, current.version)
    before = ProductView(current, await _items_of(session, product_id))
    if items is not None:
        if current.kind != "package":
            raise ProductRejected("items", f"Only a package has items; this is a {current.kind}.")
        if not items:
            raise ProductRejected("items", "A package needs at least one course in `items`.")
        await _replace_items(session, product_id, items)
    row = (
        await session.execute(
            update(products)
            .where(products.c.id == product_id)
            .values(**values, version=products.c.version + 1, updated_at=func.now())
            .returning(products)
        )
    ).one()
    after = ProductView(row, await _items_of(session, product_id))
    await audit.record(
        session,
        actor=staff,
        action="product.update",
        entity=("product", str(product_id)),
        before=_audited(before),
        after=_audited(after),
    )
    uow.emit(product_event(row))
    await uow.commit()
    return after


async def create_session(uow: UnitOfWork, product_id: uuid.UUID, values: dict[str, Any]) -> Any:
    kind = await uow.session.scalar(select(products.c.kind).where(products.c.id == product_id))
    if kind is None:
        raise CatalogNotFound(f"No product has the id {str(product_id)!r}.")
    if kind != "course":
        raise SessionRejected(f"Only courses have sessions; this is a {kind}.")
    row = (
        await uow.session.execute(
            insert(course_sessions).values(product_id=product_id, **values).returning(course_sessions)
        )
    ).one()
    await uow.commit()
    return row


async def _replace_items(session: AsyncSession, package_id: uuid.UUID, items: Sequence[PackageItem]) -> None:
    """Check every item is an active course other than the package, listed once; then store them."""
    seen: set[uuid.UUID] = set()
    wanted = {item.course_id for item in items}
    found = {
        r.id: r
        for r in await session.execute(
            select(products.c.id, products.c.kind, products.c.active).where(products.c.id.in_(wanted))
        )
    }
    for index, item in enumerate(items):
        field = f"items.{index}.course_id"
        product = found.get(item.course_id)
        if item.course_id == package_id:
            raise ProductRejected(field, "A package cannot contain itself.")
        if item.course_id in seen:
            raise ProductRejected(field, f"The course {str(item.course_id)!r} is listed twice.")
        if product is None:
            raise ProductRejected(field, f"No product has the id {str(item.course_id)!r}.")
        if product.kind != "course":
            raise ProductRejected(
                field, f"A package holds courses only; {str(item.course_id)!r} is a {product.kind}."
            )
        if not product.active:
            raise ProductRejected(field, f"The course {str(item.course_id)!r} is not sold now.")
        seen.add(item.course_id)
    await session.execute(delete(package_items).where(package_items.c.package_id == package_id))
    await session.execute(
        insert(package_items),
        [{"package_id": package_id, "course_id": i.course_id, "quantity": i.quantity} for i in items],
    )


async def _items_of(session: AsyncSession, package_id: uuid.UUID) -> list[Any]:
    """A package's courses with their names, in name order (empty for any other product)."""
    rows = await session.execute(
        select(
            package_items.c.course_id,
            package_items.c.quantity,
            products.c.name_th,
            products.c.name_en,
        )
        .join(products, products.c.id == package_items.c.course_id)
        .where(package_items.c.package_id == package_id)
        .order_by(products.c.name_th, package_items.c.course_id)
    )
    return list(rows)


def _audited(view: ProductView) -> Mapping[str, Any]:
    fields: dict[str, Any] = {name: getattr(view.row, name) for name in AUDITED}
    if view.row.kind == "package":
        fields["items"] = [{"course_id": str(i.course_id), "quantity": i.quantity} for i in view.items]
    return fields
