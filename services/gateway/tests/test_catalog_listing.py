"""What a catalog screen asks: products found by part of a name (Thai or English) or by kind,
category and whether they are on sale; a course's sessions with the seats left."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from crm_servicekit.runtime import Runtime

from .test_orders import a_customer, a_session

pytestmark = pytest.mark.integration


async def add(client: httpx.AsyncClient, auth: dict[str, str], **body: Any) -> str:
    response = await client.post("/api/v1/products", json=body, headers=auth)
    assert response.status_code == 201, response.text
    product_id: str = response.json()["id"]
    return product_id


async def listed(client: httpx.AsyncClient, auth: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await client.get("/api/v1/products", params=params, headers=auth)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def test_products_are_found_by_part_of_a_thai_or_english_name_and_filtered(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    tag = uuid.uuid4().hex[:8]
    ramen = await add(
        client,
        auth,
        kind="course",
        name_th=f"คอร์สราเมง {tag}",
        name_en=f"Ramen {tag}",
        price="9900.50",
        category=f"noodles-{tag}",
    )
    knife = await add(
        client, auth, kind="equipment", name_th=f"มีดญี่ปุ่น {tag}", price="2500.00", category=f"tools-{tag}"
    )
    retired = await add(client, auth, kind="course", name_th=f"คอร์สเก่า {tag}", price="100.00")
    await client.patch(
        f"/api/v1/products/{retired}", json={"active": False}, headers={**auth, "If-Match": '"1"'}
    )

    by_thai = await listed(client, auth, q=f"ราเมง {tag}")
    by_english = await listed(client, auth, q=f"RAMEN {tag}")
    courses = await listed(client, auth, q=tag, kind="course")
    on_sale = await listed(client, auth, q=tag, active="true")
    tools = await listed(client, auth, category=f"tools-{tag}")
    everything = await listed(client, auth, q=tag, limit=2)

    assert [p["id"] for p in by_thai["items"]] == [ramen]
    assert by_thai["items"][0]["price"] == "9900.50", "money stays an exact decimal string"
    assert [p["id"] for p in by_english["items"]] == [ramen]
    assert {p["id"] for p in courses["items"]} == {ramen, retired}
    assert {p["id"] for p in on_sale["items"]} == {ramen, knife}
    assert [p["id"] for p in tools["items"]] == [knife]
    assert everything["total"] == 3
    assert len(everything["items"]) == 2
    # A search for a literal `%` matches no product named otherwise.
    assert (await listed(client, auth, q=f"%{tag}"))["total"] == 0


async def test_a_courses_sessions_show_the_seats_left_after_an_order(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime
) -> None:
    course = await add(client, auth, kind="course", name_th="คอร์สซูชิ", price="12500.00")
    session_id = await a_session(client, auth, course, capacity=8)
    customer = await a_customer(runtime)
    order = await client.post(
        "/api/v1/orders",
        json={
            "customer_id": customer,
            "lines": [{"product_id": course, "session_id": session_id, "quantity": 3}],
        },
        headers=auth,
    )
    assert order.status_code == 201, order.text

    with_past = await client.get(f"/api/v1/products/{course}/sessions?include_past=true", headers=auth)
    missing = await client.get(f"/api/v1/products/{uuid.uuid4()}/sessions", headers=auth)

    assert with_past.status_code == 200
    assert [(s["id"], s["capacity"], s["seats_left"]) for s in with_past.json()] == [(session_id, 8, 5)]
    assert missing.status_code == 404
