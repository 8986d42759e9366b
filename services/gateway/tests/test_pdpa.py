"""A customer's PDPA rights through the staff API: the export holds everything the system has on
them (the messenger's and the ai service's parts from fakes of their internal APIs, served over
real HTTP), and an erasure leaves nothing that names the person in any gateway table while the
school's accounts stay. Progress reports are published on the real broker, as the services do."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from faststream.rabbit import RabbitBroker
from sqlalchemy import select

from crm_contracts import CustomerErasureProgress, CustomerErasureProgressData, Event
from crm_fakes import FakeServer
from crm_gateway.audit.models import audit_log
from crm_gateway.auth.domain import Role
from crm_gateway.auth.repository import insert_if_absent
from crm_gateway.auth.security import hash_password
from crm_gateway.config import GatewaySettings
from crm_gateway.customers.models import customer_stage_changes, customer_timeline, customers
from crm_gateway.orders.models import order_lines, orders, payments
from crm_servicekit.broker import EVENTS_EXCHANGE
from crm_servicekit.pdpa import find_mentions
from crm_servicekit.runtime import Runtime
from crm_servicekit.testing import EventRecorder, eventually

from .conftest import PAGE_ID
from .pdpa_seed import (
    CUSTOMER,
    MERGED,
    MERGED_NAME,
    MERGED_PSID,
    NOTE,
    PAY_REFERENCE,
    PERSONAL,
    PROFILE,
    PSID,
    REFUND_REASON,
    ExportFake,
    Seeded,
    seed,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_customers")]

PROBLEM = "urn:vschool-crm:problem:"


@pytest.fixture(scope="module")
def fakes() -> Iterator[tuple[ExportFake, ExportFake, str, str]]:
    messenger, ai = ExportFake("messenger", "conversations"), ExportFake("ai", "replies")
    with FakeServer(messenger.app()) as m, FakeServer(ai.app()) as a:
        yield messenger, ai, m.url, a.url


@pytest.fixture(scope="module")
def messenger_url(fakes: tuple[ExportFake, ExportFake, str, str]) -> str:
    return fakes[2]


@pytest.fixture(scope="module")
def settings(settings: GatewaySettings, fakes: tuple[ExportFake, ExportFake, str, str]) -> GatewaySettings:
    return settings.model_copy(update={"ai_internal_url": fakes[3]})


@pytest.fixture
def other_services(fakes: tuple[ExportFake, ExportFake, str, str]) -> tuple[ExportFake, ExportFake]:
    messenger, ai = fakes[0], fakes[1]
    messenger.reset()
    ai.reset()
    return messenger, ai


@pytest.fixture
async def seeded(
    runtime: Runtime, client: httpx.AsyncClient, auth: dict[str, str], cache_dir: Path
) -> Seeded:
    admin_id = uuid.UUID((await client.get("/api/v1/auth/me", headers=auth)).json()["id"])
    return await seed(runtime, admin_id, cache_dir)


async def gateway_mentions(runtime: Runtime) -> dict[str, int]:
    """Every text, JSON and array column of every table in schema `gateway` that still names them."""
    needles = [*PERSONAL, *(p.lower() for p in PERSONAL)]
    async with runtime.sessionmaker() as session:
        return await find_mentions(session, "gateway", needles)


async def erase(
    client: httpx.AsyncClient, auth: dict[str, str], customer_id: str = CUSTOMER
) -> httpx.Response:
    return await client.post(f"/api/v1/customers/{customer_id}/erasure", headers=auth)


async def publish(rabbitmq_url: str, *events: Event) -> None:
    async with RabbitBroker(rabbitmq_url, logger=None) as broker:
        for event in events:
            await broker.publish(
                json.dumps(event.model_dump(mode="json")).encode(),
                exchange=EVENTS_EXCHANGE,
                routing_key=event.type,
                message_id=str(event.event_id),
                content_type="application/json",
                persist=True,
            )


def progress(request_id: str, service: str, status: str = "completed", **kw: Any) -> CustomerErasureProgress:
    return CustomerErasureProgress(
        correlation_id=request_id,
        data=CustomerErasureProgressData(
            request_id=uuid.UUID(request_id),
            service=service,
            status=status,  # type: ignore[arg-type]
            erased=kw.get("erased", {"messages": 3} if status == "completed" else {}),
            detail=kw.get("detail"),
            finished_at=kw.get("finished_at", datetime.now(UTC)),
        ),
    )


# --- erasure -----------------------------------------------------------------------------------


async def test_an_erasure_leaves_nothing_naming_the_person_in_any_gateway_table_and_keeps_the_accounts(
    runtime: Runtime, client: httpx.AsyncClient, auth: dict[str, str], seeded: Seeded, rabbitmq_url: str
) -> None:
    assert set(await gateway_mentions(runtime)) >= {
        "customers.name_th",
        "customer_notes.body",
        "outbox.payload",
    }

    async with EventRecorder(rabbitmq_url) as events:
        response = await erase(client, auth)
        [requested] = await events.wait_for("customer.erasure_requested")

    assert response.status_code == 202, response.text
    body = response.json()
    assert response.headers["location"] == f"/api/v1/erasure-requests/{body['id']}"
    assert body["customer_id"] == CUSTOMER
    assert body["completed_at"] is None
    steps = {s["service"]: s for s in body["steps"]}
    assert set(steps) == {"gateway", "messenger", "ai", "cache-writer"}
    assert steps["gateway"]["status"] == "completed"
    assert steps["gateway"]["erased"] | {"parked_messages": 0} == {
        "customers": 2,
        "identities": 2,
        "notes": 1,
        "timeline_entries": 2,
        "orders_anonymised": 1,
        "payments_anonymised": 2,
        "audit_entries": 3,
        "outbox_events": 1,
        "parked_messages": 0,
    }
    assert {s["status"] for n, s in steps.items() if n != "gateway"} == {"pending"}

    # the other services learn who to erase: every identity, the merged customer's too
    assert requested["data"]["request_id"] == body["id"]
    assert requested["data"]["customer_id"] == CUSTOMER
    assert {i["external_id"] for i in requested["data"]["identities"]} == {PSID, MERGED_PSID}

    # nothing names the person anywhere in the gateway's schema (events sent are gone from the
    # outbox once the broker confirmed them: deleted together a moment later)
    await runtime.outbox.drain()
    assert await gateway_mentions(runtime) == {}

    # the accounts stay: the order, its line and its payment with their amounts and dates
    async with runtime.sessionmaker() as session:
        order = (await session.execute(select(orders).where(orders.c.id == seeded.order_id))).one()
        [line] = (await session.execute(select(order_lines).where(order_lines.c.order_id == order.id))).all()
        paid = (
            await session.execute(
                select(payments).where(payments.c.order_id == order.id).order_by(payments.c.received_at)
            )
        ).all()
        stages = (await session.execute(select(customer_stage_changes))).all()
        kinds = set((await session.execute(select(customer_timeline.c.kind))).scalars())
        entries = (await session.execute(select(audit_log).order_by(audit_log.c.at))).all()
        stubs = (await session.execute(select(customers).order_by(customers.c.id))).all()
    assert (order.customer_id, order.total, order.paid, order.status) == (
        CUSTOMER,
        Decimal("12000.00"),
        Decimal("12000.00"),
        "paid",
    )
    assert order.attribution == {"first_touch": {"ad_id": "ad-77"}}
    assert (line.quantity, line.unit_price, line.line_total) == (1, Decimal("12500.00"), Decimal("12000.00"))
    assert [(p.kind, p.amount, p.reference, p.reason) for p in paid] == [
        ("payment", Decimal("12000.00"), None, None),
        ("refund", Decimal("500.00"), None, None),
    ]
    assert [(s.from_stage, s.to_stage) for s in stages] == [("lead", "qualified")]
    assert kinds == {"order_created"}
    assert [s.state for s in stubs] == ["erased", "erased"]
    assert stubs[0].first_touch == {"source": "ADS", "ad_id": "ad-77"}
    assert stubs[0].merged_into is None
    assert stubs[1].merged_into is None
    assert all(s.tags == [] and s.extra == {} and s.consent_status is None for s in stubs)

    # the audit keeps who did what when, without the values; the erasure itself is recorded
    actions = [e.action for e in entries]
    assert actions == ["customer.update", "customer.merge", "order.pay", "customer.erase"]
    update = entries[0].changes
    assert update["phone"] == {"before": None, "after": "[erased]"}
    assert update["lifecycle_stage"] == {"before": "lead", "after": "qualified"}
    assert entries[1].undo is None
    assert entries[2].changes["reference"]["after"] == "[erased]"
    assert entries[2].changes["amount"]["after"] == "12000.00"
    assert entries[3].actor_id == seeded.admin_id
    assert entries[3].changes["erasure_request"]["after"] == body["id"]

    # the stale cache snapshot is not served: reads of an erased customer come from the database
    one = await client.get(f"/api/v1/customers/{CUSTOMER}", headers=auth)
    assert one.status_code == 200
    assert one.headers["x-served-from"] == "database"
    assert one.json()["display_name"] is None
    assert one.json()["phone"] is None


async def test_progress_reports_of_every_service_complete_the_request_once(
    runtime: Runtime, client: httpx.AsyncClient, auth: dict[str, str], seeded: Seeded, rabbitmq_url: str
) -> None:
    request_id = (await erase(client, auth)).json()["id"]
    started = datetime.now(UTC)
    failed = progress(request_id, "messenger", "failed", detail="database unavailable", finished_at=started)
    await publish(rabbitmq_url, failed, progress(request_id, "ai"))

    async def shows(service: str, status: str) -> dict[str, Any] | None:
        got = (await client.get(f"/api/v1/erasure-requests/{request_id}", headers=auth)).json()
        steps = {s["service"]: s for s in got["steps"]}
        return got if steps[service]["status"] == status else None

    partial = await eventually(lambda: shows("messenger", "failed"))
    await eventually(lambda: shows("ai", "completed"))
    [messenger_step] = [s for s in partial["steps"] if s["service"] == "messenger"]
    assert messenger_step["detail"] == "database unavailable"
    assert partial["completed_at"] is None

    # the messenger's retry succeeds; an old report redelivered late changes nothing
    retried = progress(request_id, "messenger", finished_at=started + timedelta(seconds=5))
    cache = progress(request_id, "cache-writer", erased={"files": 2})
    await publish(rabbitmq_url, retried, cache, cache, failed)
    done = await eventually(lambda: shows("cache-writer", "completed"), timeout=15)
    done = await eventually(lambda: _completed(client, auth, request_id), timeout=15)

    steps = {s["service"]: s for s in done["steps"]}
    assert {s["status"] for s in steps.values()} == {"completed"}
    assert steps["messenger"]["erased"] == {"messages": 3}
    assert steps["messenger"]["detail"] is None
    assert steps["cache-writer"]["erased"] == {"files": 2}
    listed = (await client.get(f"/api/v1/customers/{CUSTOMER}/erasure-requests", headers=auth)).json()
    assert listed["items"] == [done]
    async with runtime.sessionmaker() as session:
        completions = (
            await session.execute(select(audit_log).where(audit_log.c.action == "customer.erasure_completed"))
        ).all()
    [completion] = completions
    assert (completion.entity_id, completion.actor_id) == (CUSTOMER, None)


async def _completed(
    client: httpx.AsyncClient, auth: dict[str, str], request_id: str
) -> dict[str, Any] | None:
    got: dict[str, Any] = (await client.get(f"/api/v1/erasure-requests/{request_id}", headers=auth)).json()
    return got if got["completed_at"] else None


async def test_a_second_erasure_is_a_409_naming_the_first(
    client: httpx.AsyncClient, auth: dict[str, str], seeded: Seeded
) -> None:
    first = (await erase(client, auth)).json()["id"]

    again = await erase(client, auth)

    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.headers["location"] == f"/api/v1/erasure-requests/{first}"
    assert again.json()["type"] == PROBLEM + "customer-already-erased"
    assert first in again.json()["detail"]


async def test_a_merged_customer_is_erased_through_the_one_it_was_merged_into(
    runtime: Runtime, client: httpx.AsyncClient, auth: dict[str, str], seeded: Seeded
) -> None:
    response = await erase(client, auth, MERGED)

    assert response.status_code == 409
    assert response.json()["type"] == PROBLEM + "customer-merged"
    assert CUSTOMER in response.json()["detail"]
    assert "customers.name_th" in await gateway_mentions(runtime), "nothing was erased"


async def test_unknown_customers_and_requests_are_404(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    for response in (
        await erase(client, auth, "TVS-CUS-FB-26-9999"),
        await erase(client, auth, "not-a-customer-id"),
        await client.get("/api/v1/customers/TVS-CUS-FB-26-9999/erasure-requests", headers=auth),
        await client.get("/api/v1/customers/TVS-CUS-FB-26-9999/export", headers=auth),
    ):
        assert response.status_code == 404, response.request.url
        assert response.json()["type"] == PROBLEM + "customer-not-found"
    unknown = await client.get(f"/api/v1/erasure-requests/{uuid.uuid4()}", headers=auth)
    assert unknown.status_code == 404
    assert unknown.json()["type"] == PROBLEM + "erasure-request-not-found"


# --- export ------------------------------------------------------------------------------------


async def test_the_export_holds_everything_the_system_has_on_the_customer(
    runtime: Runtime,
    client: httpx.AsyncClient,
    auth: dict[str, str],
    seeded: Seeded,
    other_services: tuple[ExportFake, ExportFake],
) -> None:
    messenger, ai = other_services
    message = {"id": str(uuid.uuid4()), "direction": "in", "text": "สวัสดีค่ะ ชื่อสมหญิงค่ะ"}
    messenger.held[PSID] = [{"id": str(uuid.uuid4()), "psid": PSID, "messages": [message]}]
    messenger.held[MERGED_PSID] = [{"id": str(uuid.uuid4()), "psid": MERGED_PSID, "messages": []}]
    ai.held[PSID] = [{"psid": PSID, "text": "ยินดีค่ะ คุณสมหญิง"}]

    response = await client.get(f"/api/v1/customers/{CUSTOMER}/export", headers=auth)

    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == f'attachment; filename="{CUSTOMER}.json"'
    assert response.headers["cache-control"] == "no-store"
    doc = response.json()
    profile = doc["profile"]
    for name in (
        "display_name",
        "name_th",
        "name_latin",
        "nickname",
        "phone",
        "email",
        "profile_pic",
        "tags",
        "extra",
    ):
        assert profile[name] == PROFILE[name], name
    assert (profile["consent_status"], profile["consent_method"]) == ("granted", "web_form")
    assert profile["identities"] == [{"channel": "messenger", "page_id": PAGE_ID, "external_id": PSID}]
    [merged] = doc["merged_customers"]
    assert (merged["id"], merged["display_name"]) == (MERGED, MERGED_NAME)
    assert merged["identities"][0]["external_id"] == MERGED_PSID
    assert [n["body"] for n in doc["notes"]] == [NOTE]
    assert [(s["from_stage"], s["to_stage"]) for s in doc["stage_history"]] == [("lead", "qualified")]
    assert {t["kind"] for t in doc["timeline"]} == {"note_added", "order_created", "ad_touch"}
    [order] = doc["orders"]
    assert (order["total"], order["attribution"]["first_touch"]["ref"]) == ("12000.00", "somying-line-erase")
    assert [(li["product_name"], li["line_total"]) for li in order["lines"]] == [("คอร์สซูชิ", "12000.00")]
    assert [(p["amount"], p["reference"], p["reason"]) for p in order["payments"]] == [
        ("12000.00", PAY_REFERENCE, None),
        ("500.00", None, REFUND_REASON),
    ]
    assert [a["action"] for a in doc["audit"]] == ["customer.update", "customer.merge", "order.pay"]
    # the other services' parts, whole (a section the gateway does not know included)
    conversations = {c["psid"]: c for c in doc["messenger"]["conversations"]}
    assert set(conversations) == {PSID, MERGED_PSID}
    assert conversations[PSID]["messages"] == [message]
    assert doc["messenger"]["later_section"] == []
    assert doc["ai"]["replies"] == [{"psid": PSID, "text": "ยินดีค่ะ คุณสมหญิง"}]
    # asked with every identity of the person, once each
    for fake in (messenger, ai):
        [asked] = fake.bodies
        assert {i["external_id"] for i in asked["identities"]} == {PSID, MERGED_PSID}

    # the export is audited, without the data
    async with runtime.sessionmaker() as session:
        [entry] = (
            await session.execute(select(audit_log).where(audit_log.c.action == "customer.export"))
        ).all()
    assert (entry.entity_id, entry.actor_id, entry.changes) == (CUSTOMER, seeded.admin_id, {})


@pytest.mark.parametrize(
    ("down", "named"),
    [
        (("messenger",), "the messenger service does"),
        (("ai",), "the ai service does"),
        (("messenger", "ai"), "the messenger and ai services do"),
    ],
)
async def test_an_export_a_service_cannot_complete_is_a_503_naming_it(
    runtime: Runtime,
    client: httpx.AsyncClient,
    auth: dict[str, str],
    seeded: Seeded,
    other_services: tuple[ExportFake, ExportFake],
    down: tuple[str, ...],
    named: str,
) -> None:
    for fake in other_services:
        if fake.service in down:
            fake.down_with = 500

    response = await client.get(f"/api/v1/customers/{CUSTOMER}/export", headers=auth)

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    problem = response.json()
    assert problem["type"] == PROBLEM + "export-incomplete"
    assert f"{named} not answer" in problem["detail"]
    assert "content-disposition" not in response.headers
    async with runtime.sessionmaker() as session:
        exported = await session.scalar(select(audit_log.c.id).where(audit_log.c.action == "customer.export"))
    assert exported is None, "no export was given, so none is audited"


# --- who may ----------------------------------------------------------------------------------


async def test_only_admins_and_managers_may_export_or_erase(
    runtime: Runtime, client: httpx.AsyncClient, seeded: Seeded, other_services: tuple[ExportFake, ExportFake]
) -> None:
    headers = {}
    for role in (Role.MANAGER, Role.AGENT, Role.VIEWER, Role.MARKETER):
        email = f"{role.value}-{uuid.uuid4().hex[:6]}@vschool.example"
        async with runtime.sessionmaker() as session, session.begin():
            await insert_if_absent(
                session, email=email, password_hash=hash_password("a long passphrase"), role=role
            )
        token = await client.post(
            "/api/v1/auth/token", data={"username": email, "password": "a long passphrase"}
        )
        headers[role] = {"Authorization": f"Bearer {token.json()['access_token']}"}

    for role in (Role.AGENT, Role.VIEWER, Role.MARKETER):
        for response in (
            await client.get(f"/api/v1/customers/{CUSTOMER}/export", headers=headers[role]),
            await erase(client, headers[role]),
            await client.get(f"/api/v1/customers/{CUSTOMER}/erasure-requests", headers=headers[role]),
        ):
            assert response.status_code == 403, (role, response.request.url)
            assert response.json()["type"] == PROBLEM + "forbidden"
    assert "customers.name_th" in await gateway_mentions(runtime), "nothing was erased"

    assert (
        await client.get(f"/api/v1/customers/{CUSTOMER}/export", headers=headers[Role.MANAGER])
    ).status_code == 200
    assert (await erase(client, headers[Role.MANAGER])).status_code == 202
