from __future__ import annotations

from collections.abc import Sequence

from pydantic import SecretStr

from crm_servicekit.secrets_check import INTERNAL_TOKEN_MIN_LENGTH, Secret
from crm_servicekit.settings import ServiceSettings


class AiSettings(ServiceSettings):
    service: str = "ai"
    port: int = 8003
    # Empty: the offline responder answers honestly that staff will follow up.
    gemini_api_key: SecretStr = SecretStr("")
    # google-genai's own variable; empty means Google's endpoint.
    google_gemini_base_url: str = ""
    gemini_model: str = "gemini-2.5-flash"
    # The SDK neither times out nor retries by default: both are set explicitly.
    gemini_timeout_seconds: float = 30.0
    # Tries of one reply (the first call and its retries) on 408/429/5xx and dropped connections,
    # before the holding reply and the handover to staff.
    gemini_attempts: int = 4
    gemini_retry_initial_delay_seconds: float = 1.0
    gemini_retry_max_delay_seconds: float = 20.0
    gemini_max_output_tokens: int = 800
    gemini_temperature: float = 0.3
    # Shared with the gateway: the only caller of the internal API (/internal/v1). The default
    # serves `CRM_ENV=local` only: elsewhere the service refuses to start without a real one.
    crm_internal_token: SecretStr = SecretStr("local-development-internal-token")

    def secrets(self) -> Sequence[Secret]:
        return [self.secret("crm_internal_token", INTERNAL_TOKEN_MIN_LENGTH)]
