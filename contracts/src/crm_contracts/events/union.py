"""Every event at once: the discriminated union consumers parse with, and the list of all events.

A consumer parses any envelope with `any_event_adapter`, which picks the model by `type`;
`ALL_EVENTS` lists every event model. A new event goes in its aggregate's module and here.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, TypeAdapter

from crm_contracts.envelope import Event

from .analytics import AnalyticsRefreshRequested
from .catalog import ProductChanged
from .customers import CustomerCreated, CustomerMerged, CustomerMergeUndone, CustomerUpdated
from .leads import CustomerInsightsUpdated, CustomerLeadUpdated, LeadScored
from .marketing import InsightsChanged, StructureChanged
from .messaging import (
    ContactProfileUpdated,
    ContactSeen,
    ConversationModeChanged,
    MessageReceived,
    MessageSendFailed,
    MessageSent,
    ReplyGenerated,
)
from .orders import OrderCreated, OrderStatusChanged
from .privacy import CustomerErasureProgress, CustomerErasureRequested

AnyEvent = Annotated[
    ContactSeen
    | ContactProfileUpdated
    | ConversationModeChanged
    | MessageReceived
    | MessageSent
    | MessageSendFailed
    | ReplyGenerated
    | CustomerCreated
    | CustomerUpdated
    | ProductChanged
    | OrderCreated
    | OrderStatusChanged
    | CustomerMerged
    | CustomerMergeUndone
    | CustomerErasureRequested
    | CustomerErasureProgress
    | InsightsChanged
    | StructureChanged
    | LeadScored
    | CustomerInsightsUpdated
    | CustomerLeadUpdated
    | AnalyticsRefreshRequested,
    Field(discriminator="type"),
]
"""Parse any event by its `type`."""

any_event_adapter: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)

ALL_EVENTS: tuple[type[Event], ...] = (
    ContactSeen,
    ContactProfileUpdated,
    ConversationModeChanged,
    MessageReceived,
    MessageSent,
    MessageSendFailed,
    ReplyGenerated,
    CustomerCreated,
    CustomerUpdated,
    ProductChanged,
    OrderCreated,
    OrderStatusChanged,
    CustomerMerged,
    CustomerMergeUndone,
    CustomerErasureRequested,
    CustomerErasureProgress,
    InsightsChanged,
    StructureChanged,
    LeadScored,
    CustomerInsightsUpdated,
    CustomerLeadUpdated,
    AnalyticsRefreshRequested,
)
