#!/usr/bin/env python3
"""Benchmark HubSpot webhook deliveries and the privacy deletions they carry (SQLite).

Builds a database whose outbox holds --jobs delivered engagement event jobs (one per play
session, each with its own visitor token, half of them tied to a contact), then measures

  * POST /hubspot/webhooks with a signed batch of 100 events (signature check, parsing,
    one committed outbox row): median and p95 over --rounds, as a ratio of HubSpot's
    5-second timeout (target <= 0.02: 100 ms);
  * the worker processing batches of 100 privacy deletions: milliseconds per erased
    contact with that outbox (each erasure finds its jobs by their payload).

Usage: python scripts/bench_webhooks.py [--jobs 20000] [--rounds 30] [--deletions 200]
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from oembed_server import create_app  # noqa: E402
from oembed_server.domain.event_record import EventRecord  # noqa: E402
from oembed_server.jobs.worker import WorkerOptions, build_worker  # noqa: E402
from oembed_server.storage import schema_version  # noqa: E402
from oembed_server.storage.engine import create_catalog_engine  # noqa: E402
from oembed_server.storage.privacy_erasure import remember_contact  # noqa: E402
from oembed_server.storage.schema import jobs, play_sessions  # noqa: E402

SECRET = "bench-client-secret"
PUBLIC_URL = "https://media.example.com"
PORTAL = 777
HUBSPOT_TIMEOUT_S = 5.0
TARGET_RATIO = 0.02


def sign(body: bytes, uri: str) -> dict[str, str]:
    timestamp = str(int(time.time() * 1000))
    digest = hmac.new(SECRET.encode(), b"POST" + uri.encode() + body + timestamp.encode(), hashlib.sha256).digest()
    return {"Content-Type": "application/json", "X-HubSpot-Request-Timestamp": timestamp,
            "X-HubSpot-Signature-v3": base64.b64encode(digest).decode()}


def batch(first_event: int, contacts: list[int], kind: str = "contact.privacyDeletion") -> bytes:
    now = int(time.time() * 1000)
    return json.dumps([{"eventId": first_event + i, "subscriptionId": 1, "portalId": PORTAL, "appId": 4242,
                        "occurredAt": now, "subscriptionType": kind, "attemptNumber": 0, "objectId": c}
                       for i, c in enumerate(contacts)], separators=(",", ":")).encode()


def seed(engine, count: int) -> None:
    now = time.time()
    with engine.begin() as conn:
        sessions, rows = [], []
        for i in range(count):
            utk = f"utk{i:08d}"
            record = EventRecord(kind="played", external_id="clip", media_type="VIDEO", session_id=f"s{i:015d}",
                                 occurred_at_ms=1_767_225_600_000, portal_id=PORTAL, contact_utk=utk,
                                 page_name="Landing", state="STARTED")
            payload = json.dumps(record.to_payload(), separators=(",", ":"), sort_keys=True)
            sessions.append({"session_id": record.session_id, "external_id": "clip", "media_type": "VIDEO",
                             "portal_id": PORTAL, "contact_utk": utk, "first_seen_at": now, "last_seen_at": now,
                             "closed_at": now})
            rows.append({"kind": record.job_kind, "portal_id": PORTAL, "priority": 10, "payload": payload,
                         "state": "done", "attempts": 1, "next_attempt_at": now, "created_at": now,
                         "dedupe_key": f"{record.session_id}:played",
                         "updated_at": now})
        conn.execute(play_sessions.insert(), sessions)
        conn.execute(jobs.insert(), rows)
        for i in range(0, count, 2):  # every other visitor resolved to a contact
            remember_contact(conn, PORTAL, f"utk{i:08d}", 100_000 + i, now)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--deletions", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database_url = f"sqlite:///{folder}/bench.sqlite3"
        setup = create_catalog_engine(database_url)
        schema_version.upgrade(setup)
        setup.dispose()
        app = create_app({"OEMBED_DATABASE_URL": database_url, "OEMBED_PUBLIC_URL": PUBLIC_URL,
                          "OEMBED_SECRET_KEY": "bench-secret-key-" + "x1y2z3" * 8, "TESTING": True,
                          "HUBSPOT_CLIENT_SECRET": SECRET, "HUBSPOT_APP_ID": "4242",
                          "HUBSPOT_PORTAL_ID": str(PORTAL)})
        engine = app.extensions["catalog"].engine
        started = time.perf_counter()
        seed(engine, args.jobs)
        print(f"database with {args.jobs:,} delivered event jobs and sessions built in "
              f"{time.perf_counter() - started:.1f} s")
        client = app.test_client()
        uri = f"{PUBLIC_URL}/hubspot/webhooks"
        timings = []
        for r in range(args.rounds):
            # Contacts nobody holds: the route's cost, not the worker's.
            body = batch(1_000_000 + r * 100, [9_000_000 + r * 100 + i for i in range(100)])
            t0 = time.perf_counter()
            status = client.post("/hubspot/webhooks", data=body, headers=sign(body, uri)).status_code
            timings.append(time.perf_counter() - t0)
            assert status == 204, status
        median, p95 = statistics.median(timings), sorted(timings)[int(0.95 * (len(timings) - 1))]
        print(f"POST /hubspot/webhooks, 100 events: median {median * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms; "
              f"ratio to HubSpot's 5 s timeout {p95 / HUBSPOT_TIMEOUT_S:.4f} (target: <= {TARGET_RATIO})")

        def run_worker() -> None:
            build_worker(app.extensions["catalog"], app.extensions["oembed_settings"],
                         options=WorkerOptions(idle_poll_s=0.01)).run(once=True)

        run_worker()  # the route's batches: nothing to erase
        contacts = [100_000 + i for i in range(0, min(args.deletions * 2, args.jobs), 2)]
        for start in range(0, len(contacts), 100):
            body = batch(2_000_000 + start, contacts[start:start + 100])
            assert client.post("/hubspot/webhooks", data=body, headers=sign(body, uri)).status_code == 204
        t0 = time.perf_counter()
        run_worker()
        elapsed = time.perf_counter() - t0
        with engine.connect() as conn:
            left = conn.execute(jobs.select().where(jobs.c.kind == "event.played")).fetchall()
        erased = args.jobs - len(left)
        print(f"privacy deletions: {len(contacts)} contacts, {erased} event jobs erased in {elapsed:.2f} s: "
              f"{elapsed * 1000 / max(len(contacts), 1):.2f} ms per contact with {args.jobs:,} event jobs")
        assert erased == len(contacts), (erased, len(contacts))
        app.extensions["catalog"].dispose()


if __name__ == "__main__":
    main()
