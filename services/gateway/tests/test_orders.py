"""Catalog and orders: prices from the catalog, exact totals, sessions never oversold, and a
repeated Idempotency-Key never takes a second order."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select

from crm_gateway.audit.models import audit_log
from crm_gateway.catalog.models import course_sessions
from crm_gateway.customers.models import customer_timeline, customers
from crm_gateway.orders.models import order_lines, orders
from crm_servicekit.runtime import Runtime
from crm_servicekit.testing import EventRecorder

pytestmark = pytest.mark.integration

AD = {"ad_id": "120210000000001", "source": "ADS", "type": "OPEN_THREAD", "ref": None, "ad_title": None}


async def a_customer(runtime: Runtime, latest_touch: dict[str, Any] | None = None) -> str:
    customer_id = f"TVS-CUS-WALKIN-26-{uuid.uuid4().int % 10**8:08d}"
    async with runtime.sessionmaker() as session, session.begin():
        await session.execute(
            insert(customers).values(
                id=customer_id, channel="WALKIN", first_touch=latest_touch, latest_touch=latest_touch
            )
        )
    return customer_id


async def a_course(client: httpx.AsyncClient, auth: dict[str, str], price: str = "12500.00") -> str:
    body = {"kind": "course", "name_th": "คอร์สซูชิพื้นฐาน", "name_en": "Sushi basics", "price": price}
    response = await client.post("/api/v1/products", json=body, headers=auth)
    assert response.status_code == 201, response.text
    product_id: str = response.json()["id"]
    return product_id


async def a_session(client: httpx.AsyncClient, auth: dict[str, str], product_id: str, capacity: int) -> str:
    body = {
        "starts_at": "2026-12-05T10:00:00+07:00",
        "ends_at": "2026-12-05T16:00:00+07:00",
        "capacity": capacity,
    }
    response = await client.post(f"/api/v1/products/{product_id}/sessions", json=body, headers=auth)
    assert response.status_code == 201, response.text
    assert response.json()["seats_left"] == capacity
    session_id: str = response.json()["id"]
    return session_id


async def test_fifty_concurrent_bookings_of_a_ten_seat_session_sell_exactly_ten(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime
) -> None:
    product = await a_course(client, auth)
    session = await a_session(client, auth, product, capacity=10)
    buyers = [await a_customer(runtime) for _ in range(50)]

    async def book(customer_id: str) -> httpx.Response:
        line = {"product_id": product, "session_id": session, "quantity": 1}
        return await client.post(
            "/api/v1/orders", json={"customer_id": customer_id, "lines": [line]}, headers=auth
        )

    responses = await asyncio.gather(*(book(c) for c in buyers))

    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 10
    assert statuses.count(409) == 40
    refused = next(r for r in responses if r.status_code == 409).json()
    assert refused["detail"] == "Only 0 seats are left in this session; 1 were asked for."
    async with runtime.sessionmaker() as db:
        taken = await db.scalar(select(course_sessions.c.seats_taken).where(course_sessions.c.id == session))
        lines = await db.scalar(
            select(func.count()).select_from(order_lines).where(order_lines.c.session_id == session)
        )
    assert (taken, lines) == (10, 10)


async def test_an_order_is_priced_by_the_catalog_exactly_and_published_with_its_attribution(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime, rabbitmq_url: str
) -> None:
    course = await a_course(client, auth, price="12500.00")
    session = await a_session(client, auth, course, capacity=5)
    knives = (
        await client.post(
            "/api/v1/products",
            json={"kind": "equipment", "name_th": "มีดซาชิมิ", "price": "1890.50"},
            headers=auth,
        )
    ).json()["id"]
    customer = await a_customer(runtime, latest_touch=AD)
    lines = [
        {"product_id": course, "session_id": session, "quantity": 2, "discount": "1000.00"},
        {"product_id": knives, "quantity": 3},
    ]

    async with EventRecorder(rabbitmq_url) as events:
        response = await client.post(
            "/api/v1/orders", json={"customer_id": customer, "lines": lines}, headers=auth
        )
        assert response.status_code == 201, response.text
        [event] = await events.wait_for("order.created")

    order = response.json()
    assert order["total"] == "29671.50"  # 2 x 12500.00 - 1000.00 + 3 x 1890.50
    assert [line["line_total"] for line in order["lines"]] == ["24000.00", "5671.50"]
    assert order["attribution"]["latest_touch"]["ad_id"] == AD["ad_id"]
    assert event["data"]["total"] == "29671.50"
    assert event["data"]["latest_touch"]["ad_id"] == AD["ad_id"]
    assert event["data"]["customer_id"] == customer


async def test_a_repeated_idempotency_key_returns_the_first_order(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime
) -> None:
    course = await a_course(client, auth)
    session = await a_session(client, auth, course, capacity=3)
    customer = await a_customer(runtime)
    body = {"customer_id": customer, "lines": [{"product_id": course, "session_id": session}]}
    headers = {**auth, "Idempotency-Key": f"order-{uuid.uuid4()}"}

    responses = await asyncio.gather(
        *(client.post("/api/v1/orders", json=body, headers=headers) for _ in range(5))
    )

    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    async with runtime.sessionmaker() as db:
        taken = await db.scalar(select(course_sessions.c.seats_taken).where(course_sessions.c.id == session))
    assert taken == 1, "one order, one seat"


async def test_a_price_change_is_published_and_applies_to_new_orders_only(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime, rabbitmq_url: str
) -> None:
    course = await a_course(client, auth, price="9900.00")
    customer = await a_customer(runtime)
    first = (
        await client.post(
            "/api/v1/orders", json={"customer_id": customer, "lines": [{"product_id": course}]}, headers=auth
        )
    ).json()

    async with EventRecorder(rabbitmq_url) as events:
        etag = (await client.get(f"/api/v1/products/{course}", headers=auth)).headers["ETag"]
        changed = await client.patch(
            f"/api/v1/products/{course}", json={"price": "10900.00"}, headers={**auth, "If-Match": etag}
        )
        assert changed.status_code == 200, changed.text
        [event] = await events.wait_for("catalog.product_changed")
    second = (
        await client.post(
            "/api/v1/orders", json={"customer_id": customer, "lines": [{"product_id": course}]}, headers=auth
        )
    ).json()

    assert event["data"]["price"] == "10900.00"
    assert (first["total"], second["total"]) == ("9900.00", "10900.00")
    again = (await client.get(f"/api/v1/orders/{first['id']}", headers=auth)).json()
    assert again["total"] == "9900.00", "an order keeps the price it was taken at"


@pytest.mark.parametrize(
    ("change", "status", "says"),
    [
        ({"customer_id": "TVS-CUS-FB-26-9999"}, 422, "No customer has the id"),
        ({"discount": "99999.00"}, 422, "discount"),
        ({"discount": "1.005"}, 422, "discount"),
        ({"quantity": 0}, 422, "quantity"),
    ],
)
async def test_an_order_that_cannot_be_taken_says_why_and_leaves_nothing(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    runtime: Runtime,
    change: dict[str, Any],
    status: int,
    says: str,
) -> None:
    course = await a_course(client, auth, price="100.00")
    session = await a_session(client, auth, course, capacity=2)
    customer = change.pop("customer_id", None) or await a_customer(runtime)
    line = {"product_id": course, "session_id": session, "quantity": 1, **change}

    response = await client.post(
        "/api/v1/orders", json={"customer_id": customer, "lines": [line]}, headers=auth
    )

    assert response.status_code == status
    assert says in response.text
    async with runtime.sessionmaker() as db:
        taken = await db.scalar(select(course_sessions.c.seats_taken).where(course_sessions.c.id == session))
    assert taken == 0, "a refused order books no seat"


async def test_a_price_with_more_than_two_decimals_is_refused_naming_the_field(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    body = {"kind": "menu_item", "name_th": "ข้าวปั้น", "price": "45.505"}
    response = await client.post("/api/v1/products", json=body, headers=auth)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "price"


async def an_order_of(client: httpx.AsyncClient, auth: dict[str, str], customer: str, product: str) -> str:
    body = {"customer_id": customer, "lines": [{"product_id": product}]}
    response = await client.post("/api/v1/orders", json=body, headers=auth)
    assert response.status_code == 201, response.text
    order_id: str = response.json()["id"]
    return order_id


async def all_pages(client: httpx.AsyncClient, auth: dict[str, str], **params: Any) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/api/v1/orders", params=query, headers=auth)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append([order["id"] for order in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages


async def test_a_customers_orders_page_newest_first_without_gaps_or_repeats(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime
) -> None:
    course = await a_course(client, auth, price="990.00")
    customer = await a_customer(runtime)
    taken = [await an_order_of(client, auth, customer, course) for _ in range(4)]
    # Some taken at the same moment too: the id breaks the tie, so none is skipped or repeated.
    taken += await asyncio.gather(*(an_order_of(client, auth, customer, course) for _ in range(3)))

    pages = await all_pages(client, auth, customer_id=customer, limit=3)

    assert [len(page) for page in pages] == [3, 3, 1]
    listed = [order_id for page in pages for order_id in page]
    assert sorted(listed) == sorted(taken), "every order once"
    assert listed[-4:] == taken[:4][::-1], "newest first"
    first = (await client.get("/api/v1/orders", params={"customer_id": customer}, headers=auth)).json()
    assert first["items"][0]["total"] == "990.00"
    assert first["items"][0]["due"] == "990.00"


async def test_every_order_pages_once_and_the_status_filter_applies(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime
) -> None:
    course = await a_course(client, auth, price="100.00")
    customer = await a_customer(runtime)
    await asyncio.gather(*(an_order_of(client, auth, customer, course) for _ in range(5)))
    async with runtime.sessionmaker() as db:
        existing = await db.scalar(select(func.count()).select_from(orders))

    listed = [order_id for page in await all_pages(client, auth, limit=4) for order_id in page]
    pending = [
        order_id for page in await all_pages(client, auth, limit=4, status="pending") for order_id in page
    ]
    paid = await all_pages(client, auth, customer_id=customer, status="paid")

    assert len(listed) == len(set(listed)) == existing
    assert set(pending) <= set(listed)
    assert paid == [[]]


async def test_a_cursor_the_api_did_not_give_is_refused_naming_it(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    response = await client.get("/api/v1/orders", params={"cursor": "not-a-cursor"}, headers=auth)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"


async def test_taking_an_order_is_audited_and_on_the_customers_timeline(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime
) -> None:
    course = await a_course(client, auth, price="4500.50")
    customer = await a_customer(runtime)

    order_id = await an_order_of(client, auth, customer, course)

    async with runtime.sessionmaker() as db:
        entry = (await db.execute(select(audit_log).where(audit_log.c.entity_id == order_id))).one()
        [shown] = (
            await db.execute(
                select(customer_timeline.c.kind, customer_timeline.c.detail).where(
                    customer_timeline.c.customer_id == customer
                )
            )
        ).all()
    assert (entry.action, entry.entity_type, entry.actor_role) == ("order.create", "order", "admin")
    assert entry.changes["total"] == {"before": None, "after": "4500.50"}
    assert shown.kind == "order_created"
    assert shown.detail == {"order_id": order_id, "amount": "4500.50", "status": "pending"}


@pytest.mark.parametrize("key", ["", "two words", "a" * 201])
async def test_an_idempotency_key_that_is_empty_or_not_visible_ascii_is_refused_naming_it(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime, key: str
) -> None:
    """An empty key would be one key shared by every client sending it (the second order with it
    was a 500): it is refused like a malformed one, and no order is taken."""
    course = await a_course(client, auth, price="100.00")
    customer = await a_customer(runtime)
    order = {"customer_id": customer, "lines": [{"product_id": course, "quantity": 1}]}

    for _ in range(2):
        response = await client.post("/api/v1/orders", json=order, headers={**auth, "Idempotency-Key": key})
        assert response.status_code == 422, response.text
        assert "Idempotency-Key" in response.text
    async with runtime.sessionmaker() as db:
        taken = await db.scalar(
            select(func.count()).select_from(orders).where(orders.c.customer_id == customer)
        )
    assert taken == 0


async def test_an_order_for_a_merged_or_erased_customer_is_refused_naming_where_to_take_it(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime
) -> None:
    course = await a_course(client, auth, price="100.00")
    survivor, merged, erased = [await a_customer(runtime) for _ in range(3)]
    merging = await client.post(
        f"/api/v1/customers/{survivor}/merge", json={"merged_id": merged}, headers=auth
    )
    assert merging.status_code == 200, merging.text
    erasing = await client.post(f"/api/v1/customers/{erased}/erasure", headers=auth)
    assert erasing.status_code == 202, erasing.text

    def order(customer: str) -> dict[str, Any]:
        return {"customer_id": customer, "lines": [{"product_id": course, "quantity": 1}]}

    to_merged = await client.post("/api/v1/orders", json=order(merged), headers=auth)
    to_erased = await client.post("/api/v1/orders", json=order(erased), headers=auth)
    to_survivor = await client.post("/api/v1/orders", json=order(survivor), headers=auth)

    assert to_merged.status_code == 409
    assert f"merged into {survivor!r}" in to_merged.json()["detail"]
    assert to_erased.status_code == 409
    assert "erased" in to_erased.json()["detail"]
    assert to_survivor.status_code == 201, to_survivor.text
    async with runtime.sessionmaker() as db:
        taken = await db.scalar(
            select(func.count()).select_from(orders).where(orders.c.customer_id.in_([merged, erased]))
        )
    assert taken == 0


async def test_an_order_racing_a_merge_ends_on_the_survivor_or_is_refused(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime
) -> None:
    """The order share-locks the customer, so a merge waits for it and then moves it; an order that
    comes after the merge is refused. None is left on the merged record."""
    course = await a_course(client, auth, price="100.00")
    for _ in range(10):
        survivor, merged = await a_customer(runtime), await a_customer(runtime)
        order = {"customer_id": merged, "lines": [{"product_id": course, "quantity": 1}]}
        merging, ordering = await asyncio.gather(
            client.post(f"/api/v1/customers/{survivor}/merge", json={"merged_id": merged}, headers=auth),
            client.post("/api/v1/orders", json=order, headers=auth),
        )
        assert merging.status_code == 200, merging.text
        assert ordering.status_code in (201, 409), ordering.text
        async with runtime.sessionmaker() as db:
            left = await db.scalar(
                select(func.count()).select_from(orders).where(orders.c.customer_id == merged)
            )
            moved = await db.scalar(
                select(func.count()).select_from(orders).where(orders.c.customer_id == survivor)
            )
        assert left == 0
        assert moved == (1 if ordering.status_code == 201 else 0)
