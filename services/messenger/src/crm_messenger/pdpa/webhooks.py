"""Taking one customer's items out of a stored webhook body (Meta batches many per POST)."""

from __future__ import annotations

import json
from typing import Any

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
