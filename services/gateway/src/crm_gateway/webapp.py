"""The staff web app (`web/`, built by Vite into `web/dist`), served by the gateway at `/`: one
origin with the API, so no CORS and the same tokens (ADR 22).

- `/assets/<name>`: Vite's content-hashed files, cached by browsers for a year (`immutable`);
  gzipped once (in memory) for a browser that accepts it.
- Any other GET outside the API's and the operators' paths: `index.html` (the app routes in
  the browser), `no-cache` so a new build is picked up at the next load.
- The app's own CSP: scripts, styles, fonts and connections from this origin only; images also
  from `https:` (customers' Messenger profile pictures) and `data:`; no framing.
- Nothing built (`CRM_WEB_DIR` has no `index.html`): a 503 page saying how to build it.
"""

from __future__ import annotations

import gzip
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from crm_servicekit.logging import get_logger

log = get_logger(__name__)

APP_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
IMMUTABLE = "public, max-age=31536000, immutable"
ASSET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}")
COMPRESSIBLE = (".js", ".css", ".svg", ".json", ".html", ".txt", ".map")
# Paths (and what is below them) that are never the app's: the API's and the operators'.
NOT_THE_APP = (
    "/api",
    "/internal",
    "/webhooks",
    "/healthz",
    "/readyz",
    "/metrics",
    "/docs",
    "/redoc",
    "/openapi.json",
)
NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>V School CRM</title>
<p>The web app is not built. Run <code>make web</code> (or <code>make up</code>), then reload.</p>"""


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes | None
    media_type: str


class WebApp:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._assets: dict[str, Asset | None] = {}

    def index(self) -> bytes | None:
        try:
            return (self.directory / "index.html").read_bytes()
        except OSError:
            return None

    def asset(self, name: str) -> Asset | None:
        """A built asset by file name (hashed, so it never changes under the same name)."""
        if not ASSET_NAME.fullmatch(name) or ".." in name:
            return None
        if name not in self._assets:
            self._assets[name] = self._load(self.directory / "assets" / name)
        return self._assets[name]

    @staticmethod
    def _load(path: Path) -> Asset | None:
        try:
            body = path.read_bytes()
        except OSError:
            return None
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        gzipped = gzip.compress(body, 9, mtime=0) if path.suffix in COMPRESSIBLE else None
        return Asset(body, gzipped, media_type)


class ServeWebApp:
    """ASGI, around the gateway's app: a GET or HEAD outside the API's and the operators' paths
    is the web app's; everything else goes to `app` untouched (so the API keeps its own 404s
    and 405s)."""

    def __init__(self, app: ASGIApp, webapp: WebApp) -> None:
        self.app = app
        self.webapp = webapp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or any(path == p or path.startswith(p + "/") for p in NOT_THE_APP)
        ):
            await self.app(scope, receive, send)
            return
        response = self.asset(path, Headers(scope=scope)) if path.startswith("/assets/") else self.page()
        await response(scope, receive, send)

    def asset(self, path: str, headers: Headers) -> Response:
        found = self.webapp.asset(path.removeprefix("/assets/"))
        if found is None:
            return Response(b"Not Found", status_code=404, headers={"Cache-Control": "no-store"})
        answer = {"Cache-Control": IMMUTABLE, "Vary": "Accept-Encoding"}
        if found.gzipped is not None and "gzip" in headers.get("accept-encoding", ""):
            answer["Content-Encoding"] = "gzip"
            return Response(found.gzipped, media_type=found.media_type, headers=answer)
        return Response(found.body, media_type=found.media_type, headers=answer)

    def page(self) -> Response:
        html = self.webapp.index()
        if html is None:
            return HTMLResponse(NOT_BUILT, status_code=503, headers={"Content-Security-Policy": APP_CSP})
        return HTMLResponse(html, headers={"Content-Security-Policy": APP_CSP, "Cache-Control": "no-cache"})


def serving(directory: Path) -> Callable[[ASGIApp], ASGIApp]:
    """Wraps an app so it serves the web app built in `directory` too."""
    webapp = WebApp(directory)
    if webapp.index() is None:
        log.warning("web app not built; / answers 503 until it is", web_dir=str(directory))
    return lambda app: ServeWebApp(app, webapp)
