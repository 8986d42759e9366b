from __future__ import annotations

from pydantic import SecretStr

from crm_servicekit.settings import InternalApiSettings


class AiSettings(InternalApiSettings):
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
