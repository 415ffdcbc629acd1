"""The player's engagement reporting as Chromium runs it, checked where it lands: the
outbox (jobs) and the play-session rows, on a live app of its own."""
from __future__ import annotations

import json

import pytest

from oembed_server import create_app
from oembed_server.usecases.sample_media import load_sample_media
from tests.support.databases import migrated_sqlite_url
from tests.support.environment import SECRET_KEY
from tests.support.event_reports import PORTAL_PAGE, SERVED_PORTAL
from tests.support.live_server import serve_in_thread
from tests.support.player_controls import (
    by_kind,
    ended_session_reported,
    open_player,
    play,
    play_until,
    seek,
    session_jobs,
    session_row,
    wait_for,
)

pytestmark = pytest.mark.browser

VIDEO_SPANS = 9  # the sample video lasts 8.003 s: nine one-second spans
TRACKING = ("hs_utk=utk-browser-1&hs_portal_id=42&hs_page_id=77&hs_page_name=Landing"
            "&hs_page_url=https%3A%2F%2Fwww.example.com%2Flanding")


@pytest.fixture(scope="module")
def events_server(tmp_path_factory):
    database = tmp_path_factory.mktemp("events") / "catalog.sqlite3"
    apps = []

    def build(base_url):
        app = create_app({"OEMBED_DATABASE_URL": migrated_sqlite_url(database), "OEMBED_PUBLIC_URL": base_url,
                          "OEMBED_SECRET_KEY": SECRET_KEY, "OEMBED_URL_SCHEMES": ""} | SERVED_PORTAL)
        load_sample_media(app.extensions["catalog"], base_url)
        apps.append(app)
        return app

    with serve_in_thread(build) as base_url:
        yield base_url, apps[0].extensions["catalog"].engine
    apps[0].extensions["catalog"].dispose()


def test_video_played_to_the_end_reports_played_quartiles_and_attention(events_server, open_page):
    base_url, engine = events_server
    # Opened from a page of portal 42 (HubSpot's hosts serve every portal's pages).
    page = open_player(open_page, base_url, f"/embed/sample-video?{TRACKING}", referer=PORTAL_PAGE)
    play(page)
    page.wait_for_function("() => document.querySelector('#player').ended", timeout=15_000)
    session_id = page.evaluate("() => window.mediaPlayerEvents.sessionId")
    kinds = by_kind(ended_session_reported(engine, session_id))

    assert [j["state"] for j in kinds["played"]] == ["STARTED"]
    played = kinds["played"][0]
    assert (played["contact_utk"], played["portal_id"], played["page_id"], played["page_name"], played["page_url"]) == (
        "utk-browser-1", 42, "77", "Landing", "https://www.example.com/landing")
    assert sorted(j["played_percent"] for j in kinds["quartile"]) == [0, 25, 50, 75, 100]
    [attention] = kinds["attention"]
    assert attention["spans"] == [1] * VIDEO_SPANS and attention["span_seconds"] == 1.0
    assert attention["contact_utk"] == "utk-browser-1"
    row = session_row(engine, session_id)
    assert row["closed_at"] is not None and row["percent_played"] == 100.0


def test_seek_past_half_and_rewatch(events_server, open_page):
    base_url, engine = events_server
    page = open_player(open_page, base_url, f"/embed/sample-video?{TRACKING}")
    page.evaluate("() => { const m = document.querySelector('#player'); m.muted = true; m.playbackRate = 2; }")
    play_until(page, 2.4)          # spans 0-2, quartiles 0 and 25
    seek(page, 5.3)                # over the 50% mark (4.0 s) without playing it
    play_until(page, 6.4)          # spans 5-6, quartile 75
    seek(page, 5.3)                # back: spans 5 and 6 again
    page.evaluate("() => document.querySelector('#player').play()")
    page.wait_for_function("() => document.querySelector('#player').ended", timeout=15_000)
    session_id = page.evaluate("() => window.mediaPlayerEvents.sessionId")
    kinds = by_kind(ended_session_reported(engine, session_id))

    assert len(kinds["played"]) == 1
    assert sorted(j["played_percent"] for j in kinds["quartile"]) == [0, 25, 75, 100]
    [attention] = kinds["attention"]
    assert attention["spans"] == [1, 1, 1, 0, 0, 2, 2, 1, 1]


def test_audio_reports_like_video(events_server, open_page):
    base_url, engine = events_server
    page = open_player(open_page, base_url, "/embed/sample-audio?hs_utk=utk-audio&hs_portal_id=42")
    play(page)
    page.wait_for_function("() => document.querySelector('#player').ended", timeout=15_000)
    session_id = page.evaluate("() => window.mediaPlayerEvents.sessionId")
    kinds = by_kind(ended_session_reported(engine, session_id))
    assert [(j["media_type"], j["state"]) for j in kinds["played"]] == [("AUDIO", "STARTED")]
    assert sorted(j["played_percent"] for j in kinds["quartile"]) == [0, 25, 50, 75, 100]
    assert kinds["attention"][0]["spans"] == [1] * 8


@pytest.mark.parametrize("external_id, media_type", [("sample-image", "IMAGE"), ("sample-document", "DOCUMENT")])
def test_images_and_documents_are_viewed_once_shown(events_server, open_page, external_id, media_type):
    base_url, engine = events_server
    page = open_player(open_page, base_url, f"/embed/{external_id}?{TRACKING}")
    page.wait_for_function("() => window.mediaPlayerEvents.sessionId !== null")
    session_id = page.evaluate("() => window.mediaPlayerEvents.sessionId")
    found = wait_for(lambda: session_jobs(engine, session_id))
    assert [(j["kind"], j["state"], j["media_type"]) for j in found] == [("played", "VIEWED", media_type)]


def test_dnt_sends_nothing_that_identifies_the_visitor(events_server, open_page):
    base_url, engine = events_server
    page = open_player(open_page, base_url, f"/embed/sample-image?dnt=1&_hsenc=enc-1&{TRACKING}")
    page.wait_for_function("() => window.mediaPlayerEvents.sessionId !== null")
    session_id = page.evaluate("() => window.mediaPlayerEvents.sessionId")
    [played] = wait_for(lambda: session_jobs(engine, session_id))
    assert played["portal_id"] == 42
    assert not {"contact_utk", "page_id", "page_name", "page_url", "hsenc"} & set(played)
    row = session_row(engine, session_id)
    assert (row["contact_utk"], row["page_url"], row["hsenc"]) == (None, None, None)


def test_closing_the_tab_mid_play_still_delivers_the_attention_span(events_server, open_page):
    base_url, engine = events_server
    page = open_player(open_page, base_url, f"/embed/sample-video?{TRACKING}")
    page.evaluate("() => { const m = document.querySelector('#player');"
                  " m.muted = true; m.playbackRate = 2; m.play(); }")
    page.wait_for_function("() => document.querySelector('#player').currentTime > 3.3")
    session_id = page.evaluate("() => window.mediaPlayerEvents.sessionId")
    page.close(run_before_unload=True)

    # Between play and close only the played event and two quartiles were sent: the spans
    # arrive with the beacon the closing page sends, which also ends the session.
    row = wait_for(lambda: (r := session_row(engine, session_id)) and r["closed_at"] and r)
    assert row, "the closing page's beacon did not arrive"
    spans = json.loads(row["spans"])
    assert spans[:3] == [1, 1, 1] and spans[-3:] == [0, 0, 0]
    [attention] = by_kind(session_jobs(engine, session_id))["attention"]
    assert attention["spans"] == spans
