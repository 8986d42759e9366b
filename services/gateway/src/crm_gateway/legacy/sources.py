"""Reading the old system's files: one JSON file per customer, a CSV of customers, the catalog.

Blocking file I/O, run in a worker thread. A file or row that cannot be read becomes a `Source`
with a `failure`, so the import reports it and goes on with the rest. Failure reasons name the
file, line and column, never what is written there (it may be personal data). A `*.json` of the
folder that is recognisably no customer file (an import report written there by `--report`, a
catalog) is `skipped`, with a note: it neither fails the import nor is read as a customer.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crm_gateway.customers.ids import is_customer_id
from crm_servicekit.storable import storable

from .keys import BASE, canonical
from .mapping import Problem
from .report import REPORT_KEYS

ID_FORMAT = "TVS-CUS-<FB|LINE|WEB|WALKIN>-<yy>-<number>"
CATALOG_LISTS = ("products", "courses", "items", "catalog", "สินค้า", "คอร์ส")


@dataclass(frozen=True)
class Source:
    """One customer record to import: a file, or a row of the CSV (`customers.csv:7`)."""

    name: str
    customer_id: str | None
    raw: dict[str, Any] | None
    failure: Problem | None = None
    skipped: Problem | None = None  # no customer file: what it is, for the report


def customer_files(folder: Path, skip: set[Path]) -> list[Source]:
    """Every `*.json` of `folder`, by name; the file name (without `.json`) is the customer id."""
    return [_customer_file(path) for path in sorted(folder.glob("*.json")) if path.resolve() not in skip]


def _customer_file(path: Path) -> Source:
    # A name is shown in reports and logs: one that is not UTF-8 is shown with U+FFFD.
    name, customer_id = storable(path.name), path.stem
    if not is_customer_id(customer_id):
        data, failure = read_json(path)
        if failure is None and (what := _no_customer_file(data)) is not None:
            return Source(name, None, None, skipped=Problem("file", f"{what}, not a customer file; skipped"))
        return Source(name, None, None, Problem("file", f"the name is not a customer id ({ID_FORMAT})"))
    data, failure = read_json(path)
    if failure is None and not isinstance(data, dict):
        failure = Problem("file", "not a JSON object")
    return Source(name, customer_id, data if failure is None else None, failure)


def _no_customer_file(data: Any) -> str | None:
    """What a document is when it is recognisably no customer record, else None (a customer
    record under a wrong name still fails: it may be a customer nobody should lose)."""
    if not isinstance(data, dict):
        return None
    if data.keys() >= REPORT_KEYS:
        return "an import report (--report)"
    if any(canonical(str(key)) in CATALOG_LISTS and isinstance(data[key], list) for key in data):
        return "a product catalog (import it with --catalog)"
    return None


def read_json(path: Path) -> tuple[Any, Problem | None]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, Problem("file", "not UTF-8 text")
    except OSError as exc:
        return None, Problem("file", f"cannot be read ({type(exc).__name__})")
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:  # exc.msg names what is wrong, not the document
        return None, Problem("file", f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")


def csv_rows(path: Path) -> list[Source]:
    """A header row, then one customer a row; the same keys as the JSON files (dots nest:
    `contact.phone`). UTF-8 with or without a byte-order mark; comma, semicolon or tab."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        return [Source(storable(path.name), None, None, Problem("file", "not UTF-8 text"))]
    lines = text.splitlines(keepends=True)
    if not lines:
        return [Source(storable(path.name), None, None, Problem("file", "empty"))]
    try:
        dialect: Any = csv.Sniffer().sniff(lines[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(lines, dialect=dialect)
    id_columns = [h for h in reader.fieldnames or [] if BASE.get(canonical(h)) == "customer_id"]
    sources = []
    for row in reader:
        name = f"{storable(path.name)}:{reader.line_num}"
        cells = {k.strip(): v.strip() for k, v in row.items() if k and isinstance(v, str) and v.strip()}
        if not cells:
            continue
        customer_id = next((cells[c.strip()] for c in id_columns if c.strip() in cells), None)
        if customer_id is None:
            sources.append(Source(name, None, None, Problem("id", "missing: each row needs a customer id")))
        elif not is_customer_id(customer_id):
            sources.append(Source(name, None, None, Problem("id", f"not a customer id ({ID_FORMAT})")))
        else:
            sources.append(Source(name, customer_id, _nest(cells)))
    return sources


def _nest(cells: dict[str, str]) -> dict[str, Any]:
    """`{"contact.phone": "081..."}` → `{"contact": {"phone": "081..."}}`, as a JSON file nests it."""
    out: dict[str, Any] = {}
    for key, value in cells.items():
        *parents, leaf = key.split(".") if "." in key.strip(".") else [key]
        node = out
        for parent in parents:
            child = node.setdefault(parent, {})
            node = child if isinstance(child, dict) else node
        node[leaf] = value
    return out


def catalog_items(path: Path) -> tuple[list[dict[str, Any]], Problem | None]:
    """A JSON list of products, or an object holding one (`{"products": [...]}`)."""
    data, failure = read_json(path)
    if failure is not None:
        return [], failure
    if isinstance(data, dict):
        data = next((data[k] for k in data if canonical(k) in CATALOG_LISTS), None)
    if not isinstance(data, list):
        return [], Problem("file", "not a list of products, nor an object with a `products` list")
    return data, None
