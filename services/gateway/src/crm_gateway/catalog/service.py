"""The catalog: courses, packages, equipment, menu items and course sessions.

The catalog is the single truth for prices: an order line's unit price is the product's price when
the order is taken, and every product change is published (`catalog.product_changed`) so the AI
quotes current prices only. A package bundles courses (`package_items`) and is sold at its own
price. A product's `version` is its ETag: a change must name the version it was made against
(If-Match), so two staff editing the same product never overwrite each other silently. Every
write is audited in its own transaction.

Orders use the catalog only through the functions at the end: prices and names of products,
seats booked with one conditional UPDATE (so a session is never oversold), seats left, seats
given back. The legacy import upserts products by the old system's id with its own three.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import PackageItemRef, ProductChanged, ProductChangedData
from crm_gateway.audit import service as audit
from crm_gateway.auth.domain import Staff
from crm_gateway.catalog import repository
from crm_gateway.catalog.models import PRODUCT_KINDS as PRODUCT_KINDS  # for the legacy import
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


def product_event(row: Any, items: Sequence[Any] = ()) -> ProductChanged:
    """The product as published; `items` (a package's courses, from `package_items`) travel with
    it so that the AI can say what a package holds."""
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
            items=[
                PackageItemRef(product_id=i.course_id, name_th=i.name_th, quantity=i.quantity) for i in items
            ],
        ),
    )


async def get_product(session: AsyncSession, product_id: uuid.UUID) -> ProductView:
    row = await repository.product(session, product_id)
    if row is None:
        raise CatalogNotFound(f"No product has the id {str(product_id)!r}.")
    return ProductView(row, await _items_of(session, product_id))


async def list_products(session: AsyncSession, **filters: Any) -> tuple[list[Any], int]:
    """A page of products (see `repository.list_products`) and the number that match."""
    return await repository.list_products(session, **filters)


async def sessions_of(
    session: AsyncSession, product_id: uuid.UUID, *, ending_after: datetime | None
) -> list[Any]:
    """A course's sessions by start time; 404 when there is no such product."""
    if await repository.product_kind(session, product_id) is None:
        raise CatalogNotFound(f"No product has the id {str(product_id)!r}.")
    return await repository.sessions_of(session, product_id, ending_after=ending_after)


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
    row = await repository.insert_product(session, values)
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
    uow.emit(product_event(row, view.items))
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
    current = await repository.lock_product(session, product_id)
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
    row = await repository.update_product(session, product_id, values)
    after = ProductView(row, await _items_of(session, product_id))
    await audit.record(
        session,
        actor=staff,
        action="product.update",
        entity=("product", str(product_id)),
        before=_audited(before),
        after=_audited(after),
    )
    uow.emit(product_event(row, after.items))
    await uow.commit()
    return after


async def create_session(uow: UnitOfWork, product_id: uuid.UUID, values: dict[str, Any]) -> Any:
    kind = await repository.product_kind(uow.session, product_id)
    if kind is None:
        raise CatalogNotFound(f"No product has the id {str(product_id)!r}.")
    if kind != "course":
        raise SessionRejected(f"Only courses have sessions; this is a {kind}.")
    row = await repository.insert_session(uow.session, product_id, values)
    await uow.commit()
    return row


async def _replace_items(session: AsyncSession, package_id: uuid.UUID, items: Sequence[PackageItem]) -> None:
    """Check every item is an active course other than the package, listed once; then store them."""
    seen: set[uuid.UUID] = set()
    wanted = {item.course_id for item in items}
    found = await repository.kinds_and_active(session, wanted)
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
    await repository.replace_items(
        session,
        package_id,
        [{"package_id": package_id, "course_id": i.course_id, "quantity": i.quantity} for i in items],
    )


async def package_items(session: AsyncSession, package_id: uuid.UUID) -> list[Any]:
    """A package's courses (course_id, quantity, name_th, name_en), for the import's events."""
    return await _items_of(session, package_id)


async def _items_of(session: AsyncSession, package_id: uuid.UUID) -> list[Any]:
    """A package's courses with their names, in name order (empty for any other product)."""
    return list(await repository.items_of(session, package_id))


def _audited(view: ProductView) -> Mapping[str, Any]:
    fields: dict[str, Any] = {name: getattr(view.row, name) for name in AUDITED}
    if view.row.kind == "package":
        fields["items"] = [{"course_id": str(i.course_id), "quantity": i.quantity} for i in view.items]
    return fields


# --- what orders ask of the catalog ---------------------------------------------------------------


@dataclass(frozen=True)
class OrderableProduct:
    """What an order line needs of a product: its Thai name, its current price, whether it is sold."""

    id: uuid.UUID
    name_th: str
    price: Decimal
    active: bool
    kind: str


async def products_for_order(
    session: AsyncSession, ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, OrderableProduct]:
    """The products among `ids` that exist (sold now or not), by id."""
    rows = await repository.products_for_order(session, ids)
    return {r.id: OrderableProduct(r.id, r.name_th, r.price, r.active, r.kind) for r in rows}


async def product_names(session: AsyncSession, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The Thai name of each product among `ids` that exists."""
    if not ids:
        return {}
    return await repository.product_names(session, ids)


async def book_seats(
    session: AsyncSession, session_id: uuid.UUID, product_id: uuid.UUID, quantity: int
) -> bool:
    """Take `quantity` seats of the product's session if that many are free, in one conditional
    UPDATE (`seats_taken + n <= capacity`): concurrent orders can never oversell it. False when
    they are not free or the product has no such session (`seats_left` tells which)."""
    return await repository.book_seats(session, session_id, product_id, quantity)


async def seats_left(session: AsyncSession, session_id: uuid.UUID, product_id: uuid.UUID) -> int | None:
    """The free seats of the product's session; None when the product has no such session."""
    return await repository.seats_left(session, session_id, product_id)


async def release_seats(session: AsyncSession, seats: Mapping[uuid.UUID, int]) -> None:
    """Give back `seats[session_id]` seats of each session, in session id order (so two orders
    giving back seats of the same sessions lock them in the same order and never deadlock)."""
    for session_id, count in sorted(seats.items()):
        await repository.release_seats(session, session_id, count)


# --- the legacy import ----------------------------------------------------------------------------


async def lock_product_for_import(session: AsyncSession, legacy_id: str | None, name_th: str) -> Any:
    """The product the old system's `legacy_id` was imported as, locked; with `legacy_id` None, the
    oldest product without one named `name_th` (entered by hand before the import). None if none."""
    return await repository.lock_product_for_import(session, legacy_id, name_th)


async def insert_imported_product(session: AsyncSession, values: Mapping[str, Any], now: datetime) -> Any:
    """A product the import creates, created and updated `now`; the new row."""
    return await repository.insert_imported_product(session, values, now)


async def update_imported_product(
    session: AsyncSession, product_id: uuid.UUID, values: Mapping[str, Any], now: datetime
) -> Any:
    """The import's change of a product: `values`, the version grown by one, updated `now`."""
    return await repository.update_imported_product(session, product_id, values, now)
