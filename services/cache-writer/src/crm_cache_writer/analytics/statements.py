"""The upserts `facts.py` runs for every event or new customer, built once and frozen: SQLAlchemy
compiles an ON CONFLICT statement again on every execution otherwise (`crm_servicekit.sqlcache`).
Executed with a dict of their parameters (a list of dicts for several rows)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as upsert

from crm_servicekit.sqlcache import bound, frozen

from .tables import analytics_state, customer_psids, customers

# customer_id, channel, created_at, first_ad_id, first_touch_at: the first copy of a customer wins.
STORE_CUSTOMER = frozen(
    upsert(customers)
    .values(bound("customer_id", "channel", "created_at", "first_ad_id", "first_touch_at"))
    .on_conflict_do_nothing(index_elements=[customers.c.customer_id])
)

# psid_digest, customer_id: one execution per row.
ADD_PSID = frozen(upsert(customer_psids).values(bound("psid_digest", "customer_id")).on_conflict_do_nothing())


def _state(*, structure: bool) -> Any:
    """id (1, the one row), last_event_at: the newest event time wins; `structure` also marks the
    structure dirty now. (A bound id, as before: an id in the SQL would add `RETURNING id`.)"""
    values: dict[str, Any] = bound("id", "last_event_at")
    stmt = upsert(analytics_state)
    updates: dict[str, Any] = {
        "last_event_at": func.greatest(analytics_state.c.last_event_at, stmt.excluded.last_event_at)
    }
    if structure:
        values["structure_dirty_at"] = updates["structure_dirty_at"] = func.now()
    return frozen(
        stmt.values(values).on_conflict_do_update(index_elements=[analytics_state.c.id], set_=updates)
    )


STATE = _state(structure=False)
STATE_STRUCTURE_DIRTY = _state(structure=True)
