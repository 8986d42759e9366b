"""The OpenAPI document a UI developer reads: every operation has a summary, every request body an
example, every answer but success is a problem document, and every staff route names its 401."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

PROBLEM_JSON = "application/problem+json"


def operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    spec = app.openapi()
    return [(method.upper(), path, op) for path, item in spec["paths"].items() for method, op in item.items()]


def resolve(app: FastAPI, schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        resolved: dict[str, Any] = app.openapi()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        return resolved
    return schema


def test_every_operation_has_a_summary_and_every_body_an_example(app: FastAPI) -> None:
    missing = []
    for method, path, op in operations(app):
        if not op.get("summary"):
            missing.append(f"{method} {path}: summary")
        for media, content in op.get("requestBody", {}).get("content", {}).items():
            schema = resolve(app, content.get("schema", {}))
            if not (content.get("examples") or content.get("example") or schema.get("examples")):
                missing.append(f"{method} {path}: {media} example")
    assert missing == []


def test_every_error_answer_is_a_problem_document(app: FastAPI) -> None:
    wrong = []
    for method, path, op in operations(app):
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")) and set(response.get("content", {})) != {PROBLEM_JSON}:
                wrong.append(f"{method} {path} {status}: {sorted(response.get('content', {}))}")
        if path.startswith("/api/v1") and op.get("security") and "401" not in op["responses"]:
            wrong.append(f"{method} {path}: no 401")
    assert wrong == []
    assert "HTTPValidationError" not in app.openapi()["components"]["schemas"]
