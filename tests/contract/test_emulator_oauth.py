"""The emulator's install side: consent page, codes that expire and work once, the code
exchange's checks, tokens per portal, objects kept apart, uninstall."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests

from tests.hubspot_emulator import LiveEmulator
from tests.support.portal_installs import consent

REDIRECT = "http://media.test/hubspot/oauth-callback"


def authorize(emulator, hub_id, redirect=REDIRECT, scope="content media_bridge.read media_bridge.write"):
    query = {"client_id": emulator.state.client_id, "redirect_uri": redirect, "scope": scope, "state": "s1"}
    link = requests.Request("GET", f"{emulator.url}/oauth/authorize", params=query).prepare().url
    return parse_qs(urlsplit(consent(emulator, link, hub_id)).query)


def exchange(emulator, code, redirect=REDIRECT, secret=None):
    s = emulator.state
    return requests.post(f"{emulator.url}/oauth/v1/token", timeout=5, data={
        "grant_type": "authorization_code", "client_id": s.client_id, "client_secret": secret or s.client_secret,
        "redirect_uri": redirect, "code": code})


def test_codes_work_once_for_their_redirect_and_name_their_portal():
    with LiveEmulator(test_portals={501: "A", 502: "B"}) as emulator:
        declined = authorize(emulator, None)
        assert declined["error"] == ["access_denied"] and declined["state"] == ["s1"]
        code = authorize(emulator, 502)["code"][0]
        assert exchange(emulator, code, redirect="http://evil.test/cb").json()["category"] == "BAD_REDIRECT_URI"
        code = authorize(emulator, 502)["code"][0]
        assert exchange(emulator, code, secret="wrong").status_code == 400
        code = authorize(emulator, 502)["code"][0]
        tokens = exchange(emulator, code).json()
        assert exchange(emulator, code).json()["category"] == "BAD_AUTH_CODE"  # used up
        info = requests.get(f"{emulator.url}/oauth/v1/access-tokens/{tokens['access_token']}", timeout=5).json()
        assert info["hub_id"] == 502 and info["app_id"] == emulator.state.app_id

        emulator.state.code_lifetime_s = -1
        assert exchange(emulator, authorize(emulator, 501)["code"][0]).json()["message"] == "auth code expired"

        emulator.state.define_media_types("VIDEO")
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        created = requests.post(f"{emulator.url}/crm/v3/objects/a4242_Videos", headers=bearer, timeout=5,
                                json={"properties": {"hs_title": "t", "hs_oembed_url": "http://media.test/m/1"},
                                      "associations": []})
        assert created.status_code == 201, created.text
        assert len(emulator.state.live_objects(hub_id=502)) == 1 and emulator.state.live_objects() == []

        emulator.state.uninstall(502)
        assert requests.get(f"{emulator.url}/crm/v3/objects/a4242_Videos", headers=bearer,
                            timeout=5).status_code == 401
        refreshed = requests.post(f"{emulator.url}/oauth/v1/token", timeout=5, data={
            "grant_type": "refresh_token", "client_id": emulator.state.client_id,
            "client_secret": emulator.state.client_secret, "refresh_token": tokens["refresh_token"]})
        assert refreshed.json()["category"] == "BAD_REFRESH_TOKEN"


def test_consent_page_refuses_unknown_clients_and_scopes():
    with LiveEmulator() as emulator:
        base = f"{emulator.url}/oauth/authorize"
        assert requests.get(base, params={"client_id": "nope", "redirect_uri": REDIRECT, "scope": "content"},
                            timeout=5).status_code == 400
        assert requests.get(base, params={"client_id": emulator.state.client_id, "redirect_uri": REDIRECT,
                                          "scope": "crm.everything"}, timeout=5).status_code == 400
