"""The settings every service shares. Names are the deployment contract (see `.env.example`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .secrets_check import GENERATE, INTERNAL_TOKEN_MIN_LENGTH, LOCAL_ENV, Secret

# The internal token when CRM_INTERNAL_TOKEN is unset: a local run (CRM_ENV=local) works out of the
# box; anywhere else a service refuses to start with it. Anyone who knows it could call the APIs.
DEV_INTERNAL_TOKEN = "local-development-internal-token"  # noqa: S105


class ServiceSettings(BaseSettings):
    """Base settings; each service subclasses it once in its `config.py`.

    Values come from the environment, then a `.env` file in the working directory.
    The OpenTelemetry exporter is configured by the SDK from the standard `OTEL_*` variables
    alone; only `OTEL_SERVICE_NAME` is read here, to default it per service.
    """

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    service: str = Field(default="service", exclude=True, description="Short service name, e.g. `messenger`.")
    database_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    otel_service_name: str = ""
    port: int = 8000
    # The internal door (ADR 17): the internal API, /metrics and /docs answer only here.
    # 0: `port` + 100 (gateway 8100, messenger 8101, marketing 8102, ai 8103, cache-writer 8104).
    internal_port: int = Field(default=0, ge=0, le=65535)
    log_level: str = "INFO"
    # A bounded prefetch keeps one slow consumer from hoarding a queue's messages.
    broker_prefetch: int = 16
    # How often the outbox relay looks for events whose publish did not happen after commit.
    outbox_relay_interval_seconds: float = 2.0
    # `local` (set by `make up`): unsafe secrets are allowed with a warning. Anything else, unset
    # included, is a deployment: the service refuses to start with them (`secrets_check.py`).
    crm_env: str = ""
    # Where the HTTP server listens: every interface in a container; `make up` says 127.0.0.1.
    crm_bind_host: str = "0.0.0.0"

    @model_validator(mode="after")
    def _an_internal_port_of_its_own(self) -> Self:
        if self.internal_port == 0:
            self.internal_port = self.port + 100
        if self.internal_port == self.port:
            raise ValueError("INTERNAL_PORT must differ from PORT: the internal APIs would face outside")
        return self

    @property
    def local_mode(self) -> bool:
        return self.crm_env.strip().lower() == LOCAL_ENV

    def secrets(self) -> Sequence[Secret]:
        """The secrets this service uses, checked before it serves; each service lists its own."""
        return ()

    def secret(
        self,
        field: str,
        min_length: int,
        *,
        unit: Literal["characters", "bytes"] = "characters",
        required: bool = True,
        how: str = f"generate one with {GENERATE}",
    ) -> Secret:
        """The field `field` as a `Secret` (its variable is the field's name in capitals)."""
        value = getattr(self, field)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        # A field left at its default was not set, whatever development value the default holds.
        given = value if field in self.model_fields_set else None
        return Secret(field.upper(), given, min_length, unit=unit, required=required, how=how)

    @property
    def service_name(self) -> str:
        return self.otel_service_name or f"crm-{self.service}"

    @property
    def libpq_database_url(self) -> str:
        """`DATABASE_URL` as plain `postgresql://`, for asyncpg used directly on a hot path."""
        return libpq_database_url(self.database_url)

    @property
    def async_database_url(self) -> str:
        """`DATABASE_URL` as SQLAlchemy's asyncpg URL (accepts plain `postgresql://`)."""
        return sqlalchemy_database_url(self.database_url)


class InternalApiSettings(ServiceSettings):
    """A service whose internal API (/internal/v1) the gateway calls, or the gateway itself: both
    ends share `CRM_INTERNAL_TOKEN`, checked before the service serves."""

    crm_internal_token: SecretStr = SecretStr(DEV_INTERNAL_TOKEN)

    def secrets(self) -> Sequence[Secret]:
        return [self.secret("crm_internal_token", INTERNAL_TOKEN_MIN_LENGTH)]


# Every form of `DATABASE_URL` a service accepts; anything that reads the variable (the local
# runner too) goes through these two, so all accept the same ones.
_DATABASE_URL_PREFIXES = ("postgresql+asyncpg://", "postgresql://", "postgres://")


def sqlalchemy_database_url(url: str) -> str:
    """`url` as SQLAlchemy's asyncpg URL (`postgresql+asyncpg://`)."""
    for prefix in _DATABASE_URL_PREFIXES:
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("DATABASE_URL must be a postgresql:// URL")


def libpq_database_url(url: str) -> str:
    """`url` as plain `postgresql://`, the form asyncpg and libpq take."""
    return "postgresql://" + sqlalchemy_database_url(url).removeprefix("postgresql+asyncpg://")
