"""Dashboard answers served again from memory (`dashboards.answers`): the same bytes FastAPI made
of the model before, never a figure of a file that has since changed, appeared or gone, and a
freshness (`Age`, `age_seconds`, `stale`) worked out on every request."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import TypeAdapter

from crm_contracts.analytics import (
    RENDER_STATE_PATH,
    STRUCTURE_PATH,
    SUMMARY_PATH,
    AdNode,
    AdStructureSnapshot,
    Figures,
    daily_path,
    monthly_path,
)
from crm_gateway.dashboards import answers, service
from crm_gateway.dashboards.campaigns import campaigns_of
from crm_gateway.dashboards.periods import Month
from crm_gateway.dashboards.snapshots import Answer, AnswerCache, SnapshotStore
from crm_gateway.dashboards.tally import Tally

from .test_dashboards import BASE, day, fig, heartbeat, period, summary_snapshot, write, write_day

SINCE, UNTIL = "2026-05-01", "2026-05-07"


def structure(name: str) -> AdStructureSnapshot:
    return AdStructureSnapshot(
        generated_at=datetime.now(UTC),
        ads={
            "A1": AdNode(
                ad_id="A1",
                ad_name=name,
                adset_id="S1",
                adset_name="กรุงเทพฯ 25-45",  # not ASCII: sent as UTF-8, as FastAPI sends it
                campaign_id="C1",
                campaign_name="Sushi course",
                status="ACTIVE",
            )
        },
    )


@pytest.fixture
def store(app: FastAPI) -> SnapshotStore:
    found: SnapshotStore = app.state.dashboard_snapshots
    return found


@pytest.fixture(autouse=True)
async def no_analytics(cache_dir: Path, store: SnapshotStore) -> None:
    for folder in ("analytics", "ads"):
        await asyncio.to_thread(shutil.rmtree, cache_dir / folder, True)
    store.clear()


async def read(client: httpx.AsyncClient, auth: dict[str, str], route: str, **params: str) -> dict[str, Any]:
    response = await client.get(BASE + route, params=params, headers=auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert response.headers.get("Age") == (None if body["age_seconds"] is None else str(body["age_seconds"]))
    return body


def spend(body: dict[str, Any]) -> str:
    value: str = body["total"]["kpis"]["spend"]
    return value


@pytest.mark.integration
async def test_a_changed_added_or_removed_file_is_in_the_next_answer(
    client: httpx.AsyncClient, auth: dict[str, str], cache_dir: Path, store: SnapshotStore
) -> None:
    heartbeat(cache_dir)
    write(cache_dir, STRUCTURE_PATH, structure("Sushi A1"))
    written = datetime.now(UTC).timestamp() - 100
    write_day(cache_dir, day(date(2026, 5, 4), {"A1": fig("10.00")}), mtime=written)
    made = store.answers.made

    body = await read(client, auth, "/campaigns", since=SINCE, until=UNTIL)
    assert spend(body) == "10.00"
    assert body == await read(client, auth, "/campaigns", since=SINCE, until=UNTIL)
    assert store.answers.made - made == 1  # made once, served twice

    # Rewritten in place, same size and inode: the new mtime alone makes the answer again.
    write_day(cache_dir, day(date(2026, 5, 4), {"A1": fig("20.00")}), mtime=written + 1)
    assert spend(await read(client, auth, "/campaigns", since=SINCE, until=UNTIL)) == "20.00"
    # A day that had no file gets one.
    write_day(cache_dir, day(date(2026, 5, 5), {"A1": fig("5.00")}))
    assert spend(await read(client, auth, "/campaigns", since=SINCE, until=UNTIL)) == "25.00"
    # A day's file goes.
    (cache_dir / daily_path(date(2026, 5, 4))).unlink()
    assert spend(await read(client, auth, "/campaigns", since=SINCE, until=UNTIL)) == "5.00"
    # The names come from the structure file: renamed, the tree says so.
    write(cache_dir, STRUCTURE_PATH, structure("Sushi A1, renamed"))
    body = await read(client, auth, "/campaigns", since=SINCE, until=UNTIL)
    assert body["campaigns"][0]["adsets"][0]["ads"][0]["ad_name"] == "Sushi A1, renamed"
    assert store.answers.made - made == 5

    # A whole month: its monthly file, when one appears, is used instead of its days.
    may = {"since": "2026-05-01", "until": "2026-05-31"}
    assert (await read(client, auth, "/summary", **may))["periods"][0]["spend"] == "5.00"
    month = period("2026-05", date(2026, 5, 1), date(2026, 5, 31), {"A1": fig("7.00")})
    write(cache_dir, monthly_path("2026-05"), month)
    assert (await read(client, auth, "/summary", **may))["periods"][0]["spend"] == "7.00"
    # The summary file itself.
    write(cache_dir, SUMMARY_PATH, summary_snapshot(datetime.now(UTC)))
    first = (await read(client, auth, "/summary"))["periods"][0]["spend"]
    assert first != "0.00"
    (cache_dir / SUMMARY_PATH).unlink()
    assert (await read(client, auth, "/summary"))["periods"][0]["spend"] == "0.00"  # no files for today
    # The daily and monthly series likewise.
    assert (await read(client, auth, "/daily", since=SINCE, until=UNTIL))["totals"]["spend"] == "5.00"
    assert (await read(client, auth, "/monthly", since="2026-05", until="2026-05"))["totals"][
        "spend"
    ] == "7.00"
    (cache_dir / monthly_path("2026-05")).unlink()
    write_day(cache_dir, day(date(2026, 5, 6), {"A1": fig("1.00")}))
    assert (await read(client, auth, "/daily", since=SINCE, until=UNTIL))["totals"]["spend"] == "6.00"
    assert (await read(client, auth, "/monthly", since="2026-05", until="2026-05"))["totals"][
        "spend"
    ] == "6.00"


@pytest.mark.integration
async def test_the_freshness_is_worked_out_on_every_request(
    client: httpx.AsyncClient, auth: dict[str, str], cache_dir: Path, store: SnapshotStore
) -> None:
    write_day(cache_dir, day(date(2026, 5, 4), {"A1": fig("10.00")}))
    heartbeat(cache_dir, caught_up_at=datetime.now(UTC) - timedelta(seconds=20))
    made = store.answers.made
    for route in ("/campaigns", "/summary", "/daily"):
        body = await read(client, auth, route, since=SINCE, until=UNTIL)
        assert (body["stale"], body["stale_reason"]) == (False, None)
        assert 20 <= body["age_seconds"] < 80

    # The cache-writer stopped three minutes ago: the same figures, now stale and older.
    heartbeat(cache_dir, rendered_at=datetime.now(UTC) - timedelta(minutes=3))
    for route in ("/campaigns", "/summary", "/daily"):
        body = await read(client, auth, route, since=SINCE, until=UNTIL)
        assert (body["stale"], body["stale_reason"]) == (True, "heartbeat_old")
        assert 180 <= body["age_seconds"] < 240

    write(cache_dir, RENDER_STATE_PATH, b"{}")  # an unusable heartbeat is listed, the figures kept
    body = await read(client, auth, "/campaigns", since=SINCE, until=UNTIL)
    assert (body["stale_reason"], spend(body)) == ("no_heartbeat", "10.00")
    assert body["problems"] == [{"file": RENDER_STATE_PATH, "problem": "invalid"}]
    assert store.answers.made - made == 3  # the figures were made once per route


def test_the_bytes_are_those_of_the_model_fresh_or_from_the_cache(tmp_path: Path) -> None:
    """What a route sends is what FastAPI made of the model (`dump_json`), freshness included."""
    store = SnapshotStore(tmp_path, max_bytes=1 << 20)
    write(tmp_path, STRUCTURE_PATH, structure("ซูชิ A1"))
    write_day(tmp_path, day(date(2026, 5, 4), {"A1": fig("10.00", leads=3, revenue="99.99", paid=1)}))
    write(tmp_path, daily_path(date(2026, 5, 5)), b"not json")  # listed in `problems`
    write(tmp_path, SUMMARY_PATH, summary_snapshot(datetime.now(UTC)))
    heartbeat(tmp_path, caught_up_at=datetime.now(UTC) - timedelta(seconds=5))
    questions: list[tuple[Any, tuple[Any, ...]]] = [
        (service.summary_of, (None, None)),
        (service.summary_of, (date(2026, 5, 1), date(2026, 5, 7))),
        (service.daily_of, (date(2026, 5, 1), date(2026, 5, 7))),
        (service.monthly_of, (Month(2026, 4), Month(2026, 5))),
        (campaigns_of, (date(2026, 5, 1), date(2026, 5, 7))),
    ]
    for attribution in ("last_28d", "first"):
        ask = service.Ask(
            attribution=attribution, window="7d", stale_after_seconds=120, now=datetime.now(UTC)
        )
        for make, args in questions:
            model = make(service.Reading(store), ask, *args)
            expected = TypeAdapter(type(model)).dump_json(model)
            made = store.answers.made
            assert answers.serve(store, ask, make, *args).body == expected  # made
            assert answers.serve(store, ask, make, *args).body == expected  # from the cache
            assert store.answers.made - made == 1


def test_the_answers_stay_within_their_bytes(tmp_path: Path) -> None:
    cache = AnswerCache(max_bytes=1000)
    for n in range(5):
        cache.put(n, Answer(b"x" * 300, ()))
    assert [n for n in range(5) if cache.get(n) is not None] == [2, 3, 4]  # the oldest went first
    cache.put("big", Answer(b"x" * 1001, ()))
    assert cache.get("big") is None  # larger than the whole cache: not kept
    store = SnapshotStore(tmp_path, max_bytes=32 * 1024 * 1024)
    assert store.answers.max_bytes + store.max_bytes == 32 * 1024 * 1024  # one budget, shared


def test_a_tally_adds_up_as_figures_do() -> None:
    """The hot path's sums (`Tally`) are `Figures.add`'s, Decimal for Decimal, missing keys as zero."""
    parts = [
        fig("10.10", hourly="9.99", leads=2, revenue="1000.00", paid=1, new=1, converted=1, clicks=7),
        fig("0.00", conversations_started=3, meta_conversations_started=5, meta_leads=1, meta_purchases=1),
        Figures(spend=Decimal("0.5"), revenue={"first": Decimal("3.125")}, paid_orders={"last_1d": 2}),
        fig("0.00", meta_purchase_value=Decimal("15000.00"), impressions=48210),
    ]
    figures, tally = Figures(), Tally()
    for part in parts:
        figures.add(part)
        tally.add(part)
    assert tally.figures().model_dump() == figures.model_dump()
    assert set(Tally.__slots__) == set(Figures.model_fields), "a field Figures gains is added up here too"
    assert str(tally.spend) == str(figures.spend) == "10.60"  # the same exponent, not just the same value
