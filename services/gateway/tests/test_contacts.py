"""`contact.seen` makes a customer once, with gap-free ids, and `customer.created` follows."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from faststream.rabbit import RabbitBroker
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from crm_contracts import ContactSeen
from crm_gateway.customers import service
from crm_gateway.customers.ids import bangkok_year, format_customer_id, is_customer_id
from crm_gateway.customers.models import customer_id_sequences, customer_identities, customers
from crm_gateway.db import outbox
from crm_servicekit.broker import EVENTS_EXCHANGE
from crm_servicekit.runtime import Runtime
from crm_servicekit.testing import EventRecorder, eventually

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_customers")]

NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
MakeContact = Callable[..., ContactSeen]


async def handle(runtime: Runtime, event: ContactSeen, now: datetime = NOW) -> str | None:
    """What the subscriber does, with a fixed clock: one unit of work per delivery."""
    async with runtime.uow() as uow:
        return await service.contact_seen(uow, event, now=now)


async def count(runtime: Runtime, table: object) -> int:
    async with runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]


async def customer_row(runtime: Runtime, customer_id: str) -> dict[str, object]:
    async with runtime.sessionmaker() as session:
        row = (await session.execute(select(customers).where(customers.c.id == customer_id))).one()
    return dict(row._mapping)


def test_ids_use_the_bangkok_year_and_grow_past_four_digits() -> None:
    # 17:30 UTC on New Year's Eve is already 00:30 on 1 January in Bangkok.
    assert bangkok_year(datetime(2025, 12, 31, 17, 30, tzinfo=UTC)) == 26
    assert bangkok_year(datetime(2025, 12, 31, 16, 59, tzinfo=UTC)) == 25
    assert format_customer_id("FB", 26, 1) == "TVS-CUS-FB-26-0001"
    assert format_customer_id("WALKIN", 7, 10000) == "TVS-CUS-WALKIN-07-10000"
    assert is_customer_id("TVS-CUS-LINE-26-12345")
    for bad in ["TVS-CUS-FB-26-001", "TVS-CUS-XX-26-0001", "../customers/latest", "TVS-CUS-FB-26-0001\n"]:
        assert not is_customer_id(bad)
    assert not is_customer_id("TVS-CUS-FB-๒๖-0001")  # Thai digits are digits to \d, not to us


async def test_forty_concurrent_new_contacts_get_forty_consecutive_ids(
    runtime: Runtime, make_contact: MakeContact
) -> None:
    events = [make_contact(f"psid-{n}") for n in range(40)]

    ids = await asyncio.gather(*(handle(runtime, e) for e in events))

    assert sorted(i or "" for i in ids) == [f"TVS-CUS-FB-26-{n:04d}" for n in range(1, 41)]
    assert await count(runtime, customers) == 40
    assert await count(runtime, customer_identities) == 40
    async with runtime.sessionmaker() as session:
        last = await session.scalar(select(customer_id_sequences.c.last_value))
    assert last == 40


async def test_the_year_in_the_id_is_the_bangkok_year_at_creation(
    runtime: Runtime, make_contact: MakeContact
) -> None:
    new_year_in_bangkok = datetime(2025, 12, 31, 17, 30, tzinfo=UTC)

    assert await handle(runtime, make_contact("late-owl"), now=new_year_in_bangkok) == "TVS-CUS-FB-26-0001"
    assert await handle(runtime, make_contact("early-bird"), now=NOW) == "TVS-CUS-FB-26-0002"


async def test_numbers_past_9999_keep_growing(runtime: Runtime, make_contact: MakeContact) -> None:
    async with runtime.sessionmaker() as session:
        await session.execute(customer_id_sequences.insert().values(channel="FB", year=26, last_value=9999))
        await session.commit()

    assert await handle(runtime, make_contact("ten-thousandth")) == "TVS-CUS-FB-26-10000"


async def test_a_redelivered_event_and_a_second_contact_make_one_customer(
    runtime: Runtime, make_contact: MakeContact
) -> None:
    first = make_contact("psid-repeat", ad_id="ad-111")

    customer_id = await handle(runtime, first)
    assert await handle(runtime, first) is None  # same event_id: already handled
    assert await handle(runtime, make_contact("psid-repeat")) == customer_id

    assert await count(runtime, customers) == 1
    row = await customer_row(runtime, customer_id or "")
    assert row["first_touch"] == row["latest_touch"]
    assert row["first_touch"] == {
        "source": "ADS",
        "type": "OPEN_THREAD",
        "ad_id": "ad-111",
        "ad_title": "Sushi course, May intake",
    }
    assert row["lifecycle_stage"] == "lead"


async def test_a_returning_contact_through_another_ad_updates_only_the_latest_touch(
    runtime: Runtime, make_contact: MakeContact
) -> None:
    customer_id = await handle(runtime, make_contact("psid-back", ad_id="ad-first"))
    later = datetime(2026, 4, 1, tzinfo=UTC)

    assert await handle(runtime, make_contact("psid-back", ad_id="ad-second"), now=later) == customer_id

    row = await customer_row(runtime, customer_id or "")
    assert row["first_touch"]["ad_id"] == "ad-first"  # type: ignore[index]
    assert row["latest_touch"]["ad_id"] == "ad-second"  # type: ignore[index]
    assert row["updated_at"] == later
    assert row["created_at"] == NOW


async def test_a_returning_contact_through_an_ad_publishes_the_whole_updated_customer(
    runtime: Runtime, make_contact: MakeContact, rabbitmq_url: str
) -> None:
    async with EventRecorder(rabbitmq_url) as events:
        customer_id = await handle(runtime, make_contact("psid-upd", ad_id="ad-one"))
        await handle(runtime, make_contact("psid-upd"))  # no referral: nothing changes
        await handle(runtime, make_contact("psid-upd", ad_id="ad-two"), now=datetime(2026, 5, 1, tzinfo=UTC))
        [updated] = await events.wait_for("customer.updated")
    data = updated["data"]
    assert data["customer_id"] == customer_id
    assert data["changed"] == ["latest_touch"]
    assert data["first_touch"]["ad_id"] == "ad-one"
    assert data["latest_touch"]["ad_id"] == "ad-two"
    assert data["identities"][0]["external_id"] == "psid-upd"
    assert data["updated_at"].startswith("2026-05-01")


async def test_the_same_psid_on_another_page_is_another_customer(
    runtime: Runtime, make_contact: MakeContact
) -> None:
    one = await handle(runtime, make_contact("psid-shared", page_id="page-a"))
    two = await handle(runtime, make_contact("psid-shared", page_id="page-b"))

    assert one != two


async def test_two_racing_first_contacts_of_one_psid_make_one_customer_and_no_gap(
    runtime: Runtime, make_contact: MakeContact
) -> None:
    events = [make_contact("psid-race", ad_id="ad-race") for _ in range(2)]

    results = await asyncio.gather(*(handle(runtime, e) for e in events), return_exceptions=True)

    created = [r for r in results if isinstance(r, str)]
    failed = [e for e, r in zip(events, results, strict=True) if isinstance(r, BaseException)]
    assert created == ["TVS-CUS-FB-26-0001"]
    assert len(failed) == 1
    assert isinstance(results[events.index(failed[0])], IntegrityError)
    # The platform retries the failed message: now it finds the customer the other one made.
    assert await handle(runtime, failed[0]) == "TVS-CUS-FB-26-0001"
    assert await count(runtime, customers) == 1
    assert await handle(runtime, make_contact("psid-next")) == "TVS-CUS-FB-26-0002"


async def test_a_published_contact_seen_becomes_a_customer_and_customer_created(
    runtime: Runtime, rabbitmq_url: str, make_contact: MakeContact
) -> None:
    event = make_contact("psid-from-the-broker", ad_id="ad-777", correlation_id="m_broker-test")
    async with EventRecorder(rabbitmq_url) as recorder, RabbitBroker(rabbitmq_url, logger=None) as broker:
        await broker.publish(
            json.dumps(event.model_dump(mode="json")).encode(),
            exchange=EVENTS_EXCHANGE,
            routing_key=event.type,
            message_id=str(event.event_id),
            content_type="application/json",
            persist=True,
        )
        [created] = await recorder.wait_for("customer.created")

    assert created["producer"] == "gateway"
    assert created["correlation_id"] == "m_broker-test"
    data = created["data"]
    assert isinstance(data, dict)
    assert is_customer_id(data["customer_id"])
    assert data["channel"] == "FB"
    assert data["identities"] == [
        {"channel": "messenger", "page_id": event.data.page_id, "external_id": "psid-from-the-broker"}
    ]
    assert data["first_touch"]["ad_id"] == data["latest_touch"]["ad_id"] == "ad-777"
    assert await count(runtime, customers) == 1

    async def outbox_empty() -> bool:
        return await count(runtime, outbox) == 0

    await eventually(outbox_empty)
