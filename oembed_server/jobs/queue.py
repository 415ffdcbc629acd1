"""The durable job queue: a table of work for the worker, on the catalog's database.

A job is a kind, an optional portal, a JSON payload, a priority, attempts, a next attempt
time and a state. Committing a job is the promise that the work will be done at least
once; nothing else holds work in memory. Refuses unknown states and non-JSON payloads.
"""
from __future__ import annotations

import json
import time
from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..catalog_store import metadata

QUEUED = "queued"  # waiting for its next attempt time
DONE = "done"      # delivered; pruned after the retention period
DEAD = "dead"      # a failure retrying cannot fix; kept with the reason until requeued
HELD = "held"      # cannot run yet (for example no token for its portal); kept, counted
STATES = (QUEUED, DONE, DEAD, HELD)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL needs 64 bits at a
# million-row backlog with retention.
_ID_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", _ID_TYPE, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("portal_id", sa.BigInteger),
    # Lower runs first: within a portal's budget, played events go before attention spans
    # and quartiles so a backlog still puts every session on the timeline.
    sa.Column("priority", sa.SmallInteger, nullable=False, server_default="100"),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("state", sa.String(16), nullable=False, server_default=QUEUED),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    # Epoch seconds as floats: comparable on both engines without time zone surprises.
    sa.Column("next_attempt_at", sa.Float, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    # The same piece of work offered twice (a replayed request) is stored once.
    sa.Column("dedupe_key", sa.String(128), unique=True),
    sa.Column("last_error", sa.Text),
)

# The worker's claim query walks this index: due work in priority order, never a scan.
sa.Index("ix_jobs_due", jobs.c.state, jobs.c.priority, jobs.c.next_attempt_at)
sa.Index("ix_jobs_portal_state", jobs.c.portal_id, jobs.c.state, jobs.c.kind)


def enqueue(
    conn: Connection,
    kind: str,
    payload: Mapping[str, Any],
    *,
    portal_id: int | None = None,
    priority: int = 100,
    dedupe_key: str | None = None,
    run_at: float | None = None,
    now: float | None = None,
) -> bool:
    """Add one job inside the caller's transaction. Returns False when ``dedupe_key`` was
    already queued (the work is already promised), True when a job was added."""
    now = time.time() if now is None else now
    values = dict(
        kind=kind,
        portal_id=portal_id,
        priority=priority,
        payload=json.dumps(payload, separators=(",", ":"), sort_keys=True),
        state=QUEUED,
        attempts=0,
        next_attempt_at=now if run_at is None else run_at,
        created_at=now,
        updated_at=now,
        dedupe_key=dedupe_key,
    )
    if dedupe_key is None:
        conn.execute(jobs.insert().values(**values))
        return True
    # ON CONFLICT DO NOTHING keeps a replay from aborting the caller's transaction.
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    # RETURNING, not rowcount: drivers disagree on rowcount for an insert that returns a key.
    statement = insert(jobs).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
    return conn.execute(statement.returning(jobs.c.id)).first() is not None
