"""The customer's right of access: everything the messenger holds on some Messenger identities,
for the gateway's PDPA data export. Each capability reads its own part whole
(`conversations.privacy`, `webhooks.privacy`); this module puts the conversations together with
their messages (each with its reactions), ad referrals and opt-ins."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from crm_contracts import ChannelIdentity
from crm_messenger.conversations import privacy as conversations_privacy
from crm_messenger.identities import messenger_identities
from crm_messenger.pdpa.schemas import (
    ExportedConversation,
    ExportedMessage,
    ExportedOptin,
    ExportedQuarantined,
    ExportedReaction,
    ExportedReferral,
    MessengerExport,
)
from crm_messenger.webhooks import privacy as webhooks_privacy
from crm_servicekit.runtime import Runtime


def _fields(model: type[BaseModel], row: Any, **extra: Any) -> dict[str, Any]:
    return {**{k: getattr(row, k) for k in model.model_fields if k not in extra}, **extra}


async def export(runtime: Runtime, identities: list[ChannelIdentity]) -> MessengerExport:
    wanted = messenger_identities(identities)
    async with runtime.sessionmaker() as session:
        rows = await conversations_privacy.conversations_of(session, wanted)
        ids = [r.id for r in rows]
        messages = await conversations_privacy.messages_of(session, ids)
        referrals = await webhooks_privacy.referrals_of(session, ids)
        reactions = await conversations_privacy.reactions_of(session, wanted)
        optins = await webhooks_privacy.optins_of(session, wanted)
        quarantined = await webhooks_privacy.quarantined_mentioning(session, [psid for _, psid in wanted])
    conversations = []
    for row in rows:
        mine = [m for m in messages if m.conversation_id == row.id]
        reacted = [ExportedReaction.model_validate(r, from_attributes=True) for r in reactions]
        conversations.append(
            ExportedConversation(
                **_fields(
                    ExportedConversation,
                    row,
                    messages=[
                        ExportedMessage(
                            **_fields(ExportedMessage, m, reactions=[r for r in reacted if r.mid == m.mid])
                        )
                        for m in mine
                    ],
                    referrals=[
                        ExportedReferral.model_validate(r, from_attributes=True)
                        for r in referrals
                        if r.conversation_id == row.id
                    ],
                    optins=[
                        ExportedOptin.model_validate(o, from_attributes=True)
                        for o in optins
                        if (o.page_id, o.psid) == (row.page_id, row.psid)
                    ],
                )
            )
        )
    return MessengerExport(
        conversations=conversations,
        quarantined=[ExportedQuarantined.model_validate(q, from_attributes=True) for q in quarantined],
    )
