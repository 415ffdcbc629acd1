"""Issue 7 end to end: a visitor with a hubspotutk cookie plays media in the module preview;
`oembed-server worker --once` then delivers the session to the HubSpot emulator, which
must hold exactly what HubSpot would put on the contact's timeline."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from oembed_server import create_app
from oembed_server.storage.portal_hosts import add_operator_host
from oembed_server.usecases.sample_media import load_sample_media
from tests.hubspot_emulator.events_log import duplicates, received
from tests.hubspot_emulator.live import LiveEmulator
from tests.hubspot_emulator.testing import FAST_CLIENT
from tests.support.databases import migrated_sqlite_url
from tests.support.environment import SECRET_KEY
from tests.support.live_server import serve_in_thread
from tests.support.player_controls import ended_session_reported, play_until, seek

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
UTK = "e2e0hubspotutk0000000000000000001"
PREVIEW_PAGE_ID = 1  # what the module preview reports as hs_page_id


@pytest.fixture
def stack(tmp_path, monkeypatch):
    """The HubSpot emulator, and our app (preview on) using it as its connected portal."""
    with LiveEmulator(rate_interval_ms=200) as emulator:
        env = emulator.env() | FAST_CLIENT
        for name, value in env.items():
            monkeypatch.setenv(name, value)  # the preview reads HUBSPOT_PORTAL_ID as its portal
        database_url = migrated_sqlite_url(tmp_path / 'catalog.sqlite3')
        apps = []

        def build(base_url):
            app = create_app({"OEMBED_DATABASE_URL": database_url, "OEMBED_PUBLIC_URL": base_url,
                              "OEMBED_SECRET_KEY": SECRET_KEY, "OEMBED_URL_SCHEMES": "", "PREVIEW_ENABLED": True})
            load_sample_media(app.extensions["catalog"], base_url)
            # The preview page (this app, on loopback) frames the player as the portal's page would.
            with app.extensions["catalog"].engine.begin() as conn:
                add_operator_host(conn, emulator.state.portal_id, "127.0.0.1")
            apps.append(app)
            return app

        with serve_in_thread(build) as base_url:
            worker_env = dict(os.environ) | env | {
                "OEMBED_DATABASE_URL": database_url, "OEMBED_PUBLIC_URL": base_url, "OEMBED_SECRET_KEY": SECRET_KEY,
                "PYTHONPATH": str(ROOT)}
            yield base_url, emulator, apps[0].extensions["catalog"].engine, worker_env
        apps[0].extensions["catalog"].dispose()


def run_worker_once(worker_env: dict) -> str:
    result = subprocess.run([sys.executable, "-c", "from oembed_server.cli import main; main()", "worker", "--once"],
                            env=worker_env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return result.stdout


def open_preview_player(open_page, base_url: str):
    page = open_page()
    page.context.add_cookies([{"name": "hubspotutk", "value": UTK, "url": base_url}])
    page.goto(f"{base_url}/_preview/media_embed?media=sample-video")
    frame = page.locator("[data-media-embed-frame] iframe").element_handle().content_frame()
    frame.wait_for_function("() => window.mediaPlayerEvents !== undefined")
    frame.evaluate("() => { const m = document.querySelector('#player'); m.muted = true; m.playbackRate = 2; }")
    return page, frame




def delivered(emulator, portal_id: int, session_id: str) -> dict[str, list[dict]]:
    kinds: dict[str, list[dict]] = {}
    for event in received(emulator.state, portal_id):
        if event["sessionId"] == session_id:
            kinds.setdefault(event["eventType"], []).append(event)
    return kinds


def assert_visitor_and_page(events: list[dict], base_url: str) -> None:
    for event in events:
        assert event["contactUtk"] == UTK
        assert event["pageId"] == PREVIEW_PAGE_ID
        assert event["mediaType"] == "VIDEO"
        assert event.get("externalId") == "sample-video" or "mediaBridgeId" in event
        assert event["mediaUrl"] == f"{base_url}/media/sample-video"


def test_module_preview_plays_reach_hubspot_through_the_worker(stack, open_page):
    base_url, emulator, engine, worker_env = stack
    portal_id = emulator.state.portal_id

    # 1. Played to the end.
    page, frame = open_preview_player(open_page, base_url)
    frame.evaluate("() => { const m = document.querySelector('#player'); m.playbackRate = 4; m.play(); }")
    frame.wait_for_function("() => document.querySelector('#player').ended", timeout=15_000)
    first = frame.evaluate("() => window.mediaPlayerEvents.sessionId")
    assert ended_session_reported(engine, first), "the ended session did not reach the outbox"
    run_worker_once(worker_env)

    kinds = delivered(emulator, portal_id, first)
    assert sorted(kinds) == ["attention-span", "media-played", "media-played-percent"]
    [played] = kinds["media-played"]
    assert played["state"] == "STARTED"
    assert sorted(e["playedPercent"] for e in kinds["media-played-percent"]) == [0, 25, 50, 75, 100]
    [span] = kinds["attention-span"]
    assert span["rawDataMap"] == {str(i): 1 for i in range(9)}
    assert span["rawDataString"] == "".join(f"{i}=1;" for i in range(9))
    assert span["derivedValues"]["totalPercentPlayed"] == 100
    assert_visitor_and_page([e for events in kinds.values() for e in events], base_url)
    # The timeline's iframe shows this session's attention.
    session_page = page.context.request.get(played["iframeUrl"])
    assert urlsplit(played["iframeUrl"]).netloc == urlsplit(base_url).netloc and session_page.ok
    assert session_page.text().count('class="chart__bar"') == 9
    page.close()

    # 2. Again: a seek past 50% and a rewatch.
    page, frame = open_preview_player(open_page, base_url)
    play_until(frame, 2.4)
    seek(frame, 5.3)
    play_until(frame, 6.4)
    seek(frame, 5.3)
    frame.evaluate("() => document.querySelector('#player').play()")
    frame.wait_for_function("() => document.querySelector('#player').ended", timeout=15_000)
    second = frame.evaluate("() => window.mediaPlayerEvents.sessionId")
    assert second != first
    assert ended_session_reported(engine, second)
    run_worker_once(worker_env)

    kinds = delivered(emulator, portal_id, second)
    assert len(kinds["media-played"]) == 1
    assert sorted(e["playedPercent"] for e in kinds["media-played-percent"]) == [0, 25, 75, 100]
    [span] = kinds["attention-span"]
    assert span["rawDataMap"] == {"0": 1, "1": 1, "2": 1, "3": 0, "4": 0, "5": 2, "6": 2, "7": 1, "8": 1}
    assert_visitor_and_page([e for events in kinds.values() for e in events], base_url)

    # Nothing twice, and the first session was not sent again by the second run.
    assert duplicates(received(emulator.state, portal_id)) == {}
    assert len(delivered(emulator, portal_id, first)["media-played-percent"]) == 5
