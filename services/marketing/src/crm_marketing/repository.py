"""Every SQL statement of the marketing service."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncSession

from .meta.insights import InsightRow
from .models import ads, adsets, campaigns, insights_daily, insights_hourly

_FACTS = (
    "campaign_id",
    "adset_id",
    "spend",
    "impressions",
    "clicks",
    "link_clicks",
    "ctr",
    "cpc",
    "messaging_conversations_started",
    "leads",
    "purchases",
    "purchase_value",
    "actions",
    "action_values",
    "purchase_roas",
)


# What a changed row tells the rest of the system (`marketing.insights_changed`).
_EVENT_FACTS = (
    "spend",
    "impressions",
    "clicks",
    "link_clicks",
    "messaging_conversations_started",
    "leads",
    "purchases",
    "purchase_value",
)


@dataclass(frozen=True)
class Changed:
    """A row whose numbers are new or differ from what was stored.

    `fact` is its `crm_contracts.InsightFact` as a plain dict (names included), ready for the
    event: a backfill changes millions of rows, and the event validates them all at once.
    """

    account_id: str
    inserted: bool
    fact: dict[str, Any]

    @property
    def ad_id(self) -> str:
        return str(self.fact["ad_id"])

    @property
    def day(self) -> date:
        day: date = self.fact["day"]
        return day

    @property
    def hour(self) -> int | None:
        hour: int | None = self.fact["hour"]
        return hour


_LISTS = ("actions", "action_values", "purchase_roas")


def _record(row: InsightRow, columns: Sequence[str]) -> tuple[Any, ...]:
    """A row's values in COPY column order (Meta's lists as JSON text)."""
    return tuple(_json(getattr(row, c)) if c in _LISTS else getattr(row, c) for c in columns)


def _json(items: list[dict[str, str]]) -> str:
    return json.dumps(items, ensure_ascii=False) if items else "[]"


async def _names(session: AsyncSession, rows: Sequence[InsightRow]) -> dict[str, str]:
    """Names of the ads, ad sets and campaigns of `rows`, by id (what is synced so far)."""
    ids = list({i for r in rows for i in (r.ad_id, r.adset_id, r.campaign_id) if i})
    query = " UNION ALL ".join(
        f"SELECT id, name FROM {t.schema}.{t.name} WHERE id = ANY(:ids)"  # noqa: S608 - our tables
        for t in (ads, adsets, campaigns)
    )
    return {i: n for i, n in await session.execute(text(query), {"ids": ids})}


def _fact(row: InsightRow, names: dict[str, str]) -> dict[str, Any]:
    """The `InsightFact` of a row, as a dict."""
    return {
        "ad_id": row.ad_id,
        "ad_name": names.get(row.ad_id or ""),
        "adset_id": row.adset_id,
        "adset_name": names.get(row.adset_id or ""),
        "campaign_id": row.campaign_id,
        "campaign_name": names.get(row.campaign_id or ""),
        "day": row.day,
        "hour": row.hour,
        **{f: getattr(row, f) for f in _EVENT_FACTS},
    }


async def upsert_insights(
    session: AsyncSession, rows: Sequence[InsightRow], *, hourly: bool
) -> list[Changed]:
    """Bulk-load rows (COPY into a staging table, then one upsert) in the session's transaction.

    A row whose numbers equal what is stored is left untouched; new or changed rows are written
    (the newer numbers win) and returned, with the names of their ad, ad set and campaign.
    Resyncing the same range is therefore a no-op.
    """
    if not rows:
        return []
    table: Table = insights_hourly if hourly else insights_daily
    last = "hour" if hourly else "reach"
    columns = ["account_id", "ad_id", "day", *_FACTS, last]
    keys = ["account_id", "ad_id", "day", *(["hour"] if hourly else [])]
    compared = [*_FACTS, *([] if hourly else ["reach"])]
    target = f"{table.schema}.{table.name}"
    stage = f"{table.name}_stage"  # a session's own temporary table
    # The statement opens the transaction that the COPY below then joins.
    await session.execute(
        text(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {target} INCLUDING DEFAULTS)"
            " ON COMMIT DELETE ROWS"
        )
    )
    await session.execute(text(f"TRUNCATE {stage}"))
    raw = await (await session.connection()).get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.copy_records_to_table(stage, records=[_record(r, columns) for r in rows], columns=columns)
    cols = ", ".join(columns)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in compared)
    stored = ", ".join(f"t.{c}" for c in compared)
    incoming = ", ".join(f"EXCLUDED.{c}" for c in compared)
    # Identifiers only, all from this module's constants; the values travel by COPY.
    # On the driver, like the COPY: a backfill returns millions of keys.
    result = await driver.fetch(
        f"INSERT INTO {target} AS t ({cols}) SELECT {cols} FROM {stage} "  # noqa: S608
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}, synced_at = now() "
        f"WHERE ({stored}) IS DISTINCT FROM ({incoming}) "
        f"RETURNING t.ad_id, t.day, {'t.hour' if hourly else 'NULL::smallint'}, (xmax = 0)"
    )
    written = {(ad, day, hour): bool(inserted) for ad, day, hour, inserted in result}
    if not written:
        return []
    changed = [r for r in rows if (r.ad_id, r.day, r.hour) in written]
    names = await _names(session, changed)
    return [Changed(r.account_id, written[(r.ad_id, r.day, r.hour)], _fact(r, names)) for r in changed]
