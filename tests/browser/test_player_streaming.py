"""Adaptive streaming in Chromium: native HLS where the browser has it, hls.js where it has
only Media Source Extensions, the progressive file when the stream fails; hls.js is never
fetched by a page without a stream."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

HLS_JS = "/static/vendor/hls.light.min.js"
# Chromium plays HLS itself since version 14x; Firefox and older Chromium do not. Hiding
# native support from canPlayType, as those browsers answer, sends the page down the hls.js path.
WITHOUT_NATIVE_HLS = """
const canPlayType = HTMLMediaElement.prototype.canPlayType;
HTMLMediaElement.prototype.canPlayType = function (type) {
  return /mpegurl/i.test(type) ? "" : canPlayType.call(this, type);
};
"""


def open_recording(open_page, without_native_hls: bool = False):
    page = open_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    if without_native_hls:
        page.add_init_script(WITHOUT_NATIVE_HLS)
    return page, requested


def wait_for_playback(page, beyond: float) -> None:
    page.wait_for_function(f"() => document.querySelector('#player').currentTime > {beyond}", timeout=15_000)


def test_hls_js_plays_the_stream_where_hls_is_not_native(open_page, player_site, hls_stream):
    cdn_url, cdn_requests = hls_stream
    page, requested = open_recording(open_page, without_native_hls=True)
    page.goto(f"{player_site}/embed/streamed?autoplay=1&muted=1")
    page.wait_for_function("() => window.mediaPlayer.hls !== undefined")
    wait_for_playback(page, 1.5)
    assert any(url.endswith(HLS_JS) for url in requested)
    assert page.evaluate("() => window.mediaPlayer.hls.levels.map(l => l.height).sort((a, b) => a - b)") == [90, 180]
    assert page.eval_on_selector("#player", "m => m.currentSrc").startswith("blob:")  # Media Source, not a file
    assert any(path.endswith(".m4s") for path in cdn_requests)


def test_without_autoplay_hls_js_buffers_nothing_until_played(open_page, player_site, hls_stream):
    page, _ = open_recording(open_page, without_native_hls=True)
    page.goto(f"{player_site}/embed/streamed?muted=1")
    page.wait_for_function("() => window.mediaPlayer.hls !== undefined && window.mediaPlayer.hls.levels.length === 2")
    page.wait_for_timeout(500)  # time enough, on loopback, for hls.js to have buffered had it been told to
    assert page.eval_on_selector("#player", "m => m.buffered.length") == 0
    page.eval_on_selector("#player", "m => m.play()")
    wait_for_playback(page, 1.0)


def test_native_hls_is_used_as_is_and_fetches_no_hls_js(open_page, player_site, hls_stream):
    cdn_url, _ = hls_stream
    page, requested = open_recording(open_page)
    page.goto(f"{player_site}/embed/streamed?autoplay=1&muted=1")
    wait_for_playback(page, 1.5)
    assert page.eval_on_selector("#player", "m => m.currentSrc") == f"{cdn_url}/stream/master.m3u8"
    assert not any("hls" in url for url in requested)


def test_a_failing_stream_falls_back_to_the_file(open_page, player_site):
    page, _ = open_recording(open_page, without_native_hls=True)
    page.goto(f"{player_site}/embed/broken-stream?autoplay=1&muted=1")
    page.wait_for_function("() => document.querySelector('#player').currentSrc.endsWith('/video.webm')",
                           timeout=15_000)
    wait_for_playback(page, 0.5)


def test_a_page_without_a_stream_requests_no_streaming_code(open_page, player_site):
    page, requested = open_recording(open_page, without_native_hls=True)
    page.goto(f"{player_site}/embed/sample-video?autoplay=1&muted=1")
    wait_for_playback(page, 0.5)
    scripts = [url for url in requested if url.endswith(".js")]
    assert f"{player_site}/static/player.js" in scripts
    assert not [url for url in scripts if "hls" in url or "player-stream" in url or "player-api" in url]
