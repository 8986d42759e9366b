"""Conversations ads opened, by the CRM's own count, beside Meta's: one per conversation, ad and
Bangkok day, from the messenger's `contact.seen` with a referral naming an ad."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from crm_contracts import AdReferral, ContactSeen, ContactSeenData
from crm_contracts.analytics import PeriodSnapshot, daily_path, kpis
from crm_servicekit.testing import eventually, publish_events

from .analytics_events import at, cache_writer, fact, insights  # type: ignore[import-not-found]

pytestmark = pytest.mark.integration


def seen(conversation: uuid.UUID, when: str, ad: str | None, *, source: str = "ADS") -> ContactSeen:
    referral = None
    if source:
        referral = AdReferral(source=source, type="OPEN_THREAD", ad_id=ad, referred_at=at(when))
    return ContactSeen(
        correlation_id=f"seen-{when}",
        data=ContactSeenData(
            page_id="page-1",
            psid=f"psid-{conversation.hex[:8]}",
            conversation_id=conversation,
            first_seen_at=at(when),
            referral=referral,
        ),
    )


async def test_conversations_from_ads_are_counted_once_per_conversation_ad_and_bangkok_day(
    tmp_path: Path,
) -> None:
    new, returning, plain = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with cache_writer("convs", tmp_path) as cw:
        broker = cw.app.state.runtime.broker
        first = seen(new, "2026-11-10T03:00:00", "A1")  # 10:00 in Bangkok, 10 Nov
        await publish_events(
            broker,
            insights(fact("A1", "2026-11-10", "300.00")),
            first,
            first,  # the same event delivered twice
            seen(new, "2026-11-10T09:00:00", "A1"),  # the same ad again that day: no new conversation
            seen(returning, "2026-11-09T18:30:00", "A1"),  # 01:30 on 10 Nov in Bangkok
            seen(returning, "2026-11-10T20:00:00", "A2"),  # 03:00 on 11 Nov in Bangkok: another ad, day
            seen(plain, "2026-11-10T04:00:00", None, source=""),  # a first contact no ad brought
            seen(plain, "2026-11-10T05:00:00", None, source="SHORTLINK"),  # an m.me link, no ad
        )
        await cw.stored(ad_conversations=3, ad_days=1)

        def day(d: date) -> PeriodSnapshot | None:
            path = tmp_path / daily_path(d)
            return PeriodSnapshot.model_validate_json(path.read_bytes()) if path.exists() else None

        async def rendered() -> tuple[PeriodSnapshot, PeriodSnapshot] | None:
            tenth, eleventh = day(date(2026, 11, 10)), day(date(2026, 11, 11))
            # The spend and the conversations arrive on separate queues: a render may hold one
            # before the other, so wait for the day with both.
            if tenth is None or eleventh is None or tenth.total.conversations_started != 2:
                return None
            if tenth.total.spend != Decimal("300.00"):
                return None
            return tenth, eleventh

        tenth, eleventh = await eventually(rendered, timeout=30)
        assert tenth.ads["A1"].conversations_started == 2
        assert eleventh.ads["A2"].conversations_started == 1
        assert eleventh.total.conversations_started == 1
        ten = kpis(tenth.total, unattributed=tenth.unattributed)
        assert (ten.conversations_started, ten.cost_per_conversation) == (2, ten.spend / 2)
        assert str(ten.cost_per_conversation) == "150.00"
        assert kpis(eleventh.total).cost_per_conversation == 0, "A2 spent nothing that day"
