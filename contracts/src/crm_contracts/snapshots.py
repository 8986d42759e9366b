"""JSON snapshots the cache-writer writes under `CRM_CACHE_DIR` and the gateway serves.

They are a contract between two services like an event is, so they live here:
- `customer/<customer_id>.json`  one `CustomerSnapshot`
- `customers/latest.json`        a `CustomerListSnapshot` of the newest customers (the first page)
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from .events.customers import CustomerCreatedData

LATEST_CUSTOMERS_SIZE = 50


class CustomerSnapshot(CustomerCreatedData):
    """The customer as it is now: what `customer.created` said, plus later changes."""

    updated_at: datetime


class CustomerListSnapshot(BaseModel):
    generated_at: datetime
    items: list[CustomerSnapshot]


def customer_path(customer_id: str) -> str:
    return f"customer/{customer_id}.json"


LATEST_CUSTOMERS_PATH = "customers/latest.json"
