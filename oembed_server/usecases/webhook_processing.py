"""HubSpot's webhook batches, after the route stored them: each event acted on once.

A ``contact.privacyDeletion`` or ``contact.deletion`` for contact C of portal P erases
what we hold about C in P (``storage.privacy_erasure``); whichever of the two comes first
does it, the other finds nothing left. Events for portals this server does not know (never
installed, not the configured one) or for another app are ignored and counted, as are
types this server does not act on. Events and their erasures commit in one transaction, so
a crash mid-batch leaves the batch to be processed again, whole.
"""
from __future__ import annotations

import collections
import dataclasses
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from oembed_server.domain.webhook_events import WebhookEvent, parse_event
from oembed_server.settings import Settings
from oembed_server.storage import job_queue, webhook_events
from oembed_server.storage.privacy_erasure import Erased, erase_contact, erase_utk
from oembed_server.storage.schema import hubspot_portals

KIND_WEBHOOK_BATCH = "hubspot.webhook_batch"
# The queue's portal for work done here, without HubSpot: never held for want of a token.
LOCAL_PORTAL = -1
# HubSpot retries for a day; seen events are kept at least twice that.
MIN_SEEN_RETENTION_S = 2 * 86400


@dataclasses.dataclass
class BatchSummary:
    outcomes: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    duplicates: int = 0
    erased: Erased = dataclasses.field(default_factory=Erased)

    def describe(self) -> str:
        parts = [f"{n} {outcome}" for outcome, n in sorted(self.outcomes.items())]
        parts.append(f"{self.duplicates} duplicate(s)")
        erased = ", ".join(f"{table} {n}" for table, n in self.erased.counts().items())
        return f"{'; '.join(parts)}; erased {erased}"


def queue_batch(conn: Connection, events: list[WebhookEvent], now: float | None = None) -> None:
    """Store a checked delivery in the outbox, in the caller's transaction."""
    job_queue.enqueue(conn, KIND_WEBHOOK_BATCH, {"events": [e.to_payload() for e in events]},
                      portal_id=LOCAL_PORTAL, priority=5, now=now)


def batch_events(payload: dict[str, Any]) -> list[WebhookEvent]:
    """The events of a stored batch; ValueError when the payload is not one."""
    events = payload.get("events")
    if not isinstance(events, list):
        raise ValueError("the payload holds no events list")
    try:
        return [parse_event(e, i) for i, e in enumerate(events)]
    except Exception as exc:  # BatchRefused: what the route checked cannot fail here unless tampered with
        raise ValueError(str(exc)) from None


def _known_portal(conn: Connection, portal_id: int, settings: Settings) -> bool:
    if portal_id == settings.hubspot.portal_id:
        return True
    return conn.execute(sa.select(hubspot_portals.c.portal_id)
                        .where(hubspot_portals.c.portal_id == portal_id)).first() is not None


def _unassigned_too(portal_id: int, settings: Settings) -> bool:
    return portal_id == settings.hubspot.portal_id


def process_events(conn: Connection, events: list[WebhookEvent], settings: Settings,
                   now: float | None = None) -> BatchSummary:
    summary = BatchSummary()
    app_id = settings.hubspot.app_id
    for event in events:
        if app_id is not None and event.app_id is not None and event.app_id != app_id:
            outcome = webhook_events.OTHER_APP
        elif not _known_portal(conn, event.portal_id, settings):
            outcome = webhook_events.UNKNOWN_PORTAL
        elif event.erases_contact:
            outcome = webhook_events.APPLIED
        else:
            outcome = webhook_events.IGNORED
        if not webhook_events.mark_seen(conn, event.dedupe_key(settings.secret_key), event.portal_id,
                                        event.subscription_type, outcome, now=now):
            summary.duplicates += 1
            continue
        summary.outcomes[outcome] += 1
        if outcome == webhook_events.APPLIED:
            assert event.object_id is not None  # erases_contact
            summary.erased = summary.erased + erase_contact(
                conn, event.portal_id, event.object_id, unassigned_too=_unassigned_too(event.portal_id, settings))
    return summary


def forget_batch(conn: Connection, job_id: int, summary: BatchSummary) -> None:
    """Replace a processed batch's events (contact ids among them) by what came of them, in
    the transaction that acted on them: the delivered job kept until the retention ends
    then names no contact, and a retry of the job after a crash finds nothing to redo."""
    job_queue.replace_payload(conn, job_id, {"events": [], "processed": {
        "outcomes": dict(sorted(summary.outcomes.items())), "duplicates": summary.duplicates,
        "erased": summary.erased.counts()}})


def erase_by_hand(conn: Connection, settings: Settings, portal_id: int, *, contact_id: int | None = None,
                  utk: str | None = None) -> Erased:
    """``oembed-server privacy erase``: the same erasure as a privacy deletion webhook."""
    if (contact_id is None) == (utk is None):
        raise ValueError("give a contact id or a utk (one of them)")
    unassigned = _unassigned_too(portal_id, settings)
    if contact_id is not None:
        return erase_contact(conn, portal_id, contact_id, unassigned_too=unassigned)
    assert utk is not None
    return erase_utk(conn, portal_id, utk, unassigned_too=unassigned)


def prune_seen(conn: Connection, settings: Settings, now: float) -> int:
    keep_s = max(settings.events_retention_days * 86400, MIN_SEEN_RETENTION_S)
    return webhook_events.prune_seen(conn, now - keep_s)
