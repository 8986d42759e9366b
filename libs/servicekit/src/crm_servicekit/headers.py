"""The hardening headers every answer of ours carries, in one place: the gateway's middleware
(`crm_gateway.security_headers`, which explains each) and the public door's 404 (`doors`)."""

from __future__ import annotations

HARDENING = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)
# For answers that are data, never documents: rendered as a page, they can load and run nothing.
API_CSP = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
