"""The internal exports a consumer rebuilds its copy from (`/internal/v1/export/...`): what they
say of orders, payments and refunds is what the gateway's events said when those happened, and
they page through everything once."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from crm_contracts import OrderCreatedData, OrderStatusChangedData
from crm_servicekit.runtime import Runtime
from crm_servicekit.testing import EventRecorder

from .conftest import INTERNAL_TOKEN
from .test_orders import AD, a_course, a_customer

pytestmark = pytest.mark.integration

INTERNAL = {"X-Internal-Token": INTERNAL_TOKEN}


async def walk(client: httpx.AsyncClient, path: str, limit: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        params = {"limit": str(limit), **({"after": after} if after else {})}
        response = await client.get(f"/internal/v1/export/{path}", params=params, headers=INTERNAL)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        after = page["next_cursor"]
        if after is None:
            return items


async def test_the_exports_say_what_the_events_said(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime, rabbitmq_url: str
) -> None:
    course = await a_course(client, auth, price="5000.00")
    touched = await a_customer(runtime, latest_touch=AD)
    walk_in = await a_customer(runtime)

    async def order(customer: str, quantity: int) -> str:
        line = {"product_id": course, "quantity": quantity}
        response = await client.post(
            "/api/v1/orders", json={"customer_id": customer, "lines": [line]}, headers=auth
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def money(order_id: str, kind: str, amount: str, **extra: str) -> None:
        body = {"method": "transfer", "amount": amount, **extra}
        response = await client.post(f"/api/v1/orders/{order_id}/{kind}", json=body, headers=auth)
        assert response.status_code == 201, response.text

    async with EventRecorder(rabbitmq_url) as events:
        first, second = await order(touched, 2), await order(walk_in, 1)
        await money(first, "payments", "6000.00", received_at="2026-10-31T23:30:00+07:00")
        await money(first, "payments", "4000.00", received_at="2026-11-01T00:30:00+07:00")
        await money(first, "refunds", "2000.00")
        await money(second, "payments", "5000.00", received_at="2026-11-02T09:00:00+07:00")
        await money(second, "refunds", "5000.00")
        created = await events.wait_for("order.created", count=2)
        moved = await events.wait_for("order.status_changed", count=5)

    ours = {first, second}
    exported_orders = {o["order_id"]: o for o in await walk(client, "orders", 1) if o["order_id"] in ours}
    assert {k: OrderCreatedData.model_validate(o) for k, o in exported_orders.items()} == {
        e["data"]["order_id"]: OrderCreatedData.model_validate(e["data"]) for e in created
    }
    assert {line["product_kind"] for o in exported_orders.values() for line in o["lines"]} == {"course"}
    assert {line["product_kind"] for e in created for line in e["data"]["lines"]} == {"course"}

    exported = [m for m in await walk(client, "payments", 1) if m["data"]["order_id"] in ours]
    # As models: a moment is equal whatever zone it was written in (the event keeps the +07:00 staff sent).
    assert [OrderStatusChangedData.model_validate(m["data"]) for m in exported] == [
        OrderStatusChangedData.model_validate(e["data"]) for e in moved
    ], "as the events said, in order"
    assert [(m["data"]["previous_status"], m["data"]["status"]) for m in exported] == [
        ("pending", "pending"),
        ("pending", "paid"),
        ("paid", "paid"),  # a partial refund keeps it paid
        ("pending", "paid"),
        ("paid", "refunded"),
    ]
    assert len({m["payment_id"] for m in exported}) == 5
    assert all(uuid.UUID(m["payment_id"]) for m in exported)

    customers = {c["customer_id"]: c for c in await walk(client, "customers", 2)}
    assert customers[touched]["first_touch"]["ad_id"] == AD["ad_id"]
    assert customers[walk_in]["first_touch"] is None
    assert all(c["display_name"] is None and c["phone"] is None for c in customers.values()), (
        "no personal data"
    )


async def test_the_exports_need_the_token_and_their_own_cursors(client: httpx.AsyncClient) -> None:
    for path in ("customers", "orders", "payments"):
        assert (await client.get(f"/internal/v1/export/{path}")).status_code == 401
        refused = await client.get(
            f"/internal/v1/export/{path}", params={"after": "nonsense"}, headers=INTERNAL
        )
        assert refused.status_code == 422
        first = await client.get(f"/internal/v1/export/{path}", headers=INTERNAL)
        assert first.json()["total"] is not None, "the first page says how many there are"
