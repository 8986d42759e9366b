"""The reads behind every request (the sign-in check) and every customer screen (one customer,
the customer 360), each one hand-written statement on a small asyncpg pool.

Through an SQLAlchemy session each statement costs about 0.7-1 ms of CPU (session, BEGIN and
ROLLBACK, result processing) against well under 0.1 ms on asyncpg directly; a 360 took five of
them plus two sessions, 6-12 ms of CPU on a 2-core machine (`python -m bench gateway`). Writes,
search and everything else stay in the repositories; these statements only read, in autocommit.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import asyncpg
from sqlalchemy import Select
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

from crm_contracts import ChannelIdentity
from crm_contracts.snapshots import CustomerSnapshot
from crm_gateway.customers import repository

from .auth.domain import Role, Staff

STAFF_IN_SESSION = """
SELECT u.id, u.email, u.role, u.is_active, u.password_hash
FROM gateway.staff_sessions s JOIN gateway.staff_users u ON u.id = s.staff_id
WHERE s.id = $1 AND s.staff_id = $2 AND s.revoked_at IS NULL AND s.expires_at > now() AND u.is_active
"""

CUSTOMER_STATE = "SELECT state, merged_into FROM gateway.customers WHERE id = $1"

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


@dataclass(frozen=True)
class Overview:
    """The customer 360 around the profile: lists of plain dicts, in the API's field names."""

    stages: list[dict[str, Any]]
    notes: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    lifetime_value: Decimal
    timeline: list[dict[str, Any]]


class HotReads:
    def __init__(self, dsn: str, *, max_size: int = 4) -> None:
        self.dsn = dsn
        self.max_size = max_size
        self._pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        # Custom plans always: a prepared search's generic plan can walk the created_at index
        # past every row for a rare name (tens of ms) where the trigram index takes one.
        self._pool = await asyncpg.create_pool(
            self.dsn,
            min_size=1,
            max_size=self.max_size,
            init=_json_codecs,
            command_timeout=10,
            server_settings={"plan_cache_mode": "force_custom_plan"},
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("HotReads.open() runs at startup")
        return self._pool

    async def staff_in_session(self, staff_id: uuid.UUID, session_id: uuid.UUID) -> Staff | None:
        """The staff user if the session is theirs, live, and they are active."""
        row = await self.pool.fetchrow(STAFF_IN_SESSION, session_id, staff_id)
        if row is None:
            return None
        return Staff(
            id=row["id"],
            email=row["email"],
            role=Role(row["role"]),
            is_active=row["is_active"],
            password_hash=row["password_hash"],
        )

    async def fetch(self, query: Select[Any]) -> list[Any]:
        """Rows of an SQLAlchemy Core select (for reads whose SQL is built from filters), with
        attribute access like SQLAlchemy rows."""
        compiled = query.compile(dialect=_DIALECT)
        params = [compiled.params[name] for name in compiled.positiontup or ()]
        return [_Row(dict(r)) for r in await self.pool.fetch(str(compiled), *params)]

    async def customer_state(self, customer_id: str) -> CustomerState | None:
        row = await self.pool.fetchrow(CUSTOMER_STATE, customer_id)
        return CustomerState(row["state"], row["merged_into"]) if row else None

    async def inactive_among(self, customer_ids: list[str]) -> bool:
        """Whether any of these customers is merged or erased (a cached page may still show them)."""
        found = await self.pool.fetchval(
            "SELECT count(*) FROM gateway.customers WHERE id = ANY($1::text[]) AND state <> 'active'",
            customer_ids,
        )
        return bool(found)

    async def customer(self, customer_id: str) -> tuple[CustomerState, CustomerSnapshot] | None:
        """The customer with its identities, in one statement."""
        row = await self.pool.fetchrow(CUSTOMER, customer_id)
        if row is None:
            return None
        identities = [ChannelIdentity(**i) for i in row["identities_json"]]
        fields = _Row(dict(row))
        return CustomerState(row["state"], row["merged_into"]), repository.snapshot(fields, identities)

    async def overview(self, customer_id: str, *, items: int) -> Overview:
        row = await self.pool.fetchrow(OVERVIEW, customer_id, items)
        assert row is not None  # a SELECT of scalar subqueries always has its row
        return Overview(
            stages=row["stages"],
            notes=row["notes"],
            orders=row["orders"],
            lifetime_value=row["lifetime_value"],
            timeline=row["timeline"],
        )


_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]


class _Row:
    """Attribute access over a record's columns, as `repository.snapshot` reads them."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


async def _json_codecs(connection: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await connection.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
