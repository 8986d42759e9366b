"""Every event of the system, by owning service.

Events carry what their consumers need (ids, texts, amounts, times) so nobody calls back.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from .envelope import Event, EventData

# --- shared value objects -------------------------------------------------------------------


class AdReferral(EventData):
    """Where a Messenger contact came from (click-to-Messenger ad, m.me link, ...)."""

    source: str | None = Field(default=None, description="`ADS`, `SHORTLINK`, `CUSTOMER_CHAT_PLUGIN`, ...")
    type: str | None = Field(default=None, description="`OPEN_THREAD` for ads.")
    ad_id: str | None = None
    ref: str | None = None
    ad_title: str | None = None
    post_id: str | None = None
    referred_at: datetime | None = None


class Attachment(EventData):
    type: str = Field(description="image, video, audio, file, sticker, fallback, template, ...")
    url: str | None = None


# --- messenger ------------------------------------------------------------------------------


class ContactSeenData(EventData):
    page_id: str
    psid: str = Field(description="The customer's Page-scoped id.")
    conversation_id: uuid.UUID
    first_seen_at: datetime
    referral: AdReferral | None = None


class ContactSeen(Event):
    """The messenger met a Page-scoped user for the first time (or again through an ad)."""

    type: Literal["contact.seen"] = "contact.seen"
    producer: str = "messenger"
    data: ContactSeenData


class MessageReceivedData(EventData):
    message_id: uuid.UUID = Field(description="The messenger's id for the stored message.")
    conversation_id: uuid.UUID
    page_id: str
    psid: str
    mid: str = Field(description="Meta's message id; unique per page.")
    text: str | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    quick_reply_payload: str | None = None
    referral: AdReferral | None = None
    sent_at: datetime = Field(description="Meta's timestamp of the message.")
    conversation_mode: Literal["ai", "human"] = Field(
        description="Who answers this conversation right now; the AI stays quiet in `human`."
    )
    kind: Literal["text", "attachment", "quick_reply", "postback"] = "text"
    postback_payload: str | None = Field(default=None, description="Button payload of a postback.")
    handover_requested: bool = Field(
        default=False, description="The customer asked for a person ('talk to staff', 'ขอคุยกับเจ้าหน้าที่')."
    )
    standby: bool = Field(
        default=False, description="Arrived under `standby`: another app controls the thread; do not answer."
    )


class MessageReceived(Event):
    """A customer's message was stored (once per `mid`)."""

    type: Literal["message.received"] = "message.received"
    producer: str = "messenger"
    data: MessageReceivedData


class MessageSentData(EventData):
    message_id: uuid.UUID
    conversation_id: uuid.UUID
    page_id: str
    psid: str
    meta_message_id: str
    text: str
    sent_by: Literal["ai", "staff"]
    staff_id: uuid.UUID | None = None
    messaging_type: Literal["RESPONSE", "MESSAGE_TAG", "UPDATE"] = "RESPONSE"
    tag: str | None = Field(default=None, description="`HUMAN_AGENT` for a staff reply after 24 hours.")
    in_reply_to_event_id: uuid.UUID | None = None
    sent_at: datetime


class MessageSent(Event):
    """Meta accepted an outbound message (it carries Meta's `message_id`)."""

    type: Literal["message.sent"] = "message.sent"
    producer: str = "messenger"
    data: MessageSentData


class MessageSendFailedData(EventData):
    message_id: uuid.UUID
    conversation_id: uuid.UUID
    page_id: str
    psid: str
    error_code: int | None = None
    error_subcode: int | None = None
    reason: str = Field(description="A sentence staff can read, e.g. 'outside the 24-hour window'.")
    failed_at: datetime


class MessageSendFailed(Event):
    """An outbound message could not be delivered and will not be retried."""

    type: Literal["message.send_failed"] = "message.send_failed"
    producer: str = "messenger"
    data: MessageSendFailedData


class ContactProfileUpdatedData(EventData):
    page_id: str
    psid: str
    conversation_id: uuid.UUID
    first_name: str | None = None
    last_name: str | None = None
    profile_pic: str | None = None
    fetched_at: datetime


class ContactProfileUpdated(Event):
    """The customer's public Messenger profile (names, picture) was fetched from the Graph API."""

    type: Literal["contact.profile_updated"] = "contact.profile_updated"
    producer: str = "messenger"
    data: ContactProfileUpdatedData


class ConversationModeChangedData(EventData):
    conversation_id: uuid.UUID
    page_id: str
    psid: str
    mode: Literal["ai", "human"]
    needs_human: bool
    reason: str = Field(
        description="staff_replied, page_inbox_reply, customer_requested, ai_unavailable, handed_back, "
        "idle_timeout, ..."
    )
    staff_id: uuid.UUID | None = None
    changed_at: datetime


class ConversationModeChanged(Event):
    """Who answers a conversation changed (AI to staff, or back)."""

    type: Literal["conversation.mode_changed"] = "conversation.mode_changed"
    producer: str = "messenger"
    data: ConversationModeChangedData


# --- ai ---------------------------------------------------------------------------------------


class ReplyGeneratedData(EventData):
    conversation_id: uuid.UUID
    page_id: str
    psid: str
    in_reply_to_event_id: uuid.UUID = Field(description="The `message.received` event answered.")
    in_reply_to_mid: str
    text: str
    language: str = Field(description="BCP 47 code of the reply, e.g. `th`, `en`, `ja`.")
    generated_by: Literal["gemini", "offline"]
    model: str | None = None
    handover: bool = Field(description="True when a person must follow up (AI off, failing or unsure).")
    handover_reason: str | None = None
    quick_replies: list[str] = Field(
        default_factory=list, description="Choices offered to the customer as Messenger quick replies."
    )


class ReplyGenerated(Event):
    """The AI composed a reply to a customer's message."""

    type: Literal["reply.generated"] = "reply.generated"
    producer: str = "ai"
    data: ReplyGeneratedData


# --- gateway ----------------------------------------------------------------------------------


class ChannelIdentity(EventData):
    channel: Literal["messenger", "line", "web", "walkin"]
    page_id: str | None = None
    external_id: str = Field(description="PSID for Messenger.")


LifecycleStage = Literal["lead", "contacted", "qualified", "enrolled", "alumni", "lost"]


class MarketingConsent(EventData):
    """Whether the customer agreed to marketing messages, when, and how it was recorded."""

    status: Literal["granted", "withdrawn"]
    at: datetime
    method: str = Field(
        description="How it was given or withdrawn, e.g. `messenger`, `form`, `phone`, `in_person`."
    )


class CustomerCreatedData(EventData):
    customer_id: str = Field(description="`TVS-CUS-<channel>-<yy>-<seq:04d>`, e.g. `TVS-CUS-FB-26-0001`.")
    channel: Literal["FB", "LINE", "WEB", "WALKIN"]
    display_name: str | None = None
    lifecycle_stage: str
    identities: list[ChannelIdentity]
    first_touch: AdReferral | None = None
    latest_touch: AdReferral | None = None
    created_at: datetime
    # The profile staff keep (all optional, so older events and snapshots still read).
    name_th: str | None = Field(default=None, description="Name in Thai script.")
    name_latin: str | None = Field(default=None, description="Name in Latin letters.")
    nickname: str | None = None
    phone: str | None = Field(default=None, description="E.164, e.g. `+66812345678`.")
    email: str | None = None
    tags: list[str] = Field(default_factory=list)
    assigned_staff_id: uuid.UUID | None = None
    consent: MarketingConsent | None = None
    version: int = Field(default=1, description="Grows by one with every change; the ETag of the customer.")


class CustomerCreated(Event):
    """A customer record exists (created by the gateway, which owns customers)."""

    type: Literal["customer.created"] = "customer.created"
    producer: str = "gateway"
    data: CustomerCreatedData


class CustomerUpdatedData(CustomerCreatedData):
    """The whole customer as it is now (the shape of `crm_contracts.snapshots.CustomerSnapshot`)."""

    updated_at: datetime
    changed: list[str] = Field(description="Names of the fields that changed, e.g. `latest_touch`.")


class CustomerUpdated(Event):
    """A customer record changed; `data` is the whole customer as it is now."""

    type: Literal["customer.updated"] = "customer.updated"
    producer: str = "gateway"
    data: CustomerUpdatedData


class CustomerMergedData(EventData):
    merge_id: uuid.UUID = Field(description="The audit entry of the merge; an admin undoes it through it.")
    survivor_id: str = Field(description="The customer that remains.")
    merged_id: str = Field(
        description="The customer merged into the survivor; it no longer exists on its own."
    )
    identities: list[ChannelIdentity] = Field(description="The channel identities moved to the survivor.")
    merged_at: datetime


class CustomerMerged(Event):
    """Two records of one person became one: every service re-keys `merged_id`'s data to `survivor_id`."""

    type: Literal["customer.merged"] = "customer.merged"
    producer: str = "gateway"
    data: CustomerMergedData


class CustomerMergeUndoneData(EventData):
    merge_id: uuid.UUID
    survivor_id: str
    restored_id: str = Field(description="The customer that exists on its own again.")
    identities: list[ChannelIdentity] = Field(description="The channel identities given back to it.")
    undone_at: datetime


class CustomerMergeUndone(Event):
    """An admin undid a merge: `restored_id` owns its data again."""

    type: Literal["customer.merge_undone"] = "customer.merge_undone"
    producer: str = "gateway"
    data: CustomerMergeUndoneData


class CustomerErasureRequestedData(EventData):
    request_id: uuid.UUID
    customer_id: str
    identities: list[ChannelIdentity] = Field(
        description="Every channel identity the customer had, so services keyed by them find their copies."
    )
    requested_at: datetime


class CustomerErasureRequested(Event):
    """PDPA erasure: every service deletes or anonymises its copy, then reports its progress."""

    type: Literal["customer.erasure_requested"] = "customer.erasure_requested"
    producer: str = "gateway"
    data: CustomerErasureRequestedData


class CustomerErasureProgressData(EventData):
    request_id: uuid.UUID
    service: str = Field(description="The reporting service, e.g. `messenger`.")
    status: Literal["completed", "failed"]
    erased: dict[str, int] = Field(
        default_factory=dict, description="What was deleted or anonymised, by kind (counts, no data)."
    )
    detail: str | None = Field(default=None, description="Why it failed; never personal data.")
    finished_at: datetime


class CustomerErasureProgress(Event):
    """One service's report on an erasure request (no personal data)."""

    type: Literal["customer.erasure_progress"] = "customer.erasure_progress"
    producer: str = "any"
    data: CustomerErasureProgressData


class ProductChangedData(EventData):
    product_id: uuid.UUID
    kind: Literal["course", "package", "equipment", "menu_item"]
    name_th: str
    name_en: str | None = None
    category: str | None = None
    price: Decimal = Field(description='THB, exact, e.g. `"12500.00"` (a JSON string).')
    active: bool
    changed_at: datetime


class ProductChanged(Event):
    """A catalog product was created or changed (its price included): the AI quotes current prices."""

    type: Literal["catalog.product_changed"] = "catalog.product_changed"
    producer: str = "gateway"
    data: ProductChangedData


class OrderLine(EventData):
    product_id: uuid.UUID
    product_name: str
    session_id: uuid.UUID | None = None
    quantity: int
    unit_price: Decimal
    discount: Decimal
    line_total: Decimal


class OrderCreatedData(EventData):
    order_id: uuid.UUID
    customer_id: str
    status: Literal["pending", "paid", "refunded", "cancelled"]
    currency: str
    total: Decimal = Field(description="THB, exact: the sum of the lines' totals.")
    lines: list[OrderLine]
    first_touch: AdReferral | None = Field(description="The customer's first ad when the order was taken.")
    latest_touch: AdReferral | None = Field(description="The customer's latest ad when the order was taken.")
    created_at: datetime


class OrderCreated(Event):
    """An order was taken; its amounts and the customer's ad attribution let revenue be
    attributed to ads and campaigns."""

    type: Literal["order.created"] = "order.created"
    producer: str = "gateway"
    data: OrderCreatedData


PaymentMethod = Literal["transfer", "card", "cash", "promptpay"]


class OrderStatusChangedData(EventData):
    order_id: uuid.UUID
    customer_id: str
    status: Literal["pending", "paid", "refunded", "cancelled"]
    previous_status: Literal["pending", "paid", "refunded", "cancelled"]
    currency: str
    total: Decimal = Field(description="THB, exact: the order's total.")
    paid: Decimal = Field(description="THB, exact: payments received minus refunds, after this change.")
    amount: Decimal | None = Field(
        default=None, description="THB, exact: the payment or refund that caused the change, if any."
    )
    method: PaymentMethod | None = None
    first_touch: AdReferral | None = Field(
        description="The attribution stamped on the order when it was taken."
    )
    latest_touch: AdReferral | None = None
    changed_at: datetime


class OrderStatusChanged(Event):
    """An order was paid, refunded or cancelled; revenue counts paid orders net of refunds.

    Sent for every payment, refund and cancel, also when the status stays: a part payment keeps
    an order `pending` (`paid` grows), a partial refund keeps it `paid` (`paid` shrinks). `amount`
    and `method` are the payment's or refund's (null for a cancel); `paid` is net of refunds.
    """

    type: Literal["order.status_changed"] = "order.status_changed"
    producer: str = "gateway"
    data: OrderStatusChangedData


# --- marketing --------------------------------------------------------------------------------


class InsightFact(EventData):
    """One ad's numbers for one day (or one hour of it), in the account's currency and days."""

    ad_id: str
    ad_name: str | None = Field(description="Null until the ad itself was synced.")
    adset_id: str | None
    adset_name: str | None
    campaign_id: str | None
    campaign_name: str | None
    day: date = Field(description="The ad account's local day (Asia/Bangkok for the school).")
    hour: int | None = Field(description="Local hour 0-23 for hourly facts, null for daily ones.")
    spend: Decimal = Field(description='Exact, e.g. `"1234.50"` (a JSON string).')
    impressions: int
    clicks: int
    link_clicks: int
    messaging_conversations_started: int
    leads: int
    purchases: int
    purchase_value: Decimal


class InsightsChangedData(EventData):
    account_id: str = Field(description="The ad account, without `act_`.")
    currency: str = Field(description="ISO 4217 code of every amount, e.g. `THB`.")
    granularity: Literal["day", "hour"]
    sync_run_id: int
    facts: list[InsightFact] = Field(
        description="New or changed rows only; a resync that changes nothing publishes nothing."
    )


class InsightsChanged(Event):
    """A sync found new or changed ad numbers (at most a few hundred facts per event)."""

    type: Literal["marketing.insights_changed"] = "marketing.insights_changed"
    producer: str = "marketing"
    data: InsightsChangedData


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
    | InsightsChanged,
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
)
