"""What the customer rules refuse, as problem documents."""

from __future__ import annotations

from crm_gateway.errors import Problem


class CustomerNotFound(Problem):
    status = 404
    slug = "customer-not-found"
    title = "Customer not found"

    def __init__(self, customer_id: str, *, merged_into: str | None = None) -> None:
        if merged_into:
            super().__init__(f"Customer {customer_id!r} was merged into {merged_into!r}; open that one.")
        else:
            super().__init__(f"No customer has the id {customer_id!r}.")


class CustomerConflict(Problem):
    """The customer's state does not allow this (merged, erased, an identity taken); `detail` says why."""

    status = 409
    slug = "customer-conflict"
    title = "The customer does not allow this now"


class AuditEntryNotFound(Problem):
    status = 404
    slug = "audit-entry-not-found"
    title = "Audit entry not found"
