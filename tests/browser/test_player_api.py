"""The player.js control API in Chromium: a customer page on another origin (another loopback
port) drives the player through postMessage and hears its events; other windows' answers,
malformed messages and pages that never speak the protocol are handled as promised."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.environment import service_missing

pytestmark = pytest.mark.browser

CONTROLLER = """<!doctype html><title>Customer page</title>
<script>
  window.received = [];
  addEventListener("message", function (event) {
    var data;
    try { data = JSON.parse(event.data); } catch (error) { return; }
    if (data && data.context === "player.js") { received.push(data); }
  });
  window.call = function (method, value, listener) {
    var message = {context: "player.js", version: "0.0.11", method: method};
    if (value !== undefined) { message.value = value; }
    if (listener !== undefined) { message.listener = listener; }
    document.getElementById("player").contentWindow.postMessage(JSON.stringify(message), "%(origin)s");
  };
  window.raw = function (data) { document.getElementById("player").contentWindow.postMessage(data, "*"); };
</script>
<iframe id="player" src="%(src)s" width="640" height="360" allow="autoplay"></iframe>
<iframe id="sibling" src="/sibling" width="10" height="10"></iframe>
"""
SIBLING = """<!doctype html><title>Another widget</title>
<script>
  window.got = [];
  addEventListener("message", function (event) { got.push(JSON.parse(event.data)); });
</script>"""


@pytest.fixture
def controlled(open_page, live_server, customer_site):
    """A customer page framing the sample video, with the player's ready already received."""
    site_url, pages = customer_site
    src = f"{live_server}/embed/sample-video"
    pages["/landing"] = CONTROLLER % {"origin": live_server, "src": src}
    pages["/sibling"] = SIBLING
    page = open_page()
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    # In every frame: uncaught errors are kept where the test can read them (the player is an iframe).
    page.add_init_script("window.uncaught = []; addEventListener('error', e => uncaught.push(e.message));")
    page.goto(f"{site_url}/landing")
    page.wait_for_function("() => received.some(m => m.event === 'ready')")
    return page, requested, src


def player_errors(page) -> list[str]:
    return page.frame(url=lambda url: "/embed/" in url).evaluate("() => window.uncaught")


def messages(page, **match) -> list[dict]:
    return page.evaluate("(match) => received.filter(m => Object.keys(match).every(k => m[k] === match[k]))", match)


def answer(page, method: str, listener: str):
    page.evaluate("([m, l]) => call(m, undefined, l)", [method, listener])
    page.wait_for_function("(l) => received.some(m => m.listener === l)", arg=listener)
    (reply,) = messages(page, listener=listener)
    assert reply["event"] == method
    return reply.get("value")


def player_frame(page):
    return page.frame_locator("#player")


def test_ready_is_announced_and_the_api_loads_only_when_spoken_to(controlled):
    page, requested, src = controlled
    (ready,) = messages(page, event="ready")
    assert ready["value"]["src"] == src
    assert not any(url.endswith("/player-api.js") for url in requested)
    page.evaluate("() => call('addEventListener', 'ready', 'r1')")
    page.wait_for_function("() => received.some(m => m.listener === 'r1')")
    (full,) = messages(page, listener="r1")
    assert set(full["value"]["events"]) == {"ready", "play", "pause", "ended", "timeupdate", "seeked", "error"}
    assert {"play", "pause", "getPaused", "getCurrentTime", "setCurrentTime", "getDuration", "mute", "unmute",
            "getMuted", "getVolume", "setVolume", "setLoop", "addEventListener",
            "removeEventListener"} <= set(full["value"]["methods"])
    assert any(url.endswith("/static/player-api.js") for url in requested)


def test_a_page_on_another_origin_drives_the_player_and_hears_its_events(controlled):
    page, _, _ = controlled
    for event in ("play", "pause", "timeupdate", "seeked", "ended"):
        page.evaluate("(e) => call('addEventListener', e, 'on-' + e)", event)
    page.evaluate("() => { call('mute'); call('play'); }")
    page.wait_for_function("() => received.some(m => m.event === 'timeupdate' && m.value.seconds > 0.5)")
    assert messages(page, event="play", listener="on-play")
    assert answer(page, "getPaused", "q1") is False
    assert answer(page, "getMuted", "q2") is True
    assert answer(page, "getCurrentTime", "q3") > 0.5
    assert answer(page, "getDuration", "q4") == pytest.approx(8.0, abs=0.1)

    page.evaluate("() => call('setCurrentTime', 7)")
    page.wait_for_function("() => received.some(m => m.event === 'seeked')")
    page.wait_for_function("() => received.some(m => m.event === 'ended')")
    assert messages(page, event="ended", listener="on-ended")

    page.evaluate("() => { call('setVolume', 30); call('unmute'); call('setLoop', true); call('pause'); }")
    assert answer(page, "getVolume", "q5") == 30
    assert answer(page, "getMuted", "q6") is False
    assert answer(page, "getPaused", "q7") is True
    state = player_frame(page).locator("#player").evaluate("m => ({loop: m.loop, volume: m.volume})")
    assert state == {"loop": True, "volume": 0.3}
    timeupdate = messages(page, event="timeupdate")[-1]["value"]
    assert set(timeupdate) == {"seconds", "duration"} and timeupdate["duration"] == pytest.approx(8.0, abs=0.1)
    assert player_errors(page) == []


def test_removed_listeners_hear_nothing_more(controlled):
    page, _, _ = controlled
    page.evaluate("() => { call('addEventListener', 'timeupdate', 't'); call('mute'); call('play'); }")
    page.wait_for_function("() => received.some(m => m.event === 'timeupdate')")
    page.evaluate("() => call('removeEventListener', 'timeupdate', 't')")
    start = answer(page, "getCurrentTime", "before")
    heard = len(messages(page, event="timeupdate"))
    # Timeupdate fires at least every 250 ms of playback; a second of it would have been heard.
    page.wait_for_function("(t) => { call('getCurrentTime', undefined, 'poll'); return received.some("
                           "m => m.listener === 'poll' && m.value > t + 1); }", arg=start, polling=100)
    assert len(messages(page, event="timeupdate")) == heard


def test_answers_go_only_to_the_window_that_asked(controlled):
    page, _, _ = controlled
    sibling = page.frame_locator("#sibling").locator("body")
    sibling.evaluate("() => parent.frames[0].postMessage(JSON.stringify({context: 'player.js', version: '0.0.11',"
                     " method: 'getDuration', listener: 'sib'}), '*')")
    page.frame(url=lambda url: url.endswith("/sibling")).wait_for_function("() => got.length > 0")
    assert sibling.evaluate("() => got.map(m => [m.event, m.listener])") == [["getDuration", "sib"]]
    assert answer(page, "getPaused", "mine") is True  # the top window's own question is answered...
    assert messages(page, listener="sib") == []  # ...and the sibling's answer never reached it


def test_malformed_messages_are_ignored_silently(controlled):
    page, _, _ = controlled
    assert answer(page, "getPaused", "first") is True  # the API module is loaded and listening
    junk = ["not json", "{", "null", "42", "[]", json.dumps({"context": "player.js"}),
            json.dumps({"context": "player.js", "method": "explode"}),
            json.dumps({"context": "other", "method": "play"}),
            json.dumps({"context": "player.js", "method": "getPaused", "listener": {"x": 1}}),
            json.dumps({"context": "player.js", "method": "setVolume", "value": "loud"}),
            json.dumps({"context": "player.js", "method": "setCurrentTime", "value": -5}),
            json.dumps({"context": "player.js", "method": "addEventListener", "value": "toString"}),
            json.dumps({"context": "player.js", "method": "hasOwnProperty"})]
    for data in junk:
        page.evaluate("(d) => raw(d)", data)
    page.evaluate("() => { raw(null); raw({context: 'player.js', method: 'getMuted', listener: 'obj'});"
                  " raw(undefined); }")
    # Objects are accepted as well as JSON text; the player still answers after all that junk.
    page.wait_for_function("() => received.some(m => m.listener === 'obj')")
    assert answer(page, "getVolume", "after") == 100
    assert len(messages(page)) == 4  # ready, and the three answers
    assert player_errors(page) == []
    state = player_frame(page).locator("#player").evaluate("m => ({t: m.currentTime, volume: m.volume})")
    assert state == {"t": 0, "volume": 1}


PLAYERJS_LIBRARY = Path(__file__).resolve().parents[2] / "node_modules" / "player.js" / "dist" / "player-0.1.0.min.js"
LIBRARY_PAGE = """<!doctype html><title>Customer page</title>
<script src="/player.js"></script>
<script>
  window.log = [];
  document.addEventListener("DOMContentLoaded", function () {
    // The library's recommended way: create the iframe, then the Player, before it has loaded.
    var iframe = document.createElement("iframe");
    iframe.src = "%(src)s";
    document.body.appendChild(iframe);
    var player = new playerjs.Player(iframe);
    player.on("ready", function () {
      log.push("ready");
      player.on("play", function () { log.push("play"); });
      player.on("timeupdate", function (value) {
        if (value.seconds > 1 && log.indexOf("timeupdate") < 0) {
          log.push("timeupdate");
          player.getCurrentTime(function (seconds) { log.push(seconds > 1 ? "later" : "early"); player.pause(); });
        }
      });
      player.on("pause", function () {
        player.getPaused(function (paused) { log.push("paused " + paused); });
      });
      player.mute();
      player.play();
    });
  });
</script>"""


def test_the_embedly_player_js_library_drives_the_player(open_page, live_server, customer_site):
    if not PLAYERJS_LIBRARY.is_file():
        service_missing("node_modules/player.js is not installed (npm ci; tests/run_all.sh runs it)")
    site_url, pages = customer_site
    pages["/landing"] = LIBRARY_PAGE % {"src": f"{live_server}/embed/sample-video"}
    pages["/player.js"] = PLAYERJS_LIBRARY.read_text()
    page = open_page()
    page.goto(f"{site_url}/landing")
    page.wait_for_function("() => log.some(entry => entry.startsWith('paused'))")
    assert page.evaluate("() => log") == ["ready", "play", "timeupdate", "later", "paused true"]
