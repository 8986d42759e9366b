"""The producers' exports, as the rebuild reads them: the gateway's customers, orders and money,
marketing's structure and insights, the messenger's ad referrals, through their internal APIs
(`/internal/v1/export/...`, the service token in `X-Internal-Token`), one keyset page after another.

The page shapes are this service's own copies of what the producers answer (extra fields are
ignored); the items are the contracts' event data models, so they are stored by the same
functions the subscribers use. A failed call (no answer, or not a 2xx) stops the rebuild.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from types import TracebackType
from typing import Generic, Literal, Self, TypeVar

import httpx
from pydantic import BaseModel

from crm_contracts import (
    AdStructure,
    CustomerCreatedData,
    InsightsChangedData,
    OrderCreatedData,
    OrderStatusChangedData,
)
from crm_servicekit.tracing import instrument_httpx

INTERNAL_TOKEN_HEADER = "X-Internal-Token"  # noqa: S105 (a header name)
TIMEOUT = httpx.Timeout(120.0, connect=5.0)
T = TypeVar("T")


class ProducerFailed(Exception):
    """A producer could not be asked or refused: the rebuild stops, saying which and why."""


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int | None = None
    next_cursor: str | None = None


class ExportedAd(AdStructure):
    account_id: str


class AdReferralRow(BaseModel):
    conversation_id: uuid.UUID
    ad_id: str
    referred_at: datetime


class MoneyMoved(BaseModel):
    payment_id: uuid.UUID
    data: OrderStatusChangedData


class Producer:
    def __init__(
        self, name: str, base_url: str, token: str, transport: httpx.AsyncBaseTransport | None
    ) -> None:
        self.name = name
        self._http = instrument_httpx(
            httpx.AsyncClient(
                base_url=f"{base_url.rstrip('/')}/internal/v1/export",
                headers={INTERNAL_TOKEN_HEADER: token},
                timeout=TIMEOUT,
                transport=transport or httpx.AsyncHTTPTransport(retries=3),
            )
        )

    async def pages(
        self, path: str, model: type[Page[T]], limit: int, **params: str
    ) -> AsyncIterator[Page[T]]:
        """Every page of one export, first to last."""
        after: str | None = None
        while True:
            query = {**params, "limit": str(limit), **({"after": after} if after else {})}
            try:
                response = await self._http.get(path, params=query)
            except httpx.TransportError as exc:
                raise ProducerFailed(f"{self.name} did not answer {path}: {type(exc).__name__}") from exc
            if not response.is_success:
                hint = " (check CRM_INTERNAL_TOKEN)" if response.status_code in (401, 403) else ""
                raise ProducerFailed(f"{self.name} answered {path} with {response.status_code}{hint}")
            page = model.model_validate_json(response.content)
            yield page
            if page.next_cursor is None:
                return
            after = page.next_cursor

    async def aclose(self) -> None:
        await self._http.aclose()


class Producers:
    """The gateway, marketing and the messenger, as the rebuild asks them."""

    def __init__(
        self,
        *,
        gateway_url: str,
        marketing_url: str,
        messenger_url: str,
        token: str,
        page_size: int,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.gateway = Producer("gateway", gateway_url, token, transport)
        self.marketing = Producer("marketing", marketing_url, token, transport)
        self.messenger = Producer("messenger", messenger_url, token, transport)
        self.page_size = page_size

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.gateway.aclose()
        await self.marketing.aclose()
        await self.messenger.aclose()

    def structure(self) -> AsyncIterator[Page[ExportedAd]]:
        return self.marketing.pages("/structure", Page[ExportedAd], self.page_size)

    def insights(self, granularity: Literal["day", "hour"]) -> AsyncIterator[Page[InsightsChangedData]]:
        return self.marketing.pages(
            "/insights", Page[InsightsChangedData], self.page_size, granularity=granularity
        )

    def customers(self) -> AsyncIterator[Page[CustomerCreatedData]]:
        return self.gateway.pages("/customers", Page[CustomerCreatedData], self.page_size)

    def orders(self) -> AsyncIterator[Page[OrderCreatedData]]:
        return self.gateway.pages("/orders", Page[OrderCreatedData], self.page_size)

    def payments(self) -> AsyncIterator[Page[MoneyMoved]]:
        return self.gateway.pages("/payments", Page[MoneyMoved], self.page_size)

    def ad_referrals(self) -> AsyncIterator[Page[AdReferralRow]]:
        return self.messenger.pages("/ad-referrals", Page[AdReferralRow], self.page_size)
