"""Leads: score every customer from what they do, and summarise their conversations for staff.

- `message.received` (any mode; standby excluded: another app owns the thread) and
  `contact.seen` (the ad that brought the customer) update the lead of (Page, PSID): its signals
  (codes only; the text and any phone number are never kept), message times and counts, then its
  score. `lead.scored` is emitted through the outbox only when the score or temperature changed.
  Each event is claimed in the inbox in the same transaction: a redelivery changes nothing.
- `decay()` (periodic) re-scores leads idle past another full day; a changed score is published.
- Insights are produced every `AI_INSIGHTS_EVERY_MESSAGES` customer messages, and by
  `quiet_insights()` (periodic) once a conversation has been quiet `AI_INSIGHTS_QUIET_MINUTES`
  with messages since its last insights. The claim (`insight_message_count`) is committed first,
  the model is asked outside any transaction, then the insights are stored and published.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_ai.catalog import service as catalog
from crm_ai.memory import service as memory
from crm_contracts import (
    AdReferral,
    ContactSeen,
    CustomerInsightsData,
    CustomerInsightsUpdated,
    LeadScored,
    LeadScoredData,
    MessageReceived,
)
from crm_servicekit.logging import get_logger
from crm_servicekit.outbox import UnitOfWork

from . import repository, signals
from .insights import Draft, InsightsWriter, Lead
from .scoring import Rules, Score, compute

log = get_logger(__name__)

CONSUMER_MESSAGES = "ai.leads"
CONSUMER_CONTACTS = "ai.contacts"
SWEEP_BATCH = 200
INSIGHT_TURNS = 30
KEPT_MESSAGE_TIMES = 20


def from_ad(referral: AdReferral | None) -> bool:
    return referral is not None and (referral.source == "ADS" or bool(referral.ad_id))


@dataclass(frozen=True)
class Activity:
    """What one event adds to a lead."""

    at: datetime
    codes: frozenset[str]
    conversation_id: uuid.UUID | None = None
    is_message: bool = False
    language: str | None = None
    product_ids: tuple[uuid.UUID, ...] = ()


class Leads:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        writer: InsightsWriter,
        *,
        rules: Rules,
        every_messages: int,
        quiet: timedelta,
    ) -> None:
        self.uow = uow
        self.writer = writer
        self.rules = rules
        self.every_messages = every_messages
        self.quiet = quiet

    # -- scoring ---------------------------------------------------------------------------------

    async def on_message(self, event: MessageReceived) -> None:
        d = event.data
        due: Lead | None = None
        async with self.uow() as uow:
            if not await uow.claim(event.event_id, CONSUMER_MESSAGES):
                return
            if not d.standby:
                text = d.text or ""
                codes = signals.detect(text) if text.strip() else set()
                products = await _products(uow.session, [text])
                if products:
                    codes.add("named_course")
                if from_ad(d.referral):
                    codes.add("from_ad")
                activity = Activity(
                    at=d.sent_at,
                    codes=frozenset(codes),
                    conversation_id=d.conversation_id,
                    is_message=True,
                    language=signals.language(text),
                    product_ids=tuple(products),
                )
                due = await self._apply(uow, d.page_id, d.psid, activity, event.correlation_id)
            await uow.commit()
        if due is not None:
            await self._produce_insights(due, event.correlation_id)

    async def on_contact_seen(self, event: ContactSeen) -> None:
        d = event.data
        async with self.uow() as uow:
            if not await uow.claim(event.event_id, CONSUMER_CONTACTS):
                return
            codes = frozenset({"from_ad"}) if from_ad(d.referral) else frozenset()
            # Met again through an ad: the referral's time is when the customer came back.
            at = (d.referral.referred_at if d.referral else None) or d.first_seen_at
            activity = Activity(at=at, codes=codes, conversation_id=d.conversation_id)
            await self._apply(uow, d.page_id, d.psid, activity, event.correlation_id)
            await uow.commit()

    async def _apply(
        self, uow: UnitOfWork, page_id: str, psid: str, activity: Activity, correlation_id: str
    ) -> Lead | None:
        """Add the activity to the lead, re-score, emit if the score changed. The lead to
        summarise when its insights are due (already claimed in this transaction)."""
        now = datetime.now(UTC)
        row, is_new = await repository.lock_lead(uow.session, page_id, psid, activity.at)
        seen: dict[str, str] = dict(row.signals)
        for code in activity.codes:
            seen[code] = max(seen.get(code, ""), activity.at.astimezone(UTC).isoformat())
        window = now - timedelta(days=self.rules.engagement_days)
        times = [t for t in row.message_times if t >= window]
        if activity.is_message and activity.at >= window:
            # Enough to count engagement (its points are capped): a chatty lead stays small.
            times = sorted([*times, activity.at])[-KEPT_MESSAGE_TIMES:]
        last_activity = max(row.last_activity_at, activity.at)
        scored = compute(seen, times, last_activity, now, self.rules)
        count = row.message_count + int(activity.is_message)
        values: dict[str, Any] = {
            "signals": seen,
            "message_times": times,
            "message_count": count,
            "last_activity_at": last_activity,
            "quiet_days": scored.quiet_days,
            "product_ids": sorted(set(row.product_ids) | set(activity.product_ids)),
            "conversation_id": activity.conversation_id or row.conversation_id,
            "language": activity.language or row.language,
        }
        if activity.is_message:
            values["last_message_at"] = max(filter(None, (row.last_message_at, activity.at)))
        due = activity.is_message and count - row.insight_message_count >= self.every_messages
        if due:
            values["insight_message_count"] = count
        self._emit_if_changed(uow, row, None if is_new else row.score, scored, values, correlation_id)
        await repository.save_lead(uow.session, page_id, psid, values)
        if not due:
            return None
        return _lead({**row._asdict(), **values})

    def _emit_if_changed(
        self,
        uow: UnitOfWork,
        row: Any,
        previous: int | None,
        scored: Score,
        values: dict[str, Any],
        correlation_id: str,
    ) -> bool:
        """Put the score in `values`; emit `lead.scored` if it changed. True if emitted."""
        values.update(score=scored.score, temperature=scored.temperature)
        if previous is None:
            changed = scored.score > 0  # a new contact with nothing to say yet: no score to show
        else:
            changed = scored.score != row.score or scored.temperature != row.temperature
        if not changed:
            return False
        now = datetime.now(UTC)
        values["scored_at"] = now
        uow.emit(
            LeadScored(
                correlation_id=correlation_id,
                data=LeadScoredData(
                    page_id=row.page_id,
                    psid=row.psid,
                    conversation_id=values.get("conversation_id", row.conversation_id),
                    score=scored.score,
                    temperature=scored.temperature,
                    previous_score=previous,
                    reasons=scored.reasons,
                    scored_at=now,
                ),
            )
        )
        return True

    async def decay(self) -> int:
        """Re-score leads that passed another quiet day; publish the ones whose score changed."""
        now = datetime.now(UTC)
        changed = 0
        async with self.uow() as uow:
            for row in await repository.decay_batch(uow.session, now, SWEEP_BATCH):
                window = now - timedelta(days=self.rules.engagement_days)
                times = [t for t in row.message_times if t >= window]
                scored = compute(row.signals, times, row.last_activity_at, now, self.rules)
                values: dict[str, Any] = {"message_times": times, "quiet_days": scored.quiet_days}
                changed += self._emit_if_changed(uow, row, row.score, scored, values, _sweep_id("lead-decay"))
                await repository.save_lead(uow.session, row.page_id, row.psid, values)
            await uow.commit()
        return changed

    # -- insights --------------------------------------------------------------------------------

    async def quiet_insights(self) -> int:
        """Summarise conversations that went quiet with messages since their last insights."""
        async with self.uow() as uow:
            rows = await repository.claim_quiet_insights(
                uow.session, datetime.now(UTC) - self.quiet, SWEEP_BATCH
            )
            await uow.commit()
        for row in rows:
            await self._produce_insights(_lead(row._asdict()), _sweep_id("quiet-insights"))
        return len(rows)

    async def _produce_insights(self, lead: Lead, correlation_id: str) -> None:
        """Never raises: the score is committed already, and insights come again with the next
        message or quiet spell (a redelivered message would find its claim and do nothing)."""
        try:
            await self._write_insights(lead, correlation_id)
        except Exception as exc:
            log.warning(
                "customer insights failed",
                conversation_id=str(lead.conversation_id),
                error=type(exc).__name__,
            )

    async def _write_insights(self, lead: Lead, correlation_id: str) -> None:
        async with self.uow() as uow:
            turns = await memory.recent(uow.session, lead.conversation_id, INSIGHT_TURNS, max_chars=8000)
        draft = await self.writer.write(lead, turns)  # slow: no transaction is held open meanwhile
        async with self.uow() as uow:
            named = await _products(uow.session, draft.products)
            data = _insights(lead, draft, sorted(set(lead.product_ids) | set(named)))
            values = data.model_dump(exclude={"generated_at"}) | {
                "generated_at": data.generated_at,
                "model": draft.model,
                "message_count": lead.message_count,
            }
            if await repository.save_insights(uow.session, values):
                uow.emit(CustomerInsightsUpdated(correlation_id=correlation_id, data=data))
            await uow.commit()
        log.info("customer insights updated", conversation_id=str(lead.conversation_id), source=draft.source)


async def _products(session: AsyncSession, names: Iterable[str]) -> list[uuid.UUID]:
    names = [n for n in names if n]
    return [p.product_id for p in await catalog.mentioned(session, names)] if names else []


def _sweep_id(sweep: str) -> str:
    """A correlation id for what a sweep starts (no inbound event to follow)."""
    return f"{sweep}-{uuid.uuid4().hex[:16]}"


def _insights(lead: Lead, draft: Draft, product_ids: Sequence[uuid.UUID]) -> CustomerInsightsData:
    return CustomerInsightsData(
        page_id=lead.page_id,
        psid=lead.psid,
        conversation_id=lead.conversation_id,
        intent=draft.intent,
        interested_product_ids=list(product_ids),
        preferred_schedule=draft.preferred_schedule,
        budget=draft.budget,
        objections=list(draft.objections),
        language=draft.language,
        next_best_action=draft.next_best_action,
        summary=draft.summary,
        source=draft.source,
        generated_at=datetime.now(UTC),
    )


def _lead(row: dict[str, Any]) -> Lead:
    return Lead(
        page_id=row["page_id"],
        psid=row["psid"],
        conversation_id=row["conversation_id"],
        signals=frozenset(row["signals"]),
        product_ids=tuple(row["product_ids"]),
        language=row["language"],
        message_count=row["message_count"],
    )


async def erase(session: AsyncSession, psids: Sequence[str]) -> tuple[int, list[uuid.UUID]]:
    """PDPA: the leads and insights of these PSIDs are deleted (in the caller's transaction)."""
    return await repository.delete_for(session, psids)


async def export(session: AsyncSession, psids: Sequence[str]) -> tuple[list[Any], list[Any]]:
    """PDPA: the leads and insights of these PSIDs, as rows."""
    return await repository.leads_for(session, psids), await repository.insights_for(session, psids)
