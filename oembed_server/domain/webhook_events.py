"""HubSpot webhook batches: what a delivery must look like, and what each event asks of us.

A delivery is a JSON array of at most 100 events. Each event needs an integer
``eventId``, ``portalId`` and ``occurredAt`` and a ``subscriptionType``; contact events
also an integer ``objectId``. Other fields are kept as sent. HubSpot may deliver an event
more than once (``attemptNumber`` grows) and in any order, so each event has a dedupe key
that ignores the attempt. Pure: no I/O.
"""
from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from typing import Any

from oembed_server.domain.hubspot_app import CONTACT_DELETION, PRIVACY_DELETION

MAX_EVENTS = 100
# 100 events of a few hundred bytes each; a larger body is no HubSpot batch.
MAX_BODY_BYTES = 256 * 1024
# Either event erases the contact's data: the two come in any order, in separate batches.
ERASING_TYPES = (PRIVACY_DELETION, CONTACT_DELETION)


class BatchRefused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@dataclasses.dataclass(frozen=True)
class WebhookEvent:
    event_id: int
    portal_id: int
    subscription_type: str
    occurred_at: int
    object_id: int | None = None
    app_id: int | None = None
    attempt: int = 0

    def dedupe_key(self, secret: str) -> str:
        """Keyed (HMAC with ``secret``): the key outlives the erasure, and a plain hash of a
        contact id could be reversed by trying every id."""
        raw = f"{self.portal_id}:{self.subscription_type}:{self.event_id}:{self.object_id}"
        return hmac.new(secret.encode(), raw.encode(), hashlib.sha256).hexdigest()

    @property
    def erases_contact(self) -> bool:
        return self.subscription_type in ERASING_TYPES and self.object_id is not None

    def to_payload(self) -> dict[str, Any]:
        return {"eventId": self.event_id, "portalId": self.portal_id, "subscriptionType": self.subscription_type,
                "occurredAt": self.occurred_at, "objectId": self.object_id, "appId": self.app_id,
                "attemptNumber": self.attempt}


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_event(data: Any, index: int = 0) -> WebhookEvent:
    where = f"event {index}"
    if not isinstance(data, dict):
        raise BatchRefused(400, f"{where} is not a JSON object")
    for name in ("eventId", "portalId", "occurredAt"):
        if not _whole(data.get(name)) or data[name] < 0:
            raise BatchRefused(400, f"{where}: {name} must be a non-negative integer")
    kind = data.get("subscriptionType")
    if not isinstance(kind, str) or not kind or len(kind) > 100:
        raise BatchRefused(400, f"{where}: subscriptionType must be a non-empty string")
    object_id = data.get("objectId")
    if object_id is not None and not (_whole(object_id) and object_id > 0):
        raise BatchRefused(400, f"{where}: objectId must be a positive integer")
    if kind.startswith("contact.") and object_id is None:
        raise BatchRefused(400, f"{where}: a {kind} event needs objectId")
    app_id = data.get("appId")
    attempt = data.get("attemptNumber", 0)
    return WebhookEvent(data["eventId"], data["portalId"], kind, data["occurredAt"], object_id,
                        app_id if _whole(app_id) else None, attempt if _whole(attempt) else 0)


def parse_batch(body: bytes) -> list[WebhookEvent]:
    """The events of a delivery's raw body, or BatchRefused (400 malformed, 413 too many)."""
    if len(body) > MAX_BODY_BYTES:
        raise BatchRefused(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BatchRefused(400, "the body is not valid JSON") from None
    if not isinstance(data, list):
        raise BatchRefused(400, "the body must be a JSON array of events")
    if not data:
        raise BatchRefused(400, "the batch holds no events")
    if len(data) > MAX_EVENTS:
        raise BatchRefused(413, f"a batch holds at most {MAX_EVENTS} events, this one {len(data)}")
    return [parse_event(item, i) for i, item in enumerate(data)]
