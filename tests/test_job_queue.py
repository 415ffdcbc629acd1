"""The queue's one promise the intake relies on: enqueue commits work once per dedupe key."""
from __future__ import annotations

import json

import sqlalchemy as sa

from oembed_server.catalog_store import CatalogStore
from oembed_server.jobs import queue


def test_enqueue_stores_a_due_job_and_refuses_a_duplicate_key(database_url):
    store = CatalogStore.from_url(database_url)
    store.create_schema()
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
