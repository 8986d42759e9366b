"""One batch of webhook items being applied, in the caller's transaction: the items (each with
the webhook it came in and whether it was a standby item), the counts per webhook, and what
applying any kind of item needs: quarantine with the reason, the customer's PSID, an ad referral
stored once, and `contact.seen`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from crm_contracts import AdReferral, ContactSeen, ContactSeenData
from crm_messenger.meta.webhook import Messaging, Referral, item_kind
from crm_messenger.webhooks import repository
from crm_servicekit.outbox import UnitOfWork


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    kinds: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Item:
    receipt: int
    page_id: str
    raw: dict[str, Any]
    standby: bool


def ad_referral(r: Referral | None, at: datetime) -> AdReferral | None:
    """The ad or link that brought a customer, as our events carry it."""
    if r is None:
        return None
    ctx = r.ads_context_data or {}
    return AdReferral(
        source=r.source,
        type=r.type,
        ad_id=r.ad_id,
        ref=r.ref,
        ad_title=ctx.get("ad_title"),
        post_id=ctx.get("post_id"),
        referred_at=at,
    )


class Batch:
    def __init__(self, uow: UnitOfWork, results: dict[int, IngestResult], handover_idle: timedelta) -> None:
        self.uow = uow
        self.session = uow.session
        self.results = results
        self.handover_idle = handover_idle

    async def quarantine(self, item: Item, kind: str, reason: str) -> None:
        await repository.quarantine(self.session, item.page_id, kind, reason, item.raw)
        self.results[item.receipt].quarantined += 1

    async def _customer(self, item: Item, event: Messaging) -> str | None:
        """The PSID of the customer in an event they sent, or quarantine it."""
        if event.sender.id is None:
            await self.quarantine(item, item_kind(item.raw), "no sender.id (PSID)")
            return None
        return event.sender.id

    async def _referral(
        self,
        conversation_id: Any,
        page_id: str,
        psid: str,
        ad: AdReferral,
        raw: Referral | None,
        via: str,
        at: datetime,
    ) -> bool:
        return await repository.insert_referral(
            self.session,
            {
                "conversation_id": conversation_id,
                "page_id": page_id,
                "psid": psid,
                "source": ad.source,
                "type": ad.type,
                "ad_id": ad.ad_id,
                "ref": ad.ref,
                "ads_context_data": raw.ads_context_data if raw else None,
                "via": via,
                "occurred_at": at,
            },
        )

    def _contact_seen(
        self,
        page_id: str,
        psid: str,
        conversation_id: Any,
        at: datetime,
        ad: AdReferral | None,
        correlation: str,
    ) -> None:
        self.uow.emit(
            ContactSeen(
                correlation_id=correlation,
                data=ContactSeenData(
                    page_id=page_id, psid=psid, conversation_id=conversation_id, first_seen_at=at, referral=ad
                ),
            )
        )
