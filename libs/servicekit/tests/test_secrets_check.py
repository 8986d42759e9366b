"""The secrets rule every service shares: what is refused, what one line says, local mode."""

from __future__ import annotations

import io
import secrets
from collections.abc import Sequence

import pytest
from pydantic import SecretStr

from crm_servicekit.secrets_check import EXIT_CONFIG, Secret, enforce
from crm_servicekit.settings import ServiceSettings


class Settings(ServiceSettings):
    service: str = "demo"
    crm_internal_token: SecretStr = SecretStr("local-development-internal-token")
    crm_jwt_secret: SecretStr = SecretStr("")
    crm_admin_password: SecretStr | None = None

    def secrets(self) -> Sequence[Secret]:
        return [
            self.secret("crm_internal_token", 32),
            self.secret("crm_jwt_secret", 32, unit="bytes"),
            self.secret("crm_admin_password", 12, required=False),
        ]


def strong() -> dict[str, object]:
    return {
        "crm_internal_token": SecretStr(secrets.token_urlsafe(32)),
        "crm_jwt_secret": SecretStr(secrets.token_urlsafe(32)),
    }


def run(settings: Settings) -> tuple[int | None, str]:
    out = io.StringIO()
    try:
        enforce(settings, stderr=out)
    except SystemExit as stop:
        return int(str(stop.code)), out.getvalue()
    return None, out.getvalue()


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, "is not set"),
        ("", "is not set"),
        ("change-me-to-a-long-random-internal-token", "is a published placeholder"),
        ("local-development-internal-token", "is a published placeholder"),
        ("Replace-With-Something-Really-Long-And-Random", "is a published placeholder"),
        ("an-example-value-that-is-long-enough-1234567", "is a published placeholder"),
        ("x7Kq" * 7, "is shorter than 32 characters"),
        ("ab" * 20, "repeats too few characters"),
        (secrets.token_urlsafe(32), None),
    ],
)
def test_what_a_secret_may_not_be(value: str | None, problem: str | None) -> None:
    assert Secret("CRM_INTERNAL_TOKEN", value, 32).problem() == problem


def test_bytes_are_counted_as_bytes() -> None:
    thai = "รหัสลับของโรงเรียน"  # 18 characters, 54 bytes in UTF-8
    assert Secret("CRM_JWT_SECRET", thai, 32, unit="bytes").problem() is None
    assert Secret("CRM_JWT_SECRET", thai, 32).problem() == "is shorter than 32 characters"


def test_an_optional_secret_may_be_unset_but_not_weak() -> None:
    assert Secret("CRM_ADMIN_PASSWORD", None, 12, required=False).problem() is None
    assert Secret("CRM_ADMIN_PASSWORD", "change-me-admin-password", 12, required=False).problem()
    assert Secret("CRM_ADMIN_PASSWORD", "short-pass", 12, required=False).problem() == (
        "is shorter than 12 characters"
    )


def test_a_default_left_in_place_is_reported_as_not_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRM_INTERNAL_TOKEN", raising=False)
    settings = Settings(_env_file=None, crm_jwt_secret=SecretStr(secrets.token_urlsafe(32)))
    assert [s.problem() for s in settings.secrets()] == ["is not set", None, None]


def test_unsafe_secrets_stop_the_service_with_one_line_naming_each() -> None:
    settings = Settings(
        _env_file=None,
        crm_internal_token=SecretStr("change-me-to-a-long-random-internal-token"),
        crm_admin_password=SecretStr("short"),
    )
    code, said = run(settings)
    assert code == EXIT_CONFIG
    assert said.endswith("\n")
    assert said.count("\n") == 1
    assert said.startswith("crm-demo refuses to start: ")
    assert "CRM_INTERNAL_TOKEN is a published placeholder" in said
    assert "CRM_JWT_SECRET is not set" in said
    assert "CRM_ADMIN_PASSWORD is shorter than 12 characters" in said
    assert "secrets.token_urlsafe(32)" in said
    assert "change-me" not in said, "never the value itself"


def test_strong_secrets_pass_silently() -> None:
    assert run(Settings(_env_file=None, **strong())) == (None, "")  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["local", "LOCAL", " local "])
def test_local_mode_allows_them_with_one_warning(mode: str) -> None:
    code, said = run(Settings(_env_file=None, crm_env=mode))
    assert code is None
    assert said.count("\n") == 1
    assert "WARNING" in said
    assert "CRM_INTERNAL_TOKEN, CRM_JWT_SECRET" in said


@pytest.mark.parametrize("mode", ["", "production", "locale", "dev"])
def test_any_other_mode_is_a_deployment(mode: str) -> None:
    assert run(Settings(_env_file=None, crm_env=mode))[0] == EXIT_CONFIG
