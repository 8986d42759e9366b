"""A service refuses to start with a secret anyone could know (issue 12).

Each service's settings list the secrets it uses (`ServiceSettings.secrets()`); `enforce()` runs
before it serves. A secret that is unset, a published placeholder (from `.env.example`, the
compose file, the k8s example or an old default), too short or all one or two characters stops
the service with ONE line on stderr naming each variable and how to make a value, and exit code
78 (EX_CONFIG), no traceback. With `CRM_ENV=local` (what `make up` sets) the same values are
allowed with one warning line: a development machine needs no real secrets.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TextIO

LOCAL_ENV = "local"
EXIT_CONFIG = 78  # sysexits.h EX_CONFIG: a configuration error, not a crash
GENERATE = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
FROM_META = "copy the App Secret from your Meta app's dashboard (App settings > Basic)"

# Values published in this repository (examples, compose, old defaults, the local runner's fakes):
# whoever reads the repository knows them.
KNOWN_VALUES = frozenset(
    {
        "change-me-admin-password",
        "change-me-to-a-long-random-string-at-least-32-bytes",
        "change-me-to-a-long-random-internal-token",
        "change-me-on-first-login",
        "local-development-only-jwt-secret-change-me",
        "local-development-internal-token",
        "dev-only-insecure-jwt-secret-set-CRM_JWT_SECRET-in-production",
        "replace-with-meta-app-secret",
        "local-app-secret",
    }
)
# Words only a placeholder carries: `change-me-…`, `replace-with-…`, `…-example-…` and the like.
PLACEHOLDER_MARKERS = (
    "change-me",
    "changeme",
    "change_me",
    "replace-with",
    "replace_me",
    "placeholder",
    "example",
    "local-development",
    "dev-only",
    "insecure",
)
MIN_DISTINCT_CHARACTERS = 5
# The rules of the secrets several services share.
INTERNAL_TOKEN_MIN_LENGTH = 32  # characters: CRM_INTERNAL_TOKEN
JWT_SECRET_MIN_BYTES = 32  # HS256 wants a key as long as its hash
ADMIN_PASSWORD_MIN_LENGTH = 12  # the staff passwords' rule (crm_gateway.auth.staff_api)


@dataclass(frozen=True)
class Secret:
    """One secret a service uses: its variable, its value (None: not set) and its rule."""

    variable: str
    value: str | None
    min_length: int
    unit: Literal["characters", "bytes"] = "characters"
    required: bool = True
    how: str = f"generate one with {GENERATE}"

    def problem(self) -> str | None:
        """Why this value must not be used, or None if it may."""
        if not self.value:
            return "is not set" if self.required else None
        lowered = self.value.lower()
        if self.value in KNOWN_VALUES or any(marker in lowered for marker in PLACEHOLDER_MARKERS):
            return "is a published placeholder"
        length = len(self.value.encode()) if self.unit == "bytes" else len(self.value)
        if length < self.min_length:
            return f"is shorter than {self.min_length} {self.unit}"
        if len(set(self.value)) < MIN_DISTINCT_CHARACTERS:
            return "repeats too few characters"
        return None


class Checked(Protocol):
    """What `enforce` needs of a service's settings (`ServiceSettings` has it)."""

    @property
    def service_name(self) -> str: ...

    @property
    def local_mode(self) -> bool: ...

    def secrets(self) -> Sequence[Secret]: ...


def problems(secrets: Sequence[Secret]) -> list[str]:
    """One phrase per unusable secret, e.g. `CRM_JWT_SECRET is not set (generate one with ...)`."""
    found = []
    for secret in secrets:
        problem = secret.problem()
        if problem is not None:
            found.append(f"{secret.variable} {problem} ({secret.how})")
    return found


def enforce(settings: Checked, *, stderr: TextIO | None = None) -> None:
    """Stop the process (exit 78, one line) on unusable secrets, unless in local mode (one warning)."""
    out = stderr if stderr is not None else sys.stderr
    found = problems(settings.secrets())
    if not found:
        return
    if settings.local_mode:
        names = ", ".join(problem.split(" ", 1)[0] for problem in found)
        out.write(
            f"{settings.service_name}: WARNING: CRM_ENV=local, so unsafe {names} are allowed; "
            "never use them where anyone else can reach this service\n"
        )
        out.flush()
        return
    out.write(
        f"{settings.service_name} refuses to start: {'; '.join(found)}. "
        f"Set {'it' if len(found) == 1 else 'them'} in the environment "
        "(or CRM_ENV=local on a development machine)\n"
    )
    out.flush()
    raise SystemExit(EXIT_CONFIG)
