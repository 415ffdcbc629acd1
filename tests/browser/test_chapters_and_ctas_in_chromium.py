"""Chapters and calls to action as a viewer meets them in Chromium, on the media page
(which frames the player): the chapter menu used by keyboard alone jumps the video, the
CTA overlay appears at its time as a link for the top window with rel=noopener, its
click reaches the item's insights page as a count, and the end screen shows at the end."""
from __future__ import annotations

import time
import urllib.request

import pytest
from bs4 import BeautifulSoup

from oembed_server import create_app
from oembed_server.domain.session_links import media_insights_url
from tests.support.catalog_rows import validate_rows
from tests.support.databases import migrated_sqlite_url
from tests.support.environment import SECRET_KEY
from tests.support.insights_links import app_link_keys
from tests.support.live_server import serve_in_thread

pytestmark = pytest.mark.browser

TRIAL = "https://example.com/trial"


@pytest.fixture(scope="module")
def extras_site(tmp_path_factory):
    """Base URL of the app with one video that has chapters and calls to action."""
    database = tmp_path_factory.mktemp("extras") / "catalog.sqlite3"
    apps = []

    def build(base_url):
        app = create_app({"OEMBED_DATABASE_URL": migrated_sqlite_url(database), "OEMBED_PUBLIC_URL": base_url,
                          "OEMBED_SECRET_KEY": SECRET_KEY, "OEMBED_URL_SCHEMES": "", "OEMBED_ENV": "development"})
        items, problems = validate_rows([{
            "external_id": "tour", "media_type": "VIDEO", "title": "Spring tour", "duration_ms": 8000,
            "file_url": f"{base_url}/static/sample/video.webm", "width": 640, "height": 360,
            "chapters": [{"start": 0, "title": "Welcome"}, {"start": 2, "title": "The editor"},
                         {"start": 5, "title": "Pricing"}],
            "ctas": [{"start": 4.5, "end": 7.5, "text": "Start a trial", "url": TRIAL},
                     {"start": "end", "text": "Book a demo", "url": "https://example.com/demo"}],
        }])
        assert not problems, problems
        app.extensions["catalog"].upsert(items)
        apps.append(app)
        return app

    with serve_in_thread(build) as base_url:
        _APPS[base_url] = apps[0]
        yield base_url
    apps[0].extensions["catalog"].dispose()


_APPS: dict = {}  # base URL -> its app, for the insights link's keys


def _cta_clicks(base_url: str) -> dict[str, int]:
    link = media_insights_url(base_url, app_link_keys(_APPS[base_url]), "tour")
    with urllib.request.urlopen(link, timeout=10) as response:
        soup = BeautifulSoup(response.read().decode("utf-8"), "html.parser")
    return {row["data-cta"]: int(row.select_one("[data-clicks]").text)
            for row in soup.select(".insights__ctas tr[data-cta]")}


def test_chapter_menu_by_keyboard_then_a_cta_at_its_time_whose_click_is_counted(open_page, extras_site):
    page = open_page()
    refused: list[str] = []  # the player's CSP must let both modules do their work
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
            else None)
    page.route(TRIAL, lambda route: route.fulfill(status=200, content_type="text/html",
                                                   body="<!doctype html><title>Trial</title><h1>Trial</h1>"))
    page.goto(f"{extras_site}/media/tour")
    player = page.frame_locator("iframe.media__frame")
    toggle = player.locator(".player-chapters__toggle")
    page.wait_for_function("() => document.querySelector('iframe.media__frame').contentDocument"
                           ".querySelector('#player').readyState >= 1")
    link = player.locator(".player-cta__link")
    assert not link.is_visible()  # at 0 s no call to action shows

    # Keyboard only: focus the button as Tab would, open, move down two chapters, choose.
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    items = player.locator(".player-chapters__item")
    assert [" ".join(t.split()) for t in items.all_inner_texts()] == ["0:00 Welcome", "0:02 The editor",
                                                                      "0:05 Pricing"]
    assert items.nth(0).evaluate("node => node === document.activeElement")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert items.nth(2).evaluate("node => node === document.activeElement")
    page.keyboard.press("Enter")
    assert player.locator("#player").evaluate("m => m.currentTime") == 5
    assert toggle.get_attribute("aria-expanded") == "false"
    assert toggle.evaluate("node => node === document.activeElement")  # focus back on the button
    # Escape closes the menu without jumping.
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    assert player.locator(".player-chapters__list").is_hidden()
    assert player.locator(".player-chapters__mark").count() == 3  # the marks on the timeline

    # At 5 s the first call to action is on screen: a link for the top window.
    link.wait_for(state="visible")
    assert link.inner_text() == "Start a trial"
    assert (link.get_attribute("href"), link.get_attribute("target"), link.get_attribute("rel")) == (
        TRIAL, "_top", "noopener")
    assert _cta_clicks(extras_site) == {"1": 0, "end": 0}

    link.click()
    page.wait_for_url(TRIAL)  # the whole page went there, not just the player frame
    assert page.locator("h1").inner_text() == "Trial"
    deadline = time.monotonic() + 10
    while (counts := _cta_clicks(extras_site)) != {"1": 1, "end": 0} and time.monotonic() < deadline:
        time.sleep(0.1)  # the beacon is sent as the page leaves; it lands soon after
    assert counts == {"1": 1, "end": 0}

    # The end-screen call to action shows once the video has ended.
    page.goto(f"{extras_site}/embed/tour?muted=1")
    page.wait_for_function("() => document.querySelector('#player').readyState >= 1")
    page.eval_on_selector("#player", "m => { m.currentTime = 7.6; return m.play(); }")
    page.wait_for_function("() => document.querySelector('#player').ended", timeout=15_000)
    link = page.locator(".player-cta__link")
    link.wait_for(state="visible")
    assert (link.inner_text(), link.get_attribute("target")) == ("Book a demo", "_top")
    assert page.locator(".player-cta").get_attribute("class") == "player-cta player-cta--end"
    assert refused == []
