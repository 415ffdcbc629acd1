"""HubSpot's Webhooks Journal for one app: its journal subscriptions, the journal of app
lifecycle events they select, and the pre-signed URLs the journal's files are read from.

The journal is pulled, never pushed: an app with a client-credentials token lists batches
(``batch/earliest/{count}``, ``batch/{offset}/next/{count}``), each result naming an offset
(a UUID) and a short-lived pre-signed URL of that journal file, outside HubSpot's API (S3:
no credential, the signature is in the query, a changed or expired URL answers 403).

Only what a subscription selects is journaled: a customer uninstalling the app appends an
``APP_UNINSTALL`` entry when the app subscribed to event type ``4-1916193``. The shape of
an entry behind the URL is not published (the reference marks it unconfirmed); the one
here is a guess with the fields HubSpot's other payloads carry, one JSON array per file,
and ``append_raw`` lets a test put anything else there."""
from __future__ import annotations

import dataclasses
import hashlib
import hmac
import itertools
import json
import secrets
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

APP_INSTALL_EVENT = "4-1909196"
APP_UNINSTALL_EVENT = "4-1916193"
ACTIONS = {APP_INSTALL_EVENT: "APP_INSTALL", APP_UNINSTALL_EVENT: "APP_UNINSTALL"}
# Spec scope names, and the names the developer documentation asks a token for.
SCOPE_SYNONYMS = {
    "developer.webhooks_journal.read": "webhooks-journal-data-access",
    "developer.webhooks_journal.subscriptions.read": "webhooks-journal-subscription-read",
    "developer.webhooks_journal.subscriptions.write": "webhooks-journal-subscription-management",
    "developer.webhooks_journal.snapshots.read": "webhooks-journal-snapshot-management",
    "developer.webhooks_journal.snapshots.write": "webhooks-journal-snapshot-management",
}
JOURNAL_SCOPES = frozenset(SCOPE_SYNONYMS) | frozenset(SCOPE_SYNONYMS.values())
FILE_URL_LIFETIME_S = 300


def spec_scopes(scopes: frozenset[str]) -> frozenset[str]:
    """A token's scopes as the spec names them (either naming may be asked for)."""
    return frozenset(SCOPE_SYNONYMS.get(s, s) for s in scopes)


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclasses.dataclass
class JournalFile:
    offset: str
    body: bytes
    at: float


class WebhooksJournal:
    def __init__(self, app_id: int):
        self.app_id = app_id
        self.subscriptions: dict[int, dict[str, Any]] = {}
        self.files: list[JournalFile] = []
        self._lock = threading.Lock()
        self._subscription_ids = itertools.count(9001)
        self._url_key = secrets.token_bytes(16)

    # --- subscriptions ------------------------------------------------------------------
    def subscribe(self, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """An upsert: the same subscription type and event type give back the one held. (it, created)"""
        with self._lock:
            for held in self.subscriptions.values():
                if held["subscriptionType"] == body["subscriptionType"] \
                        and held["objectTypeId"] == body["eventTypeId"]:
                    return held, False
            now = iso(time.time())
            subscription = {"id": next(self._subscription_ids), "appId": self.app_id,
                            "subscriptionType": body["subscriptionType"], "objectTypeId": body["eventTypeId"],
                            "actions": [ACTIONS[body["eventTypeId"]]], "properties": list(body["properties"]),
                            "createdAt": now, "updatedAt": now}
            self.subscriptions[subscription["id"]] = subscription
            return subscription, True

    def unsubscribe(self, subscription_id: int) -> bool:
        with self._lock:
            return self.subscriptions.pop(subscription_id, None) is not None

    def subscribed(self, event_type: str) -> dict[str, Any] | None:
        with self._lock:
            return next((s for s in self.subscriptions.values() if s["subscriptionType"] == "APP_LIFECYCLE_EVENT"
                         and s["objectTypeId"] == event_type), None)

    # --- the journal --------------------------------------------------------------------
    def lifecycle_event(self, hub_id: int, event_type: str) -> dict[str, Any] | None:
        """Journal an install or uninstall of ``hub_id`` if a subscription selects it."""
        subscription = self.subscribed(event_type)
        if subscription is None:
            return None
        entry = {"id": str(uuid.uuid4()), "subscriptionId": subscription["id"],
                 "subscriptionType": "APP_LIFECYCLE_EVENT", "eventTypeId": event_type,
                 "action": ACTIONS[event_type], "portalId": hub_id, "appId": self.app_id,
                 "occurredAt": int(time.time() * 1000)}
        self.append_raw(json.dumps([entry], separators=(",", ":")).encode())
        return entry

    def append_raw(self, body: bytes) -> str:
        """A journal file holding exactly ``body``; returns its offset."""
        with self._lock:
            offset = str(uuid.uuid4())
            self.files.append(JournalFile(offset, body, time.time()))
            return offset

    def batch(self, after: str | None, count: int, base_url: str) -> list[dict[str, Any]] | None:
        """Up to ``count`` files after offset ``after`` (from the first when None), as
        JournalFetchResponse objects; None when ``after`` is no offset of this journal."""
        with self._lock:
            offsets = [f.offset for f in self.files]
            if after is None:
                start = 0
            elif after in offsets:
                start = offsets.index(after) + 1
            else:
                return None
            chosen = self.files[start:start + count]
        expires = int(time.time()) + FILE_URL_LIFETIME_S
        return [{"currentOffset": f.offset, "url": self.file_url(base_url, f.offset, expires),
                 "expiresAt": iso(expires)} for f in chosen]

    # --- pre-signed file URLs -------------------------------------------------------------
    def _signature(self, offset: str, expires: int) -> str:
        return hmac.new(self._url_key, f"{offset}:{expires}".encode(), hashlib.sha256).hexdigest()

    def file_url(self, base_url: str, offset: str, expires: int) -> str:
        return (f"{base_url}/_emulator/journal-files/{offset}"
                f"?X-Amz-Expires={expires}&X-Amz-Signature={self._signature(offset, expires)}")

    def read_file(self, offset: str, expires: str, signature: str) -> bytes | str:
        """The file's bytes, or why the URL is refused."""
        try:
            when = int(expires)
        except ValueError:
            return "AuthorizationQueryParametersError"
        if not hmac.compare_digest(self._signature(offset, when), signature):
            return "SignatureDoesNotMatch"
        if time.time() > when:
            return "AccessDenied: Request has expired"
        with self._lock:
            found = next((f for f in self.files if f.offset == offset), None)
        return found.body if found else "NoSuchKey"
