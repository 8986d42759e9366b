"""`GET /api/v1/dashboards/products`: revenue by course and product over any Bangkok range, from
the cache-writer's snapshot files only (docs/metrics.md, "Revenue by product").

The range is assembled as the summary's is (`service.Reading`, `periods.month_spans`): the
monthly file of each whole month inside it (the sum of its days when that file is missing or
unusable) and the daily files of the other days; each file's `products` are added up, a later
file's product name winning. Every ratio is `crm_contracts.analytics.product_kpis` of those sums.
Products come by revenue, highest first; `kind` keeps one catalog kind (orders whose lines are not
known, `unknown`, have none and are then left out). Freshness, the `Age` header and a stale
answer's refresh request are the other dashboards'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import ConfigDict, Field, JsonValue

from crm_contracts.analytics import (
    DEFAULT_ATTRIBUTION,
    ZERO,
    PeriodSnapshot,
    ProductFigures,
    ProductKpis,
    product_kpis,
)
from crm_contracts.events.orders import ProductKind
from crm_gateway.auth.api import without_database
from crm_gateway.auth.permissions import Permission, allow
from crm_gateway.deps import SettingsDep
from crm_gateway.errors import problem_responses

from . import answers, periods, service
from .api import AGE_HEADER, FRESHNESS, MAX_DAYS, RefreshDep, Since, StoreDep, Until, ask_of, revalidate
from .schemas import Freshness

PRODUCT_EXAMPLE: dict[str, JsonValue] = {
    "product_id": "6f1c2a4e-8d0b-4c57-9a51-7b0f3c8e2a14",
    "name": "คอร์สราเมง",
    "kind": "course",
    "revenue": "4033.33",
    "refunds": "0.00",
    "paid_orders": 2,
    "units": 2,
    "share_of_revenue": "0.7202",
    "average_order_value": "2016.67",
}

PRODUCTS_HELP = (
    "Revenue by course and product from `since` to `until` (the last 30 days by default, at most "
    "400): each payment (+) and refund (−) on the Bangkok day the money moved, split across its "
    "order's lines in proportion to their totals, to the satang (the satang left over go one each "
    "to the lines with the largest remainders), so the products' revenue adds up to the range's "
    "total revenue exactly. Money of orders whose lines are not known (yet) is the product "
    "`unknown`, never dropped. `paid_orders` and `units` count the orders that became paid in the "
    "range. Products come by revenue, highest first; `kind` shows one catalog kind only (`unknown` "
    "has none). `share_of_revenue` is of `total_revenue`, every product's, whatever `kind` shows."
)


class ProductRevenueOut(ProductKpis):
    model_config = ConfigDict(json_schema_extra={"examples": [PRODUCT_EXAMPLE]})

    product_id: str = Field(description="The catalog product's id, or `unknown`.")
    name: str | None = Field(description="As on the product's latest order in the range.")
    kind: ProductKind | None


class RevenueByProductOut(Freshness):
    since: date
    until: date = Field(description="Inclusive.")
    kind: ProductKind | None = Field(description="The kind shown; null: every product.")
    total_revenue: Decimal = Field(
        description="THB: the range's revenue, every order's (`kind` aside), as the summary counts "
        "it; the products' revenue adds up to it when no `kind` is given.",
        examples=["5600.00"],
    )
    products: list[ProductRevenueOut] = Field(description="By revenue, highest first (then by id).")


@dataclass
class ProductsSum:
    """Products added up over files, and the files' total revenue (every order's)."""

    products: dict[str, ProductFigures] = field(default_factory=dict)
    total_revenue: Decimal = ZERO

    def add(self, snapshot: PeriodSnapshot) -> None:
        # The total is the same under every attribution: every ad plus what no ad explains.
        self.total_revenue += snapshot.total.revenue.get(DEFAULT_ATTRIBUTION, ZERO)
        for product_id, figures in snapshot.products.items():
            mine = self.products.get(product_id)
            if mine is None:
                mine = self.products[product_id] = ProductFigures()
            mine.add(figures)  # into figures of our own: the snapshot is shared with the store's cache


def range_products(reading: service.Reading, since: date, until: date) -> ProductsSum:
    """`since`..`until` (inclusive), oldest file first: whole months from their file, other days
    from theirs."""
    summed = ProductsSum()
    for month, first, last in periods.month_spans(since, until):
        whole = (first, last) == (month.first, month.last)
        monthly = reading.month(month) if whole else None
        if monthly is not None:
            summed.add(monthly)
            continue
        for day in periods.days(first, last):
            if (daily := reading.day(day)) is not None:
                summed.add(daily)
    return summed


def products_of(
    reading: service.Reading, ask: service.Ask, since: date, until: date, kind: ProductKind | None
) -> RevenueByProductOut:
    """The answer, made from the files (`answers.answer` keeps it while they stay as they are)."""
    summed = range_products(reading, since, until)
    total = summed.total_revenue
    shown = [
        ProductRevenueOut(
            product_id=product_id,
            name=figures.name,
            kind=figures.kind,
            **product_kpis(figures, total).model_dump(),
        )
        for product_id, figures in summed.products.items()
        if kind is None or figures.kind == kind
    ]
    shown.sort(key=lambda p: (-p.revenue, p.product_id))
    return RevenueByProductOut(
        since=since, until=until, kind=kind, total_revenue=total, products=shown, **reading.freshness(ask)
    )


DESCRIBED = {
    403: "Your role does not allow `dashboard:read`.",
    422: "`since` or `until` is not a date, `since` is after `until`, the range is longer than 400 "
    "days, or `kind` is not a catalog kind. `errors` names the parameter and `detail` says why.",
}

router = APIRouter(prefix="/dashboards", tags=["dashboards"], dependencies=[allow(Permission.DASHBOARD_READ)])


@router.get(
    "/products",
    summary="Revenue by course and product over a range, highest first",
    description=PRODUCTS_HELP + FRESHNESS,
    responses={200: {"headers": AGE_HEADER}, **problem_responses(DESCRIBED, 403, 422)},
    response_model=RevenueByProductOut,
)
@without_database
async def products(
    store: StoreDep,
    refresh: RefreshDep,
    settings: SettingsDep,
    since: Since = None,
    until: Until = None,
    kind: Annotated[
        ProductKind | None,
        Query(description="Only products of this catalog kind (`course`: courses); all when left out."),
    ] = None,
) -> Response:
    """Permission: `dashboard:read`."""
    ask = ask_of(settings, "last_28d", "28d")  # revenue by product takes no attribution
    first, last = periods.day_range(since, until, max_days=MAX_DAYS, now=ask.today)
    answer = await answers.answer(store, ask, products_of, first, last, kind)
    revalidate(refresh, answer, first, last)
    return answer.response()
