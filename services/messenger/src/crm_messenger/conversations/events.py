"""Events about a conversation itself (not its messages), built the same way wherever they arise."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from crm_contracts import ConversationModeChanged, ConversationModeChangedData


def mode_changed(
    conversation: Any,
    mode: Literal["ai", "human"],
    needs_human: bool,
    reason: str,
    correlation: str,
    at: datetime,
    staff_id: uuid.UUID | None = None,
) -> ConversationModeChanged:
    return ConversationModeChanged(
        correlation_id=correlation,
        data=ConversationModeChangedData(
            conversation_id=conversation.id,
            page_id=conversation.page_id,
            psid=conversation.psid,
            mode=mode,
            needs_human=needs_human,
            reason=reason,
            staff_id=staff_id,
            changed_at=at,
        ),
    )
