from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from crm_servicekit.settings import ServiceSettings

# Signs tokens when CRM_JWT_SECRET is unset, so a local run works out of the box; the gateway
# logs a warning at startup while it is in use. Anyone can forge tokens signed with it.
DEV_JWT_SECRET = "dev-only-insecure-jwt-secret-set-CRM_JWT_SECRET-in-production"  # noqa: S105


class GatewaySettings(ServiceSettings):
    service: str = "gateway"
    port: int = 8000
    # Written by the cache-writer, only read here: snapshots served before asking the database.
    crm_cache_dir: Path = Path("var/cache")
    # The first admin, created at startup unless a staff user with this e-mail already exists.
    crm_admin_email: str | None = None
    crm_admin_password: SecretStr | None = None
    crm_jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    crm_access_token_ttl_seconds: int = 900

    @property
    def uses_dev_jwt_secret(self) -> bool:
        return self.crm_jwt_secret.get_secret_value() == DEV_JWT_SECRET
