"""`marketing.structure_changed` as a consumer sees it: structure syncs against the fake Marketing
API on the real PostgreSQL, events received from the real RabbitMQ.

What the cache-writer relies on: every ad arrives with its ad set's and campaign's names as they
are now; a resync that changes nothing sends nothing; a renamed campaign (or a changed ad set or
ad) re-sends exactly the ads under it; and the republish route re-sends every ad.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import text

from crm_contracts import StructureChanged, StructureChangedData
from crm_fakes import FakeServer, MarketingState, MarketingUniverse, create_marketing_app
from crm_fakes.marketing_data import AdObject
from crm_marketing import runs
from crm_marketing.app import create_app
from crm_marketing.config import MarketingSettings
from crm_marketing.structure import sync_structure
from crm_marketing.structure_events import ADS_PER_EVENT
from crm_marketing.sync import Syncer
from crm_servicekit.runtime import Runtime
from crm_servicekit.testing import EventRecorder, eventually, publish_events

pytestmark = pytest.mark.integration

TOKEN = "marketing-structure-token"
INTERNAL = "internal-token-of-the-structure-events-suite"
TYPE = "marketing.structure_changed"
START, END = date(2026, 1, 1), date(2026, 1, 3)


def universe() -> MarketingUniverse:
    """Two accounts of 5 campaigns x 6 ad sets x 7 ads: 210 ads each, more than one event holds."""
    return MarketingUniverse(
        23, accounts=2, campaigns_per_account=5, adsets_per_campaign=6, ads_per_adset=7, start=START, end=END
    )


ACCOUNT, OTHER = (a.account_id for a in universe().accounts)


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[str, MarketingState]]:
    state = MarketingState(universe(), access_token=TOKEN, polls_to_complete=1)
    with FakeServer(create_marketing_app(state)) as server:
        yield server.url, state


@dataclass
class Marketing:
    app: FastAPI
    runtime: Runtime
    syncer: Syncer
    meta: MarketingState
    events: EventRecorder

    @property
    def universe(self) -> MarketingUniverse:
        return self.meta.universe

    async def sync(self, account_id: str = ACCOUNT) -> dict[str, int]:
        """One structure sync of the account, as a run starts with."""
        client = self.syncer.client()
        try:
            return await sync_structure(client, self.runtime, account_id, page_size=100)
        finally:
            await client.aclose()

    async def published(self) -> list[dict[str, Any]]:
        """Every `marketing.structure_changed` received so far, once all that was published
        before this call arrived (a marker published after it is received after it)."""
        marker = StructureChanged(
            correlation_id=f"marker-{uuid.uuid4()}", data=StructureChangedData(account_id="marker", ads=[])
        )
        await publish_events(self.runtime.broker, marker)

        async def arrived() -> bool:
            return any(e["correlation_id"] == marker.correlation_id for e in self.events.of_type(TYPE))

        await eventually(arrived)
        return [e for e in self.events.of_type(TYPE) if not e["correlation_id"].startswith("marker-")]

    def api(self, token: str | None = INTERNAL) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://marketing",
            headers={"X-Internal-Token": token} if token else {},
        )


@pytest.fixture
async def marketing(
    fake: tuple[str, MarketingState], migrated: str, rabbitmq_url: str
) -> AsyncIterator[Marketing]:
    url, state = fake
    state.reset()
    state.universe = universe()  # each test changes its own copy
    settings = MarketingSettings(
        database_url=migrated,
        rabbitmq_url=rabbitmq_url,
        meta_graph_api_url=url,
        meta_marketing_access_token=SecretStr(TOKEN),
        meta_ad_account_ids=f"act_{ACCOUNT}",
        crm_internal_token=SecretStr(INTERNAL),
        sync_schedule_enabled=False,
        sync_poll_seconds=3600,
        insights_page_size=100,
    )
    app = create_app(settings)
    runtime: Runtime = app.state.runtime
    async with EventRecorder(rabbitmq_url) as events, app.router.lifespan_context(app):
        async with runtime.sessionmaker() as session, session.begin():
            tables = "campaigns, adsets, ads, ad_accounts, structure_cursors, sync_runs, outbox"
            await session.execute(text(f"TRUNCATE marketing.{tables.replace(', ', ', marketing.')}"))
        yield Marketing(app, runtime, Syncer(runtime, settings), state, events)


def described(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [ad for e in events for ad in e["data"]["ads"]]


def as_meta_has_it(u: MarketingUniverse, ad: AdObject, **names: str | None) -> dict[str, Any]:
    """The ad as a consumer should see it: our own names, the ad's effective status."""
    adset, campaign = u.get(ad.adset_id or ""), u.get(ad.campaign_id)
    assert adset is not None
    assert campaign is not None
    return {
        "ad_id": ad.id,
        "ad_name": ad.name,
        "adset_id": adset.id,
        "adset_name": names.get("adset_name", adset.name),
        "campaign_id": campaign.id,
        "campaign_name": names.get("campaign_name", campaign.name),
        "status": ad.effective_status,
        "updated_time": ad.updated_time,
    }


def seen(ad: dict[str, Any]) -> dict[str, Any]:
    return {**ad, "updated_time": datetime.fromisoformat(ad["updated_time"])}


def later(u: MarketingUniverse) -> datetime:
    """A Meta `updated_time` after every object's, so an incremental sync asks for it."""
    return max(o.updated_time for o in [*u.campaigns, *u.adsets, *u.ads]) + timedelta(hours=1)


async def test_a_first_sync_names_every_ad_with_its_ad_set_and_campaign(marketing: Marketing) -> None:
    async with marketing.runtime.sessionmaker() as session, session.begin():
        run_id = await runs.enqueue(
            session, runs.RunRequest(ACCOUNT, "backfill", START, START, ("day",), "test")
        )
    assert await marketing.syncer.run_pending() == 1

    events = await marketing.published()

    u = marketing.universe
    mine = u.objects("ad", ACCOUNT)
    assert sorted((seen(a) for a in described(events)), key=lambda a: a["ad_id"]) == sorted(
        (as_meta_has_it(u, ad) for ad in mine), key=lambda a: a["ad_id"]
    ), "every ad of the account exactly once, with its ad set's and campaign's names"
    assert {e["data"]["account_id"] for e in events} == {ACCOUNT}
    assert {e["correlation_id"] for e in events} == {f"sync-run-{run_id}"}
    assert {e["producer"] for e in events} == {"marketing"}
    assert all(0 < len(e["data"]["ads"]) <= ADS_PER_EVENT for e in events)
    assert {ad.effective_status for ad in mine} > {"ACTIVE"}, "statuses other than ACTIVE are carried"


async def test_a_resync_that_changes_nothing_publishes_nothing(marketing: Marketing) -> None:
    await marketing.sync()
    first = await marketing.published()
    marketing.meta.reset()

    again = await marketing.sync()

    assert sum(again.values()) > 0, "the overlap second brings objects back, unchanged"
    assert any(c.path.endswith("/ads") for c in marketing.meta.calls())
    assert await marketing.published() == first


async def test_a_renamed_campaign_re_sends_exactly_its_ads_with_the_new_name(marketing: Marketing) -> None:
    await marketing.sync()
    before = len(await marketing.published())
    u = marketing.universe
    index = 1
    old = u.campaigns[index]
    renamed = "Sushi masterclass | Renamed"
    u.campaigns[index] = dataclasses.replace(old, name=renamed, updated_time=later(u))

    await marketing.sync()

    events = (await marketing.published())[before:]
    got = sorted((seen(a) for a in described(events)), key=lambda a: a["ad_id"])
    under = [ad for ad in u.objects("ad", ACCOUNT) if ad.campaign_id == old.id]
    assert len(under) == 42
    assert got == sorted(
        (as_meta_has_it(u, ad, campaign_name=renamed) for ad in under), key=lambda a: a["ad_id"]
    )


async def test_a_changed_ad_set_re_sends_its_ads_and_a_changed_ad_only_itself(marketing: Marketing) -> None:
    await marketing.sync()
    before = len(await marketing.published())
    u = marketing.universe
    adset = u.adsets[3]
    assert adset.account_id == ACCOUNT
    u.adsets[3] = dataclasses.replace(
        adset, status="PAUSED", effective_status="PAUSED", updated_time=later(u)
    )
    ad = next(a for a in u.ads if a.account_id == ACCOUNT and a.adset_id != adset.id)
    u.ads[u.ads.index(ad)] = changed = dataclasses.replace(ad, name="Creative Z", updated_time=later(u))

    await marketing.sync()

    got = described((await marketing.published())[before:])
    assert sorted(a["ad_id"] for a in got) == sorted(
        [a.id for a in u.ads if a.adset_id == adset.id] + [changed.id]
    )
    assert next(seen(a) for a in got if a["ad_id"] == changed.id) == as_meta_has_it(u, changed)


async def test_an_ad_whose_ad_set_was_not_synced_has_no_ad_set_name_until_it_is(marketing: Marketing) -> None:
    u = marketing.universe
    index = next(i for i, s in enumerate(u.adsets) if s.account_id == ACCOUNT)
    missing = u.adsets.pop(index)  # Meta leaves it out of the listing; its ads still name it
    under = sorted(a.id for a in u.ads if a.adset_id == missing.id)

    await marketing.sync()

    first = described(await marketing.published())
    orphans = [a for a in first if a["adset_id"] == missing.id]
    assert sorted(a["ad_id"] for a in orphans) == under
    assert {a["adset_name"] for a in orphans} == {None}
    assert {a["campaign_name"] for a in orphans} == {u.get(missing.campaign_id).name}  # type: ignore[union-attr]
    assert all(a["adset_name"] for a in first if a["adset_id"] != missing.id)

    u.adsets.insert(index, dataclasses.replace(missing, updated_time=later(u)))
    await marketing.sync()

    named = described(await marketing.published())[len(first) :]
    assert sorted(a["ad_id"] for a in named) == under
    assert {a["adset_name"] for a in named} == {missing.name}


async def test_the_republish_route_re_sends_every_ad_of_every_account(marketing: Marketing) -> None:
    await marketing.sync(ACCOUNT)
    await marketing.sync(OTHER)
    before = len(await marketing.published())

    async with marketing.api() as api:
        response = await api.post("/internal/v1/structure/republish")

    assert response.status_code == 200, response.text
    assert response.json() == {"ads": 420, "events": 4}
    events = (await marketing.published())[before:]
    u = marketing.universe
    assert sorted((seen(a) for a in described(events)), key=lambda a: a["ad_id"]) == sorted(
        (as_meta_has_it(u, ad) for ad in u.ads), key=lambda a: a["ad_id"]
    )
    assert sorted((e["data"]["account_id"], len(e["data"]["ads"])) for e in events) == [
        (account, size) for account in sorted([ACCOUNT, OTHER]) for size in (10, ADS_PER_EVENT)
    ]
    assert len({e["correlation_id"] for e in events}) == 1


@pytest.mark.parametrize("token", [None, "not-the-token"])
async def test_the_republish_route_refuses_a_call_without_the_internal_token(
    marketing: Marketing, token: str | None
) -> None:
    await marketing.sync()
    before = await marketing.published()

    async with marketing.api(token) as api:
        response = await api.post("/internal/v1/structure/republish")

    assert response.status_code == 401
    assert response.json()["detail"] == "a valid X-Internal-Token is required"
    assert await marketing.published() == before
