"""The rate-limit counters: one row per rule and staff member or client address."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, Table, Text

from crm_gateway.db import metadata

# Requests counted in a fixed window per key (`<rule>:staff:<uuid>` / `<rule>:address:<sha256 of
# the IP>`), shared by replicas. Hashed addresses: no IP address is stored.
rate_limit_counters = Table(
    "rate_limit_counters",
    metadata,
    Column("key", Text, primary_key=True),
    Column("hits", Integer, nullable=False),
    Column("window_started_at", DateTime(timezone=True), nullable=False),
    Column("window_seconds", Integer, nullable=False),
)
