"""The gateway's one schema: its MetaData, the outbox and inbox every capability writes through,
and the column helpers their tables share. Each capability's tables live in its own `models.py`;
`tables.py` gathers them for Alembic and the runtime."""

from __future__ import annotations

from crm_servicekit.db import inbox_table, outbox_table, service_metadata

SCHEMA = "gateway"
metadata = service_metadata(SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)


def one_of(column: str, values: tuple[str, ...]) -> str:
    """A CHECK constraint's condition: `column` holds one of `values`."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"
