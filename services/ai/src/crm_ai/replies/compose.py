"""Compose an answer to a customer's message, grounded and checked; shared by the replies the
customer gets and the drafts staff are offered.

ground (turns, relevant passages, products named) -> the pre-check (nothing to stand on and not
small talk: no model call) -> the model's JSON -> the guards. A reply with a finding becomes the
holding reply and a handover; a draft for staff keeps the model's text with the findings as
warnings. No database transaction is held open while the model thinks.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from crm_servicekit.outbox import UnitOfWork

from . import guards
from .grounding import Grounding, Passage, Retriever, ground
from .guards import Finding
from .language import detect_language
from .prompts import contents, system_instruction
from .responder import Generated, Prompt, Reply, Responder, holding_reply, offline_reply


@dataclass(frozen=True)
class Composed:
    """The answer the model gave (None if none), what the guards found, and the passages used."""

    language: str
    grounding: Grounding
    generated: Generated | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def used(self) -> list[Passage]:
        """The passages the model says it used, in its order, each once (unknown ids ignored)."""
        if self.generated is None or self.generated.answer is None:
            return []
        ids = dict.fromkeys(i.strip().strip("[]") for i in self.generated.answer.used_passages)
        return [self.grounding.ids[i] for i in ids if i in self.grounding.ids]

    def reply(self, text: str) -> Reply:
        """What the customer gets: the model's answer only when nothing stopped it."""
        if self.generated is None:  # the pre-check stopped it before the model
            return holding_reply(self.language, self.findings[0].reason, model=None)
        answer = self.generated.answer
        if answer is None:
            failure = self.generated.failure or "invalid_answer"
            if failure == "invalid_answer":
                return holding_reply(self.language, failure, model=self.generated.model)
            return offline_reply(text, failure)
        if self.findings:
            first = self.findings[0]
            return holding_reply(self.language, first.reason, model=self.generated.model, detail=first.detail)
        return Reply(
            text=answer.answer.strip(),
            language=self.language,
            generated_by="gemini",
            model=self.generated.model,
            handover=False,
            quick_replies=tuple(answer.quick_replies),
        )


async def compose(
    uow_factory: Callable[[], UnitOfWork],
    responder: Responder,
    retriever: Retriever,
    *,
    conversation_id: uuid.UUID,
    text: str,
    event_id: uuid.UUID,
    draft: bool = False,
) -> Composed:
    """`draft`: for staff, so the model is asked even with nothing to stand on (a warning)."""
    language = detect_language(text)
    async with uow_factory() as uow:
        grounding = await ground(
            uow.session, retriever, conversation_id=conversation_id, question=text, exclude_event_id=event_id
        )
    early = guards.before_model(text, grounding)
    if early is not None and not draft:
        return Composed(language, grounding, None, [early])
    prompt = Prompt(system=system_instruction(grounding), contents=contents(grounding.turns, text))
    generated = await responder.generate(prompt)
    findings = [early] if early else []
    if generated.answer is not None:
        findings += guards.after_model(generated.answer, language, grounding)
    return Composed(language, grounding, generated, findings)
