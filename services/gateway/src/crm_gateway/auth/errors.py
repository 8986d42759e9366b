"""What signing in and staff administration refuse, as problem documents."""

from __future__ import annotations

import uuid

from crm_gateway.errors import BEARER_CHALLENGE, Problem


class NotAuthenticated(Problem):
    status = 401
    slug = "not-authenticated"
    title = "Not authenticated"
    headers = BEARER_CHALLENGE


class InvalidCredentials(NotAuthenticated):
    slug = "invalid-credentials"
    title = "Invalid credentials"


class TooManyAttempts(Problem):
    """Sign-in refused before the password is checked: too many attempts for this account or from
    this address in the current window. The same answer either way, known account or not."""

    status = 429
    slug = "too-many-attempts"
    title = "Too many sign-in attempts"

    def __init__(self, retry_after_seconds: int) -> None:
        minutes = max(1, -(-retry_after_seconds // 60))
        super().__init__(
            f"Too many sign-in attempts; try again in {minutes} minute{'s' if minutes != 1 else ''}."
        )
        self.headers = {"Retry-After": str(retry_after_seconds)}


class StaffNotFound(Problem):
    status = 404
    slug = "staff-not-found"
    title = "Staff user not found"

    def __init__(self, staff_id: uuid.UUID) -> None:
        super().__init__(f"No staff user has the id {str(staff_id)!r}.")


class StaffConflict(Problem):
    """A staff change the rules refuse (a taken e-mail, the last active admin, deactivating
    oneself); `detail` says which."""

    status = 409
    slug = "staff-conflict"
    title = "This staff change is not allowed"


class Forbidden(Problem):
    status = 403
    slug = "forbidden"
    title = "Forbidden"
