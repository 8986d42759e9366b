from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    MARKETER = "marketer"
    AGENT = "agent"
    VIEWER = "viewer"


@dataclass(frozen=True)
class Staff:
    id: uuid.UUID
    # Kept out of repr(), hence out of tracebacks and debug logs.
    email: str = field(repr=False)
    role: Role
    is_active: bool
    password_hash: str = field(repr=False)


def normalise_email(email: str) -> str:
    return email.strip().lower()
