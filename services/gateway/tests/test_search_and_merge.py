"""Finding customers (partial Thai names, phone numbers as people type them, tags, stages...),
spotting duplicates, merging them, and an admin's undo of a merge through the audit trail."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select

from crm_contracts import ContactSeen
from crm_gateway.auth.domain import Role
from crm_gateway.auth.repository import insert_if_absent
from crm_gateway.auth.security import hash_password
from crm_gateway.customers import service
from crm_gateway.customers.models import customer_identities
from crm_gateway.orders.models import orders
from crm_servicekit.runtime import Runtime
from crm_servicekit.testing import EventRecorder

pytestmark = pytest.mark.integration


async def create(client: httpx.AsyncClient, auth: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/customers", json={"channel": "WALKIN", **fields}, headers=auth)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def find(client: httpx.AsyncClient, auth: dict[str, str], **params: Any) -> list[str]:
    response = await client.get("/api/v1/customers", params=params, headers=auth)
    assert response.status_code == 200, response.text
    assert response.headers["X-Served-From"] == "database"
    return [c["customer_id"] for c in response.json()["items"]]


async def test_search_by_name_phone_email_psid_tag_stage_and_dates(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    runtime: Runtime,
    make_contact: Any,
    no_customers: None,
) -> None:
    somchai = await create(client, auth, name_th="สมชาย ใจดี", phone="081-234-5678", tags=["sushi"])
    somsri = await create(client, auth, name_th="สมศรี มีสุข", name_latin="Somsri", email="somsri@example.com")
    john = await create(
        client, auth, name_latin="John Smith", tags=["sushi", "ramen"], lifecycle_stage="qualified"
    )
    async with runtime.uow() as uow:
        fb = await service.contact_seen(uow, make_contact("PSID-4242"))

    assert await find(client, auth, q="สม") == [somsri["customer_id"], somchai["customer_id"]]
    assert await find(client, auth, q="ใจดี") == [somchai["customer_id"]]
    assert await find(client, auth, q="smith") == [john["customer_id"]]
    assert await find(client, auth, q="0812345678") == [somchai["customer_id"]]
    assert await find(client, auth, q="+66 81 234 5678") == [somchai["customer_id"]]
    assert await find(client, auth, q="5678") == [somchai["customer_id"]]
    assert await find(client, auth, phone="081 234 5678") == [somchai["customer_id"]]
    assert await find(client, auth, q="SOMSRI@example.com") == [somsri["customer_id"]]
    assert await find(client, auth, q=somsri["customer_id"].lower()) == [somsri["customer_id"]]
    assert await find(client, auth, psid="PSID-4242") == [fb]
    assert await find(client, auth, tag="sushi") == [john["customer_id"], somchai["customer_id"]]
    assert await find(client, auth, tag=["sushi", "ramen"]) == [john["customer_id"]]
    assert await find(client, auth, stage="qualified") == [john["customer_id"]]
    assert await find(client, auth, q="50%_") == []
    assert await find(client, auth, created_to="2000-01-01T00:00:00Z") == []
    oldest_first = await find(client, auth, sort="created_at")
    assert oldest_first[:3] == [somchai["customer_id"], somsri["customer_id"], john["customer_id"]]


async def test_assigned_filter_and_pages_never_skip_or_repeat(
    client: httpx.AsyncClient, auth: dict[str, str], no_customers: None
) -> None:
    me = (await client.get("/api/v1/auth/me", headers=auth)).json()["id"]
    made = [
        await create(client, auth, name_latin=f"Page {i}", assigned_staff_id=me if i % 2 else None)
        for i in range(7)
    ]

    for sort in ("-created_at", "created_at", "-updated_at", "updated_at"):
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 3, "sort": sort, "q": "page"}
            if cursor:
                params["cursor"] = cursor
            page = (await client.get("/api/v1/customers", params=params, headers=auth)).json()
            seen += [c["customer_id"] for c in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(c["customer_id"] for c in made), sort
        assert len(seen) == len(set(seen))

    mine = await find(client, auth, assigned="me")
    assert sorted(mine) == sorted(c["customer_id"] for i, c in enumerate(made) if i % 2)
    assert len(await find(client, auth, assigned="unassigned", q="page")) == 4

    forged = await client.get("/api/v1/customers", params={"cursor": "bm90IGEgY3Vyc29y"}, headers=auth)
    assert forged.status_code == 422
    assert forged.json()["errors"][0]["field"] == "cursor"


async def test_duplicates_are_found_by_phone_email_and_similar_names(
    client: httpx.AsyncClient, auth: dict[str, str], no_customers: None
) -> None:
    original = await create(
        client, auth, name_th="สมชาย ใจดี", phone="0812345678", email="somchai@example.com"
    )
    same_phone = await create(client, auth, name_latin="Chai", phone="+66812345678")
    same_email = await create(client, auth, email="SOMCHAI@example.com")
    similar_name = await create(client, auth, name_th="สมชาย ใจดีมาก")
    await create(client, auth, name_th="วิภา รักดี", phone="0899999999")

    response = await client.get(f"/api/v1/customers/{original['customer_id']}/duplicates", headers=auth)
    assert response.status_code == 200
    found = [(d["customer"]["customer_id"], d["same_phone"], d["same_email"]) for d in response.json()]
    assert found == [
        (same_phone["customer_id"], True, False),
        (same_email["customer_id"], False, True),
        (similar_name["customer_id"], False, False),
    ]
    assert response.json()[2]["name_similarity"] > 0.3


async def test_a_merge_moves_everything_and_an_admin_can_undo_it(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    runtime: Runtime,
    rabbitmq_url: str,
    make_contact: Any,
    no_customers: None,
) -> None:
    contact: ContactSeen = make_contact("PSID-MERGE-1", ad_id="120200000000777")
    async with runtime.uow() as uow:
        fb_id = await service.contact_seen(uow, contact)
    assert fb_id is not None
    walkin = await create(
        client, auth, name_th="มานี มีนา", phone="0811111111", tags=["walk-in"], lifecycle_stage="enrolled"
    )
    note = await client.post(
        f"/api/v1/customers/{fb_id}/notes", json={"body": "Asked on Messenger"}, headers=auth
    )
    assert note.status_code == 201
    order_id = uuid.uuid4()
    async with runtime.sessionmaker() as session, session.begin():
        await session.execute(
            insert(orders).values(id=order_id, customer_id=fb_id, total="1500.00", paid="1500.00")
        )

    async with EventRecorder(rabbitmq_url) as recorder:
        response = await client.post(
            f"/api/v1/customers/{walkin['customer_id']}/merge", json={"merged_id": fb_id}, headers=auth
        )
        assert response.status_code == 200, response.text
        [merged_event] = await recorder.wait_for("customer.merged")
        updated = await recorder.wait_for("customer.updated")
    merge = response.json()
    survivor = merge["customer"]

    assert survivor["customer_id"] == walkin["customer_id"]
    assert [i["external_id"] for i in survivor["identities"]] == ["PSID-MERGE-1"]
    assert survivor["first_touch"]["ad_id"] == "120200000000777"  # the earlier customer's ad
    assert survivor["lifecycle_stage"] == "enrolled"
    assert merged_event["data"]["survivor_id"] == walkin["customer_id"]
    assert merged_event["data"]["merged_id"] == fb_id
    assert merged_event["data"]["identities"][0]["external_id"] == "PSID-MERGE-1"
    assert updated[-1]["data"]["customer_id"] == walkin["customer_id"]

    overview = (await client.get(f"/api/v1/customers/{walkin['customer_id']}/overview", headers=auth)).json()
    assert [n["body"] for n in overview["notes"]] == ["Asked on Messenger"]
    assert [o["order_id"] for o in overview["orders"]] == [str(order_id)]
    assert overview["lifetime_value"] == "1500.00"
    assert {"conversation_started", "merged"} <= {e["kind"] for e in overview["timeline"]}
    gone = await client.get(f"/api/v1/customers/{fb_id}", headers=auth)
    assert gone.status_code == 404
    assert walkin["customer_id"] in gone.json()["detail"]
    # A later message from the moved PSID finds the survivor.
    async with runtime.uow() as uow:
        assert await service.contact_seen(uow, make_contact("PSID-MERGE-1")) == walkin["customer_id"]

    # Only an admin undoes it, through the audit entry of the merge.
    manager = await a_token(client, runtime, Role.MANAGER)
    refused = await client.post(f"/api/v1/audit/{merge['merge_id']}/undo", headers=manager)
    assert refused.status_code == 403
    staff_edit = await client.patch(
        f"/api/v1/customers/{walkin['customer_id']}",
        json={"nickname": "Mani"},
        headers=auth | {"If-Match": f'"{survivor["version"]}"'},
    )
    assert staff_edit.status_code == 200

    async with EventRecorder(rabbitmq_url) as recorder:
        undone = await client.post(f"/api/v1/audit/{merge['merge_id']}/undo", headers=auth)
        assert undone.status_code == 200, undone.text
        [undo_event] = await recorder.wait_for("customer.merge_undone")
    assert undo_event["data"]["restored_id"] == fb_id
    restored = undone.json()["restored"]
    assert [i["external_id"] for i in restored["identities"]] == ["PSID-MERGE-1"]
    assert undone.json()["survivor"]["identities"] == []
    assert undone.json()["survivor"]["nickname"] == "Mani"  # changed after the merge: kept
    assert undone.json()["survivor"]["first_touch"] is None
    async with runtime.sessionmaker() as session:
        owner = (
            await session.execute(select(orders.c.customer_id).where(orders.c.id == order_id))
        ).scalar_one()
        psid_owner = (
            await session.execute(
                select(customer_identities.c.customer_id).where(
                    customer_identities.c.external_id == "PSID-MERGE-1"
                )
            )
        ).scalar_one()
    assert owner == fb_id
    assert psid_owner == fb_id
    notes = (await client.get(f"/api/v1/customers/{fb_id}/notes", headers=auth)).json()
    assert [n["body"] for n in notes] == ["Asked on Messenger"]

    again = await client.post(f"/api/v1/audit/{merge['merge_id']}/undo", headers=auth)
    assert again.status_code == 409


async def test_merging_a_customer_into_itself_or_a_merged_one_is_refused(
    client: httpx.AsyncClient, auth: dict[str, str], no_customers: None
) -> None:
    a = await create(client, auth, name_latin="A")
    b = await create(client, auth, name_latin="B")
    c = await create(client, auth, name_latin="C")
    url = f"/api/v1/customers/{a['customer_id']}/merge"
    assert (await client.post(url, json={"merged_id": a["customer_id"]}, headers=auth)).status_code == 409
    assert (await client.post(url, json={"merged_id": b["customer_id"]}, headers=auth)).status_code == 200
    again = await client.post(
        f"/api/v1/customers/{c['customer_id']}/merge", json={"merged_id": b["customer_id"]}, headers=auth
    )
    assert again.status_code == 409
    missing = await client.post(url, json={"merged_id": "TVS-CUS-WEB-26-9999"}, headers=auth)
    assert missing.status_code == 404


async def a_token(client: httpx.AsyncClient, runtime: Runtime, role: Role) -> dict[str, str]:
    email = f"{role.value}-{uuid.uuid4().hex[:6]}@vschool.example"
    password = "a long passphrase for this role"
    async with runtime.sessionmaker() as session, session.begin():
        await insert_if_absent(session, email=email, password_hash=hash_password(password), role=role)
    response = await client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
