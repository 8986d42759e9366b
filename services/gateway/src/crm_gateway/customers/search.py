"""Finding customers: one free-text box (name in any script, partial; a phone number; an e-mail;
a customer id) plus filters (the ai's lead temperature and a minimum lead score among them),
sorted by creation, last change or lead score, in keyset pages whose cursors are opaque to clients.

Partial names use the trigram index on `customers.search_names` (Thai script included); a phone
number typed in any local form is searched as its E.164 form; digits alone match inside numbers.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import ColumnElement, exists, func, literal, literal_column, or_, select, text, tuple_
from sqlalchemy.dialects.postgresql import aggregate_order_by

from crm_contracts import ChannelIdentity, Temperature
from crm_gateway.customers import repository
from crm_gateway.customers.contact_points import phone_search_key
from crm_gateway.customers.ids import is_customer_id
from crm_gateway.customers.leads import CustomerView, lead_of, view
from crm_gateway.customers.models import customer_identities as ident
from crm_gateway.customers.models import customers as cust
from crm_gateway.errors import InvalidParameter
from crm_gateway.reads import HotReads

Sort = Literal["-created_at", "created_at", "-updated_at", "updated_at", "-lead_score", "lead_score"]
DEFAULT_SORT: Sort = "-created_at"
# Unscored customers sort as -1: after every score, highest first (the index is on this expression).
LEAD_SCORE_KEY = func.coalesce(cust.c.lead_score, literal_column("-1"))
SORT_COLUMNS: dict[str, ColumnElement[Any]] = {
    "created_at": cust.c.created_at,
    "updated_at": cust.c.updated_at,
    "lead_score": LEAD_SCORE_KEY,
}


@dataclass(frozen=True)
class Filters:
    q: str | None = None
    phone: str | None = None
    email: str | None = None
    psid: str | None = None
    tags: list[str] = field(default_factory=list)
    stage: str | None = None
    assigned: uuid.UUID | Literal["unassigned"] | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    state: Literal["active", "merged", "erased"] = "active"
    temperature: Temperature | None = None
    min_lead_score: int | None = None

    @property
    def is_default(self) -> bool:
        return self == Filters()


@dataclass(frozen=True)
class Keyset:
    sort: Sort
    at: datetime | int  # the sort key: a time, or a lead score
    customer_id: str


async def search(
    reads: HotReads, filters: Filters, *, sort: Sort, limit: int, after: Keyset | None
) -> list[CustomerView]:
    """One statement (identities aggregated in it) on the hot-read pool."""
    column = SORT_COLUMNS[sort.lstrip("-")]
    descending = sort.startswith("-")
    query = select(cust, IDENTITIES).where(*conditions(filters)).limit(limit)
    order = (column.desc(), cust.c.id.desc()) if descending else (column.asc(), cust.c.id.asc())
    query = query.order_by(*order)
    if after is not None:
        if after.sort != sort:
            raise InvalidParameter("cursor", "query", "This cursor belongs to another sort order.")
        key = tuple_(literal(after.at, column.type), literal(after.customer_id, cust.c.id.type))
        here = tuple_(column, cust.c.id)
        query = query.where(here < key if descending else here > key)
    rows = await reads.fetch(query)
    return [
        view(repository.snapshot(r, [ChannelIdentity(**i) for i in r.identities_json]), lead_of(vars(r)))
        for r in rows
    ]


# The customer's identities as a JSON array, in the order they were added.
IDENTITIES = (
    select(
        func.coalesce(
            func.json_agg(
                aggregate_order_by(
                    func.json_build_object(
                        "channel",
                        ident.c.channel,
                        "page_id",
                        ident.c.page_id,
                        "external_id",
                        ident.c.external_id,
                    ),
                    ident.c.id,
                )
            ),
            text("'[]'::json"),
        )
    )
    .where(ident.c.customer_id == cust.c.id)
    .scalar_subquery()
    .label("identities_json")
)


def conditions(f: Filters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [cust.c.state == f.state]
    if f.q and f.q.strip():
        where.append(_free_text(f.q.strip()))
    if f.phone:
        key = phone_search_key(f.phone)
        if key is None:
            raise InvalidParameter("phone", "query", "Not a phone number.")
        where.append(cust.c.phone == key)
    if f.email:
        where.append(cust.c.email == f.email.strip().lower())
    if f.psid:
        where.append(exists().where(ident.c.customer_id == cust.c.id, ident.c.external_id == f.psid))
    if f.tags:
        where.append(cust.c.tags.contains(f.tags))
    if f.stage:
        where.append(cust.c.lifecycle_stage == f.stage)
    if f.assigned == "unassigned":
        where.append(cust.c.assigned_staff_id.is_(None))
    elif f.assigned is not None:
        where.append(cust.c.assigned_staff_id == f.assigned)
    if f.created_from:
        where.append(cust.c.created_at >= f.created_from)
    if f.created_to:
        where.append(cust.c.created_at < f.created_to)
    if f.temperature:
        where.append(cust.c.lead_temperature == f.temperature)
    if f.min_lead_score is not None:
        where.append(cust.c.lead_score >= f.min_lead_score)
    return where


def _free_text(q: str) -> ColumnElement[bool]:
    """A customer id, a whole phone number, an e-mail, digits inside a number, or part of a name."""
    if is_customer_id(q.upper()):
        return cust.c.id == q.upper()
    if "@" in q:
        return cust.c.email == q.lower()
    phone = phone_search_key(q) if sum(c.isdigit() for c in q) >= 8 else None
    if phone is not None:
        return cust.c.phone == phone
    digits = "".join(c for c in q if c.isdigit())
    name = cust.c.search_names.like(f"%{_escape(q.lower())}%", escape="!")
    if digits and len(digits) >= 4 and len(digits) == len(q.replace(" ", "").replace("-", "")):
        return or_(cust.c.phone.like(f"%{digits}%"), name)
    return name


def _escape(text: str) -> str:
    """LIKE's wildcards taken literally ("!" escapes: a backslash would need dialect quoting)."""
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


# --- cursors: the keyset of a page's last item, opaque to clients --------------------------------


def encode_cursor(sort: Sort, last: CustomerView) -> str:
    key = sort.lstrip("-")
    at: str | int
    if key == "lead_score":
        at = last.lead.score if last.lead is not None else -1
    else:
        at = (last.created_at if key == "created_at" else last.updated_at).isoformat()
    raw = json.dumps([sort, at, last.customer_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Keyset:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sort, at_text, customer_id = json.loads(raw)
        at: datetime | int
        if sort in ("lead_score", "-lead_score"):
            if not isinstance(at_text, int) or isinstance(at_text, bool):
                raise ValueError("not a score")
            at = at_text
        else:
            at = datetime.fromisoformat(at_text)
            if at.tzinfo is None:
                raise ValueError("naive time")
        if sort not in SORTS or not isinstance(customer_id, str):
            raise ValueError("incomplete keyset")
        return Keyset(sort, at, customer_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidParameter("cursor", "query", "Not a cursor this API returned.") from exc


SORTS: tuple[Sort, ...] = get_args(Sort)
