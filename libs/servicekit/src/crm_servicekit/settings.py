"""The settings every service shares. Names are the deployment contract (see `.env.example`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    log_level: str = "INFO"
    # A bounded prefetch keeps one slow consumer from hoarding a queue's messages.
    broker_prefetch: int = 16
    # How often the outbox relay looks for events whose publish did not happen after commit.
    outbox_relay_interval_seconds: float = 2.0

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
