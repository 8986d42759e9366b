"""One shape for every error: RFC 9457 problem details (`application/problem+json`).

Errors a user can cause are `Problem` subclasses, each defined by the capability that raises it
(`auth/errors.py`, `customers/errors.py`, `clients/errors.py`, `orders/service.py`, ...); the few
here belong to no capability. FastAPI's own HTTP and validation errors are rendered in the same
shape, so a client parses one format only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from crm_servicekit.logging import get_logger
from crm_servicekit.unavailable import install_unavailable_handler

log = get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
# Problem types are identifiers, not links: nothing is served at these URIs.
PROBLEM_TYPE_PREFIX = "urn:vschool-crm:problem:"
BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}
RETRY_SOON = {"Retry-After": "5"}


class ProblemDetails(BaseModel):
    """The body of every error answer (documentation only: `problem_response` writes it)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, str]] | None = None


class Problem(Exception):
    """An error a user can cause, with its HTTP status and a message they can read."""

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"
    # Not a ClassVar: a problem may set its own per instance (e.g. `Retry-After`).
    headers: Mapping[str, str] = {}

    def __init__(self, detail: str, *, errors: Sequence[Mapping[str, str]] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)


class PreconditionFailed(Problem):
    """If-Match named a version that is no longer current: someone changed it since it was read."""

    status = 412
    slug = "precondition-failed"
    title = "Changed since you read it"


class PreconditionRequired(Problem):
    """An update without If-Match: it could overwrite a change the caller never saw."""

    status = 428
    slug = "precondition-required"
    title = "If-Match required"


class DatabaseUnavailable(Problem):
    """The database cannot be reached (a restart, a failover): nothing was done, try again."""

    status = 503
    slug = "database-unavailable"
    title = "Service unavailable"
    headers = RETRY_SOON


class InvalidParameter(Problem):
    """A parameter FastAPI accepted by type but the gateway cannot use (e.g. a forged cursor)."""

    status = 422
    slug = "validation-error"
    title = "Invalid request"

    def __init__(self, field: str, location: str, detail: str) -> None:
        super().__init__(
            f"The {location} parameter {field!r} is invalid.",
            errors=[{"field": field, "location": location, "detail": detail}],
        )


def problem_response(
    status: int,
    *,
    title: str,
    detail: str,
    type_: str = "about:blank",
    instance: str | None = None,
    errors: Sequence[Mapping[str, str]] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = list(errors)
    return JSONResponse(body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_JSON)


async def _problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(
        exc.status,
        type_=PROBLEM_TYPE_PREFIX + exc.slug,
        title=exc.title,
        detail=exc.detail,
        instance=request.url.path,
        errors=exc.errors,
        headers=exc.headers,
    )


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    phrase = _phrase(exc.status_code)
    return problem_response(
        exc.status_code,
        title=phrase,
        detail=exc.detail if isinstance(exc.detail, str) else phrase,
        instance=request.url.path,
        headers=exc.headers,
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_field_error(e) for e in exc.errors()]
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return problem_response(
        422,
        type_=PROBLEM_TYPE_PREFIX + InvalidParameter.slug,
        title=InvalidParameter.title,
        detail=f"Check these fields: {fields}." if fields else "The request is not valid.",
        instance=request.url.path,
        errors=errors,
    )


def _database_unavailable(request: Request) -> JSONResponse:
    problem = DatabaseUnavailable("The database is unavailable, try again shortly.")
    return problem_response(
        problem.status,
        type_=PROBLEM_TYPE_PREFIX + problem.slug,
        title=problem.title,
        detail=problem.detail,
        instance=request.url.path,
        headers=problem.headers,
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Logged by the server too; the client learns nothing about the internals.
    log.error("unhandled error", path=request.url.path, error=type(exc).__name__)
    return problem_response(
        500,
        title=_phrase(500),
        detail="Something went wrong on our side; please try again.",
        instance=request.url.path,
    )


def _field_error(error: Mapping[str, Any]) -> dict[str, str]:
    loc = [str(part) for part in error.get("loc", ())]
    location, path = (loc[0], loc[1:]) if loc else ("request", [])
    return {
        "field": ".".join(path) or location,
        "location": location,
        "detail": str(error.get("msg", "invalid value")),
    }


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _problem)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
    # Over servicekit's plain JSON answer: the same 503 and log line, as a problem document.
    install_unavailable_handler(app, _database_unavailable)
    document_problems(app)


def document_problems(app: FastAPI) -> None:
    """Make the OpenAPI document tell the truth about errors: FastAPI documents its 422 as
    `application/json` with its own shape, while every error here is a problem document; and
    every route behind sign-in can answer 401."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["ProblemDetails"] = ProblemDetails.model_json_schema()
        problem = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                if "422" in responses:
                    described = responses["422"].get("description", "")
                    if described in ("", "Validation Error"):
                        described = "A field is invalid; `errors` names it."
                    responses["422"] = {"description": described, "content": problem}
                if operation.get("security") and "401" not in responses:
                    signed_out = "Not signed in, or the session ended."
                    responses["401"] = {"description": signed_out, "content": problem}

        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def problem_responses(described: Mapping[int, str], *statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem answers a route can give, from a router's descriptions."""
    schema = ProblemDetails.model_json_schema()
    return {s: {"description": described[s], "content": {PROBLEM_JSON: {"schema": schema}}} for s in statuses}
