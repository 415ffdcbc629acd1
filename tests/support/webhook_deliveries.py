"""HubSpot webhook deliveries built the way HubSpot signs them (the emulator's own signer,
not the server's), and visitor data seeded for privacy deletions."""
from __future__ import annotations

import json
import time

import sqlalchemy as sa

from oembed_server.domain.event_record import EventRecord
from oembed_server.storage import job_queue
from oembed_server.storage.privacy_erasure import remember_contact
from oembed_server.storage.schema import contact_utks, jobs, play_sessions
from tests.hubspot_emulator.webhooks import v3_signature

WEBHOOK_SECRET = "emu-client-secret-0001"


def deletion_event(contact_id: int, portal_id: int, event_id: int = 100, kind: str = "contact.privacyDeletion",
                   **fields) -> dict:
    return {"eventId": event_id, "subscriptionId": 2001, "portalId": portal_id, "appId": 4242,
            "occurredAt": int(time.time() * 1000), "subscriptionType": kind, "attemptNumber": 0,
            "objectId": contact_id, "changeSource": "GDPR", "changeFlag": "DELETED"} | fields


def signed_headers(body: bytes, uri: str, secret: str = WEBHOOK_SECRET, timestamp_ms: int | None = None) -> dict:
    timestamp = str(int(time.time() * 1000) if timestamp_ms is None else timestamp_ms)
    return {"Content-Type": "application/json", "X-HubSpot-Request-Timestamp": timestamp,
            "X-HubSpot-Signature-v3": v3_signature(secret, "POST", uri, body, timestamp)}


def encode(events: list[dict]) -> bytes:
    return json.dumps(events, separators=(",", ":")).encode()


def seed_visitor(engine, portal_id: int | None, utk: str | None, session_id: str, *, contact_id: int | None = None,
                 map_portal: int | None = None, delivered: bool = True) -> None:
    """One play session of ``utk`` with its played event job (delivered or still queued),
    and, given ``contact_id``, the map row saying the utk is that contact."""
    record = EventRecord(kind="played", external_id="sample-video", media_type="VIDEO", session_id=session_id,
                         occurred_at_ms=1_767_225_600_000, portal_id=portal_id, contact_utk=utk,
                         page_name="Landing", page_url="https://site.test/landing", state="STARTED")
    now = time.time()
    with engine.begin() as conn:
        conn.execute(play_sessions.insert().values(
            session_id=session_id, external_id="sample-video", media_type="VIDEO", portal_id=portal_id,
            contact_utk=utk, page_name="Landing", state="STARTED", first_seen_at=now, last_seen_at=now))
        job_queue.enqueue(conn, record.job_kind, record.to_payload(), portal_id=portal_id,
                          dedupe_key=f"{session_id}:played")
        if delivered:
            conn.execute(jobs.update().where(jobs.c.dedupe_key == f"{session_id}:played").values(state="done"))
        if contact_id is not None and utk is not None:
            remember_contact(conn, map_portal if map_portal is not None else portal_id or 0, utk, contact_id)


def visitor_rows(engine) -> dict[str, list]:
    """What is left: sessions, event job sessions, and the map, each sorted."""
    with engine.connect() as conn:
        sessions = sorted(conn.execute(sa.select(play_sessions.c.session_id)).scalars())
        event_jobs = sorted(json.loads(p)["session_id"] for p in conn.execute(
            sa.select(jobs.c.payload).where(jobs.c.kind.like("event.%"))).scalars())
        mapped = sorted(tuple(r) for r in conn.execute(
            sa.select(contact_utks.c.portal_id, contact_utks.c.contact_utk, contact_utks.c.contact_id)))
    return {"sessions": sessions, "jobs": event_jobs, "map": mapped}
