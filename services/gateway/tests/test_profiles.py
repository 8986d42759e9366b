"""`contact.profile_updated`: the messenger's profile of a contact names its customer."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from faststream.rabbit import RabbitBroker
from prometheus_client import REGISTRY
from sqlalchemy import select, update

from crm_contracts import ContactProfileUpdated, ContactProfileUpdatedData, ContactSeen, Event
from crm_gateway.customers import service
from crm_gateway.customers.models import customers
from crm_gateway.db import inbox
from crm_servicekit.broker import EVENTS_EXCHANGE
from crm_servicekit.runtime import Runtime
from crm_servicekit.testing import EventRecorder, eventually

from .conftest import PAGE_ID

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_customers")]

MakeContact = Callable[..., ContactSeen]
FETCHED = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)
RETRIED_METRIC = "crm_messages_retried_total"


def profile(
    psid: str,
    first_name: str | None = "Somchai",
    last_name: str | None = "Jaidee",
    *,
    fetched_at: datetime = FETCHED,
    profile_pic: str | None = "https://example.test/pic/1.jpg",
) -> ContactProfileUpdated:
    return ContactProfileUpdated(
        correlation_id=f"m_{uuid.uuid4().hex}",
        data=ContactProfileUpdatedData(
            page_id=PAGE_ID,
            psid=psid,
            conversation_id=uuid.uuid4(),
            first_name=first_name,
            last_name=last_name,
            profile_pic=profile_pic,
            fetched_at=fetched_at,
        ),
    )


async def new_customer(runtime: Runtime, make_contact: MakeContact, psid: str) -> str:
    async with runtime.uow() as uow:
        customer_id = await service.contact_seen(uow, make_contact(psid))
    assert customer_id
    return customer_id


async def handle(runtime: Runtime, event: ContactProfileUpdated) -> list[str] | None:
    async with runtime.uow() as uow:
        return await service.profile_updated(uow, event)


async def row(runtime: Runtime, customer_id: str) -> dict[str, Any]:
    async with runtime.sessionmaker() as session:
        found = (await session.execute(select(customers).where(customers.c.id == customer_id))).one()
    return dict(found._mapping)


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


async def test_a_published_profile_names_the_customer_and_publishes_customer_updated_once(
    runtime: Runtime,
    make_contact: MakeContact,
    rabbitmq_url: str,
    client: httpx.AsyncClient,
    auth: dict[str, str],
) -> None:
    customer_id = await new_customer(runtime, make_contact, "psid-named")
    event = profile("psid-named")
    marker = profile("psid-marker")
    await new_customer(runtime, make_contact, "psid-marker")

    async with EventRecorder(rabbitmq_url) as recorder:
        # Redelivered: the same event twice, then another one to know both were handled.
        await publish(rabbitmq_url, event, event, marker)
        await recorder.wait_for("customer.updated", count=2)
        updates = recorder.of_type("customer.updated")

    [named] = [u for u in updates if u["data"]["customer_id"] == customer_id]
    assert named["correlation_id"] == event.correlation_id
    assert named["data"]["display_name"] == "Somchai Jaidee"
    assert named["data"]["changed"] == ["display_name", "first_name", "last_name", "profile_pic"]
    assert named["data"]["identities"][0]["external_id"] == "psid-named"
    stored = await row(runtime, customer_id)
    assert (stored["first_name"], stored["last_name"]) == ("Somchai", "Jaidee")
    assert stored["profile_pic"] == "https://example.test/pic/1.jpg"
    response = await client.get(f"/api/v1/customers/{customer_id}", headers=auth)
    assert response.json()["display_name"] == "Somchai Jaidee"


async def test_a_redelivered_profile_changes_nothing_twice(
    runtime: Runtime, make_contact: MakeContact
) -> None:
    customer_id = await new_customer(runtime, make_contact, "psid-again")
    event = profile("psid-again")

    assert await handle(runtime, event) == ["display_name", "first_name", "last_name", "profile_pic"]
    before = await row(runtime, customer_id)
    assert await handle(runtime, event) is None

    assert await row(runtime, customer_id) == before


async def test_a_profile_before_its_customer_fails_unclaimed_and_works_once_the_customer_exists(
    runtime: Runtime, make_contact: MakeContact
) -> None:
    event = profile("psid-early")

    with pytest.raises(service.CustomerNotYetKnown):
        await handle(runtime, event)
    async with runtime.sessionmaker() as session:
        assert (
            await session.execute(select(inbox).where(inbox.c.event_id == event.event_id))
        ).first() is None

    customer_id = await new_customer(runtime, make_contact, "psid-early")
    assert await handle(runtime, event) is not None
    assert (await row(runtime, customer_id))["display_name"] == "Somchai Jaidee"


async def test_a_profile_that_overtakes_contact_seen_on_the_broker_is_retried(
    runtime: Runtime, make_contact: MakeContact, rabbitmq_url: str
) -> None:
    def retries() -> float:
        return REGISTRY.get_sample_value(RETRIED_METRIC, {"queue": "gateway.profiles"}) or 0.0

    before = retries()
    await publish(rabbitmq_url, profile("psid-race"))

    async def retried() -> bool:
        return retries() > before

    await eventually(retried)  # no customer yet: scheduled for a retry, not dropped
    await publish(rabbitmq_url, make_contact("psid-race"))

    async def named() -> str | None:
        async with runtime.sessionmaker() as session:
            name: str | None = await session.scalar(select(customers.c.display_name))
        return name

    assert await eventually(named, timeout=15) == "Somchai Jaidee"


async def test_a_new_profile_renames_a_customer_named_by_the_previous_one(
    runtime: Runtime, make_contact: MakeContact
) -> None:
    customer_id = await new_customer(runtime, make_contact, "psid-rename")
    await handle(runtime, profile("psid-rename", "Somchai", "Jaidee"))

    changed = await handle(
        runtime, profile("psid-rename", "Somchai", "Rakdee", fetched_at=FETCHED + timedelta(days=30))
    )

    assert changed == ["display_name", "last_name"]
    assert (await row(runtime, customer_id))["display_name"] == "Somchai Rakdee"


async def test_a_name_someone_gave_the_customer_is_kept(runtime: Runtime, make_contact: MakeContact) -> None:
    customer_id = await new_customer(runtime, make_contact, "psid-typed")
    async with runtime.sessionmaker() as session:
        await session.execute(
            update(customers).where(customers.c.id == customer_id).values(display_name="Khun Som (sushi May)")
        )
        await session.commit()

    changed = await handle(runtime, profile("psid-typed"))

    assert changed == ["first_name", "last_name", "profile_pic"]
    stored = await row(runtime, customer_id)
    assert stored["display_name"] == "Khun Som (sushi May)"
    assert stored["first_name"] == "Somchai"


async def test_an_older_profile_arriving_late_is_ignored(runtime: Runtime, make_contact: MakeContact) -> None:
    customer_id = await new_customer(runtime, make_contact, "psid-late")
    await handle(runtime, profile("psid-late", "Somchai", "Rakdee", fetched_at=FETCHED))

    changed = await handle(
        runtime, profile("psid-late", "Somchai", "Jaidee", fetched_at=FETCHED - timedelta(hours=1))
    )

    assert changed == []
    assert (await row(runtime, customer_id))["display_name"] == "Somchai Rakdee"


async def test_a_profile_without_names_leaves_the_display_name_empty(
    runtime: Runtime, make_contact: MakeContact
) -> None:
    customer_id = await new_customer(runtime, make_contact, "psid-anon")

    changed = await handle(runtime, profile("psid-anon", None, " ", profile_pic=None))

    assert changed == ["last_name"]
    assert (await row(runtime, customer_id))["display_name"] is None


async def test_the_same_profile_fetched_again_changes_nothing_and_publishes_nothing(
    runtime: Runtime, make_contact: MakeContact
) -> None:
    customer_id = await new_customer(runtime, make_contact, "psid-same")
    await handle(runtime, profile("psid-same"))
    before = await row(runtime, customer_id)

    changed = await handle(runtime, profile("psid-same", fetched_at=FETCHED + timedelta(days=1)))

    assert changed == []
    after = await row(runtime, customer_id)
    assert after["updated_at"] == before["updated_at"]
    assert after["profile_fetched_at"] == FETCHED + timedelta(days=1)
