"""The catalog: packages of courses, optimistic concurrency on product changes (ETag and
If-Match), and every catalog write audited."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from crm_gateway.audit.models import audit_log
from crm_servicekit.runtime import Runtime
from crm_servicekit.testing import EventRecorder

from .test_orders import a_course, a_customer

pytestmark = pytest.mark.integration


async def a_product(client: httpx.AsyncClient, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/products", json=body, headers=auth)
    assert response.status_code == 201, response.text
    assert response.headers["ETag"] == '"1"'
    product: dict[str, Any] = response.json()
    return product


async def patch(
    client: httpx.AsyncClient, auth: dict[str, str], product_id: str, body: dict[str, Any], etag: str | None
) -> httpx.Response:
    headers = {**auth, **({"If-Match": etag} if etag is not None else {})}
    return await client.patch(f"/api/v1/products/{product_id}", json=body, headers=headers)


async def test_a_package_of_courses_round_trips_with_course_names_and_sells_at_its_own_price(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime
) -> None:
    sushi = await a_course(client, auth, price="12500.00")
    ramen = (
        await a_product(client, auth, kind="course", name_th="คอร์สราเมง", name_en="Ramen", price="9900.00")
    )["id"]
    items = [{"course_id": sushi, "quantity": 1}, {"course_id": ramen, "quantity": 2}]

    created = await a_product(
        client, auth, kind="package", name_th="แพ็กเกจญี่ปุ่น", price="19900.00", items=items
    )
    read = await client.get(f"/api/v1/products/{created['id']}", headers=auth)

    assert read.status_code == 200
    assert read.headers["ETag"] == '"1"'
    assert read.json() == created
    shown = {(i["course_id"], i["name_th"], i["name_en"], i["quantity"]) for i in created["items"]}
    assert shown == {(sushi, "คอร์สซูชิพื้นฐาน", "Sushi basics", 1), (ramen, "คอร์สราเมง", "Ramen", 2)}
    customer = await a_customer(runtime)
    order = await client.post(
        "/api/v1/orders",
        json={"customer_id": customer, "lines": [{"product_id": created["id"]}]},
        headers=auth,
    )
    assert order.status_code == 201, order.text
    assert order.json()["total"] == "19900.00", "a package is sold at its own price"

    replaced = await patch(
        client, auth, created["id"], {"items": [{"course_id": ramen, "quantity": 1}]}, '"1"'
    )

    assert replaced.status_code == 200, replaced.text
    assert replaced.headers["ETag"] == '"2"'
    assert [(i["course_id"], i["quantity"]) for i in replaced.json()["items"]] == [(ramen, 1)]
    again = (await client.get(f"/api/v1/products/{created['id']}", headers=auth)).json()
    assert again["items"] == replaced.json()["items"]


@pytest.mark.parametrize(
    ("item_kind", "says"),
    [
        ("equipment", "A package holds courses only"),
        ("package", "A package holds courses only"),
        ("inactive", "is not sold now"),
        ("missing", "No product has the id"),
        ("twice", "is listed twice"),
    ],
)
async def test_a_package_item_that_is_not_an_active_course_is_refused_naming_it(
    client: httpx.AsyncClient, auth: dict[str, str], item_kind: str, says: str
) -> None:
    course = await a_course(client, auth)
    if item_kind == "equipment":
        other = (await a_product(client, auth, kind="equipment", name_th="มีด", price="990.00"))["id"]
    elif item_kind == "package":
        items = [{"course_id": course}]
        other = (await a_product(client, auth, kind="package", name_th="แพ็ก", price="1.00", items=items))[
            "id"
        ]
    elif item_kind == "inactive":
        other = (await a_product(client, auth, kind="course", name_th="เลิกสอน", price="1.00", active=False))[
            "id"
        ]
    elif item_kind == "missing":
        other = "00000000-0000-4000-8000-000000000000"
    else:
        other = course
    body = {
        "kind": "package",
        "name_th": "แพ็กเกจ",
        "price": "100.00",
        "items": [{"course_id": course}, {"course_id": other}],
    }

    response = await client.post("/api/v1/products", json=body, headers=auth)

    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == "items.1.course_id"
    assert says in error["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "package", "name_th": "ว่าง", "price": "1.00"}, "items"),
        ({"kind": "package", "name_th": "ว่าง", "price": "1.00", "items": []}, "items"),
        (
            {"kind": "course", "name_th": "คอร์ส", "price": "1.00", "items": [{"course_id": "x"}]},
            "items.0.course_id",
        ),
    ],
)
async def test_items_belong_to_packages_and_a_package_has_some(
    client: httpx.AsyncClient, auth: dict[str, str], body: dict[str, Any], field: str
) -> None:
    response = await client.post("/api/v1/products", json=body, headers=auth)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


async def test_items_on_a_course_are_refused(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    course = await a_course(client, auth)
    other = await a_course(client, auth)
    body = {"kind": "course", "name_th": "คอร์ส", "price": "1.00", "items": [{"course_id": course}]}

    created = await client.post("/api/v1/products", json=body, headers=auth)
    patched = await patch(client, auth, other, {"items": [{"course_id": course}]}, '"1"')

    assert (created.status_code, created.json()["errors"][0]["field"]) == (422, "items")
    assert (patched.status_code, patched.json()["errors"][0]["field"]) == (422, "items")
    assert "Only a package has items" in patched.json()["detail"]


async def test_a_change_needs_the_current_etag_and_answers_with_the_next(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    course = await a_course(client, auth, price="9900.00")

    without = await patch(client, auth, course, {"price": "1.00"}, None)
    stale = await patch(client, auth, course, {"price": "1.00"}, '"0"')
    changed = await patch(client, auth, course, {"price": "10900.00"}, '"1"')
    behind = await patch(client, auth, course, {"price": "1.00"}, '"1"')
    read = await client.get(f"/api/v1/products/{course}", headers=auth)

    assert (without.status_code, without.json()["title"]) == (428, "If-Match required")
    assert stale.status_code == 412
    assert (changed.status_code, changed.headers["ETag"], changed.json()["price"]) == (200, '"2"', "10900.00")
    assert behind.status_code == 412
    assert "version 2" in behind.json()["detail"]
    assert (read.headers["ETag"], read.json()["price"]) == ('"2"', "10900.00"), (
        "refused changes change nothing"
    )


async def test_of_two_staff_changing_the_same_version_at_once_exactly_one_wins(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    course = await a_course(client, auth, price="100.00")

    responses = await asyncio.gather(
        *(patch(client, auth, course, {"price": f"{200 + i}.00"}, '"1"') for i in range(5))
    )

    assert sorted(r.status_code for r in responses) == [200, 412, 412, 412, 412]
    [winner] = [r for r in responses if r.status_code == 200]
    read = await client.get(f"/api/v1/products/{course}", headers=auth)
    assert (read.headers["ETag"], read.json()["price"]) == ('"2"', winner.json()["price"])


@pytest.mark.parametrize("field", ["name_th", "price", "active"])
async def test_a_required_field_cannot_be_nulled(
    client: httpx.AsyncClient, auth: dict[str, str], field: str
) -> None:
    course = await a_course(client, auth)
    response = await patch(client, auth, course, {field: None}, '"1"')
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


async def test_catalog_writes_are_audited_with_what_changed(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime
) -> None:
    course = await a_course(client, auth, price="9900.00")
    changed = await patch(client, auth, course, {"price": "10900.50", "category": "sushi"}, '"1"')
    assert changed.status_code == 200

    async with runtime.sessionmaker() as db:
        entries = (
            await db.execute(
                select(audit_log.c.action, audit_log.c.changes, audit_log.c.actor_role)
                .where(audit_log.c.entity_type == "product", audit_log.c.entity_id == course)
                .order_by(audit_log.c.at)
            )
        ).all()

    assert [(e.action, e.actor_role) for e in entries] == [
        ("product.create", "admin"),
        ("product.update", "admin"),
    ]
    assert entries[0].changes["price"] == {"before": None, "after": "9900.00"}
    assert entries[0].changes["kind"] == {"before": None, "after": "course"}
    assert entries[1].changes == {
        "price": {"before": "9900.00", "after": "10900.50"},
        "category": {"before": None, "after": "sushi"},
    }


async def test_a_package_is_published_with_its_courses_for_the_ai(
    client: httpx.AsyncClient, auth: dict[str, str], rabbitmq_url: str
) -> None:
    sushi = await a_course(client, auth, price="12500.00")
    async with EventRecorder(rabbitmq_url) as events:
        created = await a_product(
            client,
            auth,
            kind="package",
            name_th="แพ็กเกจซูชิ",
            price="21900.00",
            items=[{"course_id": sushi, "quantity": 2}],
        )
        [event] = [
            e
            for e in await events.wait_for("catalog.product_changed")
            if e["data"]["product_id"] == created["id"]
        ]
    assert event["data"]["items"] == [{"product_id": sushi, "name_th": "คอร์สซูชิพื้นฐาน", "quantity": 2}]
    assert event["data"]["price"] == "21900.00"
