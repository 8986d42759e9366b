"""Catalog events: a product created or changed, its price included.

The gateway owns the catalog and publishes every change (imports too), so that the AI can quote
current prices without calling the gateway.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field

from crm_contracts.envelope import Event, EventData


class PackageItemRef(EventData):
    """A course a package bundles, named so that the AI can say what the package holds."""

    product_id: uuid.UUID = Field(description="The course's product id.")
    name_th: str
    quantity: int = Field(default=1, ge=1)


class ProductChangedData(EventData):
    product_id: uuid.UUID
    kind: Literal["course", "package", "equipment", "menu_item"]
    name_th: str
    name_en: str | None = None
    category: str | None = None
    price: Decimal = Field(description='THB, exact, e.g. `"12500.00"` (a JSON string).')
    active: bool
    changed_at: datetime
    items: list[PackageItemRef] = Field(
        default_factory=list, description="A package's courses (empty for any other kind)."
    )


class ProductChanged(Event):
    """A catalog product was created or changed (its price included): the AI quotes current prices."""

    type: Literal["catalog.product_changed"] = "catalog.product_changed"
    producer: str = "gateway"
    data: ProductChangedData
