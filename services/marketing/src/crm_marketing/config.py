from __future__ import annotations

from crm_servicekit.settings import ServiceSettings


class MarketingSettings(ServiceSettings):
    service: str = "marketing"
    port: int = 8002
