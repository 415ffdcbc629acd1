"""A GDPR privacy deletion end to end: plays reported to the live server are sent to the
emulated HubSpot (v1 events, which answer the contact each utk is), so the server learns
utk -> contact; the project's webhooks component is declared in the emulator, which then
sends a signed contact.privacyDeletion and contact.deletion to the live server; the worker
erases exactly that contact's rows. A forged webhook is refused; a replayed one is taken
(it is HubSpot's, signed) but changes nothing."""
from __future__ import annotations

import json
import time

import pytest
import requests
import sqlalchemy as sa

from oembed_server import create_app
from oembed_server.domain.hubspot_app import WEBHOOK_PATH, WEBHOOKS_META_PATH
from oembed_server.storage import webhook_events
from oembed_server.storage.schema import contact_utks, jobs, play_sessions
from oembed_server.usecases.hubspot_project import write_project
from oembed_server.usecases.sample_media import load_sample_media
from tests.hubspot_emulator import LiveEmulator
from tests.hubspot_emulator.state import MediaObject
from tests.hubspot_emulator.testing import FAST_CLIENT, SECRET_KEY
from tests.hubspot_emulator.webhooks import contact_id_for_utk
from tests.support.event_reports import body, player_token
from tests.support.live_server import serve_in_thread
from tests.support.portal_installs import run_worker

PORTAL = 777  # the emulator's default portal, configured by HUBSPOT_PORTAL_ID
SUFFIX = "-0123456789abcdef"  # session ids are at least 16 characters


@pytest.fixture
def emulator():
    with LiveEmulator(rate_interval_ms=200, webhook_time_scale=1e-5) as live:
        live.state.define_media_types("VIDEO")
        state = live.state
        with state.lock:  # the sample video as a media object, straight in (no sync needed here)
            name = state.object_type_name("VIDEO")
            obj = MediaObject(state.next_id(), name, {"hs_title": "Sample", "hs_external_id": "sample-video",
                                                      "hs_oembed_url": "x"}, "2026-01-01T00:00:00.000Z",
                              "2026-01-01T00:00:00.000Z")
            state.objects.setdefault(name, {})[obj.id] = obj
            state.unique_index.setdefault(name, {})[("hs_external_id", "sample-video")] = obj.id
        yield live


@pytest.fixture
def live(emulator, sqlite_url):
    apps = []

    def build(base_url):
        app = create_app({"OEMBED_DATABASE_URL": sqlite_url, "OEMBED_PUBLIC_URL": base_url,
                          "OEMBED_SECRET_KEY": SECRET_KEY, "OEMBED_URL_SCHEMES": "", "TESTING": True,
                          "HUBSPOT_MEDIA_EVENTS_VERSION": "v1"} | emulator.env() | FAST_CLIENT)
        load_sample_media(app.extensions["catalog"], base_url)
        apps.append(app)
        return app

    with serve_in_thread(build) as base_url:
        yield apps[0], base_url
    apps[0].extensions["catalog"].dispose()


def play(app, session_id: str, utk: str | None) -> None:
    client = app.test_client()
    token = player_token(client, f"/embed/sample-video?hs_portal_id={PORTAL}")
    report = body(token, portalId=PORTAL, sessionId=session_id + SUFFIX, contactUtk=utk if utk else ...)
    answer = client.post("/events", json=report)
    assert answer.status_code == 202, answer.get_json()


def rows(app) -> dict:
    engine = app.extensions["catalog"].engine
    with engine.connect() as conn:
        return {
            "sessions": sorted(s.removesuffix(SUFFIX) for s in conn.execute(
                sa.select(play_sessions.c.session_id)).scalars()),
            "event_jobs": sorted(json.loads(p)["session_id"].removesuffix(SUFFIX) for p in conn.execute(
                sa.select(jobs.c.payload).where(jobs.c.kind.like("event.%"))).scalars()),
            "map": sorted(tuple(r) for r in conn.execute(sa.select(contact_utks.c.contact_utk,
                                                                   contact_utks.c.contact_id))),
        }


def declare_webhooks(emulator, tmp_path, base_url) -> None:
    """The project as `hubspot-project` writes it, uploaded: HubSpot delivers to its targetUrl,
    here pointed at the live server (a project refuses a loopback URL; the emulator need not)."""
    write_project(tmp_path, name="Acme Media", public_url="https://media.example.com", public_url_explicit=True,
                  distribution="private", required_scopes=("oauth", "media_bridge.read", "media_bridge.write",
                                                           "content", "crm.objects.contacts.read"), support={})
    component = json.loads((tmp_path / WEBHOOKS_META_PATH).read_text())
    component["config"]["settings"]["targetUrl"] = base_url + WEBHOOK_PATH
    assert requests.put(f"{emulator.url}/_emulator/webhooks", json=component, timeout=5).status_code == 200


def delete_in_hubspot(emulator, contact_id: int, order: str = "") -> None:
    answer = requests.post(f"{emulator.url}/_emulator/portals/{PORTAL}/contacts/{contact_id}/privacy-deletion"
                           + (f"?order={order}" if order else ""), timeout=5)
    assert answer.status_code == 202, answer.text
    assert emulator.state.webhooks.wait(10)


def test_a_signed_privacy_deletion_erases_the_contacts_rows_and_nothing_else(live, emulator, tmp_path):
    app, base_url = live
    c1, c2 = contact_id_for_utk("utk-alice"), contact_id_for_utk("utk-bob")
    play(app, "s-alice-1", "utk-alice")
    play(app, "s-alice-2", "utk-alice")
    play(app, "s-bob", "utk-bob")
    play(app, "s-anonymous", None)
    run_worker(app, emulator)
    assert rows(app)["map"] == sorted([("utk-alice", c1), ("utk-bob", c2)]), "HubSpot's answers name the contacts"
    play(app, "s-alice-3", "utk-alice")  # still queued when the deletion comes

    declare_webhooks(emulator, tmp_path, base_url)
    delete_in_hubspot(emulator, c1)
    statuses = [a["status"] for a in emulator.state.webhooks.summary()]
    assert statuses == [204, 204], "both events answered at once"
    run_worker(app, emulator)
    after = rows(app)
    assert after == {"sessions": ["s-anonymous", "s-bob"], "event_jobs": ["s-anonymous", "s-bob"],
                     "map": [("utk-bob", c2)]}

    # A forged webhook (not signed with the app's secret) for Bob: refused, nothing stored.
    forged = json.dumps([{"eventId": 1, "portalId": PORTAL, "occurredAt": int(time.time() * 1000),
                          "subscriptionType": "contact.privacyDeletion", "objectId": c2}]).encode()
    answer = requests.post(base_url + WEBHOOK_PATH, data=forged, timeout=5, headers={
        "Content-Type": "application/json", "X-HubSpot-Request-Timestamp": str(int(time.time() * 1000)),
        "X-HubSpot-Signature-v3": "bm90IHRoZSBzaWduYXR1cmU="})
    assert answer.status_code == 401

    # Alice comes back and plays again; then an attacker replays HubSpot's signed request
    # (within its five minutes): taken, recognised as already processed, nothing erased.
    play(app, "s-alice-4", "utk-alice")
    run_worker(app, emulator)
    before_replay = rows(app)
    assert "s-alice-4" in before_replay["sessions"] and ("utk-alice", c1) in before_replay["map"]
    captured = emulator.state.webhooks.attempts[0]
    replay = requests.post(captured.url, data=captured.body, headers=captured.headers, timeout=5)
    assert replay.status_code == 204
    run_worker(app, emulator)
    assert rows(app) == before_replay
    with app.extensions["catalog"].engine.connect() as conn:
        assert webhook_events.outcome_counts(conn) == {"applied": 2}

    # Bob's deletion with contact.deletion first: erased the same way.
    delete_in_hubspot(emulator, c2, order="deletion-first")
    run_worker(app, emulator)
    assert rows(app)["sessions"] == ["s-alice-4", "s-anonymous"] and ("utk-bob", c2) not in rows(app)["map"]
    assert emulator.state.spec_violations == []
