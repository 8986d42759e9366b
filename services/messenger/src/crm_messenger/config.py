from __future__ import annotations

from collections.abc import Sequence

from pydantic import SecretStr

from crm_servicekit.secrets_check import FROM_META, Secret
from crm_servicekit.settings import InternalApiSettings


class MessengerSettings(InternalApiSettings):
    service: str = "messenger"
    port: int = 8001
    meta_app_secret: SecretStr = SecretStr("")
    meta_verify_token: SecretStr = SecretStr("")
    meta_page_access_token: SecretStr = SecretStr("")
    meta_graph_api_url: str = "https://graph.facebook.com"
    meta_graph_api_version: str = "v23.0"
    # Meta batches many events per POST; bodies over this are refused with 413 before parsing.
    webhook_max_body_bytes: int = 8 * 1024 * 1024
    # Attempts per outbound message for retryable Graph errors (1, 2, 4, 17, 32, 613, 1200, 80006).
    send_max_attempts: int = 5
    send_backoff_initial_seconds: float = 1.0
    send_backoff_max_seconds: float = 30.0
    send_timeout_seconds: float = 20.0
    # A pending outbound message older than this is picked up again (its process died).
    pending_send_grace_seconds: float = 30.0
    # After staff take over, the AI stays quiet until handed back or staff are idle this long.
    handover_idle_minutes: int = 60
    # Customer profiles (names, picture) are fetched once and refreshed after this many days.
    profile_refresh_days: int = 30
    profile_poll_seconds: float = 5.0
    # Apply stored webhooks in this process. Set false on web-only processes when a separate
    # worker process (the same service with this true) does the processing (ADR 8).
    webhook_processing: bool = True
    # Safety net only: processors are woken by PostgreSQL NOTIFY when a webhook is stored.
    webhook_poll_seconds: float = 5.0
    # How long a woken processor waits for more webhooks before applying a batch.
    webhook_batch_window_ms: float = 10.0

    def secrets(self) -> Sequence[Secret]:
        return [
            *super().secrets(),
            # Meta's app secrets are 32 hexadecimal characters; it proves a webhook call is Meta's.
            self.secret("meta_app_secret", 32, how=FROM_META),
        ]
