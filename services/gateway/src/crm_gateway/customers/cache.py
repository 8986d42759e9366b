"""Read the JSON snapshots the cache-writer keeps under CRM_CACHE_DIR (read-only here).

A missing, half-written or outdated file is not an error: the caller asks the database.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from crm_contracts.snapshots import (
    LATEST_CUSTOMERS_PATH,
    CustomerListSnapshot,
    CustomerSnapshot,
    customer_path,
)
from crm_gateway.customers.ids import is_customer_id
from crm_servicekit.logging import get_logger

log = get_logger(__name__)

M = TypeVar("M", bound=BaseModel)


def _read(path: Path, model: type[M]) -> M | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("cache file unreadable", file=path.name, error=type(exc).__name__)
        return None
    try:
        return model.model_validate_json(data)
    except ValidationError:
        log.warning("cache file invalid", file=path.name)
        return None


async def customer(root: Path, customer_id: str) -> CustomerSnapshot | None:
    if not is_customer_id(customer_id):  # never build a path from anything else
        raise ValueError("not a customer id")
    snapshot = await asyncio.to_thread(_read, root / customer_path(customer_id), CustomerSnapshot)
    return snapshot if snapshot and snapshot.customer_id == customer_id else None


async def latest_customers(root: Path) -> CustomerListSnapshot | None:
    return await asyncio.to_thread(_read, root / LATEST_CUSTOMERS_PATH, CustomerListSnapshot)
