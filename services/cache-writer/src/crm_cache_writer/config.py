from __future__ import annotations

from pathlib import Path

from crm_servicekit.settings import ServiceSettings


class CacheWriterSettings(ServiceSettings):
    service: str = "cache-writer"
    port: int = 8004
    # Shared with the gateway, which reads what is written here.
    crm_cache_dir: Path = Path("var/cache")
    # How often the analytics snapshots of the days events marked are written (coalesced).
    analytics_render_seconds: float = 2.0
