"""The customer's PDPA (Thailand) rights for staff: `GET /customers/{id}/export` (access:
everything the system holds on them, one JSON file) and `POST /customers/{id}/erasure` (erasure
in every service, followed per service under `/erasure-requests/{id}`).

Permissions: `customer:export` for the export, `customer:erase` for the rest (admins and
managers); each route's docstring names its own.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response

from crm_gateway.auth.api import CurrentStaff
from crm_gateway.auth.permissions import Permission, allow
from crm_gateway.deps import AiDep, MessengerDep, RuntimeDep, SessionDep, UowDep
from crm_gateway.errors import problem_responses
from crm_gateway.pdpa import export as pdpa_export
from crm_gateway.pdpa import service as pdpa
from crm_gateway.pdpa.schemas import CustomerExport, ErasureRequestList, ErasureRequestOut

_DESCRIBED = {
    403: "The signed-in staff user's role does not allow this.",
    404: "No customer (or erasure request) has this id.",
    409: "The customer was erased already (`Location` names that request), or was merged into "
    "another customer, which is the one to erase.",
    503: "A service that holds part of the answer did not answer; nothing was done. `detail` names it.",
}


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem answers a route can give besides 401 and 422."""
    return problem_responses(_DESCRIBED, *statuses)


customers_router = APIRouter(prefix="/customers", tags=["pdpa"])
requests_router = APIRouter(prefix="/erasure-requests", tags=["pdpa"])


@customers_router.get(
    "/{customer_id}/export",
    summary="Everything the system holds on a customer (PDPA right of access)",
    response_description="One JSON document, sent as the attachment `<customer id>.json`.",
    responses=_problems(403, 404, 503),
    dependencies=[allow(Permission.CUSTOMER_EXPORT)],
)
async def export_customer(
    customer_id: str,
    staff: CurrentStaff,
    runtime: RuntimeDep,
    messenger: MessengerDep,
    ai: AiDep,
    response: Response,
) -> CustomerExport:
    """The profile, stage history, notes, timeline, orders with lines and payments, audit entries,
    and the messenger's conversations and the AI's replies. 503 when the messenger or the ai
    service does not answer: an export is complete or not given. The export is audited
    (`customer.export`). Permission: `customer:export`."""
    export = await pdpa_export.export_customer(runtime, customer_id, staff=staff, messenger=messenger, ai=ai)
    # The id is a checked customer id by now (safe in a header and as a file name).
    response.headers["Content-Disposition"] = f'attachment; filename="{customer_id}.json"'
    response.headers["Cache-Control"] = "no-store"
    return export


@customers_router.post(
    "/{customer_id}/erasure",
    status_code=202,
    summary="Erase a customer in every service (PDPA right to erasure)",
    responses=_problems(403, 404, 409, 503),
    dependencies=[allow(Permission.CUSTOMER_ERASE)],
)
async def request_erasure(
    customer_id: str, staff: CurrentStaff, uow: UowDep, runtime: RuntimeDep, response: Response
) -> ErasureRequestOut:
    """The gateway's copy is erased before this answers: the customer stays as an anonymous stub
    with its orders and amounts (the school's accounts), everything naming the person is gone.
    The other services erase theirs next; follow them at `Location`. Customers merged into this
    one are erased with it. Permission: `customer:erase`."""
    async with uow:
        request_id = await pdpa.request_erasure(
            uow, customer_id, actor=staff, parked=pdpa.ParkedQueues.of(runtime)
        )
    async with runtime.sessionmaker() as session:
        request = await pdpa.get_request(session, request_id)
    response.headers["Location"] = pdpa.request_location(request_id)
    return ErasureRequestOut.model_validate(request)


@customers_router.get(
    "/{customer_id}/erasure-requests",
    summary="A customer's erasure requests",
    responses=_problems(403, 404),
    dependencies=[allow(Permission.CUSTOMER_ERASE)],
)
async def customer_erasure_requests(customer_id: str, session: SessionDep) -> ErasureRequestList:
    """Permission: `customer:erase`."""
    found = await pdpa.requests_of(session, customer_id)
    return ErasureRequestList(items=[ErasureRequestOut.model_validate(r) for r in found])


@requests_router.get(
    "/{request_id}",
    summary="One erasure request and each service's progress",
    responses=_problems(403, 404),
    dependencies=[allow(Permission.CUSTOMER_ERASE)],
)
async def get_erasure_request(request_id: uuid.UUID, session: SessionDep) -> ErasureRequestOut:
    """Complete when `completed_at` is set: every service has reported its copy erased.
    Permission: `customer:erase`."""
    return ErasureRequestOut.model_validate(await pdpa.get_request(session, request_id))
