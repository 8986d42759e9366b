"""`lead.scored` and `customer.insights_updated`: the ai's score and insights land on the customer
the Messenger identity belongs to, and staff see them on the customer, in the list (sorted and
filtered), in the 360 and, for big changes and new insights, on the timeline."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from crm_contracts import (
    ContactSeen,
    CustomerInsightsData,
    CustomerInsightsUpdated,
    LeadScored,
    LeadScoredData,
    ScoreReason,
)
from crm_gateway.customers import leads, privacy, service
from crm_gateway.customers.models import customers
from crm_gateway.db import inbox
from crm_servicekit.runtime import Runtime
from crm_servicekit.testing import eventually, publish_to

from .conftest import PAGE_ID

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_customers")]

MakeContact = Callable[..., ContactSeen]
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
COURSE_ID = uuid.UUID("3f6c1e2a-9b7d-4c5e-8a1f-2d3c4b5a6e7f")


def scored(
    psid: str, score: int, temperature: str, *, at: datetime = T0, previous: int | None = None
) -> LeadScored:
    return LeadScored(
        correlation_id=f"m_{uuid.uuid4().hex}",
        data=LeadScoredData(
            page_id=PAGE_ID,
            psid=psid,
            conversation_id=uuid.uuid4(),
            score=score,
            temperature=temperature,  # type: ignore[arg-type]
            previous_score=previous,
            reasons=[
                ScoreReason(signal="asked_price", label="asked about the price", points=25),
                ScoreReason(signal="from_ad", label="came from an ad", points=10),
            ],
            scored_at=at,
        ),
    )


def insights(psid: str, *, at: datetime = T0) -> CustomerInsightsUpdated:
    return CustomerInsightsUpdated(
        correlation_id=f"m_{uuid.uuid4().hex}",
        data=CustomerInsightsData(
            page_id=PAGE_ID,
            psid=psid,
            conversation_id=uuid.uuid4(),
            intent="enrol",
            interested_product_ids=[COURSE_ID],
            preferred_schedule="weekends",
            budget="asked about installments",
            objections=["price"],
            language="th",
            next_best_action="offer the May weekend intake",
            summary="Wants the sushi basics course on a weekend; worried about the price.",
            source="rules",
            generated_at=at,
        ),
    )


async def new_customer(runtime: Runtime, make_contact: MakeContact, psid: str) -> str:
    async with runtime.uow() as uow:
        customer_id = await service.contact_seen(uow, make_contact(psid))
    assert customer_id is not None
    return customer_id


async def handle(runtime: Runtime, event: LeadScored | CustomerInsightsUpdated) -> bool | None:
    async with runtime.uow() as uow:
        if isinstance(event, LeadScored):
            return await leads.lead_scored(uow, event)
        return await leads.insights_updated(uow, event)


async def lead_kinds(
    client: httpx.AsyncClient, auth: dict[str, str], customer_id: str
) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/customers/{customer_id}/timeline", headers=auth)
    assert response.status_code == 200, response.text
    return [e for e in response.json()["items"] if e["kind"] in ("lead_scored", "ai_insight")]


async def test_a_published_score_shows_on_the_customer_the_360_and_sorts_and_filters_the_list(
    runtime: Runtime,
    make_contact: MakeContact,
    rabbitmq_url: str,
    client: httpx.AsyncClient,
    auth: dict[str, str],
) -> None:
    hot = await new_customer(runtime, make_contact, "psid-hot")
    warm = await new_customer(runtime, make_contact, "psid-warm")
    unscored = await new_customer(runtime, make_contact, "psid-unscored")

    await publish_to(rabbitmq_url, scored("psid-hot", 85, "hot"), scored("psid-warm", 55, "warm"))

    async def both_scored() -> bool:
        async with runtime.sessionmaker() as session:
            found = await session.execute(select(customers.c.lead_score).where(customers.c.lead_score > 0))
            return len(found.all()) == 2

    await eventually(both_scored, timeout=15)

    one = (await client.get(f"/api/v1/customers/{hot}", headers=auth)).json()
    assert one["lead"]["score"] == 85
    assert one["lead"]["temperature"] == "hot"
    assert [r["label"] for r in one["lead"]["reasons"]] == ["asked about the price", "came from an ad"]
    assert datetime.fromisoformat(one["lead"]["scored_at"]) == T0

    view = (await client.get(f"/api/v1/customers/{hot}/overview", headers=auth)).json()
    assert view["customer"]["lead"]["score"] == 85

    by_score = await client.get("/api/v1/customers", params={"sort": "-lead_score"}, headers=auth)
    assert by_score.status_code == 200, by_score.text
    assert [c["customer_id"] for c in by_score.json()["items"]] == [hot, warm, unscored]
    assert by_score.json()["items"][2]["lead"] is None
    lowest_first = await client.get("/api/v1/customers", params={"sort": "lead_score"}, headers=auth)
    assert [c["customer_id"] for c in lowest_first.json()["items"]] == [unscored, warm, hot]

    # Keyset pages by score: one customer a page, nobody twice or left out.
    seen: list[str] = []
    params: dict[str, Any] = {"sort": "-lead_score", "limit": 1}
    while True:
        page = (await client.get("/api/v1/customers", params=params, headers=auth)).json()
        seen += [c["customer_id"] for c in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == [hot, warm, unscored]

    warm_only = await client.get("/api/v1/customers", params={"temperature": "warm"}, headers=auth)
    assert [c["customer_id"] for c in warm_only.json()["items"]] == [warm]
    at_least = await client.get("/api/v1/customers", params={"min_lead_score": 60}, headers=auth)
    assert [c["customer_id"] for c in at_least.json()["items"]] == [hot]
    out_of_range = await client.get("/api/v1/customers", params={"min_lead_score": 101}, headers=auth)
    assert out_of_range.status_code == 422


async def test_big_changes_go_on_the_timeline_and_small_ones_do_not(
    runtime: Runtime, make_contact: MakeContact, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    customer_id = await new_customer(runtime, make_contact, "psid-moves")

    assert await handle(runtime, scored("psid-moves", 30, "cold", at=T0)) is True  # the first score
    assert await handle(runtime, scored("psid-moves", 40, "cold", at=T0 + timedelta(seconds=1))) is True
    assert await handle(runtime, scored("psid-moves", 62, "cold", at=T0 + timedelta(seconds=2))) is True
    assert await handle(runtime, scored("psid-moves", 66, "warm", at=T0 + timedelta(seconds=3))) is True

    entries = await lead_kinds(client, auth, customer_id)
    changes = [
        (e["detail"]["previous_score"], e["detail"]["score"], e["detail"]["temperature"]) for e in entries
    ]
    # Newest first: the temperature change (+4), the jump of 22; not the +10.
    assert changes == [(62, 66, "warm"), (40, 62, "cold"), (None, 30, "cold")]
    one = (await client.get(f"/api/v1/customers/{customer_id}", headers=auth)).json()
    assert (one["lead"]["score"], one["lead"]["temperature"]) == (66, "warm")


async def test_an_older_or_redelivered_score_changes_nothing(
    runtime: Runtime, make_contact: MakeContact, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    customer_id = await new_customer(runtime, make_contact, "psid-late")
    newer = scored("psid-late", 70, "warm", at=T0 + timedelta(seconds=5))
    assert await handle(runtime, newer) is True
    assert await handle(runtime, newer) is None  # redelivered: the inbox has it
    assert await handle(runtime, scored("psid-late", 10, "cold", at=T0)) is False

    one = (await client.get(f"/api/v1/customers/{customer_id}", headers=auth)).json()
    assert one["lead"]["score"] == 70
    assert len(await lead_kinds(client, auth, customer_id)) == 1


async def test_insights_appear_in_the_360_and_on_the_timeline(
    runtime: Runtime,
    make_contact: MakeContact,
    rabbitmq_url: str,
    client: httpx.AsyncClient,
    auth: dict[str, str],
) -> None:
    customer_id = await new_customer(runtime, make_contact, "psid-insights")
    before = (await client.get(f"/api/v1/customers/{customer_id}/overview", headers=auth)).json()
    assert before["insights"] is None

    await publish_to(rabbitmq_url, insights("psid-insights"))

    async def shown() -> dict[str, Any] | None:
        view = (await client.get(f"/api/v1/customers/{customer_id}/overview", headers=auth)).json()
        found: dict[str, Any] | None = view["insights"]
        return view if found else None

    view = await eventually(shown, timeout=15)
    assert view["insights"]["intent"] == "enrol"
    assert view["insights"]["next_best_action"] == "offer the May weekend intake"
    assert view["insights"]["interested_product_ids"] == [str(COURSE_ID)]
    assert view["insights"]["source"] == "rules"
    [entry] = [e for e in view["timeline"] if e["kind"] == "ai_insight"]
    assert entry["detail"]["interested_product_ids"] == [str(COURSE_ID)]
    assert "summary" not in entry["detail"]  # what the customer said stays off the timeline

    # Older insights arriving late do not replace newer ones.
    assert await handle(runtime, insights("psid-insights", at=T0 - timedelta(hours=1))) is False


async def test_an_unknown_identity_is_retried_while_young_and_dropped_once_old(
    runtime: Runtime, make_contact: MakeContact
) -> None:
    young = scored("psid-not-yet", 50, "warm")
    with pytest.raises(leads.CustomerNotYetKnown):
        await handle(runtime, young)
    async with runtime.sessionmaker() as session:  # unclaimed: the retry is handled
        assert (
            await session.execute(select(inbox).where(inbox.c.event_id == young.event_id))
        ).first() is None

    customer_id = await new_customer(runtime, make_contact, "psid-not-yet")
    assert await handle(runtime, young) is True
    async with runtime.sessionmaker() as session:
        assert await session.scalar(select(customers.c.lead_score).where(customers.c.id == customer_id)) == 50

    long_ago = datetime.now(UTC) - leads.GIVE_UP_AFTER - timedelta(seconds=1)
    old = scored("psid-never", 50, "warm").model_copy(update={"occurred_at": long_ago})
    assert await handle(runtime, old) is False  # dropped, and not tried again
    assert await handle(runtime, old) is None


async def test_pdpa_exports_and_erases_the_lead_and_insights(
    runtime: Runtime, make_contact: MakeContact, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    customer_id = await new_customer(runtime, make_contact, "psid-erased")
    await handle(runtime, scored("psid-erased", 80, "hot"))
    await handle(runtime, insights("psid-erased"))

    async with runtime.sessionmaker() as session:
        copy = await privacy.export(session, customer_id, [])
    assert copy is not None
    assert copy.profile["lead_score"] == 80
    assert copy.profile["insights"]["intent"] == "enrol"

    async with runtime.uow() as uow:
        await privacy.delete_personal_timeline(uow.session, [customer_id], [])
        await privacy.make_stubs(uow.session, [customer_id], now=datetime.now(UTC))
        await uow.commit()
    async with runtime.sessionmaker() as session:
        row = (await session.execute(select(customers).where(customers.c.id == customer_id))).one()._mapping
    assert all(row[c] is None for c in leads.LEAD_AND_INSIGHT_COLUMNS)
    assert await lead_kinds(client, auth, customer_id) == []
