"""`/api/v1/products`: the catalog staff sell from (orders are in `orders_api`).

Prices are THB with exact decimals, sent and returned as strings with at most two decimals
(`"12500.00"`); a third decimal is refused naming the field. A product's `ETag` is its version:
`PATCH` must send it back in `If-Match` (428 without it, 412 when someone changed the product
since), so nobody overwrites a change they never saw.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Response
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.config import JsonDict

from crm_gateway.auth.api import CurrentStaff
from crm_gateway.auth.permissions import Permission, allow
from crm_gateway.catalog import service as catalog
from crm_gateway.deps import SessionDep, UowDep
from crm_gateway.errors import problem_responses
from crm_gateway.etags import IF_MATCH_HELP, etag

Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2, examples=["12500.00"])]

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


class PackageItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    course_id: uuid.UUID = Field(description="An active course (not a package, not equipment).")
    quantity: int = Field(default=1, gt=0, le=100)


class PackageItemOut(BaseModel):
    course_id: uuid.UUID
    name_th: str
    name_en: str | None
    quantity: int


ITEMS_HELP = "For a package only: the courses it bundles (at least one); the package keeps its own price."
COURSE_EXAMPLE: JsonDict = {
    "kind": "course",
    "name_th": "คอร์สซูชิพื้นฐาน",
    "name_en": "Sushi basics",
    "category": "sushi",
    "price": "12500.00",
    "duration_minutes": 360,
}
PACKAGE_EXAMPLE: JsonDict = {
    "kind": "package",
    "name_th": "แพ็กเกจซูชิและราเมง",
    "name_en": "Sushi and ramen package",
    "price": "21900.00",
    "items": [
        {"course_id": "0b8f5a52-2c1e-4c55-9a3e-5d8f0e7b2a10", "quantity": 1},
        {"course_id": "7c2e9d41-5b3a-4f8e-8d1c-2e3f4a5b6c7d", "quantity": 1},
    ],
}

PRICE_PATCH: JsonDict = {"price": "13900.00"}
ITEMS_PATCH: JsonDict = {"items": [{"course_id": "0b8f5a52-2c1e-4c55-9a3e-5d8f0e7b2a10", "quantity": 2}]}
RETIRE_PATCH: JsonDict = {"active": False}


class ProductIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [COURSE_EXAMPLE, PACKAGE_EXAMPLE]}
    )

    kind: Literal["course", "package", "equipment", "menu_item"]
    name_th: str = Field(min_length=1, max_length=300)
    name_en: str | None = Field(default=None, max_length=300)
    description_th: str | None = Field(default=None, max_length=10_000)
    description_en: str | None = Field(default=None, max_length=10_000)
    category: str | None = Field(default=None, max_length=100)
    price: Money
    duration_minutes: int | None = Field(default=None, gt=0, le=60 * 24 * 365)
    image_urls: list[AnyHttpUrl] = Field(default_factory=list, max_length=20)
    active: bool = True
    items: list[PackageItemIn] | None = Field(default=None, max_length=50, description=ITEMS_HELP)


class ProductPatch(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [PRICE_PATCH, ITEMS_PATCH, RETIRE_PATCH]}
    )

    name_th: str | None = Field(default=None, min_length=1, max_length=300)
    name_en: str | None = Field(default=None, max_length=300)
    description_th: str | None = Field(default=None, max_length=10_000)
    description_en: str | None = Field(default=None, max_length=10_000)
    category: str | None = Field(default=None, max_length=100)
    price: Money | None = None
    duration_minutes: int | None = Field(default=None, gt=0, le=60 * 24 * 365)
    image_urls: list[AnyHttpUrl] | None = Field(default=None, max_length=20)
    active: bool | None = None
    items: list[PackageItemIn] | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        description="A package's courses, replacing the ones it has.",
    )

    @field_validator("name_th", "price", "active", "image_urls", "items")
    @classmethod
    def not_null(cls, value: Any) -> Any:
        """Left out means unchanged; null is no value these fields can have."""
        if value is None:
            raise ValueError("may be left out but not null")
        return value


class ProductOut(BaseModel):
    id: uuid.UUID
    kind: str
    name_th: str
    name_en: str | None
    description_th: str | None
    description_en: str | None
    category: str | None
    price: Decimal
    duration_minutes: int | None
    image_urls: list[str]
    active: bool
    items: list[PackageItemOut] = Field(description="A package's courses; empty for other products.")
    created_at: datetime
    updated_at: datetime


class SessionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "starts_at": "2026-12-05T10:00:00+07:00",
                    "ends_at": "2026-12-05T16:00:00+07:00",
                    "capacity": 10,
                }
            ]
        },
    )

    starts_at: datetime
    ends_at: datetime
    capacity: int = Field(gt=0, le=1000)

    @model_validator(mode="after")
    def ends_after_start(self) -> SessionIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class SessionOut(BaseModel):
    id: uuid.UUID
    product_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    capacity: int
    seats_left: int


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
    return SessionOut(
        id=row.id,
        product_id=row.product_id,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        capacity=row.capacity,
        seats_left=row.capacity - row.seats_taken,
    )
