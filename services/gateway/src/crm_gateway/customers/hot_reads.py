"""The customer screens' reads (one customer, its state, the customer 360), each one hand-written
statement on the gateway's asyncpg pool (`crm_gateway.reads`; ADR 12 says why not a session).

The 360 is one statement on purpose: it also names `gateway.orders`, the orders capability's
table, to sum a customer's orders in the same round trip (a read only; orders are written by
`crm_gateway.orders` alone).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from crm_contracts import ChannelIdentity
from crm_gateway.reads import HotReads, Row

from . import repository
from .leads import CustomerView, Insights, Lead, insights_of, lead_of, view

CUSTOMER_STATE = """
SELECT state, merged_into, lead_score, lead_temperature, lead_reasons, lead_scored_at
FROM gateway.customers WHERE id = $1
"""
# The state check in front of a cached page, with the lead the snapshots do not carry.
STATES_AMONG = """
SELECT id, state, lead_score, lead_temperature, lead_reasons, lead_scored_at
FROM gateway.customers WHERE id = ANY($1::text[])
"""

CUSTOMER = """
SELECT c.*,
  (SELECT coalesce(json_agg(json_build_object(
            'channel', i.channel, 'page_id', i.page_id, 'external_id', i.external_id) ORDER BY i.id), '[]')
   FROM gateway.customer_identities i WHERE i.customer_id = c.id) AS identities_json
FROM gateway.customers c WHERE c.id = $1
"""

# Money as text inside JSON: a JSON number would come back as a float.
OVERVIEW = """
SELECT
 (SELECT coalesce(json_agg(json_build_object('from_stage', from_stage, 'to_stage', to_stage,
          'changed_at', changed_at, 'changed_by', changed_by) ORDER BY changed_at, id), '[]')
  FROM gateway.customer_stage_changes WHERE customer_id = $1) AS stages,
 (SELECT coalesce(json_agg(n ORDER BY n.created_at DESC, n.id DESC), '[]') FROM (
    SELECT id, body, author_id, created_at FROM gateway.customer_notes
    WHERE customer_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2) n) AS notes,
 (SELECT coalesce(json_agg(o ORDER BY o.created_at DESC, o.id DESC), '[]') FROM (
    SELECT id, status, total::text AS total, paid::text AS paid, created_at FROM gateway.orders
    WHERE customer_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2) o) AS orders,
 (SELECT coalesce(sum(paid), 0)::numeric(14, 2) FROM gateway.orders WHERE customer_id = $1) AS lifetime_value,
 (SELECT coalesce(json_agg(t ORDER BY t.occurred_at DESC, t.id DESC), '[]') FROM (
    SELECT id, kind, occurred_at, detail FROM gateway.customer_timeline
    WHERE customer_id = $1 ORDER BY occurred_at DESC, id DESC LIMIT $2) t) AS timeline
"""


@dataclass(frozen=True)
class CustomerState:
    state: str
    merged_into: str | None
    lead: Lead | None = None


@dataclass(frozen=True)
class FoundCustomer:
    state: CustomerState
    customer: CustomerView
    insights: Insights | None


@dataclass(frozen=True)
class Overview:
    """The customer 360 around the profile: lists of plain dicts, in the API's field names."""

    stages: list[dict[str, Any]]
    notes: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    lifetime_value: Decimal
    timeline: list[dict[str, Any]]


async def customer_state(reads: HotReads, customer_id: str) -> CustomerState | None:
    row = await reads.pool.fetchrow(CUSTOMER_STATE, customer_id)
    return CustomerState(row["state"], row["merged_into"], lead_of(row)) if row else None


async def leads_if_active(reads: HotReads, customer_ids: list[str]) -> dict[str, Lead | None] | None:
    """Each customer's lead, or None when any of them is merged, erased or gone (a cached page
    may still show them)."""
    rows = await reads.pool.fetch(STATES_AMONG, customer_ids)
    if len(rows) < len(set(customer_ids)) or any(r["state"] != "active" for r in rows):
        return None
    return {r["id"]: lead_of(r) for r in rows}


async def customer(reads: HotReads, customer_id: str) -> FoundCustomer | None:
    """The customer with its identities, lead and insights, in one statement."""
    row = await reads.pool.fetchrow(CUSTOMER, customer_id)
    if row is None:
        return None
    identities = [ChannelIdentity(**i) for i in row["identities_json"]]
    fields = Row(dict(row))
    return FoundCustomer(
        CustomerState(row["state"], row["merged_into"]),
        view(repository.snapshot(fields, identities), lead_of(row)),
        insights_of(row),
    )


async def overview(reads: HotReads, customer_id: str, *, items: int) -> Overview:
    row = await reads.pool.fetchrow(OVERVIEW, customer_id, items)
    assert row is not None  # a SELECT of scalar subqueries always has its row
    return Overview(
        stages=row["stages"],
        notes=row["notes"],
        orders=row["orders"],
        lifetime_value=row["lifetime_value"],
        timeline=row["timeline"],
    )
