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
from typing import Annotated, Any

from fastapi import Depends

from crm_gateway.auth.errors import Forbidden

from .api import current_staff
from .domain import ROLE_PERMISSIONS as ROLE_PERMISSIONS
from .domain import Permission as Permission
from .domain import Role, Staff


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
