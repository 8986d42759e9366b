"""OpenAPI links for the stateful phase of the API fuzz run: the ids a call creates (a customer, a
product and its sessions, an order and its payments, staff, an erasure request, a sync run) are
used by the calls that take them, so generated sequences reach past the 404 of a random id:
create a customer, add a note, order for them, pay, refund, cancel, merge, export, erase...

They are added to the gateway's live OpenAPI document by the test, not declared in the gateway:
they say how to walk the API while testing it (some carry ids the test seeded, or an `x-schemathesis`
extension), not what a client may rely on; declared in the routers they would be untyped dicts
spread over every capability and would change the published contract
(contracts/openapi/gateway.json) for no client's sake. Each link names its operations by method and
path; `with_links` fails when one is not in the schema, so a route renamed in the gateway cannot
silently turn a link off (tests/api_fuzz/test_links.py checks them against the contract).

Schemathesis's own inference (from response schemas and `Location`) is switched off for this phase:
its links evaluate loosely and would spread the scenarios over guesses.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

API = "/api/v1"
Op = tuple[str, str]  # (method, path)


@dataclass(frozen=True)
class Link:
    source: Op
    status: str
    target: Op
    parameters: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None  # merged into the generated body, unless `replace_body`
    name: str = ""  # tells apart two links from one response to one operation
    replace_body: bool = False  # `body` is the whole body


def _op(method: str, path: str) -> Op:
    return (method, API + path)


# Where each kind of id comes from: (operation, status, runtime expression of the id).
CUSTOMER_SOURCES = [
    (_op("post", "/customers"), "201", "$response.body#/customer_id"),
    (_op("patch", "/customers/{customer_id}"), "200", "$response.body#/customer_id"),
]
# Sources that may give the seeded customer (a merge's survivor, the first of the list): every
# target but the erasure, which would end every order and merge of the run.
SEEDED_CUSTOMER_SOURCES = [
    (_op("post", "/customers/{customer_id}/merge"), "200", "$response.body#/customer/customer_id"),
    (_op("get", "/customers"), "200", "$response.body#/items/0/customer_id"),
]
ERASURE = _op("post", "/customers/{customer_id}/erasure")
CUSTOMER_TARGETS = [
    _op("get", "/customers/{customer_id}"),
    _op("patch", "/customers/{customer_id}"),
    _op("get", "/customers/{customer_id}/overview"),
    _op("get", "/customers/{customer_id}/notes"),
    _op("post", "/customers/{customer_id}/notes"),
    _op("get", "/customers/{customer_id}/timeline"),
    _op("get", "/customers/{customer_id}/duplicates"),
    _op("post", "/customers/{customer_id}/merge"),  # with a merged_id generated
    _op("get", "/customers/{customer_id}/export"),
    ERASURE,
    _op("get", "/customers/{customer_id}/erasure-requests"),
]
PRODUCT_TARGETS = [
    _op("get", "/products/{product_id}"),
    _op("patch", "/products/{product_id}"),
    _op("post", "/products/{product_id}/sessions"),
]
ORDER_SOURCES = [
    (_op("post", "/orders"), "201"),
    (_op("post", "/orders/{order_id}/payments"), "201"),
    (_op("post", "/orders/{order_id}/refunds"), "201"),
    (_op("post", "/orders/{order_id}/cancel"), "200"),
    (_op("get", "/orders/{order_id}"), "200"),
]
STAFF_SOURCES = [(_op("post", "/staff"), "201"), (_op("patch", "/staff/{staff_id}"), "200")]
STAFF_TARGETS = [_op("get", "/staff/{staff_id}"), _op("patch", "/staff/{staff_id}")]
MERGE = _op("post", "/customers/{customer_id}/merge")
ERASED_READS = ["/customers/{customer_id}", "/customers/{customer_id}/export"]
CONVERSATION_TARGETS = [
    _op("get", "/conversations/{conversation_id}"),
    _op("post", "/conversations/{conversation_id}/assign"),
    _op("post", "/conversations/{conversation_id}/handback"),
    _op("post", "/conversations/{conversation_id}/read"),
    _op("post", "/conversations/{conversation_id}/messages"),
]


@dataclass(frozen=True)
class Seed:
    """What the test creates before the run, so one link can carry what a single response does
    not: an order needs a customer and a product, a merge two customers."""

    customer_id: str  # the survivor every new customer may be merged into
    product_id: str  # equipment: no session
    course_id: str
    session_id: str  # a session of the course


def declared(seed: Seed) -> list[Link]:
    links: list[Link] = []

    def order(source: Op, status: str, customer: str, *lines: dict[str, Any]) -> Link:
        # The whole body: generated fields merged into these lines (a session on the equipment,
        # lines added) would only ever be refused.
        body = {"customer_id": customer, "lines": list(lines)}
        return Link(source, status, _op("post", "/orders"), body=body, replace_body=True)

    equipment = {"product_id": seed.product_id, "quantity": 1}
    course = {"product_id": seed.course_id, "session_id": seed.session_id, "quantity": 1}
    for source, status, customer in SEEDED_CUSTOMER_SOURCES:
        links += [
            Link(source, status, target, {"customer_id": customer})
            for target in CUSTOMER_TARGETS
            if target != ERASURE
        ]
    for source, status, customer in CUSTOMER_SOURCES:
        links += [Link(source, status, target, {"customer_id": customer}) for target in CUSTOMER_TARGETS]
        links.append(order(source, status, customer, equipment, course))
        # This customer merged into the seeded one (which stays, whatever is merged into it).
        into = {"customer_id": seed.customer_id}
        links.append(Link(source, status, MERGE, into, {"merged_id": customer}, name="into_seeded"))

    product = "$response.body#/id"
    for source, status in [
        (_op("post", "/products"), "201"),
        (_op("patch", "/products/{product_id}"), "200"),
    ]:
        links += [Link(source, status, target, {"product_id": product}) for target in PRODUCT_TARGETS]
        links.append(order(source, status, seed.customer_id, {"product_id": product, "quantity": 1}))
    session = _op("post", "/products/{product_id}/sessions")
    course_of_session = {"product_id": "$response.body#/product_id"}
    booked = {**course_of_session, "session_id": "$response.body#/id", "quantity": 1}
    links.append(order(session, "201", seed.customer_id, booked))
    links.append(Link(session, "201", _op("get", "/products/{product_id}"), course_of_session))

    order_id = {"order_id": "$response.body#/id"}
    for source, status in ORDER_SOURCES:
        links += [
            Link(source, status, _op("get", "/orders/{order_id}"), order_id),
            Link(source, status, _op("post", "/orders/{order_id}/cancel"), order_id),
            # Pay what is due, refund what was paid: amounts that get past the rules.
            Link(
                source,
                status,
                _op("post", "/orders/{order_id}/payments"),
                order_id,
                {"amount": "$response.body#/due"},
            ),
            Link(
                source,
                status,
                _op("post", "/orders/{order_id}/refunds"),
                order_id,
                {"amount": "$response.body#/paid"},
            ),
            Link(
                source,
                status,
                _op("get", "/customers/{customer_id}"),
                {"customer_id": "$response.body#/customer_id"},
            ),
        ]

    for source, status in STAFF_SOURCES:
        links += [
            Link(source, status, target, {"staff_id": "$response.body#/id"}) for target in STAFF_TARGETS
        ]
    # The signed-in admin, whom scenarios can always start from (`GET /auth/me` never fails): a
    # customer assigned to them, and their account read (never changed: the run needs it).
    me, my_id = _op("get", "/auth/me"), "$response.body#/id"
    links.append(Link(me, "200", _op("post", "/customers"), body={"assigned_staff_id": my_id}))
    links.append(Link(me, "200", _op("get", "/staff/{staff_id}"), {"staff_id": my_id}))

    request = {"request_id": "$response.body#/id"}
    links.append(Link(ERASURE, "202", _op("get", "/erasure-requests/{request_id}"), request))
    erased = {"customer_id": "$response.body#/customer_id"}
    links += [Link(ERASURE, "202", _op("get", path), erased) for path in ERASED_READS]
    first = "$response.body#/items/0/id"
    links.append(
        Link(_op("get", "/audit"), "200", _op("post", "/audit/{entry_id}/undo"), {"entry_id": first})
    )
    syncs = _op("post", "/marketing/syncs")
    links.append(Link(syncs, "202", _op("get", "/marketing/syncs/{run_id}"), {"run_id": first}))
    conversations = _op("get", "/conversations")
    links += [
        Link(conversations, "200", target, {"conversation_id": first}) for target in CONVERSATION_TARGETS
    ]
    return links


def with_links(schema: dict[str, Any], links: list[Link]) -> dict[str, Any]:
    """A copy of the gateway's OpenAPI document with the links added to their source responses.

    Raises `LookupError` naming a link's operation or status that the document does not have."""
    document = copy.deepcopy(schema)
    paths = document["paths"]

    def operation(op: Op) -> dict[str, Any]:
        method, path = op
        found: dict[str, Any] | None = paths.get(path, {}).get(method)
        if found is None:
            raise LookupError(f"{method.upper()} {path} is not in the gateway's OpenAPI document")
        return found

    for link in links:
        source, target = operation(link.source), operation(link.target)
        parameters = dict(link.parameters)
        if link.target[0] == "patch" and any(p["name"] == "if-match" for p in target.get("parameters", [])):
            # A change needs the version it was read at: the source's ETag (none from a list).
            parameters["header.if-match"] = "$response.header.ETag"
        response = source["responses"].get(link.status)
        if response is None:
            raise LookupError(
                f"{link.source[0].upper()} {link.source[1]} documents no {link.status} response"
            )
        definition: dict[str, Any] = {"operationId": target["operationId"]}
        if parameters:
            definition["parameters"] = parameters
        if link.body is not None:
            definition["requestBody"] = link.body
        if link.replace_body:
            definition["x-schemathesis"] = {"merge_body": False}
        named = response.setdefault("links", {})
        name = "_".join(filter(None, [target["operationId"], link.name]))
        if name in named:
            raise LookupError(f"two links named {name} from {link.source} ({link.status})")
        named[name] = definition
    return document
