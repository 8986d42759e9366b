"""JSON snapshots the cache-writer writes under `CRM_CACHE_DIR` and the gateway serves.

They are a contract between two services like an event is, so they live here:
- `customer/<customer_id>.json`  one `CustomerSnapshot`
- `customers/latest.json`        a `CustomerListSnapshot` of the newest customers (the first page)
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .events import AdReferral, ChannelIdentity

LATEST_CUSTOMERS_SIZE = 50


class CustomerSnapshot(BaseModel):
    model_config = ConfigDict(extra="ignore")

    customer_id: str = Field(examples=["TVS-CUS-FB-26-0001"])
    channel: Literal["FB", "LINE", "WEB", "WALKIN"]
    display_name: str | None = None
    lifecycle_stage: str
    identities: list[ChannelIdentity]
    first_touch: AdReferral | None = None
    latest_touch: AdReferral | None = None
    created_at: datetime
    updated_at: datetime


class CustomerListSnapshot(BaseModel):
    generated_at: datetime
    items: list[CustomerSnapshot]


def customer_path(customer_id: str) -> str:
    return f"customer/{customer_id}.json"


LATEST_CUSTOMERS_PATH = "customers/latest.json"
