"""Started as a deployer would start them, with the shipped defaults, the services refuse.

Each service runs through its real entry point (`python -m crm_<service>`, what the image's
entrypoint runs) in an empty directory, with `.env.example`'s values (or none) and no CRM_ENV:
it must stop before listening, exit 78 and say in one line which variable and how to make one.
With generated values the same entry point gets past the check and serves.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from crm_localrun.ports import free_port
from crm_servicekit.secrets_check import EXIT_CONFIG
from crm_servicekit.testing import create_database, create_vhost, delete_vhost, drop_database

from .test_deploy_files import env_example

# What each service uses, so what it must name when the shipped values are all it has.
NAMED = {
    "gateway": ["CRM_JWT_SECRET", "CRM_INTERNAL_TOKEN", "CRM_ADMIN_PASSWORD"],
    "messenger": ["CRM_INTERNAL_TOKEN", "META_APP_SECRET"],
    "marketing": ["CRM_INTERNAL_TOKEN"],
    "ai": ["CRM_INTERNAL_TOKEN"],
}
UNSET = {
    "gateway": ["CRM_JWT_SECRET", "CRM_INTERNAL_TOKEN"],
    "messenger": ["CRM_INTERNAL_TOKEN", "META_APP_SECRET"],
    "marketing": ["CRM_INTERNAL_TOKEN"],
    "ai": ["CRM_INTERNAL_TOKEN"],
}
SECRETS = {"CRM_ADMIN_PASSWORD", "CRM_JWT_SECRET", "CRM_INTERNAL_TOKEN", "META_APP_SECRET"}


def module(service: str) -> str:
    return "crm_" + service.replace("-", "_")


def base_env() -> dict[str, str]:
    """This machine's environment without any CRM or Meta setting of the developer's."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("CRM_", "META_", "GEMINI_"))}


def shipped() -> dict[str, str]:
    """What a deployer who copied `.env.example` to their environment has."""
    return {name: value for name, (value, commented) in env_example().items() if not commented}


def start(service: str, env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module(service), *args],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_refused(done: subprocess.CompletedProcess[str], service: str, named: list[str], why: str) -> None:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == EXIT_CONFIG, done.stderr
    assert len(lines) == 1, f"one line, not:\n{done.stderr}"
    line = lines[0]
    assert line.startswith(f"crm-{service} refuses to start: ")
    for variable in named:
        assert f"{variable} {why}" in line
    assert "python -c 'import secrets; print(secrets.token_urlsafe(" in line
    assert "Traceback" not in done.stderr
    assert "change-me" not in line, "the line never repeats a value"


@pytest.mark.parametrize("service", NAMED)
def test_the_shipped_example_values_are_refused(service: str, tmp_path: Path) -> None:
    env = {**base_env(), **shipped()}
    done = start(service, env, tmp_path)
    assert_refused(done, service, NAMED[service], "is a published placeholder")


@pytest.mark.parametrize("service", UNSET)
def test_unset_secrets_are_refused(service: str, tmp_path: Path) -> None:
    env = {**base_env(), **{k: v for k, v in shipped().items() if k not in SECRETS}}
    done = start(service, env, tmp_path)
    assert_refused(done, service, UNSET[service], "is not set")


def test_a_short_admin_password_is_refused_like_a_staff_password(tmp_path: Path) -> None:
    env = {**base_env(), **generated(), "CRM_ADMIN_PASSWORD": "Bangkok2026"}  # 11 characters
    done = start("gateway", env, tmp_path)
    assert_refused(done, "gateway", ["CRM_ADMIN_PASSWORD"], "is shorter than 12 characters")


def test_a_placeholder_is_refused_whatever_crm_env_says_unless_local(tmp_path: Path) -> None:
    env = {**base_env(), **shipped(), "CRM_ENV": "production"}
    assert start("ai", env, tmp_path).returncode == EXIT_CONFIG


def test_migrations_need_no_secrets(tmp_path: Path) -> None:
    """The check guards serving: a migration job without secrets is not stopped by it."""
    env = {**base_env(), "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    done = start("ai", env, tmp_path, "migrate")
    assert done.returncode not in (0, EXIT_CONFIG)
    assert "refuses to start" not in done.stderr


# --------------------------------------------------------------------------- generated values


def generated() -> dict[str, str]:
    """What the README tells a deployer to run for each secret."""
    return {
        "CRM_ADMIN_EMAIL": "owner@vschool.test",
        "CRM_ADMIN_PASSWORD": secrets.token_urlsafe(16),
        "CRM_JWT_SECRET": secrets.token_urlsafe(32),
        "CRM_INTERNAL_TOKEN": secrets.token_urlsafe(32),
        "META_APP_SECRET": secrets.token_hex(16),
    }


@pytest.fixture
def infrastructure() -> Iterator[dict[str, str]]:
    database = asyncio.run(create_database("crm_test_secrets"))
    vhost = create_vhost("crm-test-secrets")
    try:
        yield {"DATABASE_URL": database, "RABBITMQ_URL": vhost}
    finally:
        delete_vhost(vhost)
        asyncio.run(drop_database(database))


def serves(service: str, env: dict[str, str], cwd: Path) -> tuple[int | None, str]:
    """Migrate, then serve until /healthz answers 200 (or the process ends); its status and stderr."""
    migrated = start(service, env, cwd, "migrate")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    log = cwd / f"{service}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", module(service)], env=env, cwd=cwd, stdin=subprocess.DEVNULL, stderr=out
        )
        status: int | None = None
        try:
            deadline = time.monotonic() + 90
            while process.poll() is None and time.monotonic() < deadline:
                try:
                    status = httpx.get(f"http://127.0.0.1:{env['PORT']}/healthz", timeout=1).status_code
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
        finally:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return status, log.read_text(errors="replace")


@pytest.mark.integration
def test_with_generated_values_every_service_gets_past_the_check_and_serves(
    infrastructure: dict[str, str], tmp_path: Path
) -> None:
    values = generated()

    def one(service: str) -> tuple[int | None, str]:
        cwd = tmp_path / service
        cwd.mkdir()
        env = {
            **base_env(),
            **infrastructure,
            **values,
            "PORT": str(free_port()),
            "INTERNAL_PORT": str(free_port()),
            "CRM_BIND_HOST": "127.0.0.1",
            "CRM_CACHE_DIR": str(tmp_path / "cache"),
            "OTEL_TRACES_EXPORTER": "none",
            "OTEL_METRICS_EXPORTER": "none",
        }
        return serves(service, env, cwd)

    with ThreadPoolExecutor(len(NAMED)) as pool:
        results = dict(zip(NAMED, pool.map(one, NAMED), strict=True))
    for service, (status, stderr) in results.items():
        assert "refuses to start" not in stderr
        assert "WARNING: CRM_ENV=local" not in stderr
        assert status == 200, f"{service} did not serve:\n{stderr[-3000:]}"
