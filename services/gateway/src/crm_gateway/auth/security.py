"""Password hashes (argon2 via pwdlib), HS256 access tokens (PyJWT) and opaque refresh tokens.
No I/O, no database.

An access token names its staff user (`sub`) and session (`sid`), its issuer (`iss`, this gateway)
and audience (`aud`, the staff API), and lives minutes; a token without both, or naming another
issuer or audience, is refused even when its signature is right. Every request checks the
session and the staff row, so a sign-out or a deactivation ends it at once. Its `role` claim
is for display only: the role that decides is read from the database on each request, except
on the routes that answer from files while the database cannot be reached (the dashboards,
`auth.api.without_database`), where the signed claims are all there is to go by.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import jwt
from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError

from .domain import Staff

ALGORITHM = "HS256"
# The defaults of `CRM_JWT_ISSUER` and `CRM_JWT_AUDIENCE`.
ISSUER = "vschool-crm-gateway"
AUDIENCE = "vschool-crm-staff-api"
_hasher = PasswordHash.recommended()


def hash_password(password: str) -> str:
    """CPU-bound (tens of milliseconds): call it in a thread from async code."""
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    """CPU-bound like `hash_password`."""
    try:
        return _hasher.verify(password, password_hash)
    except UnknownHashError:
        return False


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_nothing(password: str) -> None:
    """Spend the time of a real check, so the reply to an unknown e-mail is not faster."""
    _hasher.verify(password, _dummy_hash())


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_in: int


@dataclass(frozen=True)
class TokenClaims:
    staff_id: uuid.UUID
    session_id: uuid.UUID
    jti: str
    role: str | None = None  # as signed at issue; decides only while the database is unreachable


class InvalidToken(Exception):
    """Missing, malformed, forged or expired; the reason is not told to the client."""


def issue_token(
    staff: Staff,
    session_id: uuid.UUID,
    *,
    secret: str,
    ttl_seconds: int,
    now: datetime,
    issuer: str = ISSUER,
    audience: str = AUDIENCE,
) -> AccessToken:
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": str(staff.id),
        "sid": str(session_id),
        "role": staff.role.value,
        "iat": now,
        "exp": now + timedelta(seconds=ttl_seconds),
        "jti": uuid.uuid4().hex,
    }
    return AccessToken(jwt.encode(claims, secret, algorithm=ALGORITHM), ttl_seconds)


def decode_token(token: str, *, secret: str, issuer: str = ISSUER, audience: str = AUDIENCE) -> TokenClaims:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=issuer,
            audience=audience,
            options={"require": ["iss", "aud", "sub", "sid", "exp", "iat", "jti"]},
        )
        role = claims.get("role")
        return TokenClaims(
            staff_id=uuid.UUID(claims["sub"]),
            session_id=uuid.UUID(claims["sid"]),
            jti=str(claims["jti"]),
            role=role if isinstance(role, str) else None,
        )
    except (jwt.InvalidTokenError, ValueError, TypeError, AttributeError) as exc:
        raise InvalidToken(type(exc).__name__) from exc


def new_refresh_token() -> tuple[str, str]:
    """A random refresh token (256 bits) and its SHA-256, the only form the database keeps.

    A plain hash is enough: with this much randomness nobody can guess back from it, and a
    slow hash would only slow down every refresh.
    """
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
