"""The local runner's wiring of the Marketing API fake: which settings each service gets, what
`up` tells the user, and that the fake process serves the universe the runner believes it does."""

from __future__ import annotations

import json
import shlex
import socket
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from crm_localrun import SERVICES, MarketingFake, Stack
from crm_localrun.__main__ import (
    DEFAULTS,
    GENERATED_SECRETS,
    MARKETING_FAKE_PORT,
    SECRETS_FILE,
    admin_password_note,
    backfill_hint,
    fake_marketing,
    settings,
)
from crm_servicekit.secrets_check import Secret


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
    # The generated password is shown once, in the banner: the hint says where to read it from.
    made = backfill_hint("http://127.0.0.1:8000", own, fake, generated=True)
    assert "a-password-of-my-own" not in made
    assert f". {SECRETS_FILE};" in made


def test_a_local_run_is_local_mode_on_loopback_with_secrets_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("CRM_ENV", "CRM_BIND_HOST", *GENERATED_SECRETS):
        monkeypatch.delenv(name, raising=False)
    env = settings()
    stack = Stack(env=env)
    for service in SERVICES:
        assert stack.service_env(service)["CRM_ENV"] == "local"
        assert stack.service_env(service)["CRM_BIND_HOST"] == "127.0.0.1"
    # Generated, not fixed: never a value published in this repository, and kept for next time.
    kept = (tmp_path / SECRETS_FILE).read_text()
    assert (tmp_path / SECRETS_FILE).stat().st_mode & 0o077 == 0, "readable by its owner only"
    for name in GENERATED_SECRETS:
        assert Secret(name, env[name], 12).problem() is None
        assert f"{name}={env[name]}\n" in kept
    assert settings() == env
    assert "CRM_ADMIN_PASSWORD" not in DEFAULTS
    assert admin_password_note(env, True).count(env["CRM_ADMIN_PASSWORD"]) == 1


def test_your_own_settings_win_over_the_local_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CRM_BIND_HOST", "0.0.0.0")
    monkeypatch.setenv("CRM_ADMIN_PASSWORD", "my-own-long-passphrase")
    env = settings()
    assert env["CRM_BIND_HOST"] == "0.0.0.0"
    assert env["CRM_ADMIN_PASSWORD"] == "my-own-long-passphrase"
    assert "my-own-long-passphrase" not in admin_password_note(env, False)


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
