"""The catalog: the single truth for prices (THB, exact), course sessions and their seats, packages."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from crm_gateway.db import metadata, one_of

PRODUCT_KINDS = ("course", "package", "equipment", "menu_item")

products = Table(
    "products",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()),
    Column("kind", String(16), nullable=False),
    Column("name_th", Text, nullable=False),
    Column("name_en", Text, nullable=True),
    Column("description_th", Text, nullable=True),
    Column("description_en", Text, nullable=True),
    Column("category", Text, nullable=True),
    Column("price", Numeric(12, 2), nullable=False),
    Column("duration_minutes", Integer, nullable=True),
    Column("image_urls", JSONB, nullable=False, server_default="[]"),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("version", Integer, nullable=False, server_default="1"),
    # The old system's product id: what `python -m crm_gateway.legacy` upserts by.
    Column("legacy_id", Text, nullable=True, unique=True),
    CheckConstraint(one_of("kind", PRODUCT_KINDS), name="kind"),
    CheckConstraint("price >= 0", name="price"),
)

course_sessions = Table(
    "course_sessions",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()),
    Column("product_id", UUID(as_uuid=True), ForeignKey("gateway.products.id"), nullable=False, index=True),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("capacity", Integer, nullable=False),
    # Taken by orders; one conditional UPDATE books seats, so no concurrency can oversell.
    Column("seats_taken", Integer, nullable=False, server_default="0"),
    CheckConstraint("capacity > 0", name="capacity"),
    CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="seats"),
    CheckConstraint("ends_at > starts_at", name="times"),
)

# A package bundles courses at the package's own price.
package_items = Table(
    "package_items",
    metadata,
    Column(
        "package_id",
        UUID(as_uuid=True),
        ForeignKey("gateway.products.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("course_id", UUID(as_uuid=True), ForeignKey("gateway.products.id"), nullable=False),
    Column("quantity", Integer, nullable=False, server_default="1"),
    PrimaryKeyConstraint("package_id", "course_id"),
    CheckConstraint("quantity > 0", name="quantity"),
    CheckConstraint("package_id <> course_id", name="not_itself"),
)
