"""What the intake holds on a customer, for the PDPA rights (`crm_messenger.pdpa` orchestrates
them; the SQL is in `webhooks.privacy_repository`).

- Erasure, step by step in the caller's transaction: `erase_referrals` and `erase_optins` (the ad
  referrals go before the conversations they reference), `erase_quarantined` (items whose payload
  mentions the PSIDs) and `erase_stored_webhooks`: a stored body may hold several customers'
  events, so only this customer's items leave it (`without_customers`), and the body goes once
  nothing else is left.
- Access: `referrals_of`, `optins_of` and `quarantined_mentioning` read whole rows for the export.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_messenger.identities import Identity
from crm_messenger.webhooks import privacy_repository as repository
from crm_servicekit.pdpa import needle_forms

ITEM_LISTS = ("messaging", "standby")


def _involves(item: Any, psids: set[str]) -> bool:
    if not isinstance(item, dict):
        return False
    parties = (item.get("sender"), item.get("recipient"))
    return any(isinstance(p, dict) and str(p.get("id")) in psids for p in parties)


def without_customers(body: Any, psids: set[str]) -> tuple[Any | None, int]:
    """The body without the items sent by or to these customers, and how many items went.

    None when nothing of anyone else is left, or when a PSID still appears somewhere we do not
    understand (erasure wins over keeping a body we cannot take apart).
    """
    entries = body.get("entry") if isinstance(body, dict) else None
    if not isinstance(entries, list):
        return None, 0
    kept_entries: list[Any] = []
    removed = 0
    for entry in entries:
        if not isinstance(entry, dict):
            kept_entries.append(entry)
            continue
        kept = dict(entry)
        had_items = False
        for key in ITEM_LISTS:
            items = entry.get(key)
            if isinstance(items, list):
                had_items = had_items or bool(items)
                kept[key] = [i for i in items if not _involves(i, psids)]
                removed += len(items) - len(kept[key])
        if had_items and not any(kept.get(key) for key in ITEM_LISTS):
            continue
        kept_entries.append(kept)
    if not kept_entries:
        return None, removed
    result = {**body, "entry": kept_entries}
    text = json.dumps(result, ensure_ascii=False)
    if any(form in text for form in needle_forms(psids)):
        return None, removed
    return result, removed


async def erase_referrals(
    session: AsyncSession, conversation_ids: Sequence[uuid.UUID], identities: Sequence[Identity]
) -> int:
    """The ad referrals of these conversations or identities."""
    return await repository.delete_referrals(session, conversation_ids, identities)


async def erase_optins(session: AsyncSession, identities: Sequence[Identity]) -> int:
    return await repository.delete_optins(session, identities)


async def erase_quarantined(session: AsyncSession, psids: Sequence[str]) -> int:
    return await repository.delete_quarantined(session, psids)


async def erase_stored_webhooks(session: AsyncSession, psids: Sequence[str]) -> int:
    """Webhooks stored but not processed yet: a body may hold several customers' events, so only
    this customer's items leave it (the body goes once nothing else is left)."""
    changed = 0
    for row in await repository.stored_webhooks_mentioning(session, psids):
        body, removed = without_customers(row.body, set(psids))
        changed += max(removed, 1)
        if body is None:
            await repository.delete_stored_webhook(session, row.id)
        else:
            await repository.replace_stored_webhook(session, row.id, body)
    return changed


async def referrals_of(session: AsyncSession, conversation_ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
    return await repository.referrals_of(session, conversation_ids)


async def optins_of(session: AsyncSession, identities: Sequence[Identity]) -> list[Row[Any]]:
    return await repository.optins_of(session, identities)


async def quarantined_mentioning(session: AsyncSession, psids: Sequence[str]) -> list[Row[Any]]:
    return await repository.quarantined_mentioning(session, psids)
