"""Every SQL statement of the PDPA erasure requests: a request and its steps (one per service)
written, read, locked while a service's report is stored, and completed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.pdpa.models import erasure_requests as requests
from crm_gateway.pdpa.models import erasure_steps as steps


async def insert_request(
    session: AsyncSession, customer_id: str, *, requested_by: uuid.UUID, requested_at: datetime
) -> uuid.UUID:
    request_id: uuid.UUID = (
        await session.execute(
            insert(requests)
            .values(customer_id=customer_id, requested_by=requested_by, requested_at=requested_at)
            .returning(requests.c.id)
        )
    ).scalar_one()
    return request_id


async def insert_steps(session: AsyncSession, request_id: uuid.UUID, services: Sequence[str]) -> None:
    """One pending step per service."""
    await session.execute(insert(steps), [{"request_id": request_id, "service": s} for s in services])


async def requests_where(
    session: AsyncSession, *, request_id: uuid.UUID | None = None, customer_id: str | None = None
) -> list[Row[Any]]:
    """The request with this id, or a customer's requests; newest first."""
    where = requests.c.id == request_id if request_id is not None else requests.c.customer_id == customer_id
    query = select(requests).where(where).order_by(requests.c.requested_at.desc(), requests.c.id)
    return list((await session.execute(query)).all())


async def steps_of(session: AsyncSession, request_ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
    """The requests' steps, by service name."""
    query = select(steps).where(steps.c.request_id.in_(request_ids)).order_by(steps.c.service)
    return list((await session.execute(query)).all())


async def lock_request(session: AsyncSession, request_id: uuid.UUID) -> Row[Any] | None:
    """The request, locked until the transaction ends; None if there is none."""
    query = select(requests).where(requests.c.id == request_id).with_for_update()
    return (await session.execute(query)).first()


async def step_finished_at(session: AsyncSession, request_id: uuid.UUID, service: str) -> Row[Any] | None:
    """(finished_at,) of the service's step; None if the request has no such step."""
    query = select(steps.c.finished_at).where(steps.c.request_id == request_id, steps.c.service == service)
    return (await session.execute(query)).first()


async def count_unfinished(session: AsyncSession, request_id: uuid.UUID) -> int | None:
    """How many of the request's steps are not completed."""
    unfinished: int | None = await session.scalar(
        select(func.count())
        .select_from(steps)
        .where(steps.c.request_id == request_id, steps.c.status != "completed")
    )
    return unfinished


async def complete_request(session: AsyncSession, request_id: uuid.UUID, completed_at: datetime) -> None:
    await session.execute(
        update(requests).where(requests.c.id == request_id).values(completed_at=completed_at)
    )


async def set_step(
    session: AsyncSession,
    request_id: uuid.UUID,
    service: str,
    status: str,
    erased: dict[str, int],
    detail: str | None,
    finished_at: datetime,
) -> None:
    await session.execute(
        update(steps)
        .where(steps.c.request_id == request_id, steps.c.service == service)
        .values(status=status, erased=erased, detail=detail, finished_at=finished_at)
    )
