"""The pages under their Content Security Policies in Chromium: nothing they need is
blocked, the player still plays inside the media page and the module preview, and a
foreign site can frame the player but not the site pages."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def csp_violations(page) -> list[str]:
    """Every CSP refusal Chromium reports, in the page and in its frames."""
    seen: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and seen.append(message.text))
    return seen


def wait_playing(frame) -> None:
    frame.wait_for_selector("video#player")
    frame.wait_for_function("() => document.querySelector('video#player').currentTime > 0.3")


def test_pages_load_without_policy_violations(live_server, open_page):
    page = open_page()
    violations = csp_violations(page)
    for path in ("/", "/media/sample-video", "/media/sample-document", "/media/no-such-item",
                 "/embed/sample-audio", "/embed/sample-image", "/embed/sample-document"):
        page.goto(f"{live_server}{path}", wait_until="load")
        page.wait_for_timeout(100)  # late reports (from frames) arrive after load
        assert violations == [], path


def test_the_player_plays_inside_the_media_page_and_the_preview(live_server, open_page):
    page = open_page()
    violations = csp_violations(page)
    for path in ("/media/sample-video?autoplay=1&muted=1",
                 "/_preview/media_embed?media=sample-video&media=sample-audio&autoplay=1&muted=1"):
        page.goto(f"{live_server}{path}")
        frame = page.locator("iframe").first.element_handle().content_frame()
        if "/media/" in path:
            frame.evaluate("() => { const v = document.querySelector('video#player'); v.muted = true; v.play(); }")
        wait_playing(frame)
    assert violations == []


def test_a_foreign_site_may_frame_the_player_but_not_the_site_pages(live_server, open_page, customer_site):
    site_url, pages = customer_site
    pages["/frames"] = (f'<!doctype html><iframe id="player" src="{live_server}/embed/sample-image"></iframe>'
                        f'<iframe id="index" src="{live_server}/"></iframe>'
                        f'<iframe id="media" src="{live_server}/media/sample-image"></iframe>')
    page = open_page()
    page.goto(f"{site_url}/frames", wait_until="load")
    player = page.locator("#player").element_handle().content_frame()
    player.wait_for_selector("img#player")
    for refused in ("#index", "#media"):
        frame = page.locator(refused).element_handle().content_frame()
        # A refused frame shows Chromium's error page, never our content.
        assert frame.locator(".site-header").count() == 0, refused
