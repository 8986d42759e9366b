"""What another service's refusal, failure or absence means to a staff user: the problem documents
the gateway answers with when the messenger or the marketing service says no, fails (502) or does
not answer (503)."""

from __future__ import annotations

import uuid

from crm_gateway.errors import RETRY_SOON, Problem


class ConversationNotFound(Problem):
    status = 404
    slug = "conversation-not-found"
    title = "Conversation not found"

    def __init__(self, conversation_id: uuid.UUID) -> None:
        super().__init__(f"No conversation has the id {str(conversation_id)!r}.")


class ConversationConflict(Problem):
    """The messenger refused an action in the conversation's current state (e.g. the reply
    window is closed); `detail` is the messenger's own sentence, written for staff."""

    status = 409
    slug = "conversation-conflict"
    title = "The conversation does not allow this now"


class ConversationForbidden(Problem):
    """The messenger refused the staff member this conversation (assigned to someone else, or
    assigning to someone else, without `conversation:manage`); `detail` is its sentence (ADR 10)."""

    status = 403
    slug = "conversation-forbidden"
    title = "Not your conversation"


class MessengerRejected(Problem):
    """The messenger found the request invalid (what the gateway's own validation let through)."""

    status = 422
    slug = "messenger-rejected"
    title = "Invalid request"


class MessengerUnavailable(Problem):
    status = 503
    slug = "messenger-unavailable"
    title = "Messenger unavailable"
    headers = RETRY_SOON

    def __init__(self) -> None:
        super().__init__("Messenger is unavailable, try again shortly.")


class SyncRunNotFound(Problem):
    status = 404
    slug = "sync-run-not-found"
    title = "Sync run not found"

    def __init__(self, run_id: int) -> None:
        super().__init__(f"No sync run has the id {run_id}.")


class MarketingConflict(Problem):
    """The marketing service cannot do this as it is set up (e.g. no ad account configured);
    `detail` is its own sentence."""

    status = 409
    slug = "marketing-conflict"
    title = "Marketing cannot do this now"


class MarketingRejected(Problem):
    """The marketing service refused the request (e.g. a range Meta does not keep); `detail` is its
    own sentence, written for staff."""

    status = 422
    slug = "marketing-rejected"
    title = "Invalid request"


class MarketingUnavailable(Problem):
    status = 503
    slug = "marketing-unavailable"
    title = "Marketing unavailable"
    headers = RETRY_SOON

    def __init__(self) -> None:
        super().__init__("The marketing service is unavailable, try again shortly.")


class ServiceFailed(Problem):
    """The other service answered, but with its own error (a 5xx), with something the gateway
    cannot read, or by refusing the gateway's token: nothing staff did wrong, and nothing they can
    fix (the cause is logged). A service that could not be reached is its `...Unavailable` (503)."""

    status = 502
    slug = "service-failed"
    title = "Another service failed"

    def __init__(self, service: str) -> None:
        super().__init__(
            f"The {service} service failed to answer this request; try again, and tell an "
            "administrator if it keeps failing."
        )
