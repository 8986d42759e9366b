"""The gateway's settings: one class, from the environment."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from pydantic import Field, SecretStr

from crm_gateway.auth.security import AUDIENCE, ISSUER
from crm_gateway.ratelimits.settings import RateLimitSettings
from crm_servicekit.secrets_check import (
    ADMIN_PASSWORD_MIN_LENGTH,
    JWT_SECRET_MIN_BYTES,
    Secret,
)
from crm_servicekit.settings import InternalApiSettings

# Signs tokens when CRM_JWT_SECRET is unset, so a local run (CRM_ENV=local) works out of the box;
# anywhere else the gateway refuses to start without a real one. Anyone can forge tokens with it.
DEV_JWT_SECRET = "dev-only-insecure-jwt-secret-set-CRM_JWT_SECRET-in-production"  # noqa: S105


class GatewaySettings(InternalApiSettings, RateLimitSettings):
    """Every setting of the gateway; the `CRM_RATE_LIMIT_*` ones are in `ratelimits.settings`."""

    service: str = "gateway"
    port: int = 8000
    # Written by the cache-writer, only read here: snapshots served before asking the database.
    crm_cache_dir: Path = Path("var/cache")
    # A dashboard answer is `stale` when the cache-writer's heartbeat (analytics/state.json, written
    # every ANALYTICS_HEARTBEAT_SECONDS = 30 s while it runs) is older than this, or missing, or
    # says days wait to be rendered: a few heartbeats, so one slow render is no false alarm.
    crm_dashboard_stale_after_seconds: int = Field(default=120, ge=1)
    # A stale answer asks the cache-writer to render its days again (analytics.refresh_requested),
    # at most once this often per process for overlapping ranges, waiting at most the timeout for
    # the broker (the answer never waits: it is served from the files at once).
    crm_dashboard_refresh_interval_seconds: float = Field(default=60.0, ge=0)
    crm_dashboard_refresh_timeout_seconds: float = Field(default=2.0, gt=0)
    # Parsed analytics snapshots kept in memory (least recently used go first), counted by the size
    # of their files; parsed, they take about four times as much (a year of 50-ad days is ~14 MB).
    # A quarter of it goes to serialized dashboard answers (by their bytes), the rest to snapshots.
    crm_dashboard_cache_max_bytes: int = Field(default=32 * 1024 * 1024, ge=0)
    # The first admin, created at startup unless a staff user with this e-mail already exists.
    crm_admin_email: str | None = None
    crm_admin_password: SecretStr | None = None
    crm_jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    crm_access_token_ttl_seconds: int = 900
    # Access tokens name this issuer and audience, and only tokens naming both are accepted.
    crm_jwt_issuer: str = Field(default=ISSUER, min_length=1)
    crm_jwt_audience: str = Field(default=AUDIENCE, min_length=1)
    # A session (and its refresh token) ends after this long without a refresh: idle staff sign in again.
    crm_refresh_token_ttl_seconds: int = 14 * 24 * 3600
    # ... and this long after sign-in whatever the refreshes (a work day and a bit): then refresh
    # fails and the staff member signs in again, so a stolen refresh token is good for a day at most.
    crm_session_max_lifetime_seconds: int = Field(default=12 * 3600, ge=60)
    # Sign-in attempts allowed per account and per client address in one fixed window; beyond
    # them the gateway answers 429 without checking the password. Generous per address: an
    # office shares one.
    crm_login_window_seconds: int = 15 * 60
    crm_login_max_failures_per_account: int = 5
    crm_login_max_failures_per_address: int = 20
    # The largest discount on an order line (percent of its price × quantity) a role without
    # `order:discount_over_cap` may give; above it a manager or admin takes the order (ADR 10).
    order_discount_cap_percent: Decimal = Field(default=Decimal("20"), ge=0, le=100)
    # Conversations live in the messenger; the gateway reads them through its internal HTTP API.
    messenger_internal_url: str = "http://127.0.0.1:8101"
    # Ad accounts, campaigns, insights and sync runs live in the marketing service (same token).
    marketing_internal_url: str = "http://127.0.0.1:8102"
    # The ai service's internal API: the replies it generated, for a customer's PDPA export.
    ai_internal_url: str = "http://127.0.0.1:8103"
    # The largest knowledge-base file staff may upload; refused with 413 before the ai sees more
    # (keep it the ai's `KNOWLEDGE_MAX_UPLOAD_BYTES`).
    knowledge_max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    # `crm_internal_token` (InternalApiSettings): sent as `X-Internal-Token` to the internal APIs.
    # Strict-Transport-Security goes on answers to https requests; set this when a proxy ends TLS
    # without telling the gateway (no X-Forwarded-Proto from an address in FORWARDED_ALLOW_IPS).
    crm_hsts_always: bool = False
    # The built staff web app (`npm run build` in web/ writes web/dist), served at `/`. The
    # default is the repository's own; the image sets it to where it copies the build.
    crm_web_dir: Path = Path(__file__).resolve().parents[4] / "web" / "dist"
    # A browser's live stream (GET /api/v1/live) ends after this long and reconnects with a fresh
    # token: how long a deactivated account or a changed role can go on hearing changes at most.
    crm_live_max_seconds: float = Field(default=300.0, gt=0)

    def secrets(self) -> Sequence[Secret]:
        return [
            self.secret("crm_jwt_secret", JWT_SECRET_MIN_BYTES, unit="bytes"),
            *super().secrets(),
            # Only used to create the first admin: once it exists the variable may go.
            self.secret(
                "crm_admin_password",
                ADMIN_PASSWORD_MIN_LENGTH,
                required=False,
                how="choose a passphrase of at least 12 characters, or generate one with "
                "python -c 'import secrets; print(secrets.token_urlsafe(16))'",
            ),
        ]
