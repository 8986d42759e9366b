"""The gateway's pool for hot reads: the statements behind every request (the sign-in check) and
every customer screen (one customer, the customer 360), hand-written and run on asyncpg directly.

Through an SQLAlchemy session each statement costs about 0.7-1 ms of CPU (session, BEGIN and
ROLLBACK, result processing) against well under 0.1 ms on asyncpg directly; a 360 took five of
them plus two sessions, 6-12 ms of CPU on a 2-core machine (`python -m bench gateway`). This
module is the plumbing only: each statement lives with the capability it reads
(`auth/repository.py`, `customers/hot_reads.py`, `customers/search.py`), and one write of the
same kind: the rate-limit counters' single upsert per request (`ratelimits/repository.py`).
Other writes stay in the repositories on SQLAlchemy; every statement here runs in autocommit.

After a database restart the pool heals by itself: asyncpg replaces a connection the server
closed when it is next acquired, and one that breaks in the middle of a statement fails that
request only (a 503, `crm_servicekit.unavailable`) and is replaced on the next acquire.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg
from sqlalchemy import Select
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg


class HotReads:
    def __init__(
        self, dsn: str, *, max_size: int = 4, application_name: str = "crm-gateway/hot-reads"
    ) -> None:
        self.dsn = dsn
        self.max_size = max_size
        self.application_name = application_name
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
            server_settings={
                "plan_cache_mode": "force_custom_plan",
                "application_name": self.application_name,
            },
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("HotReads.open() runs at startup")
        return self._pool

    async def fetch(self, query: Select[Any]) -> list[Any]:
        """Rows of an SQLAlchemy Core select (for reads whose SQL is built from filters), with
        attribute access like SQLAlchemy rows."""
        sql, params = _compiled(query)
        return [Row(dict(r)) for r in await self.pool.fetch(sql, *params)]


# Compiled selects by their cache key (the statement's shape: the same filters with other values
# share one). Compiling a search was ~0.8 ms of CPU per request; the key costs ~0.1 ms. A few
# dozen shapes exist (which filters are set, the sort, a cursor or not); bounded all the same.
_COMPILED: dict[Any, Any] = {}
MAX_COMPILED = 512


def _compiled(query: Select[Any]) -> tuple[str, list[Any]]:
    key = query._generate_cache_key()
    if key is None:  # a construct SQLAlchemy cannot key: compiled every time
        compiled = query.compile(dialect=_DIALECT)
        return str(compiled), [compiled.params[name] for name in compiled.positiontup or ()]
    shape = _COMPILED.get(key.key)
    if shape is None:
        shape = query.compile(dialect=_DIALECT, cache_key=key)
        if len(_COMPILED) < MAX_COMPILED:
            _COMPILED[key.key] = shape
    values = shape.construct_params(extracted_parameters=key.bindparams)
    return shape.string, [values[name] for name in shape.positiontup or ()]


_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]


class Row:
    """Attribute access over a record's columns, as SQLAlchemy rows have."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


async def _json_codecs(connection: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await connection.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
