"""The catalog API's request and response models: a product in (with a package's courses), a
change to one, a product out (with its courses), a course session in and out. Prices are `Money`:
THB with at most two decimals, sent and returned as strings; orders use the same type."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.config import JsonDict

from crm_servicekit.storable import StorableMoment

Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2, examples=["12500.00"])]


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


class ProductSummaryOut(BaseModel):
    """A product in a list: what a catalog screen shows (open one for a package's courses)."""

    id: uuid.UUID
    kind: str
    name_th: str
    name_en: str | None
    category: str | None
    price: Decimal
    duration_minutes: int | None
    active: bool
    updated_at: datetime


class ProductPageOut(BaseModel):
    items: list[ProductSummaryOut]
    total: int = Field(description="How many products match the filters in all.")


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

    starts_at: StorableMoment
    ends_at: StorableMoment
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
