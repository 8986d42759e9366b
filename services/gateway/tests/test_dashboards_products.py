"""`/api/v1/dashboards/products`, as staff use it: daily and monthly snapshot files with their
`products` are written into the test's cache directory with the contract's models (as the
cache-writer writes them), then read through the API. Every expected figure is worked out by hand
in a comment beside it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from crm_contracts.analytics import UNKNOWN_PRODUCT, PeriodSnapshot, ProductFigures, monthly_path
from crm_gateway.auth.domain import Role

from .test_dashboards import (  # noqa: F401  (fixtures: the roles' tokens, no files before each test)
    BASE,
    as_role,
    day,
    fig,
    heartbeat,
    no_analytics,
    period,
    store,
    write,
    write_day,
)

D = Decimal
K = "00000000-0000-4000-8000-00000000000a"  # a course
T = "00000000-0000-4000-8000-00000000000b"  # a knife kit (equipment)
P = "00000000-0000-4000-8000-00000000000c"  # a package
COURSE, RENAMED = "คอร์สราเมง", "คอร์สราเมง (ใหม่)"


def product(name: str | None, kind: str | None, revenue: str, **counts: Any) -> ProductFigures:
    return ProductFigures(name=name, kind=kind, revenue=D(revenue), **counts)  # type: ignore[arg-type]


def with_products(snapshot: PeriodSnapshot, **products: ProductFigures) -> PeriodSnapshot:
    keyed = {UNKNOWN_PRODUCT if key == "unknown" else key: value for key, value in products.items()}
    return snapshot.model_copy(update={"products": keyed})


def files(root: Path) -> None:
    """30 Oct - 1 Dec: October's last two days and 1 December from their daily files, November
    (whole) from its monthly file; a November daily file that must not be used beside it."""
    write_day(
        root,
        with_products(
            day(date(2026, 10, 30), {}, fig(revenue="1200.00")),
            **{K: product(COURSE, "course", "1000.00", paid_orders=1, units=1)},
            unknown=product(None, None, "200.00", paid_orders=1),
        ),
    )
    write_day(
        root,
        with_products(
            day(date(2026, 10, 31), {}, fig(revenue="1000.00")),
            **{K: product(COURSE, "course", "666.67"), T: product("Knife kit", "equipment", "333.33")},
        ),
    )
    november = period("2026-11", date(2026, 11, 1), date(2026, 11, 30), {}, fig(revenue="10100.00"))
    write(
        root,
        monthly_path("2026-11"),
        with_products(
            november,
            **{
                K: product(RENAMED, "course", "4033.33", paid_orders=2, units=2),
                T: product("Knife kit", "equipment", "1066.67", paid_orders=1, units=2),
                P: product("Ramen package", "package", "5000.00", paid_orders=1, units=1),
            },
        ),
    )
    write_day(  # inside the whole month: its monthly file counts, not this
        root,
        with_products(
            day(date(2026, 11, 5), {}, fig(revenue="99999.00")),
            **{K: product(COURSE, "course", "99999.00")},
        ),
    )
    write_day(
        root,
        with_products(
            day(date(2026, 12, 1), {}, fig(revenue="-666.67")),
            **{K: product(RENAMED, "course", "-666.67", refunds=D("666.67"))},
        ),
    )


async def products(client: httpx.AsyncClient, auth: dict[str, str], **params: str) -> httpx.Response:
    return await client.get(f"{BASE}/products", params=params, headers=auth)


async def test_revenue_by_product_over_a_range_across_months(
    client: httpx.AsyncClient, auth: dict[str, str], cache_dir: Path
) -> None:
    files(cache_dir)
    heartbeat(cache_dir)

    response = await products(client, auth, since="2026-10-30", until="2026-12-01")
    assert response.status_code == 200, response.text
    assert "Age" in response.headers
    body = response.json()
    assert (body["since"], body["until"], body["kind"], body["stale"]) == (
        "2026-10-30",
        "2026-12-01",
        None,
        False,
    )
    # 1,200.00 + 1,000.00 (October's days) + 10,100.00 (November's file) - 666.67 (1 December)
    assert body["total_revenue"] == "11633.33"
    shown = [(p["product_id"], p["revenue"]) for p in body["products"]]
    assert shown == [
        (K, "5033.33"),  # 1,000.00 + 666.67 + 4,033.33 - 666.67: the decoy November day is not added
        (P, "5000.00"),
        (T, "1400.00"),  # 333.33 + 1,066.67
        (UNKNOWN_PRODUCT, "200.00"),  # orders whose lines are not known are shown, never dropped
    ]
    assert sum(D(revenue) for _, revenue in shown) == D(body["total_revenue"])
    course = body["products"][0]
    assert course == {
        "product_id": K,
        "name": RENAMED,  # the latest file's name
        "kind": "course",
        "revenue": "5033.33",
        "refunds": "666.67",
        "paid_orders": 3,
        "units": 3,
        "share_of_revenue": "0.4327",  # 5,033.33 / 11,633.33 = 0.43266...
        "average_order_value": "1677.78",  # 5,033.33 / 3 = 1,677.776... (half up)
    }
    unknown = body["products"][-1]
    assert (unknown["name"], unknown["kind"], unknown["paid_orders"], unknown["units"]) == (None, None, 1, 0)


async def test_kind_shows_courses_only(
    client: httpx.AsyncClient, auth: dict[str, str], cache_dir: Path
) -> None:
    files(cache_dir)
    heartbeat(cache_dir)

    body = (await products(client, auth, since="2026-10-30", until="2026-12-01", kind="course")).json()
    assert body["kind"] == "course"
    assert [(p["product_id"], p["revenue"], p["share_of_revenue"]) for p in body["products"]] == [
        (K, "5033.33", "0.4327")
    ]
    assert body["total_revenue"] == "11633.33"  # the range's revenue, every product's

    # One day of October only: the daily file.
    october31 = (await products(client, auth, since="2026-10-31", until="2026-10-31")).json()
    assert [(p["product_id"], p["revenue"]) for p in october31["products"]] == [(K, "666.67"), (T, "333.33")]

    refused = await products(client, auth, kind="gadget")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "kind"


async def test_without_files_it_is_empty_and_stale(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    body = (await products(client, auth)).json()
    assert (body["products"], body["total_revenue"], body["stale"], body["stale_reason"]) == (
        [],
        "0.00",
        True,
        "no_heartbeat",
    )


async def test_only_roles_with_dashboard_read_see_revenue_by_product(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    as_role: dict[Role, dict[str, str]],  # noqa: F811  (the fixture imported above)
) -> None:
    refused = await products(client, as_role[Role.AGENT])
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert "dashboard:read" in refused.json()["detail"]
    assert (await client.get(f"{BASE}/products")).status_code == 401
    for allowed in (auth, as_role[Role.MANAGER], as_role[Role.MARKETER], as_role[Role.VIEWER]):
        assert (await products(client, allowed)).status_code == 200
