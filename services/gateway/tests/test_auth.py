"""Sign-in and the bearer-token wall in front of every `/api/v1` route but the token endpoint."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import func, select, update
from structlog.testing import capture_logs

from crm_gateway.auth import security
from crm_gateway.auth import service as auth_service
from crm_gateway.auth.domain import Role, Staff
from crm_gateway.auth.models import staff_users
from crm_gateway.config import DEV_JWT_SECRET, GatewaySettings
from crm_servicekit import secrets_check
from crm_servicekit.runtime import Runtime

# The values the `settings` fixture of conftest.py starts the gateway with.
ADMIN_EMAIL = "Admin@VSchool.example"
ADMIN_PASSWORD = "correct horse battery staple"
JWT_SECRET = "test-secret-of-the-gateway-suite-0123456789abcdef"

pytestmark = pytest.mark.integration

TOKEN_URL = "/api/v1/auth/token"
PROTECTED = ["/api/v1/auth/me", "/api/v1/customers", "/api/v1/customers/TVS-CUS-FB-26-0001"]


async def login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(TOKEN_URL, data={"username": email, "password": password})


def assert_unauthorized(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    body: dict[str, object] = response.json()
    assert body["status"] == 401
    assert {"type", "title", "detail"} <= body.keys()
    return body


async def add_staff(
    runtime: Runtime, email: str, password: str, *, active: bool = True, role: Role = Role.AGENT
) -> uuid.UUID:
    async with runtime.sessionmaker() as session:
        staff_id: uuid.UUID = (
            await session.execute(
                staff_users.insert()
                .values(
                    email=email,
                    password_hash=security.hash_password(password),
                    role=role.value,
                    is_active=active,
                )
                .returning(staff_users.c.id)
            )
        ).scalar_one()
        await session.commit()
    return staff_id


async def test_admin_from_env_signs_in_and_sees_itself(client: httpx.AsyncClient) -> None:
    response = await login(client, ADMIN_EMAIL.upper(), ADMIN_PASSWORD)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    claims = jwt.decode(
        body["access_token"], JWT_SECRET, algorithms=["HS256"], audience="vschool-crm-staff-api"
    )
    assert claims["role"] == "admin"
    assert {"iss", "aud", "sub", "sid", "role", "exp", "iat", "jti"} <= claims.keys()
    assert claims["exp"] - claims["iat"] == 900

    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert {k: v for k, v in me.json().items() if k != "permissions"} == {
        "id": claims["sub"],
        "email": ADMIN_EMAIL.lower(),
        "role": "admin",
    }
    assert "staff:admin" in me.json()["permissions"]
    assert "order:refund" in me.json()["permissions"]


async def test_admin_bootstrap_is_idempotent_and_keeps_the_password(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    with capture_logs() as logs:
        async with runtime.uow() as uow:
            await auth_service.ensure_admin(uow, ADMIN_EMAIL, "another password altogether")

    async with runtime.sessionmaker() as session:
        count = await session.scalar(select(func.count()).where(staff_users.c.email == ADMIN_EMAIL.lower()))
    assert count == 1
    assert (await login(client, ADMIN_EMAIL, ADMIN_PASSWORD)).status_code == 200
    assert "another password" not in repr(logs)


async def test_new_admin_is_created_without_logging_the_password(runtime: Runtime) -> None:
    email = f"owner-{uuid.uuid4().hex[:6]}@vschool.example"
    with capture_logs() as logs:
        async with runtime.uow() as uow:
            await auth_service.ensure_admin(uow, email, "s3cret-owner-password")

    assert [entry["event"] for entry in logs] == ["admin user created"]
    assert "s3cret-owner-password" not in repr(logs)
    assert email not in repr(logs)


async def test_wrong_password_and_unknown_email_get_the_same_401(client: httpx.AsyncClient) -> None:
    wrong_password = assert_unauthorized(await login(client, ADMIN_EMAIL, "not the password"))
    unknown_email = assert_unauthorized(await login(client, "nobody@vschool.example", ADMIN_PASSWORD))

    assert wrong_password == unknown_email
    assert wrong_password["detail"] == "Incorrect email or password."


async def test_inactive_staff_cannot_sign_in(client: httpx.AsyncClient, runtime: Runtime) -> None:
    email = f"former-{uuid.uuid4().hex[:6]}@vschool.example"
    await add_staff(runtime, email, "old password", active=False)

    assert_unauthorized(await login(client, email, "old password"))


async def test_a_token_stops_working_when_its_user_is_deactivated(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    email = f"agent-{uuid.uuid4().hex[:6]}@vschool.example"
    staff_id = await add_staff(runtime, email, "agent password")
    token = (await login(client, email, "agent password")).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    me = (await client.get("/api/v1/auth/me", headers=headers)).json()
    assert me["role"] == "agent"
    # What the web app offers this role: replying yes, managing others' conversations no.
    assert "conversation:reply" in me["permissions"]
    assert "conversation:manage" not in me["permissions"]
    assert "staff:admin" not in me["permissions"]

    async with runtime.sessionmaker() as session:
        await session.execute(update(staff_users).where(staff_users.c.id == staff_id).values(is_active=False))
        await session.commit()

    assert_unauthorized(await client.get("/api/v1/auth/me", headers=headers))


def expired_token() -> str:
    staff = Staff(
        id=uuid.uuid4(), email="x@vschool.example", role=Role.ADMIN, is_active=True, password_hash=""
    )
    past = datetime.now(UTC) - timedelta(hours=1)
    return security.issue_token(staff, uuid.uuid4(), secret=JWT_SECRET, ttl_seconds=60, now=past).token


def forged_token() -> str:
    claims = {
        "sub": str(uuid.uuid4()),
        "sid": str(uuid.uuid4()),
        "role": "admin",
        "iat": 0,
        "exp": 2**32,
        "jti": "x",
    }
    return jwt.encode(claims, "some-other-secret-that-is-long-enough-0123456789", algorithm="HS256")


@pytest.mark.parametrize("path", PROTECTED)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer not-a-jwt", "Basic YWRtaW46YWRtaW4=", "expired", "forged"],
    ids=["missing", "garbage", "basic", "expired", "forged"],
)
async def test_protected_routes_reject_requests_without_a_valid_token(
    client: httpx.AsyncClient, path: str, authorization: str | None
) -> None:
    if authorization == "expired":
        authorization = f"Bearer {expired_token()}"
    elif authorization == "forged":
        authorization = f"Bearer {forged_token()}"
    headers = {"Authorization": authorization} if authorization else {}

    assert_unauthorized(await client.get(path, headers=headers))


async def test_an_expired_token_of_a_real_user_is_rejected(
    client: httpx.AsyncClient, app: FastAPI, settings: GatewaySettings
) -> None:
    token = (await login(client, ADMIN_EMAIL, ADMIN_PASSWORD)).json()["access_token"]
    login_ = await auth_service.signed_in(app.state.reads, settings, token)

    past = datetime.now(UTC) - timedelta(seconds=901)
    token = security.issue_token(
        login_.staff, login_.session_id, secret=JWT_SECRET, ttl_seconds=900, now=past
    ).token

    response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    body = assert_unauthorized(response)
    assert "expired" in str(body["detail"])


async def test_health_is_open(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).status_code == 200


async def test_a_login_form_without_password_names_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post(TOKEN_URL, data={"username": ADMIN_EMAIL})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["password"]


async def test_unknown_routes_answer_with_a_problem(client: httpx.AsyncClient) -> None:
    # Outside /api a GET is the web app's (it shows its own "page not found").
    response = await client.get("/api/v1/no/such/route")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Not Found"


def test_the_development_secret_is_the_default_and_is_refused_outside_local_mode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CRM_JWT_SECRET", raising=False)
    default = GatewaySettings(_env_file=None)
    assert default.crm_jwt_secret.get_secret_value() == DEV_JWT_SECRET
    [problem] = [p for p in secrets_check.problems(default.secrets()) if "CRM_JWT_SECRET" in p]
    assert DEV_JWT_SECRET not in problem
    strong = GatewaySettings(_env_file=None, crm_jwt_secret=SecretStr(JWT_SECRET))
    assert not [p for p in secrets_check.problems(strong.secrets()) if "CRM_JWT_SECRET" in p]
