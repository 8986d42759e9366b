"""The Send API client against the Meta fake: retries that overlap stay independent."""

from __future__ import annotations

import asyncio

from crm_fakes import MetaState
from crm_messenger.meta.send_api import SendApiClient

from .conftest import PAGE_TOKEN


async def test_concurrent_calls_each_retry_on_their_own(meta: tuple[str, MetaState]) -> None:
    url, state = meta
    state.reset()
    state.fail_next(613, times=12)  # most of the first attempts are throttled
    client = SendApiClient(
        base_url=url,
        version="v23.0",
        access_token=PAGE_TOKEN,
        backoff_initial=0.01,
        backoff_max=0.05,
        max_attempts=8,
    )
    try:
        sends = [client.send_text(f"psid-c{i}", f"hello {i}") for i in range(10)]
        profiles = [client.profile(f"psid-c{i}") for i in range(5)]
        results = await asyncio.gather(*sends, *profiles)
    finally:
        await client.aclose()
    assert all(isinstance(mid, str) and mid for mid in results[:10])
    assert sorted(s.text for s in state.messages() if s.text) == sorted(f"hello {i}" for i in range(10))
