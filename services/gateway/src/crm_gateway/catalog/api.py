"""`/api/v1/products`: the catalog staff sell from (orders are in `crm_gateway.orders.api`).

Prices are THB with exact decimals, sent and returned as strings with at most two decimals
(`"12500.00"`); a third decimal is refused naming the field. A product's `ETag` is its version:
`PATCH` must send it back in `If-Match` (428 without it, 412 when someone changed the product
since), so nobody overwrites a change they never saw.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Query, Response

from crm_gateway.auth.api import CurrentStaff
from crm_gateway.auth.permissions import Permission, allow
from crm_gateway.catalog import service as catalog
from crm_gateway.catalog.schemas import (
    COURSE_EXAMPLE,
    ITEMS_PATCH,
    PACKAGE_EXAMPLE,
    PRICE_PATCH,
    RETIRE_PATCH,
    PackageItemIn,
    PackageItemOut,
    ProductIn,
    ProductOut,
    ProductPageOut,
    ProductPatch,
    ProductSummaryOut,
    SessionIn,
    SessionOut,
)
from crm_gateway.deps import SessionDep, UowDep
from crm_gateway.errors import problem_responses
from crm_gateway.etags import IF_MATCH_HELP, etag

router = APIRouter(prefix="/products", tags=["catalog"])

_DESCRIBED = {
    404: "No product has this id.",
    412: "The product changed since you read it: GET it again and retry with the new ETag.",
    422: "A field is invalid (e.g. a price with three decimals, a package item that is not an active "
    "course); `errors` names it.",
    428: "`If-Match` is missing: send the ETag you read.",
}


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return problem_responses(_DESCRIBED, *statuses)


def _items(items: list[PackageItemIn] | None) -> list[catalog.PackageItem] | None:
    return None if items is None else [catalog.PackageItem(i.course_id, i.quantity) for i in items]


def _product_out(view: catalog.ProductView, response: Response) -> ProductOut:
    response.headers["ETag"] = etag(view.row.version)
    return ProductOut(
        **{name: getattr(view.row, name) for name in ProductOut.model_fields if name != "items"},
        items=[PackageItemOut.model_validate(i, from_attributes=True) for i in view.items],
    )


@router.post(
    "",
    status_code=201,
    summary="Add a product (a package with its courses)",
    responses=_problems(422),
    dependencies=[allow(Permission.CATALOG_WRITE)],
)
async def create_product(
    body: Annotated[
        ProductIn,
        Body(
            openapi_examples={
                "course": {"summary": "A course", "value": COURSE_EXAMPLE},
                "package": {"summary": "A package of two courses", "value": PACKAGE_EXAMPLE},
            }
        ),
    ],
    staff: CurrentStaff,
    uow: UowDep,
    response: Response,
) -> ProductOut:
    """Answers with the product's `ETag`. Published as `catalog.product_changed` and audited
    (`product.create`). Permission: `catalog:write`."""
    values = body.model_dump(mode="python", exclude={"items"})
    values["image_urls"] = [str(u) for u in body.image_urls]
    async with uow:
        view = await catalog.create_product(uow, staff, values, _items(body.items))
    return _product_out(view, response)


@router.get(
    "",
    summary="Products by name, with search and filters",
    responses=_problems(422),
    dependencies=[allow(Permission.CUSTOMER_READ)],
)
async def list_products(
    session: SessionDep,
    q: Annotated[
        str | None,
        Query(max_length=100, description="A part of the Thai or English name, or of the category."),
    ] = None,
    kind: Annotated[Literal["course", "package", "equipment", "menu_item"] | None, Query()] = None,
    category: Annotated[str | None, Query(max_length=100, description="Exactly this category.")] = None,
    active: Annotated[
        bool | None, Query(description="Only products on sale (true) or retired (false).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> ProductPageOut:
    """Ordered by Thai name. Permission: `customer:read`."""
    rows, total = await catalog.list_products(
        session,
        q=(q or "").strip() or None,
        kind=kind,
        category=category,
        active=active,
        limit=limit,
        offset=offset,
    )
    return ProductPageOut(
        items=[ProductSummaryOut.model_validate(r, from_attributes=True) for r in rows], total=total
    )


@router.get(
    "/{product_id}/sessions",
    summary="A course's sessions with the seats left",
    responses=_problems(404),
    dependencies=[allow(Permission.CUSTOMER_READ)],
)
async def list_sessions(
    product_id: uuid.UUID,
    session: SessionDep,
    include_past: Annotated[bool, Query(description="Also sessions that have ended.")] = False,
) -> list[SessionOut]:
    """By start time; without `include_past`, those still running or to come.
    Permission: `customer:read`."""
    rows = await catalog.sessions_of(
        session, product_id, ending_after=None if include_past else datetime.now(UTC)
    )
    return [_session_out(r) for r in rows]


@router.get(
    "/{product_id}",
    summary="One product, with its ETag (and a package's courses)",
    responses=_problems(404),
    dependencies=[allow(Permission.CUSTOMER_READ)],
)
async def get_product(product_id: uuid.UUID, session: SessionDep, response: Response) -> ProductOut:
    """Send the `ETag` back as `If-Match` to change it. Permission: `customer:read`."""
    return _product_out(await catalog.get_product(session, product_id), response)


@router.patch(
    "/{product_id}",
    summary="Change a product (e.g. its price, a package's courses); needs If-Match",
    responses=_problems(404, 412, 422, 428),
    dependencies=[allow(Permission.CATALOG_WRITE)],
)
async def update_product(
    product_id: uuid.UUID,
    body: Annotated[
        ProductPatch,
        Body(
            openapi_examples={
                "price": {"summary": "A new price", "value": PRICE_PATCH},
                "items": {"summary": "Replace a package's courses", "value": ITEMS_PATCH},
                "retire": {"summary": "Stop selling it", "value": RETIRE_PATCH},
            }
        ),
    ],
    staff: CurrentStaff,
    uow: UowDep,
    response: Response,
    if_match: Annotated[str | None, Header(description=IF_MATCH_HELP)] = None,
) -> ProductOut:
    """Only the fields sent change; `items` replaces all of a package's courses. Answers with the
    new `ETag`. Published as `catalog.product_changed` and audited (`product.update`, before and
    after of what changed). Orders already taken keep their prices. Permission: `catalog:write`."""
    values = body.model_dump(exclude_unset=True, exclude={"items"})
    if body.image_urls is not None:
        values["image_urls"] = [str(u) for u in body.image_urls]
    async with uow:
        view = await catalog.update_product(uow, staff, product_id, if_match, values, _items(body.items))
    return _product_out(view, response)


@router.post(
    "/{product_id}/sessions",
    status_code=201,
    summary="Schedule a session of a course",
    responses=_problems(404, 422),
    dependencies=[allow(Permission.CATALOG_WRITE)],
)
async def create_session(product_id: uuid.UUID, body: SessionIn, uow: UowDep) -> SessionOut:
    """Orders book its seats; it is never oversold. Permission: `catalog:write`."""
    async with uow:
        row = await catalog.create_session(uow, product_id, body.model_dump())
    return _session_out(row)


def _session_out(row: Any) -> SessionOut:
    return SessionOut(
        id=row.id,
        product_id=row.product_id,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        capacity=row.capacity,
        seats_left=row.capacity - row.seats_taken,
    )
