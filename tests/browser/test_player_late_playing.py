"""Quartile 0 of a play from the beginning survives a late ``playing`` event (issue 18,
part 6): under load Chromium may fire it only after currentTime has moved on."""
from __future__ import annotations

import pytest

from oembed_server import create_app
from oembed_server.usecases.sample_media import load_sample_media
from tests.support.databases import migrated_sqlite_url
from tests.support.environment import SECRET_KEY
from tests.support.live_server import serve_in_thread
from tests.support.player_controls import by_kind, ended_session_reported, open_player, play, play_until, seek

pytestmark = pytest.mark.browser

# Every "playing" listener of the page runs 300 ms late: at rate 4 the playhead is past
# 1 s by then, as on a page too busy to run the handler at once.
LATE_PLAYING = """(() => {
  const add = HTMLMediaElement.prototype.addEventListener;
  HTMLMediaElement.prototype.addEventListener = function (type, listener, options) {
    if (type === "playing") {
      const late = listener;
      listener = function (event) { setTimeout(() => late.call(this, event), 300); };
    }
    return add.call(this, type, listener, options);
  };
})();"""


@pytest.fixture(scope="module")
def events_server(tmp_path_factory):
    database = tmp_path_factory.mktemp("late") / "catalog.sqlite3"
    apps = []

    def build(base_url):
        app = create_app({"OEMBED_DATABASE_URL": migrated_sqlite_url(database), "OEMBED_PUBLIC_URL": base_url,
                          "OEMBED_SECRET_KEY": SECRET_KEY, "OEMBED_URL_SCHEMES": ""})
        load_sample_media(app.extensions["catalog"], base_url)
        apps.append(app)
        return app

    with serve_in_thread(build) as base_url:
        yield base_url, apps[0].extensions["catalog"].engine
    apps[0].extensions["catalog"].dispose()


def _late_player(open_page, base_url, path):
    def opener():
        page = open_page()
        page.add_init_script(LATE_PLAYING)
        return page
    return open_player(opener, base_url, path)


def test_a_play_from_the_start_reports_quartile_0_when_playing_fires_late(events_server, open_page):
    base_url, engine = events_server
    page = _late_player(open_page, base_url, "/embed/sample-video")
    play(page)
    page.wait_for_function("() => document.querySelector('#player').ended", timeout=15_000)
    session_id = page.evaluate("() => window.mediaPlayerEvents.sessionId")
    kinds = by_kind(ended_session_reported(engine, session_id))
    assert sorted(j["played_percent"] for j in kinds["quartile"]) == [0, 25, 50, 75, 100]


def test_a_play_after_a_seek_past_the_start_still_has_no_quartile_0(events_server, open_page):
    base_url, engine = events_server
    page = _late_player(open_page, base_url, "/embed/sample-video")
    seek(page, 2.5)
    play_until(page, 3.5)
    page.wait_for_timeout(400)  # the late "playing" handler has run
    play(page)
    page.wait_for_function("() => document.querySelector('#player').ended", timeout=15_000)
    session_id = page.evaluate("() => window.mediaPlayerEvents.sessionId")
    kinds = by_kind(ended_session_reported(engine, session_id))
    assert sorted(j["played_percent"] for j in kinds["quartile"]) == [50, 75, 100]
