from __future__ import annotations

from pydantic import SecretStr

from crm_servicekit.settings import InternalApiSettings


class MarketingSettings(InternalApiSettings):
    service: str = "marketing"
    port: int = 8002
    # Meta Marketing API: a system-user token with ads_read, and the accounts to sync
    # (comma-separated, with or without the `act_` prefix).
    meta_marketing_access_token: SecretStr = SecretStr("")
    meta_ad_account_ids: str = ""
    meta_graph_api_url: str = "https://graph.facebook.com"
    meta_graph_api_version: str = "v23.0"

    # Schedules (ADR 9): hourly = today and yesterday, hourly and daily rows; daily = the last
    # `sync_lookback_days` days of daily rows (Meta attributes conversions late), at this local hour.
    sync_schedule_enabled: bool = True
    sync_lookback_days: int = 28
    sync_daily_hour: int = 4
    # How often a worker looks for queued runs and schedules (runs are claimed with SKIP LOCKED).
    sync_poll_seconds: float = 5.0
    # A running run whose worker has not reported for this long is taken over by another.
    sync_stale_seconds: float = 600.0

    # Insight report jobs.
    insights_page_size: int = 500
    report_concurrency: int = 3
    report_poll_initial_seconds: float = 2.0
    report_poll_max_seconds: float = 30.0
    report_timeout_seconds: float = 1800.0
    # A failed or timed-out report job is retried this many times before it is split.
    report_attempts: int = 2
    # Daily rows are requested this many days per job; hourly rows one day per job (Meta's rule).
    daily_days_per_job: int = 7

    # Graph calls: attempts for retryable errors, exponential backoff between them.
    meta_max_attempts: int = 6
    meta_backoff_initial_seconds: float = 2.0
    meta_backoff_max_seconds: float = 120.0
    meta_timeout_seconds: float = 60.0
    # Slow down when a usage header passes `usage_slowdown_pct`; pause at `usage_pause_pct`.
    usage_slowdown_pct: float = 75.0
    usage_pause_pct: float = 95.0
    usage_pause_seconds: float = 60.0

    @property
    def ad_account_ids(self) -> list[str]:
        """Account ids without the `act_` prefix."""
        return [a.strip().removeprefix("act_") for a in self.meta_ad_account_ids.split(",") if a.strip()]
