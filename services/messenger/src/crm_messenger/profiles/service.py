"""Customers' public profiles (names, picture) from the Graph API: fetched once, refreshed
rarely, in the background. A failure here never holds up a message; it is tried again later.

Every few seconds `fetch_due_profiles` takes up to 20 conversations whose profile is due (never
fetched, or older than the refresh period and the customer wrote since), pushes them back five
minutes so another replica leaves them alone, and asks the Graph API for each: a profile is
stored on the conversation and announced (`contact.profile_updated`); a failure is tried again
after a backoff that doubles up to a day. The profile columns belong to the conversation
(`conversations.service`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from crm_contracts import ContactProfileUpdated, ContactProfileUpdatedData
from crm_messenger.conversations import service as conversations
from crm_messenger.meta.send_api import GraphError, SendApiClient
from crm_servicekit.logging import get_logger
from crm_servicekit.runtime import Runtime

log = get_logger(__name__)

MAX_BACKOFF = timedelta(hours=24)


async def fetch_due_profiles(runtime: Runtime, client: SendApiClient, *, refresh_after: timedelta) -> int:
    """Fetch up to 20 due profiles; returns how many were fetched."""
    async with runtime.uow() as uow:
        due = await conversations.profiles_due(uow.session, refresh_after=refresh_after, limit=20)
        # Push them back while we work, so another replica does not fetch the same ones.
        soon = datetime.now(UTC) + timedelta(minutes=5)
        for row in due:
            await conversations.profile_failed(uow.session, row.id, soon)
        await uow.commit()
    fetched = 0
    for row in due:
        now = datetime.now(UTC)
        try:
            profile = await client.profile(row.psid)
        except (GraphError, httpx.HTTPError) as exc:
            retry = min(timedelta(minutes=2 ** (row.profile_attempts + 1)), MAX_BACKOFF)
            async with runtime.uow() as uow:
                await conversations.profile_failed(uow.session, row.id, now + retry)
                await uow.commit()
            log.warning("profile fetch failed", conversation_id=str(row.id), error=type(exc).__name__)
            continue
        async with runtime.uow() as uow:
            await conversations.set_profile(uow.session, row.id, profile, now)
            uow.emit(
                ContactProfileUpdated(
                    correlation_id=f"profile:{row.id}",
                    data=ContactProfileUpdatedData(
                        page_id=row.page_id, psid=row.psid, conversation_id=row.id, fetched_at=now, **profile
                    ),
                )
            )
            await uow.commit()
        fetched += 1
    return fetched
