"""The messenger's export for the cache-writer's rebuild: every referral that named an ad, in pages,
without a PSID, a name or a message's text."""

from __future__ import annotations

from typing import Any

import pytest

from crm_fakes.webhooks import referral

from .conftest import Messenger
from .helpers import INTERNAL, item, post, say

pytestmark = pytest.mark.integration


async def walk(m: Messenger, limit: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": limit, **({"after": after} if after else {})}
        response = await m.http.get("/internal/v1/export/ad-referrals", params=params, headers=INTERNAL)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        if page["next_cursor"] is None:
            return items
        after = page["next_cursor"]


async def test_every_ad_referral_is_exported_page_by_page_without_personal_data(messenger: Messenger) -> None:
    first = await say(messenger, "psid-export-1", "hello")
    clicked = item("psid-export-1", referral=referral("ad-export-1"))
    await post(messenger, clicked)
    await post(messenger, clicked)  # Meta told it twice: one referral
    second = await say(messenger, "psid-export-2", "สวัสดีค่ะ")
    await post(messenger, item("psid-export-2", referral=referral("ad-export-2")))
    link = {"ref": "spring-menu", "source": "SHORTLINK", "type": "OPEN_THREAD"}
    await post(messenger, item("psid-export-2", referral=link))  # an m.me link names no ad

    exported = await walk(messenger, limit=1)
    mine = {first["data"]["conversation_id"], second["data"]["conversation_id"]}
    ours = [r for r in exported if r["conversation_id"] in mine]
    expected = [
        (first["data"]["conversation_id"], "ad-export-1"),
        (second["data"]["conversation_id"], "ad-export-2"),
    ]
    assert sorted((r["conversation_id"], r["ad_id"]) for r in ours) == sorted(expected)
    assert all(set(r) == {"conversation_id", "ad_id", "referred_at"} for r in exported)
    assert await walk(messenger, limit=1000) == exported, "one page or many, the same rows in the same order"


async def test_the_export_needs_the_service_token_and_a_cursor_it_gave(messenger: Messenger) -> None:
    path = "/internal/v1/export/ad-referrals"
    assert (await messenger.http.get(path)).status_code == 401
    assert (await messenger.http.get(path, headers={"X-Internal-Token": "wrong"})).status_code == 401
    refused = await messenger.http.get(path, params={"after": "not-a-cursor"}, headers=INTERNAL)
    assert refused.status_code == 422
    assert "after" in refused.text
