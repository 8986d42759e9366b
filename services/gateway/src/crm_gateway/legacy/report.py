"""What an import did, per file, CSV row and catalog entry: for a person and as JSON.

Problems name the field as the file spells it and the reason; never a value, so a report can be
shared and kept (file names are customer ids, not personal data). A file of the folder that is
no customer file (a report written there, a catalog) is `skipped`, with a note saying what it is.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from .mapping import Problem

Status = Literal["created", "updated", "unchanged", "failed", "skipped"]
Kind = Literal["customer", "product", "file"]
STATUSES: tuple[Status, ...] = ("created", "updated", "unchanged", "failed", "skipped")
KINDS: dict[Kind, str] = {"customer": "customers", "product": "products", "file": "other files"}
# The keys of `Report.to_json()`: how a report written into the customers' folder is recognised.
REPORT_KEYS = frozenset({"all_read", "counts", "items"})


@dataclass
class Item:
    source: str  # `TVS-CUS-FB-26-0002.json`, `customers.csv:7`, `catalog.json#3`
    kind: Kind
    status: Status
    id: str | None = None  # the customer id, or the product's legacy id or Thai name
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Report:
    items: list[Item] = field(default_factory=list)

    @property
    def all_read(self) -> bool:
        """Exit code 0: every file and row was read (problems with single fields are reported)."""
        return all(i.status != "failed" for i in self.items)

    def counts(self, kind: Kind) -> Counter[str]:
        return Counter(i.status for i in self.items if i.kind == kind)

    def item(self, source: str) -> Item:
        return next(i for i in self.items if i.source == source)

    def to_json(self) -> dict[str, Any]:
        return {
            "all_read": self.all_read,
            "counts": {kind: dict(self.counts(kind)) for kind in KINDS},
            "items": [asdict(i) for i in self.items],
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=2)

    def summary(self) -> str:
        """Totals, then every file or row that failed or had a field it could not read."""
        lines = []
        for kind, plural in KINDS.items():
            counts = self.counts(kind)
            if counts:
                total = sum(counts.values())
                parts = ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s])
                lines.append(f"{plural}: {total} ({parts})")
        noted = [i for i in self.items if i.status == "failed" or i.problems]
        if noted:
            lines.append("")
            lines.append("Needs a look:")
        for i in noted:
            named = f" ({i.id})" if i.id and i.id not in i.source else ""
            lines.append(f"  {i.status:<9} {i.source}{named}")
            lines.extend(f"            {p.field}: {p.reason}" for p in i.problems)
        if not self.items:
            lines.append("nothing to import")
        return "\n".join(lines)
