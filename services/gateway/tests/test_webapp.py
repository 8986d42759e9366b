"""The staff web app served by the gateway at `/`: the page on every app path (deep links work),
hashed assets cached for a year and gzipped, the app's own CSP and no framing, and the API's
answers untouched by it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from crm_gateway.config import GatewaySettings
from crm_gateway.webapp import serving

pytestmark = pytest.mark.integration

INDEX = (
    b'<!doctype html><html><head><script type="module" src="/assets/index-4f2a9c.js"></script></head></html>'
)
SCRIPT = b"console.log('V School');" * 200


@pytest.fixture(scope="module")
def web_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("web")
    (root / "assets").mkdir()
    (root / "index.html").write_bytes(INDEX)
    (root / "assets" / "index-4f2a9c.js").write_bytes(SCRIPT)
    (root.parent / "secret.txt").write_text("not for the web")
    return root


@pytest.fixture(scope="module")
def settings(settings: GatewaySettings, web_dir: Path) -> GatewaySettings:
    return settings.model_copy(update={"crm_web_dir": web_dir})


@pytest.mark.parametrize("path", ["/", "/inbox", "/customers/TVS-CUS-FB-26-0001", "/dashboards?range=7d"])
async def test_every_app_path_gets_the_page_with_the_apps_csp_and_no_framing(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)

    assert response.status_code == 200
    assert response.content == INDEX
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-cache", "a new build is seen at the next load"


async def test_hashed_assets_are_cached_for_a_year_and_gzipped_for_browsers_that_accept_it(
    client: httpx.AsyncClient,
) -> None:
    zipped = await client.get("/assets/index-4f2a9c.js", headers={"Accept-Encoding": "gzip"})
    plain = await client.get("/assets/index-4f2a9c.js", headers={"Accept-Encoding": "identity"})

    assert zipped.status_code == 200
    assert zipped.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == SCRIPT, "httpx decodes it: the bytes are the file's"
    assert int(zipped.headers["content-length"]) < len(SCRIPT) / 10
    assert zipped.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert "content-encoding" not in plain.headers
    assert plain.content == SCRIPT


@pytest.mark.parametrize(
    "path", ["/assets/missing-1234.js", "/assets/..%2Fsecret.txt", "/assets/../../secret.txt"]
)
async def test_an_asset_that_is_not_there_is_a_404_and_nothing_outside_is_reachable(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)

    assert response.status_code in (404, 200)
    assert b"not for the web" not in response.content
    if response.status_code == 200:  # a normalised path outside /assets is an app path
        assert response.content == INDEX


async def test_the_api_keeps_its_own_answers(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    unknown = await client.get("/api/v1/no-such-thing", headers=auth)
    wrong_method = await client.get("/api/v1/auth/token")
    health = await client.get("/healthz")

    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert wrong_method.status_code == 405
    assert health.status_code == 200
    assert health.headers["content-type"].startswith("application/json")


async def test_before_the_app_is_built_the_page_says_how_to_build_it(tmp_path: Path) -> None:
    async def api(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("api")(scope, receive, send)

    app = serving(tmp_path)(api)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as http:
        page = await http.get("/inbox")
        api_answer = await http.get("/api/v1/customers")

    assert page.status_code == 503
    assert "make web" in page.text
    assert api_answer.text == "api"
