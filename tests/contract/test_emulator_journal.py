"""The emulator's Webhooks Journal and app uninstalls, as HubSpot's 2026-03 specs and the
webhooks sheet describe them: client-credentials tokens only, upserted lifecycle
subscriptions, journal batches after an offset with pre-signed file URLs that expire and
cannot be altered, a customer's uninstall journaled only when subscribed, and the app's own
external-install uninstall."""
from __future__ import annotations

import json

import requests

from tests.hubspot_emulator import LiveEmulator
from tests.hubspot_emulator.journal import APP_UNINSTALL_EVENT

SUBSCRIPTIONS = "/webhooks-journal/subscriptions/2026-03"
BATCH = "/webhooks-journal/journal/2026-03/batch"
READ_SCOPES = "developer.webhooks_journal.read developer.webhooks_journal.subscriptions.read " \
              "developer.webhooks_journal.subscriptions.write"


def app_token(emulator, scope=READ_SCOPES, secret=None):
    s = emulator.state
    return requests.post(f"{emulator.url}/oauth/v1/token", timeout=5, data={
        "grant_type": "client_credentials", "client_id": s.client_id, "client_secret": secret or s.client_secret,
        "scope": scope})


def test_client_credentials_tokens_are_the_only_key_to_the_journal():
    with LiveEmulator() as emulator:
        assert app_token(emulator, secret="wrong").json()["category"] == "BAD_CLIENT_ID"
        assert app_token(emulator, scope="content").json()["error"] == "invalid_scope"
        answer = app_token(emulator).json()
        assert answer["token_use"] == "client_credentials" and answer["expires_in"] > 0
        url = f"{emulator.url}{SUBSCRIPTIONS}"
        assert requests.get(url, timeout=5).status_code == 401
        portal = {"Authorization": f"Bearer {next(iter(emulator.state.access_tokens))}"}
        assert requests.get(url, headers=portal, timeout=5).status_code == 403
        reader = app_token(emulator, scope="developer.webhooks_journal.read").json()["access_token"]
        refused = requests.get(url, headers={"Authorization": f"Bearer {reader}"}, timeout=5)
        assert refused.status_code == 403 and refused.json()["category"] == "MISSING_SCOPES"
        ok = requests.get(url, headers={"Authorization": f"Bearer {answer['access_token']}"}, timeout=5)
        assert ok.status_code == 200 and ok.json() == {"results": []}
        emulator.state.expire_tokens()
        emulator.state.app_tokens[answer["access_token"]].expires_at = 0
        expired = requests.get(url, headers={"Authorization": f"Bearer {answer['access_token']}"}, timeout=5)
        assert expired.json()["category"] == "EXPIRED_AUTHENTICATION"
        assert emulator.state.spec_violations == []


def test_uninstalls_are_journaled_once_subscribed_and_read_through_presigned_urls():
    with LiveEmulator(test_portals={501: "A", 502: "B"}) as emulator:
        bearer = {"Authorization": f"Bearer {app_token(emulator).json()['access_token']}"}
        emulator.state.uninstall(501)  # before any subscription: nothing journaled
        body = {"subscriptionType": "APP_LIFECYCLE_EVENT", "eventTypeId": APP_UNINSTALL_EVENT, "properties": []}
        first = requests.post(f"{emulator.url}{SUBSCRIPTIONS}", json=body, headers=bearer, timeout=5)
        again = requests.post(f"{emulator.url}{SUBSCRIPTIONS}", json=body, headers=bearer, timeout=5)
        assert first.status_code == 200 and first.json() == again.json()  # an upsert
        assert first.json()["actions"] == ["APP_UNINSTALL"]
        bad = requests.post(f"{emulator.url}{SUBSCRIPTIONS}", headers=bearer, timeout=5,
                            json={"subscriptionType": "APP_LIFECYCLE_EVENT", "properties": []})
        assert bad.status_code == 400  # eventTypeId is required by the spec

        empty = requests.get(f"{emulator.url}{BATCH}/earliest/10", headers=bearer, timeout=5).json()
        assert empty["status"] == "COMPLETE" and empty["results"] == []
        emulator.state.uninstall(502)
        batch = requests.get(f"{emulator.url}{BATCH}/earliest/10", headers=bearer, timeout=5).json()
        [result] = batch["results"]
        entries = json.loads(requests.get(result["url"], timeout=5).content)
        assert [(e["portalId"], e["action"]) for e in entries] == [(502, "APP_UNINSTALL")]
        after = requests.get(f"{emulator.url}{BATCH}/{result['currentOffset']}/next/10", headers=bearer,
                             timeout=5).json()
        assert after["results"] == []
        unknown = requests.get(f"{emulator.url}{BATCH}/00000000-0000-0000-0000-000000000000/next/10",
                               headers=bearer, timeout=5)
        assert unknown.status_code == 404
        assert requests.get(result["url"].replace("X-Amz-Signature=", "X-Amz-Signature=0"),
                            timeout=5).status_code == 403
        expired = emulator.state.journal.file_url(emulator.url, result["currentOffset"], 1)
        assert b"expired" in requests.get(expired, timeout=5).content
        # Only the request sent without eventTypeId drifted from the spec.
        assert [v["operation"] for v in emulator.state.spec_violations] == [f"POST {SUBSCRIPTIONS}"]


def test_the_app_uninstalls_itself_with_the_portals_token():
    with LiveEmulator() as emulator:
        s = emulator.state
        s.journal.subscribe({"subscriptionType": "APP_LIFECYCLE_EVENT", "eventTypeId": APP_UNINSTALL_EVENT,
                             "properties": []})
        token = next(iter(s.access_tokens))
        url = f"{emulator.url}/appinstalls/2026-03/external-install"
        assert requests.delete(url, timeout=5).status_code == 401
        answer = requests.delete(url, headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert answer.status_code == 204
        assert s.uninstalled == [s.portal_id] and token not in s.access_tokens and not s.refresh_tokens
        assert len(s.journal.files) == 1
        assert requests.delete(url, headers={"Authorization": f"Bearer {token}"}, timeout=5).status_code == 401
        assert s.spec_violations == []
