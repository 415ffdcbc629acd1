"""The emulator's webhook deliveries behave like HubSpot's: only the project's active
subscriptions, signed v3 (and v1) so the server's independent check accepts them, any
4xx/5xx or connection failure retried up to 10 times with growing randomized waits and a
new attemptNumber and timestamp each time, two notifications per privacy deletion."""
from __future__ import annotations

import json
import threading
import time

import pytest
import requests
from flask import Flask, request

from oembed_server.domain.hubspot_app import project_files
from oembed_server.domain.webhook_signature import check_v1, check_v3
from tests.hubspot_emulator import LiveEmulator
from tests.hubspot_emulator.webhooks import MAX_RETRIES, RETRY_DELAYS_S
from tests.support.live_server import serve_in_thread

SCALE = 1e-5  # a day of retries in under a second


class Receiver:
    """A target URL that answers each delivery with the next status of ``statuses`` (then 204)."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.received: list[dict] = []
        self.lock = threading.Lock()

    def build(self, base_url: str):
        app = Flask(__name__)

        @app.post("/hubspot/webhooks")
        def receive():
            with self.lock:
                self.received.append({"body": request.get_data(), "headers": dict(request.headers),
                                      "url": base_url + "/hubspot/webhooks", "at": time.monotonic()})
                status = self.statuses.pop(0) if self.statuses else 204
            return "", status
        return app


def hsmeta(target: str, deletion_active: bool = True) -> dict:
    component = project_files(name="Acme", public_url="https://media.example.com", distribution="private")[
        "src/app/webhooks/webhooks-hsmeta.json"]
    component["config"]["settings"]["targetUrl"] = target
    component["config"]["subscriptions"]["legacyCrmObjects"][0]["active"] = deletion_active
    return component


@pytest.fixture
def emulator():
    with LiveEmulator(webhook_time_scale=SCALE) as live:
        yield live


def configure(emulator, target: str, component=None):
    answer = requests.put(f"{emulator.url}/_emulator/webhooks", json=component or hsmeta(target), timeout=5)
    assert answer.status_code == 200, answer.text


def delete_contact(emulator, hub_id: int, contact_id: int, order: str = "") -> list[int]:
    answer = requests.post(f"{emulator.url}/_emulator/portals/{hub_id}/contacts/{contact_id}/privacy-deletion"
                           + (f"?order={order}" if order else ""), timeout=5)
    assert answer.status_code == 202, answer.text
    return answer.json()["notifications"]


def test_a_privacy_deletion_is_two_signed_notifications_the_server_check_accepts(emulator):
    receiver = Receiver()
    with serve_in_thread(receiver.build) as base:
        configure(emulator, base + "/hubspot/webhooks")
        assert len(delete_contact(emulator, 777, 123456)) == 2
        assert emulator.state.webhooks.wait(5)
    kinds = []
    for delivery in receiver.received:
        body, headers = delivery["body"], delivery["headers"]
        check_v3(emulator.state.client_secret, "POST", delivery["url"], body, headers["X-Hubspot-Signature-V3"],
                 headers["X-Hubspot-Request-Timestamp"], now_ms=int(time.time() * 1000))
        check_v1(emulator.state.client_secret, body, headers["X-Hubspot-Signature"],
                 headers["X-Hubspot-Signature-Version"])
        [event] = json.loads(body)
        assert event["portalId"] == 777 and event["objectId"] == 123456 and event["appId"] == emulator.state.app_id
        assert event["attemptNumber"] == 0
        kinds.append(event["subscriptionType"])
    assert kinds == ["contact.privacyDeletion", "contact.deletion"]

    receiver.received.clear()
    with serve_in_thread(receiver.build) as base:
        configure(emulator, base + "/hubspot/webhooks")
        delete_contact(emulator, 777, 1, order="deletion-first")
        assert emulator.state.webhooks.wait(5)
    assert [json.loads(d["body"])[0]["subscriptionType"] for d in receiver.received] == \
        ["contact.deletion", "contact.privacyDeletion"]


def test_failures_are_retried_with_a_new_attempt_number_and_signature_until_answered_2xx(emulator):
    receiver = Receiver([503, 401, 429])
    with serve_in_thread(receiver.build) as base:
        # Only the privacy deletion: one notification, so the failures are all its own.
        configure(emulator, base + "/hubspot/webhooks", hsmeta(base + "/hubspot/webhooks", deletion_active=False))
        assert len(delete_contact(emulator, 777, 5)) == 1
        assert emulator.state.webhooks.wait(5)
    first = receiver.received
    assert [json.loads(d["body"])[0]["attemptNumber"] for d in first] == [0, 1, 2, 3]
    assert len({d["headers"]["X-Hubspot-Signature-V3"] for d in first}) == 4
    attempts = [a for a in emulator.state.webhooks.summary() if a["notification"] == 1]
    assert [a["status"] for a in attempts] == [503, 401, 429, 204]
    notes = emulator.state.webhooks.notifications
    assert all(n.delivered and not n.gave_up for n in notes)


def test_an_endpoint_that_keeps_failing_gets_ten_retries_then_none(emulator):
    receiver = Receiver([400] * 50)
    with serve_in_thread(receiver.build) as base:
        configure(emulator, base + "/hubspot/webhooks", hsmeta(base + "/hubspot/webhooks", deletion_active=False))
        assert len(delete_contact(emulator, 777, 5)) == 1
        assert emulator.state.webhooks.wait(10)
    assert len(receiver.received) == 1 + MAX_RETRIES
    gaps = [b["at"] - a["at"] for a, b in zip(receiver.received, receiver.received[1:], strict=False)]
    # Waits grow with the schedule (randomized by at most a quarter either way).
    assert gaps[-1] >= RETRY_DELAYS_S[-1] * SCALE * 0.75 > gaps[0]
    assert emulator.state.webhooks.notifications[0].gave_up


def test_an_unreachable_target_is_retried_as_a_failure(emulator):
    configure(emulator, "http://127.0.0.1:9/hubspot/webhooks")  # discard port: refused
    delete_contact(emulator, 777, 5)
    assert emulator.state.webhooks.wait(10)
    attempts = emulator.state.webhooks.summary()
    assert len(attempts) == 2 * (1 + MAX_RETRIES) and all(a["status"] is None and a["error"] for a in attempts)


def test_the_control_routes_refuse_what_hubspot_would_not_take(emulator):
    assert requests.put(f"{emulator.url}/_emulator/webhooks", json={"config": {"settings": {}}},
                        timeout=5).status_code == 400
    # No project uploaded, so no subscriptions: HubSpot sends nothing.
    unconfigured = requests.post(f"{emulator.url}/_emulator/portals/777/contacts/1/privacy-deletion", timeout=5)
    assert unconfigured.status_code == 202 and unconfigured.json()["notifications"] == []
    assert requests.post(f"{emulator.url}/_emulator/portals/4/contacts/1/privacy-deletion",
                         timeout=5).status_code == 404
