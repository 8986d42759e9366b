"""Sensitive business flows, attacked as each role through the API: a discount above the cap
(`ORDER_DISCOUNT_CAP_PERCENT`, 15 % in this module), a refund and a merge need their own
permissions (`order:discount_over_cap`, `order:refund`, `customer:merge`: managers and admins);
what an agent tries leaves nothing behind, and what a manager does is audited as always."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from crm_gateway.audit.models import audit_log
from crm_gateway.auth.domain import Role
from crm_gateway.auth.repository import insert_if_absent
from crm_gateway.auth.security import hash_password
from crm_gateway.config import GatewaySettings
from crm_gateway.orders.models import orders
from crm_servicekit.runtime import Runtime

from .test_orders import a_course, a_customer
from .test_payments import an_order, pay, refund

pytestmark = pytest.mark.integration

PASSWORD = "a long passphrase for every role"
ORDER_TAKERS = [Role.AGENT, Role.MANAGER, Role.ADMIN]


@pytest.fixture(scope="module")
def settings(settings: GatewaySettings) -> GatewaySettings:
    return settings.model_copy(update={"order_discount_cap_percent": Decimal("15")})


@pytest.fixture(scope="module")
async def as_role(client: httpx.AsyncClient, runtime: Runtime) -> dict[Role, dict[str, str]]:
    """A signed-in staff user of each role: their Authorization header."""
    password_hash = await asyncio.to_thread(hash_password, PASSWORD)
    headers = {}
    for role in Role:
        email = f"{role.value}-{uuid.uuid4().hex[:8]}@vschool.example"
        async with runtime.sessionmaker() as session, session.begin():
            await insert_if_absent(session, email=email, password_hash=password_hash, role=role)
        token = await client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
        assert token.status_code == 200, token.text
        headers[role] = {"Authorization": f"Bearer {token.json()['access_token']}"}
    return headers


async def orders_of(runtime: Runtime, customer_id: str) -> int:
    async with runtime.sessionmaker() as session:
        found = await session.scalar(select(func.count()).where(orders.c.customer_id == customer_id))
    return int(found or 0)


async def audited(runtime: Runtime, action: str, entity_id: str) -> int:
    async with runtime.sessionmaker() as session:
        query = select(func.count()).where(audit_log.c.action == action, audit_log.c.entity_id == entity_id)
        return int(await session.scalar(query) or 0)


# --- discounts --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ORDER_TAKERS, ids=lambda r: r.value)
async def test_every_order_taker_may_discount_up_to_the_cap(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    runtime: Runtime,
    as_role: dict[Role, dict[str, str]],
    role: Role,
) -> None:
    course = await a_course(client, auth, price="10000.00")
    customer = await a_customer(runtime)
    line = {"product_id": course, "quantity": 2, "discount": "3000.00"}  # 15 % of 20,000

    response = await client.post(
        "/api/v1/orders", json={"customer_id": customer, "lines": [line]}, headers=as_role[role]
    )

    assert response.status_code == 201, response.text
    assert response.json()["total"] == "17000.00"


async def test_an_agent_cannot_discount_above_the_cap_and_no_order_is_taken(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime, as_role: dict[Role, dict[str, str]]
) -> None:
    course = await a_course(client, auth, price="10000.00")
    customer = await a_customer(runtime)
    for discount in ("3000.01", "20000.00"):  # just above 15 %, and everything
        line = {"product_id": course, "quantity": 2, "discount": discount}
        response = await client.post(
            "/api/v1/orders", json={"customer_id": customer, "lines": [line]}, headers=as_role[Role.AGENT]
        )

        assert response.status_code == 403, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"] == "urn:vschool-crm:problem:forbidden"
        assert problem["detail"] == (
            f"A discount of {discount} THB on คอร์สซูชิพื้นฐาน is more than 15 % of the line's 20000.00 THB, "
            "the most your role (agent) may give; a discount above it needs order:discount_over_cap "
            "(a manager or admin)."
        )
    assert await orders_of(runtime, customer) == 0


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN], ids=lambda r: r.value)
async def test_a_manager_or_admin_discounts_above_the_cap_audited(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    runtime: Runtime,
    as_role: dict[Role, dict[str, str]],
    role: Role,
) -> None:
    course = await a_course(client, auth, price="10000.00")
    customer = await a_customer(runtime)
    line = {"product_id": course, "discount": "10000.00"}  # free

    response = await client.post(
        "/api/v1/orders", json={"customer_id": customer, "lines": [line]}, headers=as_role[role]
    )

    assert response.status_code == 201, response.text
    assert response.json()["total"] == "0.00"
    assert await audited(runtime, "order.create", response.json()["id"]) == 1


def test_the_discount_cap_is_configured_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORDER_DISCOUNT_CAP_PERCENT", raising=False)
    assert GatewaySettings(_env_file=None).order_discount_cap_percent == Decimal("20")
    monkeypatch.setenv("ORDER_DISCOUNT_CAP_PERCENT", "12.5")
    assert GatewaySettings(_env_file=None).order_discount_cap_percent == Decimal("12.5")
    monkeypatch.setenv("ORDER_DISCOUNT_CAP_PERCENT", "101")
    with pytest.raises(ValidationError, match="order_discount_cap_percent"):
        GatewaySettings(_env_file=None)


# --- refunds ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.AGENT, Role.MARKETER, Role.VIEWER], ids=lambda r: r.value)
async def test_only_managers_and_admins_refund(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    runtime: Runtime,
    as_role: dict[Role, dict[str, str]],
    role: Role,
) -> None:
    order = await an_order(client, auth, runtime, "12000.00")
    assert (await pay(client, auth, order["id"], "12000.00")).status_code == 201

    refused = await refund(client, as_role[role], order["id"], "12000.00")
    assert refused.status_code == 403, refused.text
    assert "order:refund" in refused.json()["detail"]
    after = await client.get(f"/api/v1/orders/{order['id']}", headers=auth)
    assert (after.json()["status"], after.json()["paid"]) == ("paid", "12000.00")
    assert [p["kind"] for p in after.json()["payments"]] == ["payment"]

    refunded = await refund(client, as_role[Role.MANAGER], order["id"], "12000.00")
    assert refunded.status_code == 201, refunded.text
    assert (refunded.json()["status"], refunded.json()["paid"]) == ("refunded", "0.00")
    assert await audited(runtime, "order.refund", order["id"]) == 1


# --- merges -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.AGENT, Role.MARKETER, Role.VIEWER], ids=lambda r: r.value)
async def test_only_managers_and_admins_merge_customers(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    runtime: Runtime,
    as_role: dict[Role, dict[str, str]],
    role: Role,
) -> None:
    survivor, other = await a_customer(runtime), await a_customer(runtime)
    path = f"/api/v1/customers/{survivor}/merge"

    refused = await client.post(path, json={"merged_id": other}, headers=as_role[role])
    assert refused.status_code == 403, refused.text
    assert "customer:merge" in refused.json()["detail"]
    still = await client.get(f"/api/v1/customers/{other}", headers=auth)
    assert still.status_code == 200, still.text  # a merged customer answers 404 "merged into ..."

    merged = await client.post(path, json={"merged_id": other}, headers=as_role[Role.MANAGER])
    assert merged.status_code == 200, merged.text
    assert (await client.get(f"/api/v1/customers/{other}", headers=auth)).status_code == 404
    assert await audited(runtime, "customer.merge", survivor) == 1
