"""Lead capture gates in Chromium, end to end: the module preview's player of a gated item
draws the portal's HubSpot form (read from the emulator), HubSpot's field error shows next
to its field, a good submission reaches the emulator's submission API with the visitor's
hutk and the page, the video plays on, the gate stays away on reload, and the play lands
on the new contact's timeline. A skippable gate is skipped, and stays skipped."""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from oembed_server import create_app
from oembed_server.domain.lead_gates import Gate
from oembed_server.storage import gate_counts
from oembed_server.storage.portal_hosts import add_operator_host
from oembed_server.usecases.sample_media import load_sample_media
from tests.hubspot_emulator.events_log import contact_timeline
from tests.hubspot_emulator.live import LiveEmulator
from tests.hubspot_emulator.state import MediaObject
from tests.hubspot_emulator.testing import FAST_CLIENT
from tests.support.databases import migrated_sqlite_url
from tests.support.environment import SECRET_KEY
from tests.support.gate_forms import CONSENT_FORM_ID, FORM_ID, UTK, add_forms
from tests.support.live_server import serve_in_thread
from tests.support.player_controls import ended_session_reported, wait_for

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
PLAY = "() => { const m = document.querySelector('#player'); m.muted = true; m.playbackRate = 4; m.play(); }"


@pytest.fixture
def stack(tmp_path, monkeypatch):
    with LiveEmulator(rate_interval_ms=200) as emulator:
        env = emulator.env() | FAST_CLIENT | {"HUBSPOT_FORMS_API_BASE": emulator.url}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        database_url = migrated_sqlite_url(tmp_path / "catalog.sqlite3")
        apps = []

        def build(base_url):
            app = create_app({"OEMBED_DATABASE_URL": database_url, "OEMBED_PUBLIC_URL": base_url,
                              "OEMBED_SECRET_KEY": SECRET_KEY, "OEMBED_URL_SCHEMES": "", "PREVIEW_ENABLED": True})
            catalog = app.extensions["catalog"]
            load_sample_media(catalog, base_url)
            video = catalog.get("sample-video")
            catalog.upsert([dataclasses.replace(video, external_id="gated-video", title="Gated tour",
                                                gate=Gate(FORM_ID, "before", False, "Before you watch",
                                                          "Tell us who you are."))])
            apps.append(app)
            return app

        with serve_in_thread(build) as base_url:
            state = emulator.state
            # The preview frames the player from this server's own host: listed for the portal,
            # as an operator lists a site of its own (portals domains), or the play stays anonymous.
            with apps[0].extensions["catalog"].engine.begin() as conn:
                add_operator_host(conn, state.portal_id, "127.0.0.1")
            add_forms(state)
            state.define_media_types("VIDEO")
            with state.lock:  # the media object a sync would have made, so HubSpot resolves the events
                name = state.object_type_name("VIDEO")
                obj = MediaObject(state.next_id(), name, {"hs_title": "Gated tour", "hs_external_id": "gated-video"},
                                  "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z")
                state.objects.setdefault(name, {})[obj.id] = obj
                state.unique_index.setdefault(name, {})[("hs_external_id", "gated-video")] = obj.id
            worker_env = dict(os.environ) | env | {
                "OEMBED_DATABASE_URL": database_url, "OEMBED_PUBLIC_URL": base_url, "OEMBED_SECRET_KEY": SECRET_KEY,
                "PYTHONPATH": str(ROOT)}
            yield base_url, emulator, apps[0].extensions["catalog"].engine, worker_env
        apps[0].extensions["catalog"].dispose()


def _player(page, url: str):
    page.goto(url)
    frame = page.locator("iframe").first.element_handle().content_frame()
    frame.wait_for_function("() => window.mediaPlayerEvents !== undefined && window.mediaPlayerGate !== undefined")
    return frame


def _plays_on(frame) -> None:
    frame.wait_for_function("() => { const m = document.querySelector('#player');"
                            " return !m.paused && m.currentTime > 0.5; }", timeout=10_000)


def test_a_gated_play_captures_the_lead_and_lands_on_the_contacts_timeline(stack, open_page):
    base_url, emulator, engine, worker_env = stack
    page = open_page()
    host = base_url.split("//", 1)[1].split(":")[0]
    page.context.add_cookies([{"name": "hubspotutk", "value": UTK, "domain": host, "path": "/"}])
    frame = _player(page, f"{base_url}/_preview/media_embed?media=gated-video")

    frame.evaluate(PLAY)
    dialog = frame.get_by_role("dialog", name="Before you watch")
    dialog.wait_for()
    assert frame.evaluate("() => document.querySelector('#player').paused")
    # The form's definition as HubSpot holds it, drawn natively: every field type, its label.
    assert dialog.get_by_label("Email").get_attribute("type") == "email"
    assert dialog.get_by_label("Phone number").get_attribute("type") == "tel"
    assert dialog.get_by_label("Industry").evaluate("n => n.tagName") == "SELECT"
    assert dialog.get_by_label("Message").evaluate("n => n.tagName") == "TEXTAREA"
    assert dialog.get_by_role("radio", name="Small").count() == 1
    assert dialog.get_by_role("checkbox", name="Video").count() == 1
    assert dialog.get_by_role("checkbox", name="Send me the newsletter").count() == 1
    assert frame.evaluate("() => document.activeElement.type") == "email"  # focus moved into the form

    # Passes the player's own check, not HubSpot's (a top-level domain of letters).
    email = dialog.get_by_label("Email")
    email.fill("viewer@example.c0m")
    dialog.get_by_label("First name").fill("Ada")
    dialog.get_by_role("button", name="Watch now").click()
    error = frame.locator(f"#{email.get_attribute('aria-describedby').split()[-1]}")
    error.wait_for()
    assert error.text_content() == "Enter a valid email address."
    assert email.get_attribute("aria-invalid") == "true"
    assert emulator.state.data().submissions == []
    assert dialog.get_by_label("First name").input_value() == "Ada"  # what was typed is kept

    email.fill("ada@example.com")
    dialog.get_by_role("button", name="Watch now").click()
    dialog.wait_for(state="detached")
    _plays_on(frame)
    [submission] = emulator.state.data().submissions
    context = submission["body"]["context"]
    assert context["hutk"] == UTK
    assert context["pageUri"].startswith(base_url)
    assert {"name": "email", "value": "ada@example.com"} in [
        {k: f[k] for k in ("name", "value")} for f in submission["body"]["fields"]]
    contact = submission["contactId"]
    assert emulator.state.data().contacts[contact]["firstname"] == "Ada"

    frame.wait_for_function("() => document.querySelector('#player').ended", timeout=15_000)
    session = frame.evaluate("() => window.mediaPlayerEvents.sessionId")
    assert ended_session_reported(engine, session), "the ended session did not reach the outbox"
    totals = gate_counts.totals(engine, "gated-video")
    assert (totals.shown, totals.submitted, totals.skipped) == (1, 1, 0)

    # Submitted once in this browser: the gate does not show again for this form.
    frame = _player(page, f"{base_url}/_preview/media_embed?media=gated-video")
    frame.evaluate(PLAY)
    _plays_on(frame)
    assert frame.locator(".gate").count() == 0

    result = subprocess.run([sys.executable, "-c", "from oembed_server.cli import main; main()", "worker", "--once"],
                            env=worker_env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    shown = contact_timeline(emulator.state, emulator.state.portal_id, contact)
    assert session in shown
    assert {e["eventType"] for e in shown[session]} >= {"media-played", "media-played-percent"}
    assert all(e["contactUtk"] == UTK for e in shown[session])
    # What the closing note of the issue quotes (pytest -s shows it).
    print(f"\ngated play: form submission made contact {contact} "
          f"({emulator.state.data().contacts[contact].get('email')}); its emulator timeline, session {session}: "
          + ", ".join(f"{e['eventType']}" + (f" {e['playedPercent']}%" if "playedPercent" in e else "")
                      for e in shown[session]))


def test_a_skippable_gate_from_the_module_is_skipped_for_the_session(stack, open_page):
    base_url, emulator, engine, _ = stack
    page = open_page()
    url = f"{base_url}/_preview/media_embed?media=sample-video&gate_form={CONSENT_FORM_ID}&gate_skippable=1"
    frame = _player(page, url)
    frame.evaluate(PLAY)
    dialog = frame.get_by_role("dialog")
    dialog.wait_for()
    # The form's consent text and its communications checkbox, as HubSpot defines them.
    assert "We store your data" in dialog.text_content()
    assert dialog.get_by_role("checkbox", name="Marketing email").count() == 1
    dialog.get_by_role("button", name="Skip").click()
    dialog.wait_for(state="detached")
    _plays_on(frame)
    assert wait_for(lambda: gate_counts.totals(engine, "sample-video").skipped == 1)
    assert emulator.state.data().submissions == []

    frame = _player(page, url)
    frame.evaluate(PLAY)
    _plays_on(frame)
    assert frame.locator(".gate").count() == 0
    totals = gate_counts.totals(engine, "sample-video")
    assert (totals.shown, totals.submitted, totals.skipped) == (1, 0, 1)


def test_a_gate_at_seconds_pauses_there_and_escape_skips_it(stack, open_page):
    base_url, _, engine, _ = stack
    page = open_page()
    frame = _player(page, f"{base_url}/_preview/media_embed?media=sample-video&gate_form={FORM_ID}"
                          "&gate_at=2&gate_skippable=1")
    frame.evaluate(PLAY)
    dialog = frame.get_by_role("dialog")
    dialog.wait_for()
    position = frame.evaluate("() => document.querySelector('#player').currentTime")
    assert 2 <= position < 4 and frame.evaluate("() => document.querySelector('#player').paused")
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")
    frame.wait_for_function(f"() => document.querySelector('#player').currentTime > {position + 0.5}")
    assert wait_for(lambda: gate_counts.totals(engine, "sample-video").skipped == 1)
