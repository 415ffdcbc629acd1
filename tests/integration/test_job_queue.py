"""The job queue: enqueue commits work once per dedupe key; claims, leases, retries, dead
letters, held portals, status counts and pruning, on SQLite and PostgreSQL."""
from __future__ import annotations

import json

import sqlalchemy as sa

from oembed_server.storage import job_queue as queue
from oembed_server.storage import schema_version
from oembed_server.storage.catalog_store import CatalogStore


def test_enqueue_stores_a_due_job_and_refuses_a_duplicate_key(database_url):
    store = CatalogStore.from_url(database_url)
    schema_version.upgrade(store.engine)
    with store.engine.begin() as conn:
        assert queue.enqueue(conn, "event.played", {"a": 1}, portal_id=7, priority=10, dedupe_key="k1", now=100.0)
        assert not queue.enqueue(conn, "event.played", {"a": 2}, portal_id=7, dedupe_key="k1", now=101.0)
        assert queue.enqueue(conn, "event.quartile", {"b": 1}, now=102.0)
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(queue.jobs).order_by(queue.jobs.c.id)).mappings().all()
    assert [(r["kind"], r["portal_id"], r["state"], r["next_attempt_at"]) for r in rows] == [
        ("event.played", 7, queue.QUEUED, 100.0),
        ("event.quartile", None, queue.QUEUED, 102.0),
    ]
    assert json.loads(rows[0]["payload"]) == {"a": 1}
    store.dispose()



def _store(database_url):
    store = CatalogStore.from_url(database_url)
    schema_version.upgrade(store.engine)
    return store


def _states(conn):
    rows = conn.execute(sa.select(queue.jobs.c.id, queue.jobs.c.state).order_by(queue.jobs.c.id)).all()
    return [state for _, state in rows]


def test_claims_follow_priority_lease_and_ownership(database_url):
    store = _store(database_url)
    with store.engine.begin() as conn:
        queue.enqueue(conn, "event.quartile", {"n": 1}, priority=30, now=100.0)
        queue.enqueue(conn, "event.played", {"n": 2}, priority=10, now=101.0)
        queue.enqueue(conn, "event.attention", {"n": 3}, priority=20, now=102.0)
        queue.enqueue(conn, "event.played", {"n": 4}, priority=10, run_at=500.0, now=103.0)  # not due yet
    with store.engine.begin() as conn:
        first = queue.claim(conn, "w1", limit=2, lease_s=60, now=200.0)
        assert [j.payload["n"] for j in first] == [2, 3]
        assert first[0].lease_until == 260.0
        # Leased jobs are invisible to another worker until the lease runs out.
        assert [j.payload["n"] for j in queue.claim(conn, "w2", limit=5, lease_s=60, now=210.0)] == [1]
        again = queue.claim(conn, "w2", limit=5, lease_s=60, now=261.0)  # w1 died: its leases expired
        assert [j.payload["n"] for j in again] == [2, 3]
        # w1 comes back too late: its lease passed to w2, so it can no longer settle the job.
        assert not queue.complete(conn, first[0], "w1", now=262.0)
        assert not queue.retry(conn, first[1], "w1", 1, "late", now=262.0)
        assert queue.complete(conn, again[0], "w2", now=262.0)
        assert queue.retry(conn, again[1], "w2", 30, "HubSpot 503", now=262.0)
        # Job 1 (w2's lease ran out at 270) is due again; job 3 waits for its retry at 292.
        assert [j.payload["n"] for j in queue.claim(conn, "w3", limit=5, lease_s=60, now=280.0)] == [1]
        retried = queue.claim(conn, "w3", limit=5, lease_s=60, now=293.0)
        assert [(j.payload["n"], j.attempts) for j in retried] == [(3, 1)]
        assert queue.release(conn, [j.id for j in retried], "w3", now=294.0) == 1
        assert [j.payload["n"] for j in queue.claim(conn, "w4", limit=5, lease_s=60, now=295.0)] == [3]
        assert _states(conn) == ["queued", "done", "queued", "queued"]
    store.dispose()


def test_dead_letters_requeue_and_held_portals(database_url):
    store = _store(database_url)
    with store.engine.begin() as conn:
        for portal in (1, 2, None):
            queue.enqueue(conn, "event.played", {"p": portal}, portal_id=portal, now=10.0)
        jobs = queue.claim(conn, "w", limit=3, lease_s=60, now=20.0)
        assert queue.bury(conn, jobs[0], "w", "HubSpot 400: bad (correlationId c-1)", now=21.0)
        assert queue.hold(conn, jobs[1], "w", "no token for portal 2", now=21.0)
        assert queue.release(conn, [jobs[2].id], "w", now=21.0) == 1
        assert queue.hold_portal(conn, None, "no configured portal", now=22.0) == 1
        assert sorted(queue.held_portals(conn), key=str) == [2, None]
        assert queue.claim(conn, "w", limit=5, lease_s=60, now=30.0) == []
        dead = queue.dead_jobs(conn)
        assert [(d["portal_id"], d["last_error"]) for d in dead] == [(1, "HubSpot 400: bad (correlationId c-1)")]
        assert queue.release_portal(conn, 2, now=40.0) == 1
        assert queue.requeue_dead(conn, portal_id=7) == 0
        assert queue.requeue_dead(conn, now=41.0) == 1
        assert sorted(j.payload["p"] for j in queue.claim(conn, "w", limit=5, lease_s=60, now=42.0)) == [1, 2]
    store.dispose()


def test_status_counts_and_pruning(database_url):
    store = _store(database_url)
    with store.engine.begin() as conn:
        for n in range(4):
            queue.enqueue(conn, "event.played", {"n": n}, portal_id=5, now=float(n))
        queue.enqueue(conn, "event.quartile", {"n": 9}, portal_id=None, now=5.0)
        a, b, c, d = queue.claim(conn, "w", limit=4, lease_s=60, now=10.0)
        queue.complete(conn, a, "w", now=11.0)
        queue.retry(conn, b, "w", 0, "503", now=11.0)
        queue.bury(conn, c, "w", "400", now=11.0)
        queue.release(conn, [d.id], "w", now=11.0)
        (b_again,) = [j for j in queue.claim(conn, "w", limit=5, lease_s=60, now=12.0) if j.id == b.id]
        queue.complete(conn, b_again, "w", now=1000.0)
        assert queue.status(conn) == [
            queue.StatusRow(None, "event.quartile", backlog=1, held=0, sent=0, retried=0, dead=0),
            queue.StatusRow(5, "event.played", backlog=1, held=0, sent=2, retried=1, dead=1),
        ]
        # Only delivered jobs older than the cut-off go; dead letters and backlog stay.
        assert queue.prune_done(conn, older_than=500.0) == 1
        assert queue.prune_done(conn, older_than=500.0) == 0
        assert _states(conn) == ["done", "dead", "queued", "queued"]
    store.dispose()
