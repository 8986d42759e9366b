"""Staff accounts, their sessions and rotating refresh tokens, and the sign-in throttle."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Integer,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID

from crm_gateway.db import metadata, one_of

ROLES = ("admin", "manager", "marketer", "agent", "viewer")

staff_users = Table(
    "staff_users",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()),
    # Stored lowercased, so the UNIQUE constraint is case-insensitive in effect.
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("name", Text, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # The ETag of the staff admin API: grows by one with every change an admin makes.
    Column("version", Integer, nullable=False, server_default="1"),
    CheckConstraint(one_of("role", ROLES), name="role"),
    CheckConstraint("email = lower(email)", name="email_lowercase"),
)

staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()),
    Column(
        "staff_id",
        UUID(as_uuid=True),
        ForeignKey("gateway.staff_users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("revoked_reason", Text, nullable=True),
)

staff_refresh_tokens = Table(
    "staff_refresh_tokens",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column(
        "session_id",
        UUID(as_uuid=True),
        ForeignKey("gateway.staff_sessions.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("token_hash", Text, nullable=False, unique=True, comment="SHA-256 of the token; never the token."),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column(
        "used_at",
        DateTime(timezone=True),
        nullable=True,
        comment="Rotated; a second use revokes the session.",
    ),
)

# Sign-in attempts per key (`account:<sha256 of the e-mail>` / `address:<sha256 of the IP>`) in a
# fixed window, shared by replicas; a success gives its attempt back. Hashed: no e-mail or IP here.
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("key", Text, primary_key=True),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("window_started_at", DateTime(timezone=True), nullable=False),
)
