"""Every SQL statement of the marketing service."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import InsightFact

from .meta.insights import InsightRow
from .models import insights_daily, insights_hourly

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
    """A row whose numbers are new or differ from what was stored, with its ad's names."""

    account_id: str
    inserted: bool
    fact: InsightFact

    @property
    def ad_id(self) -> str:
        return self.fact.ad_id

    @property
    def day(self) -> date:
        return self.fact.day

    @property
    def hour(self) -> int | None:
        return self.fact.hour


def _values(row: InsightRow) -> dict[str, Any]:
    """A row's values by column name; the records for COPY are taken from this in column order."""
    lists = {
        name: json.dumps([a.model_dump() for a in items])
        for name, items in (
            ("actions", row.actions),
            ("action_values", row.action_values),
            ("purchase_roas", row.purchase_roas),
        )
    }
    return {**row.model_dump(include={"account_id", "ad_id", "day", "hour", "reach", *_FACTS}), **lists}


async def upsert_insights(
    session: AsyncSession, rows: Sequence[InsightRow], *, hourly: bool
) -> list[Changed]:
    """Bulk-load rows (COPY into a staging table, then one upsert) in the session's transaction.

    A row whose numbers equal what is stored is left untouched; new or changed rows are written
    (the newer numbers win) and returned. Resyncing the same range is therefore a no-op.
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
    await driver.copy_records_to_table(
        stage, records=[tuple(values[c] for c in columns) for values in map(_values, rows)], columns=columns
    )
    cols = ", ".join(columns)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in compared)
    stored = ", ".join(f"t.{c}" for c in compared)
    incoming = ", ".join(f"EXCLUDED.{c}" for c in compared)
    # Identifiers only, all from this module's constants; the values travel by COPY. The upsert
    # returns the rows it wrote, joined to the names of their ad, ad set and campaign.
    returned = ", ".join(f"t.{c}" for c in ("account_id", "ad_id", "campaign_id", "adset_id", *_EVENT_FACTS))
    schema = table.schema
    result = await session.execute(
        text(
            f"WITH up AS (INSERT INTO {target} AS t ({cols}) SELECT {cols} FROM {stage} "  # noqa: S608
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}, synced_at = now() "
            f"WHERE ({stored}) IS DISTINCT FROM ({incoming}) "
            f"RETURNING {returned}, t.day, {'t.hour' if hourly else 'NULL::smallint AS hour'}, "
            "(xmax = 0) AS inserted) "
            "SELECT up.*, a.name AS ad_name, s.name AS adset_name, c.name AS campaign_name FROM up "
            f"LEFT JOIN {schema}.ads a ON a.id = up.ad_id "
            f"LEFT JOIN {schema}.adsets s ON s.id = up.adset_id "
            f"LEFT JOIN {schema}.campaigns c ON c.id = up.campaign_id "
            "ORDER BY up.day, up.hour, up.ad_id"
        )
    )
    return [
        Changed(r["account_id"], bool(r["inserted"]), InsightFact.model_validate(r))
        for r in result.mappings()
    ]
