"""The gateway's one schema: its MetaData, the outbox and inbox every capability writes through,
and the column and SQL helpers their tables and statements share. Each capability's tables live
in its own `models.py`; `tables.py` gathers them for Alembic and the runtime."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Text, cast, func, or_

from crm_servicekit.db import inbox_table, outbox_table, service_metadata
from crm_servicekit.pdpa import needle_forms

SCHEMA = "gateway"
metadata = service_metadata(SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)


def one_of(column: str, values: tuple[str, ...]) -> str:
    """A CHECK constraint's condition: `column` holds one of `values`."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def json_mentions(column: Any, needles: Sequence[str]) -> Any:
    """SQL: the JSON column's text contains one of the needles (as JSON writes them): how an
    erasure finds personal values inside audit entries and timeline details."""
    text = cast(column, Text)
    return or_(*(func.strpos(text, form) > 0 for form in needle_forms(needles)))
