"""Browser test fixtures: one live server and one Chromium per test session.

The app runs in a thread on a free port with the sample media loaded, the preview on,
and its public URL set to that port, so the oEmbed answers point back at it.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from oembed_server import create_app
from oembed_server.usecases.sample_media import load_sample_media
from tests.support.databases import migrated_sqlite_url
from tests.support.environment import SECRET_KEY, service_missing
from tests.support.live_server import serve_in_thread

# Debian's package installs /usr/bin/chromium; other systems name it otherwise or elsewhere.
CHROMIUM = Path(os.environ.get("OEMBED_TEST_CHROMIUM") or shutil.which("chromium")
                or shutil.which("chromium-browser") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The base URL of a running app (sample media loaded, preview enabled)."""
    database = tmp_path_factory.mktemp("live") / "catalog.sqlite3"
    apps = []

    def build(base_url):
        app = create_app({
            "OEMBED_DATABASE_URL": migrated_sqlite_url(database),
            "OEMBED_PUBLIC_URL": base_url,
            "OEMBED_SECRET_KEY": SECRET_KEY,
            "OEMBED_URL_SCHEMES": "",
            "OEMBED_ENV": "development",
            "PREVIEW_ENABLED": True,
        })
        load_sample_media(app.extensions["catalog"], base_url)
        apps.append(app)
        return app

    with serve_in_thread(build) as base_url:
        yield base_url
    apps[0].extensions["catalog"].dispose()


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        service_missing(f"{CHROMIUM} is not installed (Debian package `chromium`; tests/run_all.sh installs it; "
                        "OEMBED_TEST_CHROMIUM names another)")
    try:
        from playwright import sync_api
    except ImportError:
        service_missing("the Playwright Python package is not installed (pip install -e '.[test]')")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(chromium):
    """Opens a page in a fresh browser context (own cookies); all are closed after the test."""
    contexts = []

    def _open(viewport_width: int = 1200, viewport_height: int = 900, **context_options):
        context = chromium.new_context(viewport={"width": viewport_width, "height": viewport_height},
                                       **context_options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()


@pytest.fixture
def customer_site():
    """A second site on loopback (another port, so another origin) serving the pages put in its dict."""
    pages = {}

    def app(environ, start_response):
        body = pages.get(environ["PATH_INFO"], "").encode()
        start_response("200 OK" if body else "404 Not Found", [("Content-Type", "text/html; charset=utf-8")])
        return [body]

    with serve_in_thread(lambda _url: app) as site_url:
        yield site_url, pages


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def _save(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _save
