"""The envelope every event travels in.

An event is a fact that already happened (past tense), owned by the service that
`producer` names. Its `type` is also its routing key on the `crm.events` topic exchange.
Only additive changes are allowed to a published event; a breaking change is a new `type`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

ENVELOPE_VERSION = 1


def utcnow() -> datetime:
    return datetime.now(UTC)


class EventData(BaseModel):
    """Base of every event payload: strict about shape, tolerant of fields added later."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Event(BaseModel):
    """Envelope: `event_id`, `type`, `occurred_at`, `producer`, `correlation_id`, `data`.

    Subclasses pin `type` to a `Literal` and `data` to their payload model, which makes
    the union in `crm_contracts.AnyEvent` (`events/union.py`) a discriminated union on `type`.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: ClassVar[str]

    version: int = Field(default=ENVELOPE_VERSION, description="Envelope version.")
    event_id: uuid.UUID = Field(
        default_factory=uuid.uuid4, description="Unique per event; consumers deduplicate on it."
    )
    type: str
    occurred_at: datetime = Field(default_factory=utcnow, description="When the fact happened (UTC).")
    producer: str = Field(description="The service that owns this fact, e.g. `messenger`.")
    correlation_id: str = Field(
        description="Ties every event of one chain together (e.g. the inbound message's mid)."
    )
    data: Any

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        type_field = cls.model_fields.get("type")
        if type_field is not None and isinstance(type_field.default, str):
            cls.event_type = type_field.default

    @property
    def routing_key(self) -> str:
        return self.type
