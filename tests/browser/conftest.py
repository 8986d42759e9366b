"""The staff web app in Debian's chromium, against the whole system as processes.

The browser tests get a system of their own (the e2e fixtures, a fresh stack for this package, as
the API fuzz run does); the gateway serves the built app from `web/dist` (`make web` builds it).

Playwright's sync API keeps its own event loop marked as running in the test thread while it
lives, and pytest-asyncio cannot run the (async) `system` fixture's setup or teardown then. So
the Playwright chain (`playwright` … `browser`) is overridden here with package scope and starts
after the system: it is set up after the system and stopped before the system is torn down, and
the tests of other packages never meet it. Tests here are plain `def`s using the sync API.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    BrowserType,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from tests.e2e.conftest import ADMIN, System, fakes, sample_knowledge, system, system_env

from .helpers import new_staff, sign_in

__all__ = [
    "admin_page",
    "app_url",
    "browser",
    "browser_context_args",
    "browser_type",
    "browser_type_launch_args",
    "context",
    "fakes",
    "launch_browser",
    "page_as",
    "playwright",
    "sample_knowledge",
    "system",
    "system_env",
]

WEB_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these chromium keeps calling Google's services, and this machine's network is closed.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 900}
LOCALES = {"en": "en-GB", "th": "th-TH"}
# The machine is small and shared: a stack under load answers slower than Playwright's 5 s default.
EXPECT_TIMEOUT_MS = 15_000
ACTION_TIMEOUT_MS = 30_000

INBOX = {"en": "Inbox", "th": "กล่องข้อความ"}

PageAs = Callable[..., Page]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test in tests/browser is a browser test and an end-to-end one (`-m "not e2e"`,
    as `make test-fast` runs, leaves them out)."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="package", autouse=True)
def _built_web_app() -> None:
    if not (WEB_DIST / "index.html").is_file():
        pytest.fail(
            f"The staff web app is not built ({WEB_DIST / 'index.html'} is missing): run `make web` "
            "(or `cd web && npm ci && npm run build`) before the browser tests.",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def browser_type_launch_args(pytestconfig: pytest.Config) -> dict[str, Any]:
    """Debian's chromium, never a downloaded browser; `--headed` still works."""
    args: dict[str, Any] = {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS}
    if pytestconfig.getoption("--headed", default=False):
        args["headless"] = False
    slowmo = pytestconfig.getoption("--slowmo", default=0)
    if slowmo:
        args["slow_mo"] = slowmo
    return args


@pytest.fixture(scope="package")
def playwright(system: System, _pw_api_request_contexts: Any) -> Iterator[Playwright]:
    """Package-scoped (see the module's docstring): starts after `system`, stops before it ends."""
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    pw = sync_playwright().start()
    if _pw_api_request_contexts:
        _pw_api_request_contexts.instrument(pw)
    yield pw
    pw.stop()


@pytest.fixture(scope="package")
def browser_type(playwright: Playwright) -> BrowserType:
    return playwright.chromium


@pytest.fixture(scope="package")
def launch_browser(
    browser_type_launch_args: dict[str, Any], browser_type: BrowserType
) -> Callable[..., Browser]:
    def launch(**kwargs: Any) -> Browser:
        return browser_type.launch(**{**browser_type_launch_args, **kwargs})

    return launch


@pytest.fixture(scope="package")
def browser(launch_browser: Callable[..., Browser]) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium.", pytrace=False)
    launched = launch_browser()
    yield launched
    launched.close()


@pytest.fixture(scope="package")
def browser_context_args(app_url: str) -> dict[str, Any]:
    """What every context gets (pytest-playwright's `new_context` and `context` use it too):
    a desktop, Bangkok's time zone, relative URLs against the gateway. The locale is left to
    each context (`new_context(locale="th-TH")`); `context` and `page` are en-GB."""
    return {"viewport": VIEWPORT, "timezone_id": "Asia/Bangkok", "base_url": app_url}


@pytest.fixture
def context(new_context: Callable[..., BrowserContext]) -> BrowserContext:
    """pytest-playwright's `context` (and so `page`: a fresh, signed-out one), in en-GB."""
    created = new_context(locale=LOCALES["en"])
    created.set_default_timeout(ACTION_TIMEOUT_MS)
    return created


@pytest.fixture(scope="package")
def app_url(system: System) -> str:
    """The gateway's base URL: it serves the web app at `/` and the API under `/api`."""
    return system.stack.url("gateway")


def _signed_in_page(
    new_context: Callable[..., BrowserContext], app_url: str, email: str, password: str, lang: str
) -> Page:
    if lang not in LOCALES:
        raise ValueError(f"lang must be one of {sorted(LOCALES)}, not {lang!r}")
    context = new_context(locale=LOCALES[lang])
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    page.goto(app_url + "/signin")
    # The app remembers the language in localStorage (`crm.lang`): set it, then load again.
    page.evaluate("lang => localStorage.setItem('crm.lang', lang)", lang)
    page.reload()
    sign_in(page, email, password)
    expect(page).to_have_url(re.compile(r"/inbox$"))
    expect(page.get_by_role("navigation").get_by_role("link", name=INBOX[lang], exact=True)).to_be_visible()
    return page


@pytest.fixture
def page_as(new_context: Callable[..., BrowserContext], system: System, app_url: str) -> PageAs:
    """`page_as(role, lang="en")`: a new staff user of that role (created by the admin through
    the API), signed in through the form in a fresh browser context, on the inbox. `lang="th"`
    shows the Thai UI (and a th-TH browser locale). Contexts close when the test ends."""

    def make(role: str, lang: str = "en") -> Page:
        email, password = new_staff(system, role)
        return _signed_in_page(new_context, app_url, email, password, lang)

    return make


@pytest.fixture
def admin_page(new_context: Callable[..., BrowserContext], app_url: str) -> Page:
    """A fresh context signed in as the e2e admin through the real form, English, on the inbox."""
    return _signed_in_page(new_context, app_url, ADMIN[0], ADMIN[1], "en")
