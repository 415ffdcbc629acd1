"""Plays from email, end to end in Chromium: the email preview (as HubSpot renders it for
one recipient) -> its linked image -> the media page -> its player plays -> `oembed-server
worker --once` -> the play on that contact's timeline in the HubSpot emulator."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from oembed_server import create_app
from oembed_server.usecases.sample_media import load_sample_media
from tests.hubspot_emulator.events_log import contact_timeline
from tests.hubspot_emulator.live import LiveEmulator
from tests.hubspot_emulator.state import MediaObject
from tests.hubspot_emulator.testing import FAST_CLIENT
from tests.support.databases import migrated_sqlite_url
from tests.support.environment import SECRET_KEY
from tests.support.live_server import serve_in_thread
from tests.support.player_controls import ended_session_reported

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CONTACT = 4242


@pytest.fixture
def stack(tmp_path, monkeypatch):
    with LiveEmulator(rate_interval_ms=200) as emulator:
        env = emulator.env() | FAST_CLIENT
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        database_url = migrated_sqlite_url(tmp_path / "catalog.sqlite3")
        apps = []

        def build(base_url):
            app = create_app({"OEMBED_DATABASE_URL": database_url, "OEMBED_PUBLIC_URL": base_url,
                              "OEMBED_SECRET_KEY": SECRET_KEY, "OEMBED_URL_SCHEMES": "", "PREVIEW_ENABLED": True})
            load_sample_media(app.extensions["catalog"], base_url)
            apps.append(app)
            return app

        with serve_in_thread(build) as base_url:
            state = emulator.state
            state.define_media_types("VIDEO")
            with state.lock:  # the media object a sync would have made, so HubSpot resolves the events
                name = state.object_type_name("VIDEO")
                obj = MediaObject(state.next_id(), name, {"hs_title": "Spring product tour",
                                                          "hs_external_id": "sample-video"},
                                  "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z")
                state.objects.setdefault(name, {})[obj.id] = obj
                state.unique_index.setdefault(name, {})[("hs_external_id", "sample-video")] = obj.id
            worker_env = dict(os.environ) | env | {
                "OEMBED_DATABASE_URL": database_url, "OEMBED_PUBLIC_URL": base_url, "OEMBED_SECRET_KEY": SECRET_KEY,
                "PYTHONPATH": str(ROOT)}
            yield base_url, emulator, apps[0].extensions["catalog"].engine, worker_env
        apps[0].extensions["catalog"].dispose()


def test_a_play_from_the_email_link_lands_on_the_recipients_timeline(stack, open_page):
    base_url, emulator, engine, worker_env = stack
    page = open_page()
    page.goto(f"{base_url}/_preview/media_email?media=sample-video&contact={CONTACT}")
    with page.context.expect_page() as opened:  # target="_blank", as email clients open links
        page.locator("a.media-email__image-link img").click()
    media_page = opened.value
    media_page.wait_for_load_state()
    assert parse_qs(urlsplit(media_page.url).query) == {"play_from": ["email"], "contact_id": [str(CONTACT)]}

    frame = media_page.locator("iframe.media__frame").element_handle().content_frame()
    frame.wait_for_function("() => window.mediaPlayerEvents !== undefined")
    frame.evaluate("() => { const m = document.querySelector('#player'); m.muted = true; m.playbackRate = 4;"
                   " m.play(); }")
    frame.wait_for_function("() => document.querySelector('#player').ended", timeout=15_000)
    session = frame.evaluate("() => window.mediaPlayerEvents.sessionId")
    assert ended_session_reported(engine, session), "the ended session did not reach the outbox"

    result = subprocess.run([sys.executable, "-c", "from oembed_server.cli import main; main()", "worker", "--once"],
                            env=worker_env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr

    portal = emulator.state.portal_id
    shown = contact_timeline(emulator.state, portal, CONTACT)
    assert list(shown) == [session]
    events = shown[session]
    assert sorted({e["eventType"] for e in events}) == ["attention-span", "media-played", "media-played-percent"]
    assert all(e["contactId"] == CONTACT and e["externalPlayContext"] == "EMAIL" for e in events)
    assert all(e["pageName"] == "Spring product tour" and e["pageUrl"] == f"{base_url}/media/sample-video"
               for e in events)
    quartiles = sorted(e["playedPercent"] for e in events if e["eventType"] == "media-played-percent")
    assert quartiles == [0, 25, 50, 75, 100]
