"""HubSpot's side of app webhooks: the subscriptions a project's webhooks-hsmeta.json
declares, and signed deliveries of their events to the target URL with HubSpot's retry
rules.

A delivery is a POST of a JSON array of events, signed v3 (``X-HubSpot-Signature-v3``:
base64 HMAC-SHA256 with the app's client secret over method + URI + body + timestamp,
computed here on its own, not with the server's code) and v1 (``X-HubSpot-Signature``:
hex SHA-256 of secret + body). It fails on a connection error, no answer within 5 s, or
any 4xx/5xx, and is then retried up to 10 times over about a day, each wait randomized;
``time_scale`` shrinks the day for tests. Each retry carries ``attemptNumber`` + 1 and a
new timestamp. A privacy deletion fires ``contact.privacyDeletion`` and ``contact.deletion``
as two notifications, in either order."""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import itertools
import json
import random
import threading
import time
from typing import Any

import requests

DELIVERY_TIMEOUT_S = 5.0
MAX_RETRIES = 10
# Waits before retries 1..10 (seconds): spread over the next 24 hours, as HubSpot's are.
RETRY_DELAYS_S = (60, 120, 300, 600, 1200, 2400, 4800, 9600, 19200, 43200)
# Where each subscription type goes in webhooks-hsmeta.json.
SUBSCRIPTION_GROUPS = {"contact.privacyDeletion": "hubEvents", "contact.deletion": "legacyCrmObjects"}


# HubSpot signs the URI with these escapes decoded (its request-validation page).
URI_ESCAPES = {"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$", "%27": "'", "%28": "(",
               "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";"}


def signed_uri(uri: str) -> str:
    for escape, char in URI_ESCAPES.items():
        uri = uri.replace(escape, char).replace(escape.lower(), char)
    return uri


def v3_signature(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    message = method.encode() + signed_uri(uri).encode() + body + timestamp.encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


def contact_id_for_utk(utk: str) -> int:
    """The contact the emulator resolves a visitor token to (as routes_events answers events)."""
    return int(hashlib.sha256(utk.encode()).hexdigest()[:7], 16)


@dataclasses.dataclass
class Attempt:
    notification: int
    attempt_number: int
    url: str
    status: int | None  # None: no answer (connection failed or timed out)
    error: str | None
    body: bytes
    headers: dict[str, str]
    at: float


@dataclasses.dataclass
class Notification:
    id: int
    events: list[dict]
    delivered: bool = False
    gave_up: bool = False
    # Set once the first attempt was answered (or failed): what a notification sent after it waits for.
    tried: threading.Event = dataclasses.field(default_factory=threading.Event)


class WebhookDeliveries:
    def __init__(self, app_id: int, client_secret: str, *, time_scale: float = 1.0, seed: int | None = None):
        self.app_id = app_id
        self.client_secret = client_secret
        self.time_scale = time_scale
        self.config: dict[str, Any] | None = None
        self.attempts: list[Attempt] = []
        self.notifications: list[Notification] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._event_ids = itertools.count(7001)
        self._subscription_ids = {"contact.privacyDeletion": 3001, "contact.deletion": 3002}
        self._rng = random.Random(seed)
        self._threads: list[threading.Thread] = []

    # --- what the project declared ---------------------------------------------------
    def configure(self, component: dict[str, Any]) -> None:
        """Take a webhooks-hsmeta.json component (or its ``config``) as HubSpot would on upload."""
        config = component.get("config", component)
        target = (config.get("settings") or {}).get("targetUrl")
        if not isinstance(target, str) or not target.startswith(("http://", "https://")):
            raise ValueError("config.settings.targetUrl must be an http(s) URL")
        if not isinstance(config.get("subscriptions"), dict):
            raise ValueError("config.subscriptions is required")
        self.config = config

    def subscribed(self, subscription_type: str) -> bool:
        if self.config is None:
            return False
        group = self.config["subscriptions"].get(SUBSCRIPTION_GROUPS.get(subscription_type, ""), [])
        return any(s.get("subscriptionType") == subscription_type and s.get("active", True) for s in group)

    # --- sending ----------------------------------------------------------------------
    def privacy_deletion(self, hub_id: int, contact_id: int, deletion_first: bool = False) -> list[int]:
        """A contact erased under GDPR: the two events, each in its own notification."""
        kinds = ["contact.privacyDeletion", "contact.deletion"]
        if deletion_first:
            kinds.reverse()
        ids: list[int] = []
        previous: Notification | None = None
        for kind in kinds:
            if self.subscribed(kind):
                event = {"eventId": next(self._event_ids), "subscriptionId": self._subscription_ids[kind],
                         "portalId": hub_id, "appId": self.app_id, "occurredAt": int(time.time() * 1000),
                         "subscriptionType": kind, "attemptNumber": 0, "objectId": contact_id,
                         "changeSource": "GDPR", "changeFlag": "DELETED"}
                previous = self.send([event], after=previous)
                ids.append(previous.id)
        return ids

    def send(self, events: list[dict], after: Notification | None = None) -> Notification:
        """Deliver one notification in the background (HubSpot never waits for us); ``after``:
        first attempted once that one's first attempt is done, so a test chooses the order."""
        if self.config is None:
            raise ValueError("no webhooks configured: PUT /_emulator/webhooks with webhooks-hsmeta.json first")
        notification = Notification(next(self._ids), events)
        with self._lock:
            self.notifications.append(notification)
        thread = threading.Thread(target=self._deliver, args=(notification, after), daemon=True,
                                  name=f"webhook-{notification.id}")
        self._threads.append(thread)
        thread.start()
        return notification

    def _deliver(self, notification: Notification, after: Notification | None) -> None:
        assert self.config is not None
        if after is not None:
            after.tried.wait(DELIVERY_TIMEOUT_S + 1)
        url = self.config["settings"]["targetUrl"]
        for attempt in range(MAX_RETRIES + 1):
            if attempt:
                delay = RETRY_DELAYS_S[attempt - 1] * self._rng.uniform(0.75, 1.25)
                time.sleep(delay * self.time_scale)
            events = [e | {"attemptNumber": attempt} for e in notification.events]
            body = json.dumps(events, separators=(",", ":")).encode()
            timestamp = str(int(time.time() * 1000))
            headers = {"Content-Type": "application/json",
                       "X-HubSpot-Signature-v3": v3_signature(self.client_secret, "POST", url, body, timestamp),
                       "X-HubSpot-Request-Timestamp": timestamp,
                       "X-HubSpot-Signature": hashlib.sha256(self.client_secret.encode() + body).hexdigest(),
                       "X-HubSpot-Signature-Version": "v1"}
            status, error = None, None
            try:
                status = requests.post(url, data=body, headers=headers, timeout=DELIVERY_TIMEOUT_S).status_code
            except requests.RequestException as exc:
                error = type(exc).__name__
            with self._lock:
                self.attempts.append(Attempt(notification.id, attempt, url, status, error, body, headers,
                                             time.time()))
            notification.tried.set()
            if status is not None and 200 <= status < 300:
                notification.delivered = True
                return
        notification.gave_up = True

    def wait(self, timeout: float = 10.0) -> bool:
        """Every notification delivered or given up on, within ``timeout``."""
        deadline = time.monotonic() + timeout
        for thread in list(self._threads):
            thread.join(max(deadline - time.monotonic(), 0))
        return not any(t.is_alive() for t in self._threads)

    def summary(self) -> list[dict]:
        with self._lock:
            return [{"notification": a.notification, "attemptNumber": a.attempt_number, "status": a.status,
                     "error": a.error, "url": a.url} for a in self.attempts]
