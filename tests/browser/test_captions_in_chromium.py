"""Captions in Chromium: tracks load (same-origin and, through CORS, from another origin),
cc and cc_lang decide which one shows, and no script is needed for any of it."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

MODES = "m => Array.from(m.textTracks).map(t => [t.language, t.mode])"


def wait_for_cues(page, language: str) -> None:
    page.wait_for_function("(lang) => Array.from(document.querySelector('#player').textTracks).some("
                           "t => t.language === lang && t.cues && t.cues.length > 0)", arg=language)


@pytest.mark.parametrize("query, shown", [("cc=1", "en"), ("cc_lang=fr", "fr"), ("", None)])
def test_cc_options_choose_the_track_that_shows_without_any_script(open_page, player_site, query, shown):
    page = open_page()
    scripts = []
    # No script at all: the tracks and their default are markup.
    page.route("**/*.js", lambda route: (scripts.append(route.request.url), route.abort()))
    page.goto(f"{player_site}/embed/sample-video?{query}")
    page.wait_for_function("() => document.querySelector('#player').readyState >= 1")
    if shown:
        wait_for_cues(page, shown)
    assert page.eval_on_selector("#player", MODES) == [
        ["en", "showing" if shown == "en" else "disabled"], ["fr", "showing" if shown == "fr" else "disabled"]]
    assert f"{player_site}/static/player.js" in scripts  # ...and none ran


def test_a_track_from_another_origin_loads_through_cors(open_page, player_site, cdn):
    cdn_url, requests = cdn
    page = open_page()
    page.goto(f"{player_site}/embed/remote-captions?cc=1")
    wait_for_cues(page, "en")
    assert page.eval_on_selector("#player", "m => m.textTracks[0].cues[0].text") == "Captions from another origin"
    assert "/captions.en.vtt" in requests
