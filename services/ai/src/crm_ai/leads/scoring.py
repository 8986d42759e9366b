"""A lead's score, 0-100, as a sum of reasons staff can read.

Each buying signal counts once (asking the price twice is not twice the intent), for as long as
the lead is remembered. Engagement counts the customer's messages in the last few days; recency
rewards a customer who wrote today; a lead that goes quiet loses points for every full quiet day
(applied by the decay sweep, or at the next message). The reasons are sorted biggest first, so
the first one or two answer "why is this lead hot?". Pure: the caller supplies the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from crm_contracts import ScoreReason, Temperature

HOT = 70
WARM = 40


@dataclass(frozen=True)
class Signal:
    label: str
    points: int


SIGNALS: Mapping[str, Signal] = {
    "asked_price": Signal("asked about the price", 20),
    "asked_payment": Signal("asked how to pay", 20),
    "asked_installments": Signal("asked about paying in installments", 15),
    "asked_schedule": Signal("asked about dates or the next round", 15),
    "asked_location": Signal("asked where the school is", 10),
    "wants_to_enrol": Signal("said they want to sign up or book", 20),
    "named_course": Signal("named a course", 10),
    "gave_phone": Signal("gave a phone number", 25),
    "from_ad": Signal("came from a Facebook ad", 15),
}
ENGAGEMENT_POINTS_PER_MESSAGE = 3
ENGAGEMENT_CAP = 15
RECENCY_POINTS = 10


@dataclass(frozen=True)
class Rules:
    """The tunable parts (settings): the engagement window and the decay rate."""

    engagement_days: int = 3
    decay_points_per_day: int = 5


@dataclass(frozen=True)
class Score:
    score: int
    temperature: Temperature
    reasons: list[ScoreReason]
    quiet_days: int


def temperature(score: int) -> Temperature:
    return "hot" if score >= HOT else "warm" if score >= WARM else "cold"


def compute(
    signals: Iterable[str],
    message_times: Iterable[datetime],
    last_activity_at: datetime,
    now: datetime,
    rules: Rules,
) -> Score:
    """Score from what is remembered of a lead: its signal codes, the times of its recent
    messages, and when it was last active (its last message, or when it arrived)."""
    reasons = [
        ScoreReason(signal=code, label=SIGNALS[code].label, points=SIGNALS[code].points)
        for code in sorted(set(signals))
        if code in SIGNALS
    ]
    window = now - timedelta(days=rules.engagement_days)
    recent = sum(1 for t in message_times if t >= window)
    if recent:
        label = f"{recent} message{'s' if recent > 1 else ''} in the last {rules.engagement_days} days"
        points = min(ENGAGEMENT_CAP, recent * ENGAGEMENT_POINTS_PER_MESSAGE)
        reasons.append(ScoreReason(signal="engaged", label=label, points=points))
    quiet_days = max(0, (now - last_activity_at) // timedelta(days=1))
    if quiet_days == 0 and recent:
        reasons.append(ScoreReason(signal="recent", label="wrote within the last day", points=RECENCY_POINTS))
    # Decay takes from the capped score (a lead at 130 points must not look unchanged for days),
    # never below zero: the reason shows what the quiet days actually took away.
    score = min(100, sum(r.points for r in reasons))
    lost = min(score, quiet_days * rules.decay_points_per_day)
    if lost:
        day_label = f"{quiet_days} day{'s' if quiet_days > 1 else ''}"
        reasons.append(ScoreReason(signal="quiet", label=f"quiet for {day_label}", points=-lost))
        score -= lost
    reasons.sort(key=lambda r: (-abs(r.points), r.signal))
    return Score(score=score, temperature=temperature(score), reasons=reasons, quiet_days=quiet_days)
