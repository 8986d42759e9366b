"""Password hashes (argon2 via pwdlib) and HS256 access tokens (PyJWT). No I/O, no database."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import jwt
from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError

from .domain import Role, Staff

ALGORITHM = "HS256"
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
    role: Role
    jti: str


class InvalidToken(Exception):
    """Missing, malformed, forged or expired; the reason is not told to the client."""


def issue_token(staff: Staff, *, secret: str, ttl_seconds: int, now: datetime) -> AccessToken:
    claims = {
        "sub": str(staff.id),
        "role": staff.role.value,
        "iat": now,
        "exp": now + timedelta(seconds=ttl_seconds),
        "jti": uuid.uuid4().hex,
    }
    return AccessToken(jwt.encode(claims, secret, algorithm=ALGORITHM), ttl_seconds)


def decode_token(token: str, *, secret: str) -> TokenClaims:
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "role", "exp", "iat", "jti"]}
        )
        return TokenClaims(staff_id=uuid.UUID(claims["sub"]), role=Role(claims["role"]), jti=claims["jti"])
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise InvalidToken(type(exc).__name__) from exc
