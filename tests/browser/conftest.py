"""Fixtures for the real-browser tests: Debian's chromium driven by Playwright.

Never ``playwright install``: the system browser is used through executable_path.
Test modules do not ``import conftest`` (which conftest that name finds depends on
collection order); what tests/conftest.py offers is handed out as fixtures here."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT_CONFTEST = Path(__file__).resolve().parent.parent / "conftest.py"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IPHONE = dict(
    viewport={"width": 390, "height": 844},
    is_mobile=True,
    device_scale_factor=3,
    has_touch=True,
)


@pytest.fixture(scope="session")
def root(request):
    for plugin in request.config.pluginmanager.get_plugins():
        file = getattr(plugin, "__file__", None)
        if file and Path(file).resolve() == ROOT_CONFTEST:
            return plugin
    raise RuntimeError("tests/conftest.py is not loaded")


@pytest.fixture(scope="session")
def require_tool(root):
    return root.require_tool


@pytest.fixture
def browser_data():
    """Overridden by test modules: whatever a test reads from the database or the API
    before the browser starts (see ``browser``)."""
    return None


@pytest.fixture
def browser(require_tool, browser_data):
    """Function scope on purpose: while Playwright's sync API runs, its event loop is the
    thread's running loop, so fixtures that call asyncio.run (the database fixtures)
    must all be set up before the browser starts, and ``browser_data`` comes first."""
    chromium = require_tool("chromium", "the browser tests drive Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    """A fresh iPhone-sized browsing context (no cookies from other tests)."""
    context = browser.new_context(**IPHONE, locale="zh-CN")
    yield context
    context.close()
