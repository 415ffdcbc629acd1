"""The durable job queue: a table of work for the worker, on the catalog's database.

A job is a kind, an optional portal, a JSON payload, a priority, attempts, a next attempt
time and a state. Committing a job is the promise that the work will be done at least
once; nothing else holds work in memory. Refuses unknown states and non-JSON payloads.

Workers claim due jobs under a lease: on PostgreSQL the claim skips rows another worker is
claiming (``FOR UPDATE SKIP LOCKED``) and rows under a live lease, so several workers never
hold the same job; a worker killed mid-batch leaves leases that expire and are claimed
again. Every state change after a claim names the claiming worker and is refused (a no-op)
once the lease has passed to another. On SQLite the claim is one atomic UPDATE, but the
project runs a single worker there.
"""
from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from oembed_server.storage.compiled_sql import CompiledStatement, DBAPIHandle
from oembed_server.storage.dialect_insert import dialect_insert
from oembed_server.storage.schema import DEAD, DONE, HELD, JOB_IS_DONE, JOB_STATES, QUEUED, SHED, jobs

STATES = JOB_STATES



def enqueue(
    conn: DBAPIHandle,
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
    values = enqueue_values(kind, payload, portal_id=portal_id, priority=priority, dedupe_key=dedupe_key,
                            run_at=run_at, now=now)
    # RETURNING, not rowcount: drivers disagree on rowcount for an insert that returns a key.
    return bool(_ENQUEUE.execute(conn, values))


def enqueue_values(kind: str, payload: Mapping[str, Any], *, portal_id: int | None = None, priority: int = 100,
                   dedupe_key: str | None = None, run_at: float | None = None,
                   now: float | None = None) -> dict[str, Any]:
    """The bound values of one job, for ``enqueue`` and for ``enqueue_for_each_row``'s statement."""
    now = time.time() if now is None else now
    return dict(
        b_kind=kind,
        b_portal_id=portal_id,
        b_priority=priority,
        b_payload=json.dumps(payload, separators=(",", ":"), sort_keys=True),
        b_next_attempt_at=now if run_at is None else run_at,
        b_now=now,
        b_dedupe_key=dedupe_key,
    )


def _job_columns() -> dict[str, Any]:
    # Typed as their columns: in a SELECT list (enqueue_for_each_row) no column says what a
    # parameter is.
    c = jobs.c
    now = sa.bindparam("b_now", type_=c.created_at.type)
    return dict(
        kind=sa.bindparam("b_kind", type_=c.kind.type), portal_id=sa.bindparam("b_portal_id", type_=c.portal_id.type),
        priority=sa.bindparam("b_priority", type_=c.priority.type),
        payload=sa.bindparam("b_payload", type_=c.payload.type),
        state=sa.literal(QUEUED, type_=c.state.type), attempts=sa.literal(0, type_=c.attempts.type),
        next_attempt_at=sa.bindparam("b_next_attempt_at", type_=c.next_attempt_at.type),
        created_at=now, updated_at=now, dedupe_key=sa.bindparam("b_dedupe_key", type_=c.dedupe_key.type))


def _build_enqueue(dialect_name: str):
    # ON CONFLICT DO NOTHING keeps a replay from aborting the caller's transaction; a NULL
    # dedupe key never conflicts.
    statement = dialect_insert(jobs, dialect_name).values(**_job_columns())
    return statement.on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(jobs.c.id)


def enqueue_for_each_row(rows: sa.FromClause) -> sa.Insert:
    """PostgreSQL: an INSERT of the job ``enqueue_values`` describes once for each row of
    ``rows`` (none, or one), deduplicated as ``enqueue`` is, returning the id of a job
    added. As a common table expression beside the statement that yields ``rows``, the
    job is committed with that statement's write, or not at all."""
    columns = _job_columns()
    pick = sa.select(*columns.values()).select_from(rows)
    statement = dialect_insert(jobs, "postgresql").from_select(list(columns), pick)
    return statement.on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(jobs.c.id)


# Compiled once per dialect: the intake enqueues on every report (scripts/bench_events.py).
_ENQUEUE = CompiledStatement(_build_enqueue)


@dataclasses.dataclass(frozen=True)
class Job:
    id: int
    kind: str
    portal_id: int | None
    priority: int
    payload: dict[str, Any]
    attempts: int
    created_at: float
    lease_until: float


def _due(now: float):
    return sa.and_(jobs.c.state == QUEUED, jobs.c.next_attempt_at <= now,
                   sa.or_(jobs.c.lease_until.is_(None), jobs.c.lease_until < now))


def claim(conn: Connection, owner: str, *, limit: int, lease_s: float, now: float | None = None,
          skip_portals: Iterable[int | None] = ()) -> list[Job]:
    """Lease up to ``limit`` due jobs to ``owner``, in priority order, and return them. The
    caller commits before doing the work, so the lease outlives this transaction.
    ``skip_portals``: portals the caller is pausing (after a 429 or 5xx there)."""
    now = time.time() if now is None else now
    lease_until = now + lease_s
    conditions = [_due(now)]
    skip = set(skip_portals)
    if None in skip:
        conditions.append(jobs.c.portal_id.is_not(None))
    if skip - {None}:
        conditions.append(sa.or_(jobs.c.portal_id.is_(None), jobs.c.portal_id.not_in(sorted(skip - {None}))))
    pick = (sa.select(jobs.c.id).where(*conditions)
            .order_by(jobs.c.priority, jobs.c.next_attempt_at, jobs.c.id).limit(limit)
            # PostgreSQL: rows another worker is claiming right now are passed over, not
            # waited for. SQLite renders no FOR UPDATE; its single writer serialises claims.
            .with_for_update(skip_locked=True))
    statement = (jobs.update().where(jobs.c.id.in_(pick.scalar_subquery()))
                 .values(lease_owner=owner, lease_until=lease_until, updated_at=now)
                 .returning(jobs.c.id, jobs.c.kind, jobs.c.portal_id, jobs.c.priority, jobs.c.payload,
                            jobs.c.attempts, jobs.c.created_at, jobs.c.next_attempt_at))
    rows = conn.execute(statement).mappings().all()
    # RETURNING comes back in no particular order.
    rows = sorted(rows, key=lambda r: (r["priority"], r["next_attempt_at"], r["id"]))
    return [Job(r["id"], r["kind"], r["portal_id"], r["priority"], json.loads(r["payload"]), r["attempts"],
                r["created_at"], lease_until) for r in rows]


def any_due(conn: Connection, now: float | None = None) -> bool:
    """Is there a job some worker could claim now?"""
    now = time.time() if now is None else now
    return conn.execute(sa.select(jobs.c.id).where(_due(now)).limit(1)).first() is not None


def next_due_at(conn: Connection) -> float | None:
    """When the earliest queued job (waiting for a retry or for a lost worker's lease to run
    out) can next be claimed; None when nothing is queued."""
    ready = sa.case((jobs.c.lease_until > jobs.c.next_attempt_at, jobs.c.lease_until), else_=jobs.c.next_attempt_at)
    return conn.execute(sa.select(sa.func.min(ready)).where(jobs.c.state == QUEUED)).scalar()


def _mine(job_id: int | sa.BindParameter[Any], owner: str | sa.BindParameter[Any]) -> sa.ColumnElement[bool]:
    """The job, while still queued and leased to ``owner``; values, or bind parameters for a
    statement built once (_COMPLETE)."""
    return sa.and_(jobs.c.id == job_id, jobs.c.lease_owner == owner, jobs.c.state == QUEUED)


# Built once: completing is the one statement run per job sent.
_COMPLETE = (jobs.update().where(_mine(sa.bindparam("b_id"), sa.bindparam("b_owner")))
             .values(state=DONE, lease_owner=None, lease_until=None, updated_at=sa.bindparam("b_now"),
                     last_error=None))


def complete(conn: Connection, job: Job, owner: str, now: float | None = None) -> bool:
    """The work is done. False when the lease had already passed to another worker."""
    now = time.time() if now is None else now
    return conn.execute(_COMPLETE, {"b_id": job.id, "b_owner": owner, "b_now": now}).rowcount == 1


def retry(conn: Connection, job: Job, owner: str, delay_s: float, error: str, now: float | None = None) -> bool:
    """A failure that time may fix: count the attempt and run again after ``delay_s``."""
    now = time.time() if now is None else now
    return conn.execute(jobs.update().where(_mine(job.id, owner)).values(
        attempts=jobs.c.attempts + 1, next_attempt_at=now + max(delay_s, 0.0), lease_owner=None,
        lease_until=None, updated_at=now, last_error=error[:2000])).rowcount == 1


def bury(conn: Connection, job: Job, owner: str, error: str, now: float | None = None) -> bool:
    """A failure retrying cannot fix: park the job as dead with the reason, until requeued."""
    now = time.time() if now is None else now
    return conn.execute(jobs.update().where(_mine(job.id, owner)).values(
        state=DEAD, attempts=jobs.c.attempts + 1, lease_owner=None, lease_until=None, updated_at=now,
        last_error=error[:2000])).rowcount == 1


def drop(conn: Connection, job: Job, owner: str) -> bool:
    """Work that must not be done: the job is deleted, payload and all (never sent)."""
    return conn.execute(jobs.delete().where(_mine(job.id, owner))).rowcount == 1


def renew_leases(conn: Connection, owner: str, lease_s: float, now: float | None = None) -> int:
    """Extend every lease ``owner`` holds: a live worker keeps its jobs however long HubSpot
    makes it wait; a dead one stops renewing and its jobs are claimed again."""
    now = time.time() if now is None else now
    return conn.execute(jobs.update().where(jobs.c.lease_owner == owner, jobs.c.state == QUEUED)
                        .values(lease_until=now + lease_s)).rowcount


def replace_payload(conn: Connection, job_id: int, payload: Mapping[str, Any]) -> bool:
    """Overwrite a job's payload (a handler forgetting what it no longer needs to keep)."""
    return conn.execute(jobs.update().where(jobs.c.id == job_id).values(
        payload=json.dumps(payload, separators=(",", ":"), sort_keys=True))).rowcount == 1


def leased_ids(conn: Connection, job_ids: Iterable[int], owner: str) -> set[int]:
    """Which of ``job_ids`` are still queued under ``owner``'s lease (not erased, not lost)."""
    ids = list(job_ids)
    return set(conn.execute(sa.select(jobs.c.id).where(jobs.c.id.in_(ids), jobs.c.lease_owner == owner,
                                                       jobs.c.state == QUEUED)).scalars()) if ids else set()


def release(conn: Connection, job_ids: Iterable[int], owner: str, now: float | None = None) -> int:
    """Give back claimed jobs that were not attempted (the batch stopped early)."""
    ids = list(job_ids)
    if not ids:
        return 0
    now = time.time() if now is None else now
    return conn.execute(jobs.update().where(jobs.c.id.in_(ids), jobs.c.lease_owner == owner,
                                            jobs.c.state == QUEUED)
                        .values(lease_owner=None, lease_until=None, updated_at=now)).rowcount


def release_owned(conn: Connection, owner: str, now: float | None = None) -> int:
    """Give back every job ``owner`` still holds (a worker stopping: none stays leased)."""
    now = time.time() if now is None else now
    return conn.execute(jobs.update().where(jobs.c.lease_owner == owner, jobs.c.state == QUEUED)
                        .values(lease_owner=None, lease_until=None, updated_at=now)).rowcount


def leased_count(conn: Connection) -> int:
    """Jobs some worker holds right now."""
    return int(conn.execute(sa.select(sa.func.count()).where(jobs.c.lease_owner.is_not(None))).scalar_one())


def _portal_is(portal_id: int | None):
    return jobs.c.portal_id.is_(None) if portal_id is None else jobs.c.portal_id == portal_id


def hold_portal(conn: Connection, portal_id: int | None, reason: str, now: float | None = None) -> int:
    """Park every queued job of a portal that cannot be served (no token): kept and counted,
    not attempted, until ``release_portal``. Jobs leased by a live worker are left to it."""
    now = time.time() if now is None else now
    return conn.execute(jobs.update().where(
        _portal_is(portal_id), jobs.c.state == QUEUED,
        sa.or_(jobs.c.lease_until.is_(None), jobs.c.lease_until < now))
        .values(state=HELD, lease_owner=None, lease_until=None, updated_at=now, last_error=reason[:2000])
    ).rowcount


def hold(conn: Connection, job: Job, owner: str, reason: str, now: float | None = None) -> bool:
    """Park one claimed job with its portal's other held work."""
    now = time.time() if now is None else now
    return conn.execute(jobs.update().where(_mine(job.id, owner)).values(
        state=HELD, lease_owner=None, lease_until=None, updated_at=now, last_error=reason[:2000])).rowcount == 1


def held_portals(conn: Connection) -> list[int | None]:
    """Portals with held jobs (None: jobs meant for the configured portal)."""
    return list(conn.execute(sa.select(jobs.c.portal_id).where(jobs.c.state == HELD).distinct()).scalars())


def release_portal(conn: Connection, portal_id: int | None, now: float | None = None) -> int:
    """The portal can be served again: its held jobs become due now."""
    now = time.time() if now is None else now
    return conn.execute(jobs.update().where(_portal_is(portal_id), jobs.c.state == HELD)
                        .values(state=QUEUED, next_attempt_at=now, updated_at=now)).rowcount


def requeue_dead(conn: Connection, *, portal_id: int | None = None, kind: str | None = None,
                 now: float | None = None, job_id: int | None = None) -> int:
    """Dead jobs (all, or one portal's, or one kind's) become due again, attempts reset;
    the last error stays until the next attempt replaces it."""
    now = time.time() if now is None else now
    conditions = [jobs.c.state == DEAD]
    if portal_id is not None:
        conditions.append(jobs.c.portal_id == portal_id)
    if kind is not None:
        conditions.append(jobs.c.kind == kind)
    if job_id is not None:
        conditions.append(jobs.c.id == job_id)
    return conn.execute(jobs.update().where(*conditions).values(
        state=QUEUED, attempts=0, next_attempt_at=now, updated_at=now)).rowcount


@dataclasses.dataclass(frozen=True)
class StatusRow:
    portal_id: int | None
    kind: str
    backlog: int   # queued: due now or waiting for a retry
    held: int
    sent: int      # done and not yet pruned
    retried: int   # jobs that needed more than one attempt (done or still queued)
    dead: int
    shed: int = 0  # dropped from a backlog too long for the portal's budget (not yet pruned)


def status(conn: Connection) -> list[StatusRow]:
    """Counts per portal and kind, for ``oembed-server worker --status``."""
    def count_state(state: str):
        return sa.func.sum(sa.case((jobs.c.state == state, 1), else_=0))

    query = (sa.select(jobs.c.portal_id, jobs.c.kind, count_state(QUEUED), count_state(HELD), count_state(DONE),
                       sa.func.sum(sa.case((sa.and_(jobs.c.attempts > 0, jobs.c.state.in_((QUEUED, DONE))), 1),
                                           else_=0)),
                       count_state(DEAD), count_state(SHED))
             .group_by(jobs.c.portal_id, jobs.c.kind))
    rows = [StatusRow(r[0], r[1], *(int(v or 0) for v in r[2:])) for r in conn.execute(query)]
    return sorted(rows, key=lambda r: (r.portal_id is not None, r.portal_id or 0, r.kind))


def dead_jobs(conn: Connection, limit: int = 20) -> list[dict[str, Any]]:
    """The most recent dead jobs with their reasons."""
    query = (sa.select(jobs.c.id, jobs.c.kind, jobs.c.portal_id, jobs.c.attempts, jobs.c.last_error,
                       jobs.c.updated_at).where(jobs.c.state == DEAD)
             .order_by(jobs.c.updated_at.desc()).limit(limit))
    return [dict(r) for r in conn.execute(query).mappings()]


def prune_done(conn: Connection, older_than: float, batch: int = 5000) -> int:
    """Delete up to ``batch`` delivered jobs finished before ``older_than`` (epoch seconds).
    Batches keep each delete's locks short while the intake inserts; call until 0."""
    # The literal state (not a bound parameter) lets the planner prove the partial index applies.
    pick = sa.select(jobs.c.id).where(JOB_IS_DONE, jobs.c.updated_at < older_than).limit(batch)
    return conn.execute(jobs.delete().where(jobs.c.id.in_(pick.scalar_subquery()))).rowcount


EVENT_JOB_KINDS = ("event.played", "event.quartile", "event.attention")


def event_backlogs(conn: Connection, sheddable_priority: int) -> dict[int | None, tuple[int, int]]:
    """Per portal: (queued event jobs, of which at ``sheddable_priority``). Walks the
    portal/state/kind index, never the delivered rows."""
    query = (sa.select(jobs.c.portal_id, sa.func.count(),
                       sa.func.sum(sa.case((jobs.c.priority == sheddable_priority, 1), else_=0)))
             .where(jobs.c.state == QUEUED, jobs.c.kind.in_(EVENT_JOB_KINDS))
             .group_by(jobs.c.portal_id))
    return {r[0]: (int(r[1]), int(r[2] or 0)) for r in conn.execute(query)}


def shed(conn: Connection, portal_id: int | None, priority: int, count: int, now: float | None = None) -> int:
    """Mark up to ``count`` of a portal's queued jobs at ``priority`` as shed: the newest
    first (the ones the budget would reach last). Jobs under a live lease are left to their
    worker."""
    if count <= 0:
        return 0
    now = time.time() if now is None else now
    pick = (sa.select(jobs.c.id)
            .where(_portal_is(portal_id), jobs.c.state == QUEUED, jobs.c.priority == priority,
                   sa.or_(jobs.c.lease_until.is_(None), jobs.c.lease_until < now))
            .order_by(jobs.c.next_attempt_at.desc(), jobs.c.id.desc()).limit(count))
    return conn.execute(jobs.update().where(jobs.c.id.in_(pick.scalar_subquery()), jobs.c.state == QUEUED)
                        .values(state=SHED, lease_owner=None, lease_until=None, updated_at=now,
                                last_error="shed: the portal's backlog exceeded OEMBED_EVENTS_MAX_BACKLOG_HOURS")
                        ).rowcount


def prune_shed(conn: Connection, older_than: float, batch: int = 5000) -> int:
    """Delete up to ``batch`` shed jobs shed before ``older_than``; call until 0."""
    pick = sa.select(jobs.c.id).where(jobs.c.state == SHED, jobs.c.updated_at < older_than).limit(batch)
    return conn.execute(jobs.delete().where(jobs.c.id.in_(pick.scalar_subquery()))).rowcount


def prune_kept_events(conn: Connection, kinds: Iterable[str], older_than: float, batch: int = 5000) -> int:
    """Delete up to ``batch`` held or dead jobs of these (engagement event) kinds made before
    ``older_than``: their payloads hold visitor data (utk, page), which the retention period
    bounds whether or not the portal ever installs. Call until 0."""
    pick = (sa.select(jobs.c.id).where(jobs.c.state.in_((HELD, DEAD)), jobs.c.kind.in_(sorted(set(kinds))),
                                       jobs.c.created_at < older_than).limit(batch))
    return conn.execute(jobs.delete().where(jobs.c.id.in_(pick.scalar_subquery()))).rowcount
