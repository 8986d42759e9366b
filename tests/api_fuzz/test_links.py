"""The stateful phase's links fit the gateway's published OpenAPI document (checked without the
stack, so a route renamed in the gateway fails here, not as a quiet loss of depth in the fuzz run)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.api_fuzz.links import Link, Seed, declared, with_links

CONTRACT = Path(__file__).resolve().parents[2] / "contracts/openapi/gateway.json"
SEED = Seed("TVS-CUS-WALKIN-26-0001", "p-1", "c-1", "s-1")


def contract() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(CONTRACT.read_text())
    return document


def test_every_link_joins_operations_and_responses_the_gateway_documents() -> None:
    document = with_links(contract(), declared(SEED))
    operation_ids = {op["operationId"] for ops in document["paths"].values() for op in ops.values()}
    links = [
        (path, method, status, link)
        for path, ops in document["paths"].items()
        for method, op in ops.items()
        for status, response in op["responses"].items()
        for link in response.get("links", {}).values()
    ]
    assert len(links) == len(declared(SEED))
    assert {link["operationId"] for *_, link in links} <= operation_ids
    # A change sends back the version it was read at.
    patches = [link for *_, link in links if link["operationId"].startswith(("patch_", "update_"))]
    assert patches
    assert all(link["parameters"]["header.if-match"] == "$response.header.ETag" for link in patches)
    # Orders carry the whole body: the seeded things, or the id the source created.
    orders = [link for *_, link in links if link["operationId"] == "create_order_api_v1_orders_post"]
    assert orders
    assert all(link["x-schemathesis"] == {"merge_body": False} for link in orders)
    assert contract() == json.loads(CONTRACT.read_text()), "the document given is not changed"


def test_a_link_to_an_operation_or_status_the_gateway_lacks_is_refused() -> None:
    customers = ("post", "/api/v1/customers")
    with pytest.raises(LookupError, match=re.escape("DELETE /api/v1/customers/{customer_id} is not in")):
        with_links(contract(), [Link(customers, "201", ("delete", "/api/v1/customers/{customer_id}"))])
    with pytest.raises(LookupError, match="documents no 204 response"):
        with_links(contract(), [Link(customers, "204", ("get", "/api/v1/customers/{customer_id}"))])
