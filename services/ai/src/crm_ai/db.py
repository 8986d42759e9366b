"""The ai's one schema: its MetaData and the outbox and inbox every capability writes through.
Each capability's tables live in its own `models.py`; `tables.py` gathers them for Alembic and
the runtime."""

from __future__ import annotations

from crm_servicekit.db import inbox_table, outbox_table, service_metadata

SCHEMA = "ai"
metadata = service_metadata(SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
