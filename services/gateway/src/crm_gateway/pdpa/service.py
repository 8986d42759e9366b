"""A customer's PDPA (Thailand) right to erasure, on the gateway's side (the export is in
`pdpa.export`).

Erasure is one transaction here plus one report per other service:

1. `request_erasure` locks the customer (`customers.privacy.state`), records the request with a
   pending step per service (`models.ERASURE_SERVICES`), erases the gateway's own copy
   (`pdpa.scrub`: each capability erases its part), purges the parking queues, marks the
   gateway's step completed and emits `customer.erasure_requested` with the identities (the other
   services find their copies by them). Customers merged into this one are the same person:
   erased too.
2. Each service erases its copy and publishes `customer.erasure_progress`; `record_progress`
   updates its step, and the request is complete when every step is.

Nothing here logs a personal value (names, phones, e-mails, PSIDs, note text).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from aio_pika.exceptions import AMQPError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_contracts import CustomerErasureProgress, CustomerErasureRequested, CustomerErasureRequestedData
from crm_gateway.audit import service as audit
from crm_gateway.auth.domain import Staff
from crm_gateway.customers import privacy as customer_privacy
from crm_gateway.customers.errors import CustomerNotFound
from crm_gateway.customers.ids import is_customer_id
from crm_gateway.errors import RETRY_SOON, Problem
from crm_gateway.pdpa import repository
from crm_gateway.pdpa.models import ERASURE_SERVICES
from crm_gateway.pdpa.scrub import erase_gateway_copy
from crm_servicekit.logging import get_logger
from crm_servicekit.outbox import UnitOfWork
from crm_servicekit.pdpa import purge_parked
from crm_servicekit.runtime import Runtime

log = get_logger(__name__)

SERVICE = "gateway"
PROGRESS_PURPOSE = "erasure-progress"
PROGRESS_CONSUMER = f"gateway.{PROGRESS_PURPOSE}"
# Staff wait for the parking queues to be searched: give up well before a browser would.
PARKED_PURGE_TIMEOUT_SECONDS = 10.0
ERASE_ACTION = "customer.erase"
COMPLETED_ACTION = "customer.erasure_completed"

# --- problems --------------------------------------------------------------------------------


class CustomerAlreadyErased(Problem):
    status = 409
    slug = "customer-already-erased"
    title = "Customer already erased"

    def __init__(self, customer_id: str, request_id: uuid.UUID | None) -> None:
        named = f" by erasure request {request_id}" if request_id else ""
        super().__init__(f"Customer {customer_id!r} was erased already{named}.")
        if request_id is not None:
            self.headers = {"Location": request_location(request_id)}


class CustomerMergedElsewhere(Problem):
    """A merged customer is a part of another one: the person is erased through that one."""

    status = 409
    slug = "customer-merged"
    title = "Customer was merged"

    def __init__(self, customer_id: str, merged_into: str) -> None:
        super().__init__(
            f"Customer {customer_id!r} was merged into {merged_into!r}; erase that one (it erases both)."
        )


class ErasureUnavailable(Problem):
    status = 503
    slug = "erasure-unavailable"
    title = "Erasure unavailable"
    headers = RETRY_SOON

    def __init__(self) -> None:
        super().__init__("The message broker did not answer, so nothing was erased; try again shortly.")


class ErasureRequestNotFound(Problem):
    status = 404
    slug = "erasure-request-not-found"
    title = "Erasure request not found"

    def __init__(self, request_id: uuid.UUID) -> None:
        super().__init__(f"No erasure request has the id {str(request_id)!r}.")


def request_location(request_id: uuid.UUID) -> str:
    return f"/api/v1/erasure-requests/{request_id}"


# --- what a request looks like -----------------------------------------------------------------


@dataclass(frozen=True)
class ErasureStep:
    service: str
    status: str
    erased: dict[str, int]
    detail: str | None
    finished_at: datetime | None


@dataclass(frozen=True)
class ErasureRequest:
    id: uuid.UUID
    customer_id: str
    requested_at: datetime
    completed_at: datetime | None
    steps: list[ErasureStep]


async def get_request(session: AsyncSession, request_id: uuid.UUID) -> ErasureRequest:
    found = await _requests(session, request_id=request_id)
    if not found:
        raise ErasureRequestNotFound(request_id)
    return found[0]


async def requests_of(session: AsyncSession, customer_id: str) -> list[ErasureRequest]:
    """A customer's erasure requests, newest first; 404 for a customer that does not exist."""
    if not is_customer_id(customer_id) or await customer_privacy.state(session, customer_id) is None:
        raise CustomerNotFound(customer_id)
    return await _requests(session, customer_id=customer_id)


async def _requests(
    session: AsyncSession, *, request_id: uuid.UUID | None = None, customer_id: str | None = None
) -> list[ErasureRequest]:
    """The request with this id, or a customer's requests, newest first, each with its steps."""
    rows = await repository.requests_where(session, request_id=request_id, customer_id=customer_id)
    if not rows:
        return []
    found = await repository.steps_of(session, [r.id for r in rows])
    by_request: dict[uuid.UUID, list[ErasureStep]] = {r.id: [] for r in rows}
    for s in found:
        by_request[s.request_id].append(ErasureStep(s.service, s.status, s.erased, s.detail, s.finished_at))
    return [
        ErasureRequest(r.id, r.customer_id, r.requested_at, r.completed_at, by_request[r.id]) for r in rows
    ]


# --- erasure -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParkedQueues:
    """The gateway's parking queues to purge of the person's messages (failed `contact.seen`
    and profile events keep a PSID and a name until someone replays them)."""

    rabbitmq_url: str
    queues: list[str]

    @classmethod
    def of(cls, runtime: Runtime) -> ParkedQueues:
        """Every queue the gateway consumes but the progress reports' (they name no one, and a
        parked report must stay to be replayed)."""
        progress = runtime.topology.queue_name(PROGRESS_PURPOSE)
        queues = [q for q in runtime.topology.policies if q != progress]
        return cls(runtime.settings.rabbitmq_url, queues)


async def request_erasure(
    uow: UnitOfWork,
    customer_id: str,
    *,
    actor: Staff,
    parked: ParkedQueues | None = None,
    now: datetime | None = None,
) -> uuid.UUID:
    """Erase the gateway's copy of the customer and ask every other service to erase theirs.

    Customers merged into this one are the same person and are erased with it. Raises
    CustomerNotFound, CustomerAlreadyErased (409) or CustomerMergedElsewhere (409). Commits.
    """
    if not is_customer_id(customer_id):
        raise CustomerNotFound(customer_id)
    session = uow.session
    now = now or datetime.now(UTC)
    state = await customer_privacy.state(session, customer_id, lock=True)
    if state is None:
        raise CustomerNotFound(customer_id)
    if state.state == "erased":
        previous = await _requests(session, customer_id=customer_id)
        raise CustomerAlreadyErased(customer_id, previous[0].id if previous else None)
    if state.merged_into is not None:
        raise CustomerMergedElsewhere(customer_id, state.merged_into)

    ids = [customer_id, *await customer_privacy.merged_into(session, customer_id)]
    request_id = await repository.insert_request(
        session, customer_id, requested_by=actor.id, requested_at=now
    )
    await repository.insert_steps(session, request_id, ERASURE_SERVICES)

    erased = await erase_gateway_copy(session, ids, now=now)
    if parked is not None:
        erased.counts["parked_messages"] = await _purge_parked(parked, erased.needles)
    await repository.set_step(session, request_id, SERVICE, "completed", erased.counts, None, now)
    uow.emit(
        CustomerErasureRequested(
            correlation_id=str(request_id),
            data=CustomerErasureRequestedData(
                request_id=request_id,
                customer_id=customer_id,
                identities=erased.identities,
                requested_at=now,
            ),
        )
    )
    # Recorded after the scrub, and with nothing personal in it: the entry stays.
    await audit.record(
        session,
        actor=actor,
        action=ERASE_ACTION,
        entity=("customer", customer_id),
        after={"erasure_request": request_id, "merged_customers_erased": len(ids) - 1},
        at=now,
    )
    await uow.commit()
    log.info("customer erased in the gateway", request_id=str(request_id), erased=erased.counts)
    return request_id


async def _purge_parked(parked: ParkedQueues, needles: list[str]) -> int:
    """Before the commit: if the broker cannot be reached, nothing is erased and staff retry."""
    try:
        async with asyncio.timeout(PARKED_PURGE_TIMEOUT_SECONDS):
            return await purge_parked(parked.rabbitmq_url, parked.queues, needles)
    except (AMQPError, OSError, TimeoutError) as exc:
        log.warning("parking queues unreachable during an erasure", error=type(exc).__name__)
        raise ErasureUnavailable() from exc


# --- progress reports from the other services -----------------------------------------------


async def record_progress(
    uow: UnitOfWork, event: CustomerErasureProgress, *, now: datetime | None = None
) -> bool:
    """Store a service's report on its step; complete the request when every step is completed.

    The request row is locked first, so two reports arriving together cannot both see the other
    step pending. A report older than the one stored (a redelivery of an earlier attempt) changes
    nothing. Returns False for an event handled before.
    """
    if not await uow.claim(event.event_id, PROGRESS_CONSUMER):
        return False
    session = uow.session
    data = event.data
    request = await repository.lock_request(session, data.request_id)
    step = await repository.step_finished_at(session, data.request_id, data.service)
    if request is None or step is None:
        # Not a retry: nothing will make this request or step appear later.
        log.warning("erasure report for no such step", request_id=str(data.request_id), service=data.service)
        await uow.commit()
        return True
    if step.finished_at is None or data.finished_at >= step.finished_at:
        await repository.set_step(
            session, data.request_id, data.service, data.status, data.erased, data.detail, data.finished_at
        )
    pending = await repository.count_unfinished(session, data.request_id)
    if request.completed_at is None and pending == 0:
        completed_at = now or datetime.now(UTC)
        await repository.complete_request(session, data.request_id, completed_at)
        await audit.record(
            session,
            actor=None,
            action=COMPLETED_ACTION,
            entity=("customer", request.customer_id),
            after={"erasure_request": data.request_id},
            at=completed_at,
        )
        log.info("erasure completed", request_id=str(data.request_id))
    await uow.commit()
    log.info(
        "erasure step reported", request_id=str(data.request_id), service=data.service, status=data.status
    )
    return True
