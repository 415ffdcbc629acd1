"""The player page (/embed/<id>) as Chromium runs it: options honoured, framable from any site."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def media_state(page, selector: str = "#player") -> dict:
    return page.eval_on_selector(selector, "m => ({t: m.currentTime, muted: m.muted, loop: m.loop, paused: m.paused})")


def test_video_autoplays_muted_from_the_start_offset(open_page, live_server):
    page = open_page()
    page.goto(f"{live_server}/embed/sample-video?autoplay=1&muted=1&start=3")
    page.wait_for_function("() => document.querySelector('#player').currentTime > 3.3")
    state = media_state(page)
    assert state["muted"] and not state["paused"] and not state["loop"]
    # It began at the offset rather than playing through the first three seconds.
    played = page.eval_on_selector("#player", "m => m.played.length ? m.played.start(0) : -1")
    assert played >= 2.9


def test_looping_video_wraps_around(open_page, live_server):
    page = open_page()
    page.goto(f"{live_server}/embed/sample-video?autoplay=1&muted=1&loop=1&start=7")
    page.wait_for_function("() => document.querySelector('#player').currentTime > 7.2")
    page.wait_for_function("() => document.querySelector('#player').currentTime < 1.5", timeout=15_000)
    assert media_state(page)["loop"]


def test_blocked_autoplay_falls_back_to_muted_video(open_page, live_server):
    # Chromium's default policy refuses autoplay with sound, as browsers do for visitors.
    page = open_page()
    page.goto(f"{live_server}/embed/sample-video?autoplay=1")
    page.wait_for_function("() => document.querySelector('#player').currentTime > 0.5")
    assert media_state(page)["muted"]


def test_blocked_autoplay_leaves_audio_unmuted_for_a_click(open_page, live_server):
    page = open_page()
    page.goto(f"{live_server}/embed/sample-audio?autoplay=1&start=1")
    page.wait_for_function("() => document.querySelector('#player').readyState >= 1")
    page.wait_for_timeout(500)  # give the refused autoplay and player.js's handling time to settle
    state = media_state(page)
    assert state["paused"] and not state["muted"] and state["t"] == pytest.approx(1, abs=0.05)
    page.click(".player__caption")  # a visitor's gesture on the page lets it play, with sound
    page.eval_on_selector("#player", "m => m.play()")
    page.wait_for_function("() => document.querySelector('#player').currentTime > 1.5")
    assert not media_state(page)["muted"]


def test_tracking_parameters_reach_the_player_script(open_page, live_server):
    page = open_page()
    page.goto(f"{live_server}/embed/sample-video?hs_utk=utk-123&hs_portal_id=42&hs_page_id=7")
    page.wait_for_function("() => window.mediaPlayer !== undefined")
    tracking = page.evaluate("() => window.mediaPlayer.config.tracking")
    assert tracking == {"hs_utk": "utk-123", "hs_portal_id": "42", "hs_page_id": "7"}
    assert page.evaluate("() => window.mediaPlayer.element.dataset.externalId") == "sample-video"


def test_oembed_html_plays_when_framed_by_another_site(open_page, live_server, customer_site):
    """The iframe from our oEmbed answer, on a page of another origin, loads and plays."""
    site_url, pages = customer_site
    page = open_page()
    answer = page.request.get(f"{live_server}/oembed",
                              params={"url": f"{live_server}/media/sample-video?autoplay=1&muted=1"}).json()
    pages["/landing"] = f"<!doctype html><title>Customer page</title>{answer['html']}"
    page.goto(f"{site_url}/landing")
    iframe = page.locator("iframe")
    assert iframe.get_attribute("title") == "Spring product tour"
    player = page.frame_locator("iframe").locator("video#player")
    player.wait_for()  # the lazy iframe has navigated to our player page
    for _ in range(100):  # bounded poll: up to 10 s for half a second of playback
        if player.evaluate("m => m.currentTime") > 0.5:
            break
        page.wait_for_timeout(100)
    assert player.evaluate("m => m.currentTime") > 0.5
    box = iframe.bounding_box()
    assert (round(box["width"]), round(box["height"])) == (answer["width"], answer["height"])
