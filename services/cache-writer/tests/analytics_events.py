"""Events as the gateway and marketing publish them, and a cache-writer of its own (database,
RabbitMQ vhost, cache directory) to publish them to: shared by the analytics checks' tests."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI
from sqlalchemy import func, select

from crm_cache_writer.analytics import tables
from crm_cache_writer.app import create_app
from crm_cache_writer.config import CacheWriterSettings
from crm_contracts import (
    AdReferral,
    AdStructure,
    ChannelIdentity,
    CustomerCreated,
    CustomerCreatedData,
    InsightFact,
    InsightsChanged,
    InsightsChangedData,
    OrderCreated,
    OrderCreatedData,
    OrderStatusChanged,
    OrderStatusChangedData,
    StructureChanged,
    StructureChangedData,
)
from crm_servicekit.migrations import upgrade
from crm_servicekit.settings import ServiceSettings
from crm_servicekit.testing import create_database, create_vhost, delete_vhost, drop_database, eventually

D = Decimal
Channel = Literal["FB", "LINE", "WEB", "WALKIN"]
PAGE = "page-1"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def customer(
    number: int,
    created: str,
    *,
    channel: Channel = "FB",
    ad: str | None = None,
    touched: str | None = None,
    psid: str | None = None,
) -> CustomerCreated:
    touch = AdReferral(source="ADS", ad_id=ad, referred_at=at(touched or created)) if ad else None
    identities = [ChannelIdentity(channel="messenger", page_id=PAGE, external_id=psid)] if psid else []
    return CustomerCreated(
        correlation_id=f"customer-{number}",
        data=CustomerCreatedData(
            customer_id=f"TVS-CUS-{channel}-26-{number:04d}",
            channel=channel,
            lifecycle_stage="lead",
            identities=identities,
            first_touch=touch,
            latest_touch=touch,
            created_at=at(created),
        ),
    )


class Order:
    """One order and the money events staff cause on it, as the gateway publishes them."""

    def __init__(self, who: CustomerCreated, total: str, created: str, touch: tuple[str, str] | None) -> None:
        self.id = uuid.uuid4()
        self.customer_id = who.data.customer_id
        self.total = D(total)
        self.created = at(created)
        self.touch = AdReferral(source="ADS", ad_id=touch[0], referred_at=at(touch[1])) if touch else None
        self.first = who.data.first_touch or self.touch
        self.paid = D("0")
        self.status = "pending"

    def created_event(self) -> OrderCreated:
        return OrderCreated(
            correlation_id=str(self.id),
            data=OrderCreatedData(
                order_id=self.id,
                customer_id=self.customer_id,
                status="pending",
                currency="THB",
                total=self.total,
                lines=[],
                first_touch=self.first,
                latest_touch=self.touch,
                created_at=self.created,
            ),
        )

    def money(
        self, kind: Literal["payment", "refund"], amount: str, moved: str, *, paid: bool = False
    ) -> Any:
        """A payment or refund; `paid` marks the order paid even if the amounts say otherwise."""
        before = self.status
        self.paid += D(amount) if kind == "payment" else -D(amount)
        if kind == "payment":
            self.status = "paid" if paid or self.paid >= self.total else "pending"
        elif self.paid <= 0:
            self.status = "refunded"
        return OrderStatusChanged(
            correlation_id=str(self.id),
            data=OrderStatusChangedData(
                order_id=self.id,
                customer_id=self.customer_id,
                status=self.status,  # type: ignore[arg-type]
                previous_status=before,  # type: ignore[arg-type]
                currency="THB",
                total=self.total,
                paid=self.paid,
                amount=D(amount),
                method="transfer",
                first_touch=self.first,
                latest_touch=self.touch,
                changed_at=at(moved),
                kind=kind,
                moved_at=at(moved),
                order_created_at=self.created,
            ),
        )


def fact(
    ad: str,
    day: str,
    spend: str,
    hour: int | None = None,
    *,
    conversations: int = 0,
    leads: int = 0,
    purchases: int = 0,
    value: str = "0",
) -> InsightFact:
    return InsightFact(
        ad_id=ad,
        ad_name=None,
        adset_id=None,
        adset_name=None,
        campaign_id=None,
        campaign_name=None,
        day=date.fromisoformat(day),
        hour=hour,
        spend=D(spend),
        impressions=100,
        clicks=5,
        link_clicks=4,
        messaging_conversations_started=conversations,
        leads=leads,
        purchases=purchases,
        purchase_value=D(value),
    )


def insights(*facts: InsightFact, run: int = 1) -> InsightsChanged:
    granularity: Literal["day", "hour"] = "hour" if facts[0].hour is not None else "day"
    return InsightsChanged(
        correlation_id=f"sync-{run}-{granularity}",
        data=InsightsChangedData(
            account_id="111", currency="THB", granularity=granularity, sync_run_id=run, facts=list(facts)
        ),
    )


def structure(*ads: tuple[str, str, str]) -> StructureChanged:
    """`(ad, ad set, campaign)` ids; names are made from them."""
    return StructureChanged(
        correlation_id="structure",
        data=StructureChangedData(
            account_id="111",
            ads=[
                AdStructure(
                    ad_id=ad,
                    ad_name=f"Ad {ad}",
                    adset_id=adset,
                    adset_name=f"Set {adset}",
                    campaign_id=campaign,
                    campaign_name=f"Campaign {campaign}",
                    status="ACTIVE",
                    updated_time=None,
                )
                for ad, adset, campaign in ads
            ],
        ),
    )


@dataclass
class CacheWriter:
    app: FastAPI
    root: Path
    database_url: str

    async def count(self, table: Any) -> int:
        async with self.app.state.runtime.sessionmaker() as session:
            return int(await session.scalar(select(func.count()).select_from(table)) or 0)

    async def stored(self, **expected: int) -> None:
        """Wait until the read model's tables hold `expected` rows (`money=3, customers=5`)."""

        async def reached() -> bool:
            return all([await self.count(getattr(tables, name)) == n for name, n in expected.items()])

        await eventually(reached, timeout=30, interval=0.1)


@asynccontextmanager
async def cache_writer(prefix: str, root: Path) -> AsyncIterator[CacheWriter]:
    database_url = await create_database(f"crm_{prefix}")
    rabbitmq_url = create_vhost(f"crm-{prefix}")
    try:
        await asyncio.to_thread(
            upgrade, "crm_cache_writer", ServiceSettings(database_url=database_url).async_database_url
        )
        settings = CacheWriterSettings(
            database_url=database_url,
            rabbitmq_url=rabbitmq_url,
            crm_cache_dir=root,
            analytics_render_seconds=0.2,
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            yield CacheWriter(app, root, database_url)
    finally:
        delete_vhost(rabbitmq_url)
        await drop_database(database_url)
