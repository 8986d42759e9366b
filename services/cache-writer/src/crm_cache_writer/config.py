from __future__ import annotations

from pathlib import Path

from crm_servicekit.settings import InternalApiSettings, ServiceSettings


class CacheWriterSettings(ServiceSettings):
    service: str = "cache-writer"
    port: int = 8004
    # Shared with the gateway, which reads what is written here.
    crm_cache_dir: Path = Path("var/cache")
    # How often the analytics snapshots of the days events marked are written (coalesced).
    analytics_render_seconds: float = 2.0
    # The renderer's heartbeat (analytics/state.json) is written after every run that wrote a file
    # and at least this often otherwise; the gateway calls dashboards stale when it is much older
    # (its CRM_DASHBOARD_STALE_AFTER_SECONDS, 120 s by default: keep this well below that).
    analytics_heartbeat_seconds: float = 30.0
    # `python -m crm_cache_writer rebuild` asks the producers for their facts through their
    # internal APIs (the internal ports, ADR 17), with the service token `CRM_INTERNAL_TOKEN`.
    gateway_internal_url: str = "http://127.0.0.1:8100"
    marketing_internal_url: str = "http://127.0.0.1:8102"
    messenger_internal_url: str = "http://127.0.0.1:8101"
    rebuild_page_size: int = 1000


class RebuildSettings(CacheWriterSettings, InternalApiSettings):
    """The rebuild command's settings: the service's, and the token it sends (refused when unsafe
    outside CRM_ENV=local, as the services refuse it). Serving does not need the token."""
