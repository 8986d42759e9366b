"""`/api/v1/customers`: find, read, create and change customers; notes, stage history, the
timeline, the customer 360, duplicates and merges.

Reads of one customer and of the first unfiltered page come from the cache-writer's snapshots
when they exist (`X-Served-From: cache`). Changes need `If-Match` with the ETag last read (the
customer's version), so two staff editing at once never overwrite each other silently.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Response

from crm_contracts import LifecycleStage, Temperature
from crm_contracts.snapshots import CustomerSnapshot
from crm_gateway.auth.api import CurrentStaff
from crm_gateway.auth.permissions import Permission, allow
from crm_gateway.conversations.service import ASSIGNED_HELP, assigned_filter
from crm_gateway.customers import merges, service
from crm_gateway.customers import profile as customers
from crm_gateway.customers import search as customer_search
from crm_gateway.deps import ReadsDep, SessionDep, SettingsDep, UowDep
from crm_gateway.errors import problem_responses
from crm_gateway.etags import IF_MATCH_HELP, etag
from crm_servicekit.storable import StorableMoment

from .leads import CustomerView
from .schemas import (
    Customer360Out,
    CustomerIn,
    CustomerPageOut,
    CustomerPatch,
    DuplicateOut,
    MergeIn,
    MergeOut,
    NoteIn,
    NoteOut,
    OrderSummaryOut,
    StageChangeOut,
    TimelineEntryOut,
    TimelinePageOut,
)

SERVED_FROM = "X-Served-From"
OVERVIEW_ITEMS = 20
CUSTOMER_EXAMPLE = "TVS-CUS-FB-26-0001"

CUSTOMER_ID = Path(max_length=40, description="`TVS-CUS-<channel>-<yy>-<seq>`.", examples=[CUSTOMER_EXAMPLE])

router = APIRouter(prefix="/customers", tags=["customers"])

PROBLEMS = {
    401: "Not signed in.",
    403: "Your role does not allow this.",
    404: "No such customer (or it was merged into another: the message names it).",
    409: "The customer does not allow this now (merged, erased, or an identity taken).",
    412: "The customer changed since you read it: reload and try again.",
    422: "A field is invalid; `errors` names it.",
    428: "Send If-Match with the ETag you read.",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return problem_responses(PROBLEMS, 401, 403, *statuses)


# --- routes ---------------------------------------------------------------------------------------


@router.get(
    "",
    summary="Find customers",
    dependencies=[allow(Permission.CUSTOMER_READ)],
    responses=problems(422),
)
async def list_customers(
    reads: ReadsDep,
    settings: SettingsDep,
    staff: CurrentStaff,
    response: Response,
    q: Annotated[
        str | None,
        Query(max_length=200, description="Part of a name (any script), a phone number, an e-mail or an id."),
    ] = None,
    phone: Annotated[str | None, Query(max_length=40)] = None,
    email: Annotated[str | None, Query(max_length=320)] = None,
    psid: Annotated[str | None, Query(max_length=64, description="A Messenger PSID.")] = None,
    tag: Annotated[list[str] | None, Query(description="Every tag given must be on the customer.")] = None,
    stage: LifecycleStage | None = None,
    assigned: Annotated[str | None, Query(description=ASSIGNED_HELP)] = None,
    created_from: Annotated[StorableMoment | None, Query(description="Created at or after.")] = None,
    created_to: Annotated[StorableMoment | None, Query(description="Created before.")] = None,
    state: Literal["active", "merged", "erased"] = "active",
    temperature: Annotated[Temperature | None, Query(description="The ai's lead temperature.")] = None,
    min_lead_score: Annotated[
        int | None, Query(ge=0, le=100, description="Only customers the ai scored at least this.")
    ] = None,
    sort: Annotated[
        customer_search.Sort, Query(description="`lead_score`: unscored customers come after every score.")
    ] = customer_search.DEFAULT_SORT,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE_SIZE)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=500, description="`next_cursor` of the previous page.")
    ] = None,
) -> CustomerPageOut:
    filters = customer_search.Filters(
        q=q,
        phone=phone,
        email=email,
        psid=psid,
        tags=[t.strip().lower() for t in tag or [] if t.strip()],
        stage=stage,
        assigned=assigned_filter(assigned, staff),
        created_from=created_from,
        created_to=created_to,
        state=state,
        temperature=temperature,
        min_lead_score=min_lead_score,
    )
    page, source = await service.list_customers(
        reads, settings.crm_cache_dir, filters=filters, sort=sort, limit=limit, cursor=cursor
    )
    response.headers[SERVED_FROM] = source
    return CustomerPageOut(items=page.items, next_cursor=page.next_cursor)


@router.post(
    "",
    status_code=201,
    summary="Create a customer (walk-in, LINE, web form...)",
    dependencies=[allow(Permission.CUSTOMER_WRITE)],
    responses=problems(409, 422),
)
async def create_customer(
    body: CustomerIn, staff: CurrentStaff, uow: UowDep, response: Response
) -> CustomerSnapshot:
    """The id is the next of its channel and Bangkok year, gapless. An identity that already
    belongs to a customer is refused with 409 naming that customer."""
    new = customers.NewCustomer(channel=body.channel, change=body.change(), identities=body.identities)
    async with uow:
        snapshot = await customers.create(uow, new, staff=staff)
        await uow.commit()
    response.headers["Location"] = f"/api/v1/customers/{snapshot.customer_id}"
    response.headers["ETag"] = etag(snapshot.version)
    return snapshot


@router.get(
    "/{customer_id}",
    summary="One customer",
    dependencies=[allow(Permission.CUSTOMER_READ)],
    responses=problems(404),
)
async def get_customer(
    customer_id: Annotated[str, CUSTOMER_ID], reads: ReadsDep, settings: SettingsDep, response: Response
) -> CustomerView:
    snapshot, source = await service.get_customer(reads, settings.crm_cache_dir, customer_id)
    response.headers[SERVED_FROM] = source
    response.headers["ETag"] = etag(snapshot.version)
    return snapshot


@router.patch(
    "/{customer_id}",
    summary="Change a customer's profile",
    dependencies=[allow(Permission.CUSTOMER_WRITE)],
    responses=problems(404, 409, 412, 422, 428),
)
async def patch_customer(
    customer_id: Annotated[str, CUSTOMER_ID],
    body: CustomerPatch,
    staff: CurrentStaff,
    uow: UowDep,
    response: Response,
    if_match: Annotated[str | None, Header(description=IF_MATCH_HELP)] = None,
) -> CustomerSnapshot:
    """Only the fields sent change; a stage change is added to the stage history and timeline."""
    async with uow:
        snapshot = await customers.update(uow, customer_id, body.change(), if_match=if_match, staff=staff)
        await uow.commit()
    response.headers["ETag"] = etag(snapshot.version)
    return snapshot


@router.get(
    "/{customer_id}/overview",
    summary="Customer 360: profile, lead score and insights, stages, notes, orders and timeline",
    dependencies=[allow(Permission.CUSTOMER_READ)],
    responses=problems(404),
)
async def overview(
    customer_id: Annotated[str, CUSTOMER_ID], reads: ReadsDep, response: Response
) -> Customer360Out:

    # From the database, not the cache: the 360 reads the database anyway, and the customer's
    # row costs one statement where a cached file costs a read and the state check besides.
    snapshot, insights = await service.customer_from_database(reads, customer_id)
    view = await service.overview(reads, customer_id, items=OVERVIEW_ITEMS)
    response.headers[SERVED_FROM] = "database"

    response.headers["ETag"] = etag(snapshot.version)
    return Customer360Out(
        customer=snapshot,
        insights=insights,
        stage_history=[StageChangeOut(**s) for s in view.stages],
        notes=[NoteOut(**n) for n in view.notes],
        orders=[OrderSummaryOut(order_id=o.pop("id"), **o) for o in view.orders],
        lifetime_value=str(view.lifetime_value),
        timeline=[
            TimelineEntryOut(kind=e["kind"], occurred_at=e["occurred_at"], detail=e["detail"])
            for e in view.timeline
        ],
    )


@router.get(
    "/{customer_id}/notes",
    summary="A customer's notes, newest first",
    dependencies=[allow(Permission.CUSTOMER_READ)],
    responses=problems(404),
)
async def list_notes(customer_id: Annotated[str, CUSTOMER_ID], session: SessionDep) -> list[NoteOut]:
    return [NoteOut(**vars(n)) for n in await service.notes(session, customer_id)]


@router.post(
    "/{customer_id}/notes",
    status_code=201,
    summary="Add a note",
    dependencies=[allow(Permission.CUSTOMER_WRITE)],
    responses=problems(404, 409, 422),
)
async def add_note(
    customer_id: Annotated[str, CUSTOMER_ID], body: NoteIn, staff: CurrentStaff, uow: UowDep
) -> NoteOut:
    async with uow:
        note = await customers.add_note(uow, customer_id, body.body, staff=staff)
        await uow.commit()
    return NoteOut(**vars(note))


@router.get(
    "/{customer_id}/timeline",
    summary="A customer's timeline, newest first",
    dependencies=[allow(Permission.CUSTOMER_READ)],
    responses=problems(404, 422),
)
async def get_timeline(
    customer_id: Annotated[str, CUSTOMER_ID],
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=500, description="`next_cursor` of the previous page.")
    ] = None,
) -> TimelinePageOut:
    await service.require_customer(session, customer_id)
    entries, next_cursor = await service.timeline_page(session, customer_id, limit=limit, cursor=cursor)
    return TimelinePageOut(
        items=[TimelineEntryOut(kind=e.kind, occurred_at=e.occurred_at, detail=e.detail) for e in entries],
        next_cursor=next_cursor,
    )


@router.get(
    "/{customer_id}/duplicates",
    summary="Customers that may be the same person",
    dependencies=[allow(Permission.CUSTOMER_READ)],
    responses=problems(404),
)
async def get_duplicates(customer_id: Annotated[str, CUSTOMER_ID], session: SessionDep) -> list[DuplicateOut]:
    """Same phone, same e-mail, or a similar name (Thai or Latin), most likely first."""
    found = await merges.duplicates(session, customer_id)
    return [
        DuplicateOut(
            customer=c.snapshot,
            same_phone=c.same_phone,
            same_email=c.same_email,
            name_similarity=c.name_similarity,
        )
        for c in found
    ]


@router.post(
    "/{customer_id}/merge",
    summary="Merge another customer into this one",
    dependencies=[allow(Permission.CUSTOMER_MERGE)],
    responses=problems(404, 409, 422),
)
async def merge_customer(
    customer_id: Annotated[str, CUSTOMER_ID],
    body: MergeIn,
    staff: CurrentStaff,
    uow: UowDep,
    response: Response,
) -> MergeOut:
    """This customer keeps its id and gains the other's identities, orders, notes and timeline;
    its empty fields are filled from the other. Only an admin can undo it, through the audit
    entry `merge_id` (`POST /api/v1/audit/{merge_id}/undo`). Audited (`customer.merge`).
    Permission: `customer:merge` (managers and admins)."""
    async with uow:
        snapshot, merge_id = await merges.merge(uow, customer_id, body.merged_id, staff=staff)
        await uow.commit()
    response.headers["ETag"] = etag(snapshot.version)
    return MergeOut(merge_id=merge_id, customer=snapshot)
