"""What the auth capability speaks in: roles and what each may do (routes check it through
`permissions`), the staff user as a request sees them, a staff account as admins manage it, and
a signed-in session."""

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


class Permission(StrEnum):
    CUSTOMER_READ = "customer:read"
    CUSTOMER_WRITE = "customer:write"
    CUSTOMER_ERASE = "customer:erase"
    CUSTOMER_EXPORT = "customer:export"
    CUSTOMER_MERGE = "customer:merge"
    ORDER_WRITE = "order:write"
    ORDER_DISCOUNT_OVER_CAP = "order:discount_over_cap"
    ORDER_REFUND = "order:refund"
    CATALOG_WRITE = "catalog:write"
    CONVERSATION_READ = "conversation:read"
    CONVERSATION_REPLY = "conversation:reply"
    CONVERSATION_MANAGE = "conversation:manage"
    MARKETING_READ = "marketing:read"
    MARKETING_SYNC = "marketing:sync"
    DASHBOARD_READ = "dashboard:read"
    KNOWLEDGE_MANAGE = "knowledge:manage"
    AUDIT_READ = "audit:read"
    STAFF_ADMIN = "staff:admin"


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.MANAGER: frozenset(Permission) - {P.STAFF_ADMIN},
    Role.MARKETER: frozenset(
        {
            P.CUSTOMER_READ,
            P.CONVERSATION_READ,
            P.MARKETING_READ,
            P.MARKETING_SYNC,
            P.DASHBOARD_READ,
            P.CATALOG_WRITE,
        }
    ),
    Role.AGENT: frozenset(
        {P.CUSTOMER_READ, P.CUSTOMER_WRITE, P.ORDER_WRITE, P.CONVERSATION_READ, P.CONVERSATION_REPLY}
    ),
    # Whoever sees Meta's numbers (`marketing:read`) sees the dashboards built on them.
    Role.VIEWER: frozenset({P.CUSTOMER_READ, P.CONVERSATION_READ, P.MARKETING_READ, P.DASHBOARD_READ}),
}


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
