"""Every staff route declares one permission, and every role gets exactly what the matrix in
`auth.permissions` (and the README) says: a test of each route with each role's real token."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts

from crm_gateway.auth.domain import Role
from crm_gateway.auth.permissions import ROLE_PERMISSIONS, Permission
from crm_gateway.auth.repository import insert_if_absent
from crm_gateway.auth.security import hash_password
from crm_servicekit.runtime import Runtime

pytestmark = pytest.mark.integration

PASSWORD = "a long passphrase for every role"
# Open to everyone (signing in, refreshing) or to any signed-in staff user (who am I, sign out,
# the live stream, which sends each role only the topics its permissions read).
PUBLIC = {("POST", "/api/v1/auth/token"), ("POST", "/api/v1/auth/refresh")}
OPEN = PUBLIC | {("GET", "/api/v1/auth/me"), ("POST", "/api/v1/auth/logout"), ("GET", "/api/v1/live")}
# Path parameters filled with values of the right shape; nothing needs to exist.
PATH_VALUES = {
    "conversation_id": str(uuid.uuid4()),
    "run_id": "1",
    "customer_id": "TVS-CUS-FB-26-0001",
    "entry_id": str(uuid.uuid4()),
    "product_id": str(uuid.uuid4()),
    "order_id": str(uuid.uuid4()),
    "request_id": str(uuid.uuid4()),
    "staff_id": str(uuid.uuid4()),
    "document_id": str(uuid.uuid4()),
}
QUERY_VALUES = {"since": "2026-01-01", "until": "2026-01-02", "level": "campaign", "granularity": "day"}


def permission_of(dependant: Dependant) -> list[Permission]:
    found: list[Permission] = []
    for sub in dependant.dependencies:
        permission = getattr(sub.call, "permission", None)
        if isinstance(permission, Permission):
            found.append(permission)
        found.extend(permission_of(sub))
    return found


def staff_routes(app: FastAPI) -> Iterator[tuple[str, str, Dependant]]:
    """Every `/api/v1` route of the app as served (included routers flattened)."""
    found = 0
    for route in iter_route_contexts(app.routes):
        path, dependant = route.path or "", getattr(route, "dependant", None)
        if path.startswith("/api/v1") and isinstance(dependant, Dependant):
            for method in sorted(route.methods or ()):
                found += 1
                yield method, path, dependant
    assert found >= 16, "the walk must see every staff route"


def test_every_staff_route_declares_exactly_one_permission(app: FastAPI) -> None:
    undeclared = []
    for method, path, dependant in staff_routes(app):
        declared = permission_of(dependant)
        if (method, path) in OPEN:
            assert declared == [], f"{method} {path} is open to every signed-in user"
        elif len(declared) != 1:
            undeclared.append(f"{method} {path}: {declared}")
    assert undeclared == []


@pytest.fixture(scope="module")
async def tokens(client: httpx.AsyncClient, runtime: Runtime) -> dict[Role, str]:
    out: dict[Role, str] = {}
    for role in Role:
        email = f"{role.value}-{uuid.uuid4().hex[:6]}@vschool.example"
        async with runtime.sessionmaker() as session, session.begin():
            await insert_if_absent(session, email=email, password_hash=hash_password(PASSWORD), role=role)
        response = await client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        out[role] = response.json()["access_token"]
    return out


def request_for(method: str, path: str) -> dict[str, Any]:
    url = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], path)
    return {
        "method": method,
        "url": url,
        "params": QUERY_VALUES,
        **({"json": {}} if method == "POST" else {}),
    }


async def test_each_role_gets_exactly_what_the_matrix_allows(
    app: FastAPI, client: httpx.AsyncClient, tokens: dict[Role, str]
) -> None:
    wrong = []
    checked = 0
    for method, path, dependant in staff_routes(app):
        if (method, path) in OPEN:
            continue
        [permission] = permission_of(dependant)
        for role, token in tokens.items():
            response = await client.request(
                **request_for(method, path), headers={"Authorization": f"Bearer {token}"}
            )
            allowed = permission in ROLE_PERMISSIONS[role]
            refused = response.status_code == 403
            checked += 1
            if allowed == refused or response.status_code == 401:
                wrong.append(f"{role.value} {method} {path} ({permission.value}): {response.status_code}")
            elif refused:
                problem = response.json()
                assert problem["status"] == 403
                assert permission.value in problem["detail"]
                assert role.value in problem["detail"]
    assert wrong == []
    assert checked >= 5 * 19, "every role on every staff route"


async def test_without_a_token_every_staff_route_answers_401(app: FastAPI, client: httpx.AsyncClient) -> None:
    for method, path, _ in staff_routes(app):
        if (method, path) in PUBLIC:
            continue
        response = await client.request(**request_for(method, path))
        assert response.status_code == 401, f"{method} {path}"


def test_the_matrix_is_what_the_readme_documents() -> None:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    for role, permissions in ROLE_PERMISSIONS.items():
        line = next(line for line in readme.splitlines() if line.startswith(f"| {role.value} |"))
        cells = [c.strip() for c in line.strip("|").split("|")][1:]
        header = next(line for line in readme.splitlines() if line.startswith("| role |"))
        names = [c.strip().strip("`") for c in header.strip("|").split("|")][1:]
        documented = {Permission(n) for n, cell in zip(names, cells, strict=True) if cell == "yes"}
        assert documented == permissions, role
