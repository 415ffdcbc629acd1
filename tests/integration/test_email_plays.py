"""Plays from email: the email module's link names the contact and says "email"; the media
page hands both to its player, whose token carries them; the worker sends the play to
HubSpot as an email play of that contact, and it shows on that contact's timeline."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup

from oembed_server.usecases.sample_media import load_sample_media
from tests.hubspot_emulator import LiveEmulator
from tests.hubspot_emulator.events_log import contact_timeline, received
from tests.hubspot_emulator.state import MediaObject
from tests.hubspot_emulator.testing import SECRET_KEY, client_env
from tests.support.apps import PUBLIC_URL, command_runner, make_app
from tests.support.event_reports import SESSION, attention, body

CONTACT = 4242
TITLE = "Spring product tour"  # the sample video's


def _player_config(client, path: str) -> dict:
    import json
    html = client.get(path).get_data(as_text=True)
    return json.loads(re.search(r'id="player-config">(.*?)</script>', html).group(1))


def _path(url: str) -> str:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC_URL
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _email_link(client, query: str) -> str:
    response = client.get(f"/_preview/media_email?media=sample-video{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    link = BeautifulSoup(response.get_data(as_text=True), "html.parser").find("a", class_="media-email__image-link")
    return link["href"]


def _frame_src(client, media_path: str) -> str:
    response = client.get(media_path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, max-age=0"
    return BeautifulSoup(response.get_data(as_text=True), "html.parser").find("iframe", class_="media__frame")["src"]


def _known_to_hubspot(emulator: LiveEmulator, external_id: str) -> None:
    state = emulator.state
    with state.lock:  # straight into the emulator: the sync is not what this test is about
        name = state.object_type_name("VIDEO")
        obj = MediaObject(state.next_id(), name, {"hs_title": external_id, "hs_external_id": external_id,
                                                  "hs_oembed_url": f"{PUBLIC_URL}/media/{external_id}"},
                          "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z")
        state.objects.setdefault(name, {})[obj.id] = obj
        state.unique_index.setdefault(name, {})[("hs_external_id", external_id)] = obj.id


@pytest.fixture
def app(sqlite_url, monkeypatch):
    with LiveEmulator(rate_interval_ms=200) as emulator:
        emulator.state.define_media_types("VIDEO", "AUDIO")
        env = client_env(emulator) | {"OEMBED_DATABASE_URL": sqlite_url, "OEMBED_PUBLIC_URL": PUBLIC_URL,
                                      "OEMBED_SECRET_KEY": SECRET_KEY}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        application = make_app(sqlite_url, PREVIEW_ENABLED=True)
        load_sample_media(application.extensions["catalog"], PUBLIC_URL)
        _known_to_hubspot(emulator, "sample-video")
        application.extensions["emulator"] = emulator
        yield application
        application.extensions["catalog"].dispose()


def test_email_link_to_media_page_to_player_to_the_contacts_timeline(app):
    client = app.test_client()
    link = _email_link(client, f"&contact={CONTACT}")
    assert parse_qs(urlsplit(link).query) == {"play_from": ["email"], "contact_id": [str(CONTACT)]}
    assert urlsplit(link).path == "/media/sample-video"

    src = _frame_src(client, _path(link))
    media_url = f"{PUBLIC_URL}/media/sample-video"
    assert parse_qs(urlsplit(src).query) == {"play_from": ["email"], "contact_id": [str(CONTACT)],
                                             "hs_page_name": [TITLE], "hs_page_url": [media_url]}
    config = _player_config(client, _path(src))
    token = config["events"]["token"]
    assert config["events"]["portalId"] is None  # a page outside HubSpot: the configured portal

    # What player-events.js sends from that player page: its hs_page_* parameters, no utk.
    visitor = dict(portalId=None, contactUtk=..., pageId=..., pageName=TITLE, pageUrl=media_url,
                   externalPlayContext="EXTERNAL_PAGE")
    assert client.post("/events", json=body(token, **visitor)).status_code == 202
    quartile = body(token, kind="quartile", state=..., playedPercent=0, **visitor)
    assert client.post("/events", json=quartile).status_code == 202
    final = attention(token, [1] * 9, final=True, **visitor)
    assert client.post("/events", json=final).status_code == 202

    result = command_runner(app).invoke(args=["worker", "--once"])
    assert "Sent 3," in result.output, result.output
    emulator = app.extensions["emulator"]
    events = received(emulator.state, None)
    assert {e["eventType"] for e in events} == {"media-played", "media-played-percent", "attention-span"}
    assert all(e["contactId"] == CONTACT and e["externalPlayContext"] == "EMAIL" for e in events)
    portal = events[0]["portalId"]
    shown = contact_timeline(emulator.state, portal, CONTACT)
    assert list(shown) == [SESSION] and len(shown[SESSION]) == 3
    assert contact_timeline(emulator.state, portal, CONTACT + 1) == {}
    assert emulator.state.spec_violations == []


@pytest.mark.parametrize("privacy", ["dnt", "gpc"])
def test_dnt_and_gpc_drop_the_contact_and_the_email_marker(app, privacy):
    client = app.test_client()
    query = f"?play_from=email&contact_id={CONTACT}" + ("&dnt=1" if privacy == "dnt" else "")
    token = _player_config(client, "/embed/sample-video" + query)["events"]["token"]
    headers = {"Sec-GPC": "1"} if privacy == "gpc" else {}
    report = body(token, portalId=None, contactUtk=..., pageId=..., pageName=..., pageUrl=...,
                  externalPlayContext="EXTERNAL_PAGE")
    assert client.post("/events", json=report, headers=headers).status_code == 202
    from oembed_server.storage import job_queue
    with app.extensions["catalog"].engine.connect() as conn:
        payloads = [row.payload for row in conn.execute(job_queue.jobs.select())]
    assert len(payloads) == 1
    assert "contact_id" not in payloads[0] and '"EMAIL"' not in payloads[0]


def test_a_mangled_contact_id_is_dropped_and_a_report_cannot_name_its_own_contact(app):
    client = app.test_client()
    for raw in ("0", "-5", "12a", "9" * 30, ""):
        src = _frame_src(client, f"/media/sample-video?play_from=email&contact_id={raw}")
        assert parse_qs(urlsplit(src).query)["play_from"] == ["email"]
        assert "contact_id" not in parse_qs(urlsplit(src).query)
    # Without the marker the contact id means nothing and the page stays shared-cacheable.
    plain = client.get(f"/media/sample-video?contact_id={CONTACT}")
    assert "contact_id" not in BeautifulSoup(plain.get_data(as_text=True), "html.parser").find("iframe")["src"]
    token = _player_config(client, "/embed/sample-video")["events"]["token"]
    forged = body(token, portalId=None, contactId=CONTACT)
    answer = client.post("/events", json=forged)
    assert answer.status_code == 400 and answer.get_json()["field"] == "contactId"
    assert client.get("/_preview/media_email?media=sample-video&contact=0").status_code == 400


def test_the_email_preview_without_a_contact_still_marks_the_link(app):
    client = app.test_client()
    link = _email_link(client, "")
    assert parse_qs(urlsplit(link).query) == {"play_from": ["email"]}
