"""Every SQL statement about the rate-limit counters. On the hot-read pool (asyncpg, autocommit):
the ceiling is counted on every request, and through an SQLAlchemy session that would cost a
millisecond of CPU each (see `reads.py`); this is the one write that pool runs."""

from __future__ import annotations

import math
from dataclasses import dataclass

from crm_gateway.reads import HotReads

# One statement for all the keys of a request: each counter starts a window or counts one more
# in its current window, and says how many it holds and how long its window has left. Keys in
# order, so concurrent requests take the row locks in the same order (no deadlock). A refused
# request is counted too: hammering does not shorten the wait.
HIT = """
INSERT INTO gateway.rate_limit_counters AS c (key, hits, window_started_at, window_seconds)
SELECT t.key, 1, now(), t.seconds FROM unnest($1::text[], $2::int[]) AS t(key, seconds) ORDER BY t.key
ON CONFLICT (key) DO UPDATE SET
  hits = CASE WHEN c.window_started_at + make_interval(secs => excluded.window_seconds) > now()
         THEN c.hits + 1 ELSE 1 END,
  window_started_at = CASE WHEN c.window_started_at + make_interval(secs => excluded.window_seconds) > now()
         THEN c.window_started_at ELSE now() END,
  window_seconds = excluded.window_seconds
RETURNING c.key, c.hits,
  extract(epoch FROM c.window_started_at + make_interval(secs => c.window_seconds) - now())::float8 AS left_s
"""

PURGE = """
DELETE FROM gateway.rate_limit_counters
WHERE window_started_at + make_interval(secs => window_seconds) < now()
"""


@dataclass(frozen=True)
class Count:
    hits: int
    retry_after: int  # whole seconds until the window ends, at least 1


async def hit(reads: HotReads, windows: dict[str, int]) -> dict[str, Count]:
    """Count one request on each key (key → its window in seconds)."""
    keys = sorted(windows)
    rows = await reads.pool.fetch(HIT, keys, [windows[k] for k in keys])
    return {row["key"]: Count(row["hits"], max(1, math.ceil(row["left_s"]))) for row in rows}


async def purge(reads: HotReads) -> int:
    """Delete counters whose window has passed (the next request would restart them anyway)."""
    status: str = await reads.pool.execute(PURGE)
    return int(status.rsplit(" ", 1)[-1])
