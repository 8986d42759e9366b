"""What each role may do. Every staff route declares one permission (`allow(...)`); a test walks
every route with every role and proves this matrix (README, "Roles and permissions").

Three permissions are checked on the object, inside the action, on top of the route's (ADR 10):
`conversation:manage` (act on a conversation assigned to someone else, assign to others; the
messenger enforces it on the conversation's row), `order:discount_over_cap` (a line discounted
above `ORDER_DISCOUNT_CAP_PERCENT`) and, declared by their own routes, `order:refund` and
`customer:merge`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends

from crm_gateway.auth.errors import Forbidden

from .api import current_staff
from .domain import Role, Staff


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


def allows(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


def require(permission: Permission) -> Callable[..., Awaitable[Staff]]:
    """A dependency: the signed-in staff user if their role has `permission`; 403 otherwise."""

    async def staff_allowed(staff: Annotated[Staff, Depends(current_staff)]) -> Staff:
        if not allows(staff.role, permission):
            raise Forbidden(f"Your role ({staff.role.value}) does not allow {permission.value}.")
        return staff

    staff_allowed.permission = permission  # type: ignore[attr-defined]  # read by the matrix test
    return staff_allowed


def allow(permission: Permission) -> Any:
    """For a route's `dependencies=[...]`: only staff whose role has `permission`."""
    return Depends(require(permission))
