"""The local runner's wiring of the Marketing API fake: which settings each service gets, what
`up` tells the user, and that the fake process serves the universe the runner believes it does."""

from __future__ import annotations

import json
import shlex
import socket
from datetime import timedelta

import httpx

from crm_localrun import MarketingFake, Stack
from crm_localrun.__main__ import DEFAULTS, MARKETING_FAKE_PORT, backfill_hint, fake_marketing


def test_the_fake_stands_in_for_meta_for_the_marketing_service_only() -> None:
    env = {**DEFAULTS, "META_GRAPH_API_URL": "http://127.0.0.1:9100"}
    fake, marketing_env = fake_marketing(env)
    assert (fake.seed, fake.campaigns, fake.adsets, fake.ads, fake.days) == (1, 6, 2, 2, 90)
    assert marketing_env["META_GRAPH_API_URL"] == f"http://127.0.0.1:{MARKETING_FAKE_PORT}"
    assert marketing_env["META_AD_ACCOUNT_IDS"] == f"act_{fake.account_id}"
    assert marketing_env["META_MARKETING_ACCESS_TOKEN"] == fake.token
    assert "SYNC_SCHEDULE_ENABLED" not in marketing_env, "the schedule stays on (its default)"

    stack = Stack(env=env, service_envs={"marketing": marketing_env})
    assert stack.service_env("marketing")["META_GRAPH_API_URL"] == fake.url
    assert stack.service_env("messenger")["META_GRAPH_API_URL"] == "http://127.0.0.1:9100"
    assert "META_AD_ACCOUNT_IDS" not in stack.service_env("gateway")


def test_settings_of_your_own_are_kept() -> None:
    env = {
        **DEFAULTS,
        "META_MARKETING_ACCESS_TOKEN": "my-token",
        "REPORT_POLL_INITIAL_SECONDS": "1",
        "SYNC_SCHEDULE_ENABLED": "false",
    }
    fake, marketing_env = fake_marketing(env)
    assert fake.token == marketing_env["META_MARKETING_ACCESS_TOKEN"] == "my-token"
    assert marketing_env["REPORT_POLL_INITIAL_SECONDS"] == "1"
    stack = Stack(env=env, service_envs={"marketing": marketing_env})
    assert stack.service_env("marketing")["SYNC_SCHEDULE_ENABLED"] == "false"


def test_up_says_how_to_backfill_the_fakes_days() -> None:
    fake, _ = fake_marketing(dict(DEFAULTS))
    hint = backfill_hint("http://127.0.0.1:8000", dict(DEFAULTS), fake)
    post = next(line for line in hint.splitlines() if "-X POST" in line)
    body = json.loads(shlex.split(post)[-1])
    assert body == {
        "kind": "backfill",
        "since": (fake.today - timedelta(days=89)).isoformat(),
        "until": fake.today.isoformat(),
        "granularities": ["day", "hour"],
    }
    assert "http://127.0.0.1:8000/api/v1/marketing/syncs" in post
    assert f"act_{fake.account_id}" in hint

    own = {**DEFAULTS, "CRM_ADMIN_PASSWORD": "a-password-of-my-own"}
    assert "a-password-of-my-own" not in backfill_hint("http://127.0.0.1:8000", own, fake)
    assert "$CRM_ADMIN_PASSWORD" in backfill_hint("http://127.0.0.1:8000", own, fake)


def test_the_fake_process_serves_the_universe_the_runner_knows() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    with MarketingFake(port=port, token="t0k", seed=5, campaigns=2, adsets=1, ads=1, days=3) as fake:
        universe = fake.universe()
        account = httpx.get(f"{fake.url}/v23.0/act_{fake.account_id}", params={"access_token": "t0k"})
        assert account.status_code == 200, account.text
        assert account.json()["account_id"] == fake.account_id == universe.accounts[0].account_id
        listed = httpx.get(
            f"{fake.url}/v23.0/act_{fake.account_id}/campaigns",
            params={"access_token": "t0k", "fields": "name"},
        ).json()["data"]
        # Like Meta, a listing leaves archived objects out unless asked for.
        shown = [c.name for c in universe.campaigns if c.effective_status != "ARCHIVED"]
        assert sorted(c["name"] for c in listed) == sorted(shown)
        refused = httpx.get(f"{fake.url}/v23.0/act_{fake.account_id}", params={"access_token": "wrong"})
        assert refused.json()["error"]["code"] == 190
    fake.stop()  # twice is fine
