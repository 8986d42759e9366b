"""The ai's own copy of the gateway's catalog, kept from `catalog.product_changed` events."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Numeric, String, Table, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID

from crm_ai.db import metadata

catalog_products = Table(
    "catalog_products",
    metadata,
    Column("product_id", UUID(as_uuid=True), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("name_th", Text, nullable=False),
    Column("name_en", Text),
    Column("category", Text),
    # THB, exact (the gateway's numeric(12, 2)).
    Column("price", Numeric(12, 2), nullable=False),
    Column("active", Boolean, nullable=False),
    # The gateway's `updated_at`: the newer change wins when events arrive out of order.
    Column("changed_at", DateTime(timezone=True), nullable=False),
    # A package's courses: [{"product_id", "name_th", "quantity"}].
    Column("items", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
)
