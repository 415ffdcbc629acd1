"""HubSpot's dated API versions (HUBSPOT_MEDIA_BRIDGE_VERSION / HUBSPOT_MEDIA_EVENTS_VERSION
= 2026-03) end to end beside today's defaults (v1 app settings, v2 events), in one test:
an OAuth install, the app setup (media types, oEmbed domain registration, event
visibility), the module push, the catalog sync and a play delivered by the worker, every
request held to HubSpot's published specs by a strict emulator (developer API key refused)."""
from __future__ import annotations

import pytest

from tests.hubspot_emulator import LiveEmulator
from tests.support.event_reports import body, player_token
from tests.support.portal_installs import (
    PORTAL_A,
    TEST_PORTALS,
    external_ids,
    install,
    item,
    make_install_app,
    run_worker,
)

VERSIONS = {
    "defaults": ({}, "v1", "v2"),
    "dated": ({"HUBSPOT_MEDIA_BRIDGE_VERSION": "2026-03", "HUBSPOT_MEDIA_EVENTS_VERSION": "2026-03"},
              "2026-03", "2026-03"),
}


@pytest.mark.parametrize("versions", sorted(VERSIONS))
def test_install_setup_push_sync_and_events_on_each_api_version(versions, sqlite_url):
    overrides, bridge, events = VERSIONS[versions]
    with LiveEmulator(rate_interval_ms=200, test_portals=TEST_PORTALS, accept_developer_hapikey=False) as emulator:
        app = make_install_app(sqlite_url, emulator, HUBSPOT_DEVELOPER_API_KEY="", **overrides)
        try:
            app.extensions["catalog"].upsert([item("a-1"), item("a-2")])
            client = app.test_client()
            assert install(client, emulator, PORTAL_A)[0].status_code == 303
            run_worker(app, emulator)
            s = emulator.state
            assert set(s.definitions) == {"VIDEO"} and len(s.oembed_domains) == 1
            assert s.event_visibility and external_ids(emulator, PORTAL_A) == ["a-1", "a-2"]
            assert any(path.endswith("module.html") for _, path in s.data(PORTAL_A).source_files)

            token = player_token(client, f"/embed/a-1?hs_portal_id={PORTAL_A}")
            report = body(token, externalId="a-1", portalId=PORTAL_A, sessionId=f"sess-{versions}-0123456789")
            assert client.post("/events", json=report).status_code == 202
            run_worker(app, emulator)
            assert [e["event"]["sessionId"] for e in s.events] == [report["sessionId"]]

            paths = [r.path for r in s.requests]
            settings_paths = [p for p in paths if p.startswith("/media-bridge/") and "/events/" not in p]
            event_paths = [p for p in paths if "/events/" in p]
            assert settings_paths and all(p.startswith(f"/media-bridge/{bridge}/{s.app_id}/") for p in settings_paths)
            assert event_paths == [f"/media-bridge/{events}/events/media-played"]
            assert all(r.auth != "hapikey" for r in s.requests)
            assert s.spec_violations == []
        finally:
            app.extensions["catalog"].dispose()
