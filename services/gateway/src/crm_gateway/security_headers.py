"""Security headers on every answer of the gateway, errors and 404s included: a pure ASGI
middleware (it only adds headers to `http.response.start`; no body is buffered or copied, which
is what makes Starlette's `BaseHTTPMiddleware` slow).

- `X-Content-Type-Options: nosniff`: a browser never guesses a JSON body is HTML or script.
- `Referrer-Policy: no-referrer`: URLs (customer ids in them) never leak to another site.
- `X-Frame-Options: DENY` and CSP `frame-ancestors 'none'`: no page can frame the API.
- A strict CSP for API answers (`default-src 'none'`): a JSON body rendered as a document can
  load and run nothing. The interactive docs (Swagger UI, ReDoc) keep only `frame-ancestors`,
  since they load their scripts from a CDN; the web app will bring its own CSP.
- `Strict-Transport-Security` when the request came over https (uvicorn sets the scheme from
  `X-Forwarded-Proto` of a proxy in `FORWARDED_ALLOW_IPS`), or always with `CRM_HSTS_ALWAYS`
  (a proxy that terminates TLS without forwarding the scheme).
- `Cache-Control: no-store` unless the route chose its own: nearly every answer of the staff API
  holds personal data, which must stay out of shared and browser caches.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crm_servicekit.headers import API_CSP, HARDENING

HSTS = b"max-age=31536000"
DOCS_CSP = b"frame-ancestors 'none'"
DOCS_PATHS = ("/docs", "/redoc")


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, hsts_always: bool = False) -> None:
        self.app = app
        self.hsts_always = hsts_always

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        docs = path.startswith(DOCS_PATHS)
        hsts = self.hsts_always or scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = [*HARDENING, (b"content-security-policy", DOCS_CSP if docs else API_CSP)]
                if hsts:
                    extra.append((b"strict-transport-security", HSTS))
                if not docs:
                    extra.append((b"cache-control", b"no-store"))
                headers.extend((name, value) for name, value in extra if name not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
