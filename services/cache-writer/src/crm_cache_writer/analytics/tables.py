"""The analytics read model: the facts the marketing figures are worked out from, copied from
events (ADR 19). Days are Asia/Bangkok days, worked out once when a fact is stored."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import UUID

from crm_cache_writer.models import metadata

# Every ad marketing described (marketing.structure_changed), the newest description per ad.
ad_structure = Table(
    "ad_structure",
    metadata,
    Column("ad_id", String(32), primary_key=True),
    Column("account_id", String(32), nullable=False),
    Column("ad_name", Text),
    Column("adset_id", String(32), nullable=False),
    Column("adset_name", Text),
    Column("campaign_id", String(32), nullable=False),
    Column("campaign_name", Text),
    Column("status", String(32)),
    Column("described_at", DateTime(timezone=True), nullable=False),
)

# Meta's daily numbers per ad and account day (marketing.insights_changed, granularity day). The
# newest sync run wins when two runs' facts arrive out of order.
ad_days = Table(
    "ad_days",
    metadata,
    Column("ad_id", String(32), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("account_id", String(32), nullable=False),
    Column("sync_run_id", BigInteger, nullable=False),
    Column("spend", Numeric(14, 2), nullable=False),
    Column("impressions", BigInteger, nullable=False),
    Column("clicks", BigInteger, nullable=False),
    Column("meta_conversations_started", Integer, nullable=False),
    Column("meta_leads", Integer, nullable=False),
    Column("meta_purchases", Integer, nullable=False),
    Column("meta_purchase_value", Numeric(14, 2), nullable=False),
)

ad_hours = Table(
    "ad_hours",
    metadata,
    Column("ad_id", String(32), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("hour", SmallInteger, primary_key=True),
    Column("sync_run_id", BigInteger, nullable=False),
    Column("spend", Numeric(14, 2), nullable=False),
)

# A customer created from an ad touch, counted once on the Bangkok day they were created.
leads = Table(
    "leads",
    metadata,
    Column("customer_id", String(40), primary_key=True),
    Column("ad_id", String(32), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("day", Date, nullable=False, index=True),
)

# Messenger conversations an ad opened (`contact.seen` with a referral naming an ad): one row per
# conversation, ad and Bangkok day, however many referrals of that ad the day brought.
ad_conversations = Table(
    "ad_conversations",
    metadata,
    Column("conversation_id", UUID(as_uuid=True), primary_key=True),
    Column("ad_id", String(32), primary_key=True),
    Column("day", Date, primary_key=True, index=True),
    Column("referred_at", DateTime(timezone=True), nullable=False),
)

# Orders with the attribution stamped when they were taken. Filled by order.created and by any
# order.status_changed (whichever comes first); `paid_at` is when payments first reached the total.
orders = Table(
    "orders",
    metadata,
    Column("order_id", UUID(as_uuid=True), primary_key=True),
    Column("customer_id", String(40), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True)),
    Column("total", Numeric(14, 2)),
    Column("first_ad_id", String(32)),
    Column("first_touch_at", DateTime(timezone=True)),
    Column("latest_ad_id", String(32)),
    Column("latest_touch_at", DateTime(timezone=True)),
    Column("paid_at", DateTime(timezone=True)),
    Column("paid_day", Date, index=True),
)

# The lines of an order as `order.created` gave them (they never change once taken): revenue by
# product splits each money row across them by `line_total`. `ordered_at` (the order's time)
# picks the name a product is shown with: the one on its latest order.
order_lines = Table(
    "order_lines",
    metadata,
    Column("order_id", UUID(as_uuid=True), primary_key=True),
    Column("line_no", SmallInteger, primary_key=True),
    Column("product_id", UUID(as_uuid=True), nullable=False),
    Column("product_name", Text, nullable=False),
    Column("product_kind", String(16)),
    Column("quantity", Integer, nullable=False),
    Column("line_total", Numeric(14, 2), nullable=False),
    Column("ordered_at", DateTime(timezone=True), nullable=False),
)

# Every payment (+) and refund (-) on the Bangkok day the money moved; one row per event.
money = Table(
    "money",
    metadata,
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("order_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("customer_id", String(40), nullable=False),
    Column("amount", Numeric(14, 2), nullable=False),
    Column("moved_at", DateTime(timezone=True), nullable=False),
    Column("day", Date, nullable=False, index=True),
)

# What the renderer wrote of each day's products (render output, not facts): all of time is the sum
# of the days, so `products/__all__.json` does not split every payment there ever was again. A
# day's rows are replaced whenever it is rendered; a rebuild empties them and renders every day.
product_days = Table(
    "product_days",
    metadata,
    Column("day", Date, primary_key=True),
    Column("product_id", String(36), primary_key=True),  # a product's id, or `unknown`
    Column("name", Text),
    Column("kind", String(16)),
    Column("named_at", DateTime(timezone=True)),  # when the order the name was taken from was taken
    Column("revenue", Numeric(14, 2), nullable=False),
    Column("refunds", Numeric(14, 2), nullable=False),
    Column("paid_orders", Integer, nullable=False),
    Column("units", Integer, nullable=False),
)

# Days whose snapshot must be written again; a burst of events marks a day once, and the
# renderer writes it once (coalescing). `marked_at` lets a render keep marks made meanwhile.
dirty_days = Table(
    "dirty_days",
    metadata,
    Column("day", Date, primary_key=True),
    Column("marked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# One row: the newest event time reflected (snapshots' `last_event_at`), structure dirtiness.
analytics_state = Table(
    "analytics_state",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("last_event_at", DateTime(timezone=True)),
    Column("structure_dirty_at", DateTime(timezone=True)),
)

# Every customer (not only leads), for the integrity checks and the reconciliation: the channel
# (Meta cannot see walk-ins or LINE), the first ad touch, and which customer a merge folded it into.
customers = Table(
    "customers",
    metadata,
    Column("customer_id", String(40), primary_key=True),
    Column("channel", String(8), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("first_ad_id", String(32)),
    Column("first_touch_at", DateTime(timezone=True)),
    Column("merged_into", String(40)),
)

# A customer's Messenger identities as SHA-256 digests of `<page_id>:<psid>`: equal PSIDs are
# found without keeping a PSID here. Moved to the survivor by a merge, back by its undo.
customer_psids = Table(
    "customer_psids",
    metadata,
    Column("psid_digest", String(64), primary_key=True),
    Column("customer_id", String(40), primary_key=True, index=True),
)
