"""Payments, refunds and cancelling: exact amounts, no overpaying however concurrent, a bank
reference counted once, seats given back, only the allowed status changes, and every change
published with the order's attribution, audited and on the customer's timeline."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from crm_gateway.audit.models import audit_log
from crm_gateway.catalog.models import course_sessions
from crm_gateway.customers.models import customer_timeline
from crm_gateway.orders.models import payments
from crm_servicekit.runtime import Runtime
from crm_servicekit.testing import EventRecorder

from .test_orders import AD, a_course, a_customer, a_session

pytestmark = pytest.mark.integration

RECEIVED = "2026-12-01T14:30:00+07:00"


async def an_order(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    runtime: Runtime,
    price: str = "12500.00",
    *,
    session: tuple[str, str] | None = None,
    touch: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A pending order of one course (one seat of `session` = (course, session) when given)."""
    course, session_id = session or (await a_course(client, auth, price=price), None)
    customer = await a_customer(runtime, latest_touch=touch)
    line = {"product_id": course, **({"session_id": session_id} if session_id else {})}
    response = await client.post(
        "/api/v1/orders", json={"customer_id": customer, "lines": [line]}, headers=auth
    )
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


async def pay(
    client: httpx.AsyncClient, auth: dict[str, str], order_id: str, amount: str, **extra: Any
) -> httpx.Response:
    body = {"method": "transfer", "amount": amount, "received_at": RECEIVED, **extra}
    return await client.post(f"/api/v1/orders/{order_id}/payments", json=body, headers=auth)


async def refund(
    client: httpx.AsyncClient, auth: dict[str, str], order_id: str, amount: str
) -> httpx.Response:
    body = {"method": "transfer", "amount": amount, "reason": "Moved to another intake"}
    return await client.post(f"/api/v1/orders/{order_id}/refunds", json=body, headers=auth)


async def cancel(client: httpx.AsyncClient, auth: dict[str, str], order_id: str) -> httpx.Response:
    return await client.post(f"/api/v1/orders/{order_id}/cancel", headers=auth)


async def test_paying_in_two_parts_makes_the_order_paid_with_exact_amounts_published(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime, rabbitmq_url: str
) -> None:
    order = await an_order(client, auth, runtime, "12500.00", touch=AD)

    async with EventRecorder(rabbitmq_url) as events:
        first = await pay(client, auth, order["id"], "5000.10", reference="KBANK-0001")
        second = await pay(client, auth, order["id"], "7499.90", method="promptpay")
        published = await events.wait_for("order.status_changed", count=2)

    assert first.status_code == second.status_code == 201, (first.text, second.text)
    assert (first.json()["status"], first.json()["paid"], first.json()["due"]) == (
        "pending",
        "5000.10",
        "7499.90",
    )
    assert (second.json()["status"], second.json()["paid"], second.json()["due"]) == (
        "paid",
        "12500.00",
        "0.00",
    )
    shown = [
        (e["data"]["previous_status"], e["data"]["status"], e["data"]["amount"], e["data"]["paid"])
        for e in published
    ]
    assert shown == [("pending", "pending", "5000.10", "5000.10"), ("pending", "paid", "7499.90", "12500.00")]
    assert [e["data"]["method"] for e in published] == ["transfer", "promptpay"]
    assert all(e["data"]["total"] == "12500.00" for e in published)
    assert all(e["data"]["latest_touch"]["ad_id"] == AD["ad_id"] for e in published)
    assert all(e["data"]["first_touch"]["ad_id"] == AD["ad_id"] for e in published)
    read = await client.get(f"/api/v1/orders/{order['id']}", headers=auth)
    assert read.headers["ETag"] == '"3"', "one version per change"
    assert [(p["kind"], p["amount"], p["reference"]) for p in read.json()["payments"]] == [
        ("payment", "5000.10", "KBANK-0001"),
        ("payment", "7499.90", None),
    ]


async def test_concurrent_payments_that_together_exceed_the_total_never_overpay(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime
) -> None:
    order = await an_order(client, auth, runtime, "10000.00")

    responses = await asyncio.gather(*(pay(client, auth, order["id"], "3000.00") for _ in range(6)))

    assert sorted(r.status_code for r in responses) == [201, 201, 201, 422, 422, 422]
    refused = next(r for r in responses if r.status_code == 422).json()
    assert refused["errors"][0]["field"] == "amount"
    assert "1000.00 THB still due" in refused["detail"]
    async with runtime.sessionmaker() as db:
        recorded = await db.scalar(
            select(func.sum(payments.c.amount)).where(payments.c.order_id == order["id"])
        )
    assert str(recorded) == "9000.00"
    last = await pay(client, auth, order["id"], "1000.00")
    assert (last.json()["status"], last.json()["paid"]) == ("paid", "10000.00")


@pytest.mark.parametrize(
    ("amount", "says"),
    [
        ("12500.01", "more than the 12500.00 THB still due"),
        ("100.005", "no more than 2 decimal places"),
        ("0.00", "greater than 0"),
    ],
)
async def test_a_payment_amount_that_cannot_be_taken_is_refused_naming_the_field(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime, amount: str, says: str
) -> None:
    order = await an_order(client, auth, runtime, "12500.00")

    response = await pay(client, auth, order["id"], amount)

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "amount"
    assert says in error["detail"]
    read = (await client.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()
    assert (read["paid"], read["payments"]) == ("0.00", [])


async def test_a_repeated_bank_reference_is_refused_and_counted_once(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime
) -> None:
    order = await an_order(client, auth, runtime, "12500.00")
    assert (await pay(client, auth, order["id"], "1000.00", reference="SCB-778899")).status_code == 201

    again = await pay(client, auth, order["id"], "1000.00", reference="SCB-778899")

    assert again.status_code == 409
    assert "SCB-778899" in again.json()["detail"]
    read = (await client.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()
    assert (read["paid"], len(read["payments"])) == ("1000.00", 1)
    cash = [await pay(client, auth, order["id"], "10.00", method="cash") for _ in range(2)]
    assert [r.status_code for r in cash] == [201, 201], "payments without a reference are not duplicates"


async def test_a_partial_refund_keeps_the_order_paid_and_a_full_one_makes_it_refunded(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime, rabbitmq_url: str
) -> None:
    order = await an_order(client, auth, runtime, "12500.00", touch=AD)
    assert (await pay(client, auth, order["id"], "12500.00")).status_code == 201

    async with EventRecorder(rabbitmq_url) as events:
        partial = await refund(client, auth, order["id"], "2000.25")
        too_much = await refund(client, auth, order["id"], "10499.76")
        rest = await refund(client, auth, order["id"], "10499.75")
        published = await events.wait_for("order.status_changed", count=2)

    assert partial.status_code == 201, partial.text
    assert (partial.json()["status"], partial.json()["paid"], partial.json()["due"]) == (
        "paid",
        "10499.75",
        "0.00",
    )
    assert too_much.status_code == 422
    assert too_much.json()["errors"][0]["field"] == "amount"
    assert "10499.75 THB paid" in too_much.json()["detail"]
    assert (rest.status_code, rest.json()["status"], rest.json()["paid"]) == (201, "refunded", "0.00")
    shown = [
        (e["data"]["previous_status"], e["data"]["status"], e["data"]["amount"], e["data"]["paid"])
        for e in published
    ]
    assert shown == [("paid", "paid", "2000.25", "10499.75"), ("paid", "refunded", "10499.75", "0.00")]
    assert all(e["data"]["latest_touch"]["ad_id"] == AD["ad_id"] for e in published)
    kinds = [(p["kind"], p["amount"], p["reason"]) for p in rest.json()["payments"]]
    assert kinds[1:] == [
        ("refund", "2000.25", "Moved to another intake"),
        ("refund", "10499.75", "Moved to another intake"),
    ]


async def test_cancelling_gives_the_seats_back_so_the_session_can_be_booked_again(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime, rabbitmq_url: str
) -> None:
    course = await a_course(client, auth, price="3000.00")
    session = await a_session(client, auth, course, capacity=1)
    first = await an_order(client, auth, runtime, session=(course, session))
    late = await a_customer(runtime)
    body = {"customer_id": late, "lines": [{"product_id": course, "session_id": session}]}
    assert (await client.post("/api/v1/orders", json=body, headers=auth)).status_code == 409

    async with EventRecorder(rabbitmq_url) as events:
        cancelled = await cancel(client, auth, first["id"])
        [event] = await events.wait_for("order.status_changed")
    booked = await client.post("/api/v1/orders", json=body, headers=auth)

    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert (event["data"]["previous_status"], event["data"]["status"]) == ("pending", "cancelled")
    assert (event["data"]["amount"], event["data"]["paid"], event["data"]["total"]) == (
        None,
        "0.00",
        "3000.00",
    )
    assert booked.status_code == 201, booked.text
    async with runtime.sessionmaker() as db:
        taken = await db.scalar(select(course_sessions.c.seats_taken).where(course_sessions.c.id == session))
    assert taken == 1


async def _paid(client: httpx.AsyncClient, auth: dict[str, str], order_id: str) -> None:
    assert (await pay(client, auth, order_id, "500.00")).status_code == 201


async def _refunded(client: httpx.AsyncClient, auth: dict[str, str], order_id: str) -> None:
    await _paid(client, auth, order_id)
    assert (await refund(client, auth, order_id, "500.00")).status_code == 201


async def _cancelled(client: httpx.AsyncClient, auth: dict[str, str], order_id: str) -> None:
    assert (await cancel(client, auth, order_id)).status_code == 200


async def _part_paid(client: httpx.AsyncClient, auth: dict[str, str], order_id: str) -> None:
    assert (await pay(client, auth, order_id, "100.00")).status_code == 201


async def _pending(client: httpx.AsyncClient, auth: dict[str, str], order_id: str) -> None:
    return None


@pytest.mark.parametrize(
    ("before", "action", "says"),
    [
        (_paid, "cancel", "A paid order cannot be cancelled"),
        (_paid, "pay", "A paid order takes no payments"),
        (_refunded, "pay", "A refunded order takes no payments"),
        (_refunded, "refund", "A refunded order cannot be refunded"),
        (_refunded, "cancel", "A refunded order cannot be cancelled"),
        (_cancelled, "pay", "A cancelled order takes no payments"),
        (_cancelled, "cancel", "A cancelled order cannot be cancelled"),
        (_part_paid, "cancel", "100.00 THB is paid on this order: refund it before cancelling"),
        (_pending, "refund", "Nothing was paid on this order"),
    ],
)
async def test_a_status_change_the_order_does_not_allow_is_refused_saying_what_is(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime, before: Any, action: str, says: str
) -> None:
    order = await an_order(client, auth, runtime, "500.00")
    await before(client, auth, order["id"])
    ahead = (await client.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()

    if action == "pay":
        response = await pay(client, auth, order["id"], "1.00")
    elif action == "refund":
        response = await refund(client, auth, order["id"], "1.00")
    else:
        response = await cancel(client, auth, order["id"])

    assert response.status_code == 409, response.text
    assert says in response.json()["detail"]
    assert "Allowed: pending → paid → refunded, and pending → cancelled." in response.json()["detail"]
    after = (await client.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()
    assert after == ahead, "a refused change changes nothing"


async def test_an_unknown_order_takes_no_payment(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    response = await pay(client, auth, str(uuid.uuid4()), "10.00")
    assert response.status_code == 404
    assert response.json()["type"].endswith("not-found")


async def test_every_change_is_audited_and_on_the_customers_timeline(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime
) -> None:
    order = await an_order(client, auth, runtime, "800.00")
    await pay(client, auth, order["id"], "800.00", reference="BBL-1")
    await refund(client, auth, order["id"], "800.00")
    other = await an_order(client, auth, runtime, "50.00")
    await cancel(client, auth, other["id"])

    async with runtime.sessionmaker() as db:
        entries = (
            await db.execute(
                select(audit_log.c.action, audit_log.c.changes, audit_log.c.actor_role)
                .where(audit_log.c.entity_id.in_([order["id"], other["id"]]))
                .order_by(audit_log.c.at, audit_log.c.action)
            )
        ).all()
        shown = (
            await db.execute(
                select(customer_timeline.c.kind, customer_timeline.c.detail)
                .where(customer_timeline.c.customer_id == order["customer_id"])
                .order_by(customer_timeline.c.id)
            )
        ).all()

    by_action = {e.action: e.changes for e in entries if e.action != "order.create"}
    assert set(by_action) == {"order.pay", "order.refund", "order.cancel"}
    assert by_action["order.pay"]["status"] == {"before": "pending", "after": "paid"}
    assert by_action["order.pay"]["paid"] == {"before": "0.00", "after": "800.00"}
    assert by_action["order.pay"]["amount"] == {"before": None, "after": "800.00"}
    assert by_action["order.refund"]["status"] == {"before": "paid", "after": "refunded"}
    assert by_action["order.cancel"] == {"status": {"before": "pending", "after": "cancelled"}}
    assert {e.actor_role for e in entries} == {"admin"}
    assert [s.kind for s in shown] == ["order_created", "payment_recorded", "order_status_changed"]
    assert shown[1].detail == {
        "order_id": order["id"],
        "status": "paid",
        "paid": "800.00",
        "amount": "800.00",
        "method": "transfer",
    }
    assert shown[2].detail["status"] == "refunded"
    assert shown[2].detail["amount"] == "800.00"


async def test_a_deposit_given_back_leaves_the_order_pending_so_it_can_be_cancelled(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime
) -> None:
    order = await an_order(client, auth, runtime, "3000.00")
    assert (await pay(client, auth, order["id"], "1000.00")).status_code == 201

    back = await refund(client, auth, order["id"], "1000.00")
    cancelled = await cancel(client, auth, order["id"])

    assert (back.status_code, back.json()["status"], back.json()["paid"]) == (201, "pending", "0.00")
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")


@pytest.mark.parametrize(
    ("method", "path", "problems"),
    [
        ("post", "/api/v1/orders/{order_id}/payments", {"404", "409", "422"}),
        ("post", "/api/v1/orders/{order_id}/refunds", {"404", "409", "422"}),
        ("post", "/api/v1/orders/{order_id}/cancel", {"404", "409"}),
        ("get", "/api/v1/orders", {"422"}),
        ("get", "/api/v1/orders/{order_id}", {"404"}),
        ("post", "/api/v1/orders", {"409", "422"}),
        ("post", "/api/v1/products", {"422"}),
        ("get", "/api/v1/products/{product_id}", {"404"}),
        ("patch", "/api/v1/products/{product_id}", {"404", "412", "422", "428"}),
    ],
)
async def test_the_openapi_document_names_each_routes_problems_and_shows_examples(
    client: httpx.AsyncClient, method: str, path: str, problems: set[str]
) -> None:
    operation = (await client.get("/openapi.json")).json()["paths"][path][method]

    assert operation["summary"]
    assert problems <= set(operation["responses"])
    for status in problems:
        assert "application/problem+json" in operation["responses"][status]["content"]
    if method != "get" and not path.endswith("/cancel"):
        assert operation["requestBody"]["content"]["application/json"]["examples"]
