"""Customer insights: what a conversation tells staff about a customer, in a few fields.

With a Gemini key, the model reads the conversation's recent turns once and answers one JSON
object (`response_schema`); the lead's signals ride along as hints. The call is retried like a
reply (`crm_ai.gemini`: 408/429/5xx and dropped connections). Without a key, with
no turns to read, or when the model fails or answers something unusable, the rules fill what
the signals tell (courses named, intent words, installments -> budget) and say `source="rules"`.
Nothing here logs the conversation.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from google.genai import types
from pydantic import BaseModel, Field, ValidationError

from crm_ai.config import AiSettings
from crm_ai.gemini import GEMINI_ERRORS, Gemini
from crm_servicekit.logging import get_logger

from .scoring import SIGNALS

log = get_logger(__name__)


class TurnLike(Protocol):
    @property
    def author(self) -> str: ...
    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class Lead:
    """What the ai remembers of the customer behind a conversation (no text)."""

    page_id: str
    psid: str
    conversation_id: uuid.UUID
    signals: frozenset[str]
    product_ids: tuple[uuid.UUID, ...]
    language: str | None
    message_count: int


@dataclass(frozen=True)
class Draft:
    summary: str
    source: Literal["gemini", "rules"]
    intent: str | None = None
    products: tuple[str, ...] = ()  # course names the model read; matched to the catalog later
    preferred_schedule: str | None = None
    budget: str | None = None
    objections: tuple[str, ...] = ()
    language: str | None = None
    next_best_action: str | None = None
    model: str | None = None


class InsightsAnswer(BaseModel):
    """The JSON the model answers (its schema is sent as `response_schema`)."""

    intent: str = Field(description="enrol, compare prices, ask about schedule, just browsing, other")
    courses: list[str] = Field(description="Course or product names the customer is interested in.")
    preferred_schedule: str = Field(description="Days or times the customer prefers; empty if unknown.")
    budget: str = Field(description="Budget signals, e.g. asked about installments; empty if none.")
    objections: list[str] = Field(description="What holds the customer back, short labels.")
    language: str = Field(description="The customer's language: th, en or ja.")
    next_best_action: str = Field(description="What staff should do next, one sentence.")
    summary: str = Field(description="Two or three sentences for staff, in English.")


SYSTEM_PROMPT = """You help the sales staff of V School, a Japanese culinary school in Bangkok.
Read the Messenger conversation between a customer and the school and answer one JSON object
with what staff need to follow up: the customer's intent, the courses they are interested in,
their preferred schedule, budget signals (e.g. asked about installments), objections, their
language (th, en or ja), the next best action for staff, and a summary of two or three sentences
in English. Never copy phone numbers, addresses or other personal details into your answer.
Leave a field empty when the conversation does not say."""

_OBJECTIONS = {
    "objection_price": "finds the price high",
    "objection_time": "short of time",
    "objection_distance": "the school is far for them",
    "thinking_it_over": "wants to think it over",
}
_ACTIONS = {
    "enrol": "Confirm a seat in the next round and send the payment details.",
    "compare prices": "Send the price list with the installment options.",
    "explore courses": "Send the course outline and the dates of the next rounds.",
    "just browsing": "Answer their questions and invite them to the next open day.",
}


def rule_insights(lead: Lead) -> Draft:
    """What the signals alone tell (no model): a label for each field they cover."""
    s = lead.signals
    if s & {"wants_to_enrol", "asked_payment", "gave_phone"}:
        intent = "enrol"
    elif s & {"asked_price", "asked_installments"}:
        intent = "compare prices"
    elif s & {"asked_schedule", "asked_location", "named_course"}:
        intent = "explore courses"
    else:
        intent = "just browsing"
    budget = [label for code, label in (("asked_installments", "asked about installments"),) if code in s]
    if "objection_price" in s:
        budget.append("finds the price high")
    asked = [SIGNALS[code].label for code in sorted(s) if code in SIGNALS]
    summary = (
        f"The customer {', '.join(asked)}." if asked else "The customer has not shown buying intent yet."
    ) + f" {lead.message_count} message{'s' if lead.message_count != 1 else ''} so far."
    return Draft(
        summary=summary,
        source="rules",
        intent=intent,
        preferred_schedule="asked about upcoming dates" if "asked_schedule" in s else None,
        budget="; ".join(budget) or None,
        objections=tuple(label for code, label in _OBJECTIONS.items() if code in s),
        language=lead.language,
        next_best_action=_ACTIONS[intent],
    )


class InsightsWriter(Protocol):
    async def write(self, lead: Lead, turns: Sequence[TurnLike]) -> Draft: ...

    async def aclose(self) -> None: ...


class RulesWriter:
    """No Gemini key: the rules only."""

    async def write(self, lead: Lead, turns: Sequence[TurnLike]) -> Draft:
        return rule_insights(lead)

    async def aclose(self) -> None:
        return None


def transcript(turns: Sequence[TurnLike]) -> str:
    who = {"customer": "Customer"}
    return "\n".join(f"{who.get(t.author, 'School')}: {t.text}" for t in turns)


def _blank(value: str) -> str | None:
    return value.strip() or None


class GeminiWriter:
    def __init__(self, settings: AiSettings) -> None:
        self.model = settings.gemini_model
        self._gemini = Gemini(settings, "insights")
        self._config = types.GenerateContentConfig(
            system_instruction=SYSTEM_PROMPT,
            temperature=0.2,
            max_output_tokens=settings.gemini_max_output_tokens,
            response_mime_type="application/json",
            response_schema=InsightsAnswer,
        )

    async def write(self, lead: Lead, turns: Sequence[TurnLike]) -> Draft:
        if not turns:
            return rule_insights(lead)
        hints = ", ".join(sorted(lead.signals)) or "none"
        prompt = f"Conversation, oldest first:\n{transcript(turns)}\n\nSignals detected: {hints}"
        try:
            response: types.GenerateContentResponse = await self._gemini.call(
                self._gemini.client.aio.models.generate_content,
                model=self.model,
                contents=prompt,
                config=self._config,
            )
            answer = InsightsAnswer.model_validate_json(response.text or "")
        except (*GEMINI_ERRORS, ValidationError) as exc:
            log.warning("gemini insights unavailable; using the rules", error=type(exc).__name__)
            return rule_insights(lead)
        language = answer.language.strip().lower()[:2]
        return Draft(
            summary=answer.summary.strip() or rule_insights(lead).summary,
            source="gemini",
            intent=_blank(answer.intent),
            products=tuple(c for c in answer.courses if c.strip()),
            preferred_schedule=_blank(answer.preferred_schedule),
            budget=_blank(answer.budget),
            objections=tuple(o.strip() for o in answer.objections if o.strip()),
            language=language if language in ("th", "en", "ja") else lead.language,
            next_best_action=_blank(answer.next_best_action),
            model=self.model,
        )

    async def aclose(self) -> None:
        await self._gemini.aclose()


def create_writer(settings: AiSettings) -> InsightsWriter:
    if settings.gemini_api_key.get_secret_value():
        return GeminiWriter(settings)
    return RulesWriter()
