"""Revenue by product, as the files show it: each payment and refund split across its order's
lines by their totals, to the satang (largest remainder first), so a day's products add up to
its revenue exactly; an order whose lines are not known counts under `unknown`.

Bangkok is UTC+7; every time below is UTC. Course K (a course, 2,000.00 a seat) and kit T (equipment,
500.00 each).

    OA  customer 1: K x1 2,000.00 + T x2 1,000.00 = 3,000.00
        1,000.00 paid 10 Nov   -> K 666.67 (1,000 x 2/3 = 666.666..., the largest remainder takes
                                  the left-over satang), T 333.33
        2,000.00 paid 11 Nov   -> K 1,333.33, T 666.67 (1,333.333... and 666.666...: T's remainder
                                  is the larger); OA paid on 11 Nov
        1,000.00 refunded 3 Dec-> K -666.67, T -333.33 (December, not November)
    OB  customer 2: K x1 2,000.00, paid at 17:30 on 10 Nov: 00:30 on 11 Nov in Bangkok
    OC  customer 3: lines not known (an event from before lines were sent), 500.00 paid 10 Nov
    OD  customer 4: T x2 1,000.00, K x1 1,000.00 (discounted), T x2 1,000.00 = 3,000.00; 100.00
        paid 12 Nov: 33.333... each, the three remainders equal, so the first line takes the
        left-over satang: T 33.34 + 33.33 = 66.67, K 33.33 (rounding each line would lose one)

    10 Nov  K 666.67 + T 333.33 + unknown 500.00 = 1,500.00 (revenue); unknown 1 paid order
    11 Nov  K 1,333.33 + 2,000.00 = 3,333.33, T 666.67: 4,000.00; K 2 paid orders 2 units, T 1, 2
    12 Nov  K 33.33, T 66.67 = 100.00; no paid order (OD is part paid)
    Nov     K 4,033.33, T 1,066.67, unknown 500.00 = 5,600.00; K's share 4,033.33 / 5,600 =
            0.72023... -> 0.7202, its average order 4,033.33 / 2 = 2,016.665 -> 2,016.67 (half up)
    Dec     K -666.67 (refunds 666.67), T -333.33 = -1,000.00
    ever    K 3,366.66, T 733.34, unknown 500.00 = 4,600.00
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from crm_cache_writer.analytics import tables
from crm_cache_writer.analytics.compute import split
from crm_contracts import OrderCreated, OrderLine
from crm_contracts.analytics import (
    PRODUCTS_ALL_PATH,
    UNKNOWN_PRODUCT,
    PeriodSnapshot,
    ProductsSnapshot,
    daily_path,
    monthly_path,
    product_kpis,
)
from crm_servicekit.testing import eventually, publish_events

# mypy cannot name this folder's package (`cache-writer` has a hyphen); pytest imports it fine.
from .analytics_events import Order, cache_writer, customer  # type: ignore[import-not-found]

pytestmark = pytest.mark.integration

D = Decimal
K = uuid.UUID("00000000-0000-4000-8000-00000000000a")
T = uuid.UUID("00000000-0000-4000-8000-00000000000b")


def line(product: uuid.UUID, quantity: int, total: str) -> OrderLine:
    course = product == K
    return OrderLine(
        product_id=product,
        product_name="คอร์สราเมง" if course else "Knife kit",
        product_kind="course" if course else "equipment",
        quantity=quantity,
        unit_price=D(total) / quantity,
        discount=D("0.00"),
        line_total=D(total),
    )


def with_lines(order: Any, *lines: OrderLine) -> OrderCreated:
    event: OrderCreated = order.created_event()
    return event.model_copy(update={"data": event.data.model_copy(update={"lines": list(lines)})})


@pytest.fixture(scope="module")
async def files(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Path]:
    root = tmp_path_factory.mktemp("products")
    c1 = customer(1, "2026-11-09T03:00:00", channel="WALKIN")
    c2 = customer(2, "2026-11-09T03:00:00", channel="WALKIN")
    c3 = customer(3, "2026-11-09T03:00:00", channel="WALKIN")
    c4 = customer(4, "2026-11-09T03:00:00", channel="WALKIN")
    oa = Order(c1, "3000.00", "2026-11-10T02:00:00", None)
    ob = Order(c2, "2000.00", "2026-11-10T17:00:00", None)
    oc = Order(c3, "500.00", "2026-11-10T02:00:00", None)
    od = Order(c4, "3000.00", "2026-11-12T02:00:00", None)
    events = [
        c1,
        c2,
        c3,
        c4,
        with_lines(od, line(T, 2, "1000.00"), line(K, 1, "1000.00"), line(T, 2, "1000.00")),
        with_lines(oa, line(K, 1, "2000.00"), line(T, 2, "1000.00")),
        with_lines(ob, line(K, 1, "2000.00")),
        oc.created_event(),  # no lines
        oa.money("payment", "1000.00", "2026-11-10T03:00:00"),
        oa.money("payment", "2000.00", "2026-11-11T03:00:00"),
        oa.money("refund", "1000.00", "2026-12-03T03:00:00"),
        ob.money("payment", "2000.00", "2026-11-10T17:30:00"),
        oc.money("payment", "500.00", "2026-11-10T04:00:00"),
        od.money("payment", "100.00", "2026-11-12T04:00:00"),
    ]
    async with cache_writer("products", root) as writer:
        shuffled = random.Random(20261206).sample(events, len(events))  # payments before orders too
        await publish_events(writer.app.state.runtime.broker, *shuffled, *shuffled[:4])  # some twice
        await writer.stored(order_lines=6, money=6, orders=4)

        async def settled() -> bool:
            try:
                december = PeriodSnapshot.model_validate_json((root / monthly_path("2026-12")).read_bytes())
                ever = ProductsSnapshot.model_validate_json((root / PRODUCTS_ALL_PATH).read_bytes())
            except (FileNotFoundError, ValueError):
                return False
            pending = await writer.count(tables.dirty_days)
            return pending == 0 and str(K) in december.products and len(ever.products) == 3

        await eventually(settled, timeout=30, interval=0.2)
        yield root


def period(root: Path, relative: str) -> PeriodSnapshot:
    return PeriodSnapshot.model_validate_json((root / relative).read_bytes())


def revenue(snapshot: PeriodSnapshot | ProductsSnapshot) -> dict[str, Decimal]:
    return {product: figures.revenue for product, figures in snapshot.products.items()}


def adds_up(snapshot: PeriodSnapshot) -> None:
    """Every attribution's total revenue is the products' revenue added up, to the satang."""
    for attribution in ("last_1d", "last_7d", "last_28d", "first"):
        assert sum(revenue(snapshot).values()) == snapshot.total.revenue[attribution]


async def test_a_payment_is_split_across_its_lines_to_the_satang(files: Path) -> None:
    november10 = period(files, daily_path(date(2026, 11, 10)))
    assert revenue(november10) == {
        str(K): D("666.67"),
        str(T): D("333.33"),
        UNKNOWN_PRODUCT: D("500.00"),
    }
    assert november10.total.revenue["last_28d"] == D("1500.00")
    adds_up(november10)
    unknown = november10.products[UNKNOWN_PRODUCT]
    assert (unknown.name, unknown.kind, unknown.paid_orders, unknown.units) == (None, None, 1, 0)
    assert november10.products[str(K)].paid_orders == 0  # OA is half paid, OB paid on 11 Nov (Bangkok)

    november11 = period(files, daily_path(date(2026, 11, 11)))
    assert revenue(november11) == {str(K): D("3333.33"), str(T): D("666.67")}
    adds_up(november11)
    course, kit = november11.products[str(K)], november11.products[str(T)]
    assert (course.name, course.kind, course.paid_orders, course.units) == ("คอร์สราเมง", "course", 2, 2)
    assert (kit.name, kit.kind, kit.paid_orders, kit.units) == ("Knife kit", "equipment", 1, 2)

    november12 = period(files, daily_path(date(2026, 11, 12)))
    assert revenue(november12) == {str(K): D("33.33"), str(T): D("66.67")}
    adds_up(november12)
    assert november12.products[str(T)].paid_orders == 0


async def test_months_add_up_and_a_refund_lowers_its_own_month(files: Path) -> None:
    november = period(files, monthly_path("2026-11"))
    assert revenue(november) == {str(K): D("4033.33"), str(T): D("1066.67"), UNKNOWN_PRODUCT: D("500.00")}
    adds_up(november)
    total = november.total.revenue["last_28d"]
    course = product_kpis(november.products[str(K)], total)
    assert (course.share_of_revenue, course.average_order_value) == (D("0.7202"), D("2016.67"))

    december = period(files, monthly_path("2026-12"))
    assert revenue(december) == {str(K): D("-666.67"), str(T): D("-333.33")}
    assert (december.products[str(K)].refunds, december.products[str(T)].refunds) == (
        D("666.67"),
        D("333.33"),
    )
    adds_up(december)
    refunded = product_kpis(december.products[str(K)], december.total.revenue["last_28d"])
    assert refunded.share_of_revenue is None  # no share of a negative total


async def test_the_all_time_file_is_every_day_added_up(files: Path) -> None:
    ever = ProductsSnapshot.model_validate_json((files / PRODUCTS_ALL_PATH).read_bytes())
    assert revenue(ever) == {str(K): D("3366.66"), str(T): D("733.34"), UNKNOWN_PRODUCT: D("500.00")}
    course, kit = ever.products[str(K)], ever.products[str(T)]
    assert (course.refunds, course.paid_orders, course.units, course.kind) == (D("666.67"), 2, 2, "course")
    assert (kit.refunds, kit.paid_orders, kit.units, kit.name) == (D("333.33"), 1, 2, "Knife kit")
    # The months' files say the same, added up.
    months = [period(files, monthly_path(m)) for m in ("2026-11", "2026-12")]
    for product, figures in ever.products.items():
        assert figures.revenue == sum(m.products[product].revenue for m in months if product in m.products)


def test_the_split_is_exact_and_gives_the_left_over_satang_to_the_largest_remainders() -> None:
    assert split(D("1000.00"), [D("2000.00"), D("1000.00")]) == [D("666.67"), D("333.33")]
    assert split(D("100.00"), [D("1000.00")] * 3) == [D("33.34"), D("33.33"), D("33.33")]  # a tie: first
    assert split(D("-1000.00"), [D("2000.00"), D("1000.00")]) == [D("-666.67"), D("-333.33")]
    assert split(D("0.01"), [D("1.00"), D("3.00")]) == [D("0.00"), D("0.01")]
    assert split(D("10.00"), [D("0.00"), D("0.00")]) == [D("5.00"), D("5.00")]  # free lines: equally
    rng = random.Random(14)
    for _ in range(2000):
        weights = [D(rng.randint(0, 10**9)) / 100 for _ in range(rng.randint(1, 6))]
        amount = D(rng.randint(-(10**12), 10**12)) / 100
        shares = split(amount, weights)
        assert sum(shares) == amount
        if any(weights):  # every share within a satang of its exact proportion
            whole = sum(weights)
            assert all(abs(s - amount * w / whole) < D("0.01") for s, w in zip(shares, weights, strict=True))
