"""`/api/v1/customers`: reads for staff, from the cache-writer's snapshots first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from crm_contracts.snapshots import CustomerSnapshot

from . import service
from .auth.permissions import Permission, allow
from .deps import SessionDep, SettingsDep

SERVED_FROM = "X-Served-From"

router = APIRouter(prefix="/customers", tags=["customers"])


class CustomerPageOut(BaseModel):
    items: list[CustomerSnapshot]
    next_cursor: str | None


@router.get("", summary="Customers, newest first", dependencies=[allow(Permission.CUSTOMER_READ)])
async def list_customers(
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE_SIZE)] = 50,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
) -> CustomerPageOut:
    page, source = await service.list_customers(session, settings.crm_cache_dir, limit=limit, cursor=cursor)
    response.headers[SERVED_FROM] = source
    return CustomerPageOut(items=page.items, next_cursor=page.next_cursor)


@router.get("/{customer_id}", summary="One customer", dependencies=[allow(Permission.CUSTOMER_READ)])
async def get_customer(
    customer_id: str, session: SessionDep, settings: SettingsDep, response: Response
) -> CustomerSnapshot:
    snapshot, source = await service.get_customer(session, settings.crm_cache_dir, customer_id)
    response.headers[SERVED_FROM] = source
    return snapshot
