"""What the gateway benchmark asks, each request for something random from the loaded data.

A scenario is a script per client (`bench.closedloop.Script`); its bare counterpart asks the
baseline endpoint for a JSON body of the same size with the same method (and, for a POST, a
body of the same size).
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from .closedloop import Call, Script
from .crm_data import Terms

CUSTOMERS = "/api/v1/customers"


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    group: str
    """`search` and `360` have the p99 target; `list` and `order` are reported."""
    script: Callable[[int], Script]
    """The script of client `i`."""
    cached: bool = False
    """Served from the cache-writer's snapshots when they exist: measured again with them."""
    sample: Call | None = None
    """A typical request, whose body the bare counterpart sends too."""


class Picker:
    """Independent requests: each one made by `make` from this client's random generator."""

    def __init__(self, rng: random.Random, make: Callable[[random.Random], Call]) -> None:
        self.rng = rng
        self.make = make

    def next_call(self) -> Call:
        return self.make(self.rng)

    def answered(self, response: httpx.Response) -> None:
        return None


class Pages:
    """The customer list, newest first, `limit=50`, followed `depth` pages deep by `next_cursor`."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.page = 0
        self.cursor: str | None = None

    def next_call(self) -> Call:
        query = {"limit": 50} | ({"cursor": self.cursor} if self.cursor else {})
        return Call("GET", f"{CUSTOMERS}?{urlencode(query)}")

    def answered(self, response: httpx.Response) -> None:
        cursor = response.json().get("next_cursor") if response.status_code == 200 else None
        self.page += 1
        if cursor is None or self.page >= self.depth:
            self.page, self.cursor = 0, None
        else:
            self.cursor = cursor


def scenarios(terms: Terms, pages: int, seed: int) -> list[Scenario]:
    def picker(make: Callable[[random.Random], Call]) -> Callable[[int], Script]:
        return lambda i: Picker(random.Random(seed * 100_003 + i), make)

    def search(query: Callable[[random.Random], dict[str, str]]) -> Callable[[int], Script]:
        return picker(lambda rng: Call("GET", f"{CUSTOMERS}?{urlencode(query(rng))}"))

    def one(suffix: str) -> Callable[[int], Script]:
        return picker(lambda rng: Call("GET", f"{CUSTOMERS}/{rng.choice(terms.customer_ids)}{suffix}"))

    def order(rng: random.Random) -> Call:
        return order_call(rng, terms)

    return [
        Scenario("search-name", "search: Thai name part", "search",
                 search(lambda rng: {"q": rng.choice(terms.thai_names)})),
        Scenario("search-phone", "search: phone, local form", "search",
                 search(lambda rng: {"q": rng.choice(terms.local_phones)})),
        Scenario("search-tag-stage", "search: tag + stage", "search",
                 search(lambda rng: dict(zip(("tag", "stage"), rng.choice(terms.tag_stages), strict=True)))),
        Scenario("customer", "customer: GET /customers/{id}", "360", one(""), cached=True),
        Scenario("overview", "customer 360: /overview", "360", one("/overview")),
        Scenario("list", f"list: limit=50, {pages} pages deep", "list", lambda i: Pages(pages), cached=True),
        Scenario("order", "order: POST /orders", "order", picker(order), sample=order(random.Random(seed))),
    ]  # fmt: skip


def order_call(rng: random.Random, terms: Terms) -> Call:
    """One or two lines from the catalog, a course booked on one of its sessions; a new key each time."""
    lines = []
    for product in rng.sample(terms.products, rng.choice([1, 1, 2])):
        line: dict[str, object] = {"product_id": str(product.id), "quantity": 1}
        if product.sessions:
            line["session_id"] = str(rng.choice(product.sessions))
        lines.append(line)
    body = json.dumps({"customer_id": rng.choice(terms.customer_ids), "lines": lines}).encode()
    headers = {
        "content-type": "application/json",
        "idempotency-key": str(uuid.UUID(int=rng.getrandbits(128))),
    }
    return Call("POST", "/api/v1/orders", body, headers)


def bare_script(scenario: Scenario, size: int) -> Callable[[int], Script]:
    """The baseline's requests: same method (and body size), an answer of `size` bytes."""
    sample = scenario.sample
    call = Call(
        sample.method if sample else "GET",
        f"/bench/json?size={max(size, 0)}",
        sample.body if sample else None,
        dict(sample.headers) if sample else {},
    )
    return lambda i: Picker(random.Random(i), lambda rng: call)
