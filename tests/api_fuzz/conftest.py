"""The API fuzz run gets a system of its own (the e2e fixtures, a fresh stack): what it creates,
changes and erases at random must not meet the end-to-end tests' customers. Its rate limits and
sign-in throttle are off: it signs in with wrong passwords, searches and starts syncs thousands
of times a minute from one address, and what it looks for is a 5xx, not a 429 (the limits are
attacked by the gateway's test_rate_limits.py and test_login_throttle.py)."""

import pytest

from tests.e2e.conftest import fakes, system

__all__ = ["fakes", "sample_knowledge", "system", "system_env"]


@pytest.fixture(scope="package")
def sample_knowledge() -> bool:
    return False  # it looks for 5xx; what the AI answers is the end-to-end tests' business


@pytest.fixture(scope="package")
def system_env() -> dict[str, str]:
    never = str(10**9)
    return {
        "CRM_RATE_LIMITS_ENABLED": "false",
        "CRM_LOGIN_MAX_FAILURES_PER_ADDRESS": never,
        "CRM_LOGIN_MAX_FAILURES_PER_ACCOUNT": never,
    }
