"""The profile staff keep: creating customers (gapless ids under concurrency), changing them with
If-Match, stage history, notes, the timeline and the audit, all through the API as staff use it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from crm_gateway.audit.models import audit_log
from crm_servicekit.runtime import Runtime
from crm_servicekit.testing import EventRecorder

pytestmark = pytest.mark.integration

SOMCHAI = {
    "channel": "WALKIN",
    "name_th": "สมชาย ใจดี",
    "name_latin": "Somchai Jaidee",
    "nickname": "ชาย",
    "phone": "081-234-5678",
    "email": " Somchai@Example.COM ",
    "tags": ["Sushi", "weekend", "sushi"],
    "consent": {"status": "granted", "method": "form"},
}


async def create(client: httpx.AsyncClient, auth: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/customers", json={"channel": "WALKIN", **fields}, headers=auth)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def patch(
    client: httpx.AsyncClient, auth: dict[str, str], customer: dict[str, Any], **fields: Any
) -> httpx.Response:
    headers = auth | {"If-Match": f'"{customer["version"]}"'}
    return await client.patch(f"/api/v1/customers/{customer['customer_id']}", json=fields, headers=headers)


async def test_a_customer_created_by_staff_is_stored_normalised_and_announced(
    client: httpx.AsyncClient, auth: dict[str, str], rabbitmq_url: str, no_customers: None
) -> None:
    async with EventRecorder(rabbitmq_url) as recorder:
        response = await client.post("/api/v1/customers", json=SOMCHAI, headers=auth)
        assert response.status_code == 201, response.text
        created = response.json()
        [event] = await recorder.wait_for("customer.created")

    assert created["customer_id"].startswith("TVS-CUS-WALKIN-")
    assert created["customer_id"].endswith("-0001")
    assert created["phone"] == "+66812345678"
    assert created["email"] == "somchai@example.com"
    assert created["tags"] == ["sushi", "weekend"]
    assert created["consent"]["status"] == "granted"
    assert created["consent"]["method"] == "form"
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"/api/v1/customers/{created['customer_id']}"
    assert event["data"]["customer_id"] == created["customer_id"]
    assert event["data"]["phone"] == "+66812345678"

    read = await client.get(f"/api/v1/customers/{created['customer_id']}", headers=auth)
    assert read.json()["name_th"] == "สมชาย ใจดี"
    assert read.headers["ETag"] == '"1"'


async def test_concurrent_creation_gives_gapless_unique_ids_per_channel(
    client: httpx.AsyncClient, auth: dict[str, str], no_customers: None
) -> None:
    async def one(channel: str, i: int) -> str:
        response = await client.post(
            "/api/v1/customers", json={"channel": channel, "name_latin": f"Walk-in {i}"}, headers=auth
        )
        assert response.status_code == 201, response.text
        customer_id: str = response.json()["customer_id"]
        return customer_id

    ids = await asyncio.gather(*(one("WALKIN" if i % 3 else "LINE", i) for i in range(30)))

    assert len(set(ids)) == 30
    for channel, count in (("WALKIN", 20), ("LINE", 10)):
        numbers = sorted(int(i.rsplit("-", 1)[1]) for i in ids if f"-{channel}-" in i)
        assert numbers == list(range(1, count + 1))


async def test_bad_fields_are_refused_naming_the_field(
    client: httpx.AsyncClient, auth: dict[str, str], no_customers: None
) -> None:
    for body, field in (
        ({"channel": "WALKIN", "phone": "12"}, "phone"),
        ({"channel": "WALKIN", "email": "not-an-address"}, "email"),
        ({"channel": "WALKIN", "lifecycle_stage": "customer"}, "lifecycle_stage"),
        ({"channel": "FAX"}, "channel"),
    ):
        response = await client.post("/api/v1/customers", json=body, headers=auth)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert any(e["field"].endswith(field) for e in response.json()["errors"]), response.json()


async def test_an_identity_of_another_customer_is_refused(
    client: httpx.AsyncClient, auth: dict[str, str], no_customers: None
) -> None:
    identity = {"channel": "line", "external_id": "U1234567890abcdef"}
    first = await create(client, auth, channel="LINE", identities=[identity])
    response = await client.post(
        "/api/v1/customers", json={"channel": "LINE", "identities": [identity]}, headers=auth
    )
    assert response.status_code == 409
    assert first["customer_id"] in response.json()["detail"]


async def test_changes_need_the_current_etag(
    client: httpx.AsyncClient, auth: dict[str, str], no_customers: None
) -> None:
    customer = await create(client, auth, name_latin="Nok")
    url = f"/api/v1/customers/{customer['customer_id']}"

    missing = await client.patch(url, json={"nickname": "นก"}, headers=auth)
    assert missing.status_code == 428

    changed = await patch(client, auth, customer, nickname="นก", phone="+66 89 999 0000")
    assert changed.status_code == 200, changed.text
    assert changed.headers["ETag"] == '"2"'
    assert changed.json()["phone"] == "+66899990000"

    stale = await patch(client, auth, customer, nickname="Noknok")  # still version 1
    assert stale.status_code == 412
    assert (await client.get(url, headers=auth)).json()["nickname"] == "นก"

    cleared = await patch(client, auth, changed.json(), phone=None)
    assert cleared.json()["phone"] is None
    assert cleared.json()["nickname"] == "นก"


async def test_stage_changes_are_kept_in_history_timeline_and_audit(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime, no_customers: None
) -> None:
    customer = await create(client, auth, name_latin="Ploy", phone="0899990001")
    for stage in ("contacted", "qualified", "enrolled"):
        response = await patch(client, auth, customer, lifecycle_stage=stage)
        assert response.status_code == 200, response.text
        customer = response.json()
    note = await client.post(
        f"/api/v1/customers/{customer['customer_id']}/notes", json={"body": "Paid the deposit"}, headers=auth
    )
    assert note.status_code == 201

    overview = await client.get(f"/api/v1/customers/{customer['customer_id']}/overview", headers=auth)
    assert overview.status_code == 200, overview.text
    view = overview.json()
    assert [(s["from_stage"], s["to_stage"]) for s in view["stage_history"]] == [
        (None, "lead"),
        ("lead", "contacted"),
        ("contacted", "qualified"),
        ("qualified", "enrolled"),
    ]
    assert [n["body"] for n in view["notes"]] == ["Paid the deposit"]
    assert view["lifetime_value"] == "0.00"

    timeline = await client.get(f"/api/v1/customers/{customer['customer_id']}/timeline?limit=2", headers=auth)
    page1 = timeline.json()
    assert [e["kind"] for e in page1["items"]] == ["note_added", "stage_changed"]
    assert page1["items"][1]["detail"] == {"from": "qualified", "to": "enrolled"}
    rest = await client.get(
        f"/api/v1/customers/{customer['customer_id']}/timeline",
        params={"cursor": page1["next_cursor"]},
        headers=auth,
    )
    assert [e["kind"] for e in rest.json()["items"]] == [
        "stage_changed",
        "stage_changed",
        "customer_created",
    ]
    assert rest.json()["next_cursor"] is None

    async with runtime.sessionmaker() as session:
        entries = (
            await session.execute(
                select(audit_log.c.action, audit_log.c.changes, audit_log.c.actor_role)
                .where(audit_log.c.entity_id == customer["customer_id"])
                .order_by(audit_log.c.at)
            )
        ).all()
    assert [e.action for e in entries] == ["customer.create"] + ["customer.update"] * 3 + [
        "customer.note_add"
    ]
    assert entries[0].actor_role == "admin"
    # Personal data is masked in the audit: the shape shows, the value does not.
    assert entries[0].changes["phone"] == {"before": None, "after": "+66******001"}
    assert entries[0].changes["name_latin"]["after"] == "P***"
    assert entries[-1].changes["body"]["after"] == "[16 characters]"
    assert entries[1].changes == {"lifecycle_stage": {"before": "lead", "after": "contacted"}}


async def test_audit_log_is_queryable_by_admins_only(
    client: httpx.AsyncClient, auth: dict[str, str], no_customers: None
) -> None:
    customer = await create(client, auth, name_latin="Audit Me")
    await patch(client, auth, customer, nickname="A")
    response = await client.get(
        "/api/v1/audit", params={"entity_id": customer["customer_id"], "limit": 1}, headers=auth
    )
    assert response.status_code == 200
    first = response.json()
    assert [e["action"] for e in first["items"]] == ["customer.update"]
    more = await client.get(
        "/api/v1/audit",
        params={"entity_id": customer["customer_id"], "cursor": first["next_cursor"]},
        headers=auth,
    )
    assert [e["action"] for e in more.json()["items"]] == ["customer.create"]
