"""Every event of the system, one module per aggregate; this package re-exports them all.

- `messaging`: contacts, messages, conversation modes and AI replies (messenger, ai)
- `customers`: customers created, updated, merged and unmerged (gateway)
- `privacy`: PDPA erasure requests and each service's progress on them
- `catalog`, `orders`: products and their prices; orders, payments and refunds (gateway)
- `marketing`: ad insights that a sync found new or changed (marketing)
- `attribution`: the ad referral those events carry; `union`: `AnyEvent` and `ALL_EVENTS`

Events carry what their consumers need (ids, texts, amounts, times) so nobody calls back.
"""

from crm_contracts.envelope import Event, EventData

from .attribution import AdReferral
from .catalog import ProductChanged, ProductChangedData
from .customers import (
    ChannelIdentity,
    CustomerCreated,
    CustomerCreatedData,
    CustomerMerged,
    CustomerMergedData,
    CustomerMergeUndone,
    CustomerMergeUndoneData,
    CustomerUpdated,
    CustomerUpdatedData,
    LifecycleStage,
    MarketingConsent,
)
from .marketing import InsightFact, InsightsChanged, InsightsChangedData
from .messaging import (
    Attachment,
    ContactProfileUpdated,
    ContactProfileUpdatedData,
    ContactSeen,
    ContactSeenData,
    ConversationModeChanged,
    ConversationModeChangedData,
    MessageReceived,
    MessageReceivedData,
    MessageSendFailed,
    MessageSendFailedData,
    MessageSent,
    MessageSentData,
    ReplyGenerated,
    ReplyGeneratedData,
)
from .orders import (
    OrderCreated,
    OrderCreatedData,
    OrderLine,
    OrderStatusChanged,
    OrderStatusChangedData,
    PaymentMethod,
)
from .privacy import (
    CustomerErasureProgress,
    CustomerErasureProgressData,
    CustomerErasureRequested,
    CustomerErasureRequestedData,
)
from .union import ALL_EVENTS, AnyEvent, any_event_adapter

__all__ = [
    "ALL_EVENTS",
    "AdReferral",
    "AnyEvent",
    "Attachment",
    "ChannelIdentity",
    "ContactProfileUpdated",
    "ContactProfileUpdatedData",
    "ContactSeen",
    "ContactSeenData",
    "ConversationModeChanged",
    "ConversationModeChangedData",
    "CustomerCreated",
    "CustomerCreatedData",
    "CustomerErasureProgress",
    "CustomerErasureProgressData",
    "CustomerErasureRequested",
    "CustomerErasureRequestedData",
    "CustomerMergeUndone",
    "CustomerMergeUndoneData",
    "CustomerMerged",
    "CustomerMergedData",
    "CustomerUpdated",
    "CustomerUpdatedData",
    "Event",
    "EventData",
    "InsightFact",
    "InsightsChanged",
    "InsightsChangedData",
    "LifecycleStage",
    "MarketingConsent",
    "MessageReceived",
    "MessageReceivedData",
    "MessageSendFailed",
    "MessageSendFailedData",
    "MessageSent",
    "MessageSentData",
    "OrderCreated",
    "OrderCreatedData",
    "OrderLine",
    "OrderStatusChanged",
    "OrderStatusChangedData",
    "PaymentMethod",
    "ProductChanged",
    "ProductChangedData",
    "ReplyGenerated",
    "ReplyGeneratedData",
    "any_event_adapter",
]
