"""What the auth capability speaks in: roles, the staff user as a request sees them, a staff
account as admins manage it, and a signed-in session."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
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


@dataclass(frozen=True)
class SignedIn:
    """Who makes this request, and in which session (what a sign-out ends)."""

    staff: Staff
    session_id: uuid.UUID


@dataclass(frozen=True)
class StaffAccount:
    """A staff user as the admin screens show it: no password hash."""

    id: uuid.UUID
    email: str = field(repr=False)
    name: str | None = field(repr=False)
    role: Role
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime

    def audited(self) -> dict[str, object]:
        """The fields an audit entry compares (email and name are masked by `audit`)."""
        return {"email": self.email, "name": self.name, "role": self.role, "is_active": self.is_active}


def normalise_email(email: str) -> str:
    return email.strip().lower()
