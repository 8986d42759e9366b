"""Input a hostile client sends: text PostgreSQL cannot store (U+0000, lone surrogates) and fields
no body has are refused with a 422 problem naming the field, on every route the app serves (the
walks below read the app itself, not a list), and nothing is stored."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from sqlalchemy import func, select

from crm_gateway.auth.models import login_throttle
from crm_gateway.customers.models import customers
from crm_gateway.deps import storable_input
from crm_servicekit.runtime import Runtime

from .test_permissions import PATH_VALUES, staff_routes

pytestmark = pytest.mark.integration

PROBLEM = "urn:vschool-crm:problem:"
NUL = "contains U+0000 (NUL), which cannot be stored"
SURROGATE = "contains U+D800 (a lone surrogate, not UTF-8), which cannot be stored"
# OAuth 2.0 has a token endpoint ignore the parameters it does not know (RFC 6749, section 3.1).
IGNORES_UNKNOWN_FIELDS = {("POST", "/api/v1/auth/token")}
# Knowledge uploads are streamed to the ai unparsed (never held whole in the gateway): the ai reads
# the form and refuses what it cannot store (`test_knowledge.py`).
STREAMED_TO_THE_AI = {
    ("POST", "/api/v1/knowledge/documents"),
    ("PUT", "/api/v1/knowledge/documents/{document_id}"),
}


def assert_refused(response: httpx.Response, *fields: tuple[str, str, str]) -> None:
    """A 422 problem whose `errors` are exactly these (field, location, detail)."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == PROBLEM + "validation-error"
    assert [(e["field"], e["location"], e["detail"]) for e in problem["errors"]] == list(fields)
    names = ", ".join(dict.fromkeys(f for f, _, _ in fields))
    assert problem["detail"] == f"Check these fields: {names}."


def escaped(body: object) -> dict[str, Any]:
    """A JSON body as bytes that carry a lone surrogate the only way JSON can (`\\ud800`)."""
    return {"content": json.dumps(body), "headers": {"content-type": "application/json"}}


async def customer_count(runtime: Runtime) -> int:
    async with runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(customers)) or 0)


# --- the one mechanism, on every route ------------------------------------------------------------


def calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from calls(sub)


def test_every_route_checks_that_its_strings_can_be_stored(app: FastAPI) -> None:
    unchecked = [
        f"{m} {p}" for m, p, dependant in staff_routes(app) if storable_input not in calls(dependant)
    ]
    assert unchecked == []


def json_bodies(app: FastAPI) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(method, path, media type, schema) of every request body in the app's OpenAPI document."""
    document = app.openapi()
    schemas = document["components"]["schemas"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
                schema = content["schema"]
                if (method.upper(), path) in STREAMED_TO_THE_AI:
                    continue
                if "$ref" in schema:
                    schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
                yield method.upper(), path, media_type, schema


def url_of(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], path)


async def test_every_body_refuses_text_that_cannot_be_stored_naming_the_field(
    app: FastAPI, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    checked = 0
    for method, path, media_type, schema in json_bodies(app):
        field = next(iter(schema["properties"]))
        for text, why in (("abc\x00def", NUL), ("abc\ud800def", SURROGATE)):
            if media_type == "application/x-www-form-urlencoded":
                if why == SURROGATE:  # a form is bytes: it can carry no lone surrogate
                    continue
                response = await client.request(method, url_of(path), data={field: text}, headers=auth)
            else:
                sent = escaped({field: text})
                headers = {**auth, **sent.pop("headers")}
                response = await client.request(method, url_of(path), **sent, headers=headers)
            assert_refused(response, (field, "body", why))
            checked += 1
    assert checked >= 2 * 17, "the walk must see every request body"


async def test_every_json_body_refuses_a_field_it_does_not_have_naming_it(
    app: FastAPI, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    checked = 0
    for method, path, media_type, schema in json_bodies(app):
        if (method, path) in IGNORES_UNKNOWN_FIELDS:
            continue
        assert media_type == "application/json", f"{method} {path}"
        assert schema.get("additionalProperties") is False, f"{method} {path} documents no refusal"
        response = await client.request(method, url_of(path), json={"nickname_typo": "x"}, headers=auth)
        assert response.status_code == 422, f"{method} {path}: {response.text}"
        errors = {e["field"]: e["detail"] for e in response.json()["errors"]}
        assert errors.get("nickname_typo") == "Extra inputs are not permitted", f"{method} {path}: {errors}"
        checked += 1
    assert checked >= 16, "the walk must see every JSON body"


# --- what staff see ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("no_customers")
async def test_a_customer_name_with_a_nul_is_a_422_naming_it_and_nothing_is_stored(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime
) -> None:
    response = await client.post(
        "/api/v1/customers", json={"channel": "WALKIN", "name_latin": "abc\x00def"}, headers=auth
    )

    assert_refused(response, ("name_latin", "body", NUL))
    assert await customer_count(runtime) == 0


@pytest.mark.usefixtures("no_customers")
async def test_every_unstorable_string_of_a_body_is_named_nested_ones_and_names_included(
    client: httpx.AsyncClient, auth: dict[str, str], runtime: Runtime
) -> None:
    body = {
        "channel": "WALKIN",
        "nickname": "\ud800",
        "tags": ["sushi", "we\x00ekend"],
        "consent": {"status": "granted", "method": "form\x00"},
        "name\x00_th": "x",
    }

    sent = escaped(body)
    response = await client.post(
        "/api/v1/customers", content=sent["content"], headers={**auth, **sent["headers"]}
    )

    assert_refused(
        response,
        ("nickname", "body", SURROGATE),
        ("tags.1", "body", NUL),
        ("consent.method", "body", NUL),
        ("name_th", "body", f"the name {NUL}"),
    )
    assert await customer_count(runtime) == 0


async def test_path_and_query_parameters_with_a_nul_are_a_422_naming_them(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    one = await client.get("/api/v1/customers/" + quote("TVS-CUS-FB-26-0001\x00"), headers=auth)
    assert_refused(one, ("customer_id", "path", NUL))

    search = await client.get("/api/v1/customers", params=[("tag", "a"), ("tag", "b\x00")], headers=auth)
    assert_refused(search, ("tag", "query", NUL))


async def test_every_date_time_query_parameter_refuses_a_moment_before_year_one_in_utc(
    app: FastAPI, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    """`0001-01-01T00:01+01:01` parses, but is 23:00 on 31 December of year 0 in UTC: the driver
    could not send it (found by the stateful fuzz run as a 500)."""
    checked = 0
    for path, item in app.openapi()["paths"].items():
        for parameter in item.get("get", {}).get("parameters", []):
            schema = parameter["schema"].get("anyOf", [parameter["schema"]])
            if parameter["in"] != "query" or not any(s.get("format") == "date-time" for s in schema):
                continue
            name = parameter["name"]
            response = await client.get(
                url_of(path), params={name: "0001-01-01T00:01:00+01:01"}, headers=auth
            )
            assert response.status_code == 422, f"{path} {name}: {response.text}"
            [error] = response.json()["errors"]
            assert (error["field"], error["location"]) == (name, "query"), path
            assert "out of range" in error["detail"], path
            checked += 1
    assert checked >= 4, "customers' created_from and created_to, the audit's since and until"


async def test_sign_in_with_a_nul_is_a_422_and_counts_no_failure(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    async with runtime.sessionmaker() as session:
        before = await session.scalar(select(func.count()).select_from(login_throttle))

    response = await client.post("/api/v1/auth/token", data={"username": "a\x00@x.example", "password": "p"})

    assert_refused(response, ("username", "body", NUL))
    async with runtime.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(login_throttle)) == before


async def test_without_sign_in_the_answer_is_401_whatever_the_body(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/customers", json={"channel": "WALKIN", "name_latin": "a\x00"})

    assert response.status_code == 401


@pytest.mark.usefixtures("no_customers")
async def test_text_that_can_be_stored_is_stored_as_sent_marks_and_combining_characters_included(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    thai = "น้ำ\u0e49\u0e49\u0e49 ก\u0e31\u0e4d"  # stacked tone marks, as pasted from chat
    rtl = "\u202eabc\u202c \u200fשלום\u200e"
    response = await client.post(
        "/api/v1/customers", json={"channel": "WALKIN", "name_th": thai, "nickname": rtl}, headers=auth
    )

    assert response.status_code == 201, response.text
    stored = (await client.get(f"/api/v1/customers/{response.json()['customer_id']}", headers=auth)).json()
    assert (stored["name_th"], stored["nickname"]) == (thai, rtl)
