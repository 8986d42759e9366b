"""The gateway's rules about conversations; the conversations themselves live in the messenger.

What the gateway adds to the messenger's internal API: who "me" is, and that a conversation is
assigned only to a staff user who exists and may sign in.
"""

from __future__ import annotations

import uuid
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.auth import service as auth
from crm_gateway.auth.domain import Staff
from crm_gateway.errors import InvalidParameter

ASSIGNED_HELP = "A staff user's id, `me` or `unassigned`."


def assigned_filter(assigned: str | None, caller: Staff) -> uuid.UUID | Literal["unassigned"] | None:
    """The messenger's `assigned_staff_id` for the staff API's `assigned` parameter."""
    if assigned is None:
        return None
    if assigned == "me":
        return caller.id
    if assigned == "unassigned":
        return "unassigned"
    try:
        return uuid.UUID(assigned)
    except ValueError:
        raise InvalidParameter("assigned", "query", ASSIGNED_HELP) from None


async def check_assignee(session: AsyncSession, staff_id: uuid.UUID | None) -> None:
    """Raise unless `staff_id` is None (unassign) or an active staff user."""
    if staff_id is None:
        return
    if await auth.active_staff(session, staff_id) is None:
        raise InvalidParameter("staff_id", "body", "No active staff user has this id.")
