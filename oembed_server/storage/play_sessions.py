"""Play sessions: one row per session, the intake's write path into the outbox, and the
closing of sessions whose attention data is complete.

Each accepted report is committed here in one transaction with its outbox job
(``storage.job_queue.enqueue``): played and quartile reports become jobs at once (deduplicated
per session, so a replayed body is stored once); attention reports update the session's
one row in place and become a single attention job when the player says the session
ended, or when the worker finds it idle (``close_due_sessions``). The same rows feed the
insights pages. Refuses a session id reused for another media item and sessions past
their report limit; on the hot path every statement goes through an index.
"""
from __future__ import annotations

import dataclasses
import json
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from oembed_server.domain.attention_spans import merge_spans, percent_played, played_any, seconds_played
from oembed_server.domain.event_record import ATTENTION, PLAYED, QUARTILE, EventRecord
from oembed_server.domain.player_report import PlayerReport
from oembed_server.domain.session_binding import duration_problem, max_seconds_played, same_writer
from oembed_server.storage.compiled_sql import CompiledStatement
from oembed_server.storage.dialect_insert import dialect_insert
from oembed_server.storage.job_queue import enqueue
from oembed_server.storage.schema import media_items, play_sessions

# Reports one session may make: a played event, five quartiles and an attention update
# every 15 s for more than three hours of playback.
DEFAULT_SESSION_REPORT_LIMIT = 1000
# close_due_sessions works in batches so one call never holds thousands of row locks.
_CLOSE_BATCH = 500



class SessionRefused(Exception):
    """A report the session cannot take; ``status`` is the HTTP answer, ``field`` what to name."""

    def __init__(self, status: int, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.status, self.field, self.message = status, field, message


@dataclasses.dataclass(frozen=True)
class Accepted:
    queued: bool       # a new outbox job was committed
    duplicate: bool    # the same report was already stored (a replay)
    closed: bool = False


_VISITOR_COLUMNS = ("contact_utk", "page_id", "page_name", "page_url", "hsenc", "external_play_context",
                    "contact_id")


def _build_session_upsert(dialect_name: str):
    """Insert the session or count one more report on it, returning what the report needs."""
    statement = dialect_insert(play_sessions, dialect_name)
    c = play_sessions.c
    now = sa.bindparam("now", type_=sa.Float)
    statement = statement.values(
        session_id=sa.bindparam("session_id"), external_id=sa.bindparam("external_id"),
        media_type=sa.bindparam("media_type"), portal_id=sa.bindparam("portal_id", type_=sa.BigInteger),
        reports=1, first_seen_at=now, last_seen_at=now, writer_digest=sa.bindparam("writer_digest"),
        **{name: sa.bindparam(name, type_=getattr(c, name).type) for name in _VISITOR_COLUMNS})
    return statement.on_conflict_do_update(
        index_elements=["session_id"],
        set_={"reports": c.reports + 1, "last_seen_at": statement.excluded.last_seen_at,
              **{name: sa.func.coalesce(getattr(c, name), getattr(statement.excluded, name))
                 for name in _VISITOR_COLUMNS}},
    ).returning(c.id, c.external_id, c.reports, c.closed_at, c.spans, c.state, c.portal_id, c.writer_digest,
                c.first_seen_at)


# Every statement a report runs, compiled once per dialect: on this path building and
# caching a statement again per call cost more than running it (scripts/bench_events.py).
_c = play_sessions.c
_UPSERT_SESSION = CompiledStatement(_build_session_upsert)
_SET_STARTED = CompiledStatement(
    play_sessions.update().where(_c.id == sa.bindparam("b_id")).values(
        state=sa.bindparam("b_state"), started_at_ms=sa.bindparam("b_started_at_ms", type_=sa.BigInteger),
        started_day=sa.bindparam("b_started_day")))
_SET_ATTENTION = CompiledStatement(
    play_sessions.update().where(_c.id == sa.bindparam("b_id")).values(
        spans=sa.bindparam("b_spans"), span_seconds=sa.bindparam("b_span_seconds", type_=sa.Float),
        duration_seconds=sa.bindparam("b_duration_seconds", type_=sa.Float),
        percent_played=sa.bindparam("b_percent_played", type_=sa.Float),
        attention_at_ms=sa.bindparam("b_attention_at_ms", type_=sa.BigInteger),
        # None until the player's final report: the row is still open when this runs.
        closed_at=sa.bindparam("b_closed_at", type_=sa.Float)))
_SESSION_BY_ID = CompiledStatement(sa.select(play_sessions).where(_c.id == sa.bindparam("b_id")))
_MEDIA_DURATION = CompiledStatement(
    sa.select(media_items.c.duration_ms).where(media_items.c.external_id == sa.bindparam("b_external_id")))


def record_report(conn: Connection, report: PlayerReport, *, writer: str, now: float | None = None,
                  report_limit: int = DEFAULT_SESSION_REPORT_LIMIT) -> Accepted:
    """Store one checked report inside the caller's transaction (commit, then answer 202).
    ``writer`` is the digest of the report's token and session secret
    (``session_binding.writer_digest``): the first report of a session records it, every
    later one must match it.

    Raises SessionRefused; the caller rolls back, so a refused report leaves no trace.
    """
    now = time.time() if now is None else now
    record = report.record
    params = dict(session_id=record.session_id, external_id=record.external_id, media_type=record.media_type,
                  portal_id=record.portal_id, now=now, writer_digest=writer,
                  **{name: getattr(record, name) for name in _VISITOR_COLUMNS})
    # The upsert is the first statement, so on SQLite the transaction takes the write lock
    # at once (waiting on busy_timeout) instead of failing to upgrade a read later.
    row = _UPSERT_SESSION.execute(conn, params)[0]
    if row["external_id"] != record.external_id:
        raise SessionRefused(409, "sessionId", "belongs to a play session of another media item")
    if row["portal_id"] != record.portal_id:
        raise SessionRefused(409, "portalId", "is not the portal of this play session")
    if not same_writer(row["writer_digest"], writer):
        raise SessionRefused(409, "sessionSecret", "does not match the player that opened this play session")
    if row["reports"] > report_limit:
        raise SessionRefused(429, "sessionId", f"this play session has made its {report_limit} reports")

    if record.kind == PLAYED:
        queued = _enqueue_record(conn, record, f"{record.session_id}:played", now)
        if row["state"] is None:
            _SET_STARTED.execute(conn, {"b_id": row["id"], "b_state": record.state,
                                        "b_started_at_ms": record.occurred_at_ms,
                                        "b_started_day": _utc_day(record.occurred_at_ms)})
        return Accepted(queued=queued, duplicate=not queued)
    if record.kind == QUARTILE:
        queued = _enqueue_record(conn, record, f"{record.session_id}:q{record.played_percent}", now)
        return Accepted(queued=queued, duplicate=not queued)
    return _update_attention(conn, row, report, now)


def _update_attention(conn: Connection, row, report: PlayerReport, now: float) -> Accepted:
    record = report.record
    if row["closed_at"] is not None:
        # Its attention event is already in the outbox; a late beacon cannot change it.
        return Accepted(queued=False, duplicate=True, closed=True)
    assert record.spans is not None and record.duration_seconds is not None  # as record_problem requires
    known_ms = _MEDIA_DURATION.execute(conn, {"b_external_id": record.external_id})
    if problem := duration_problem(record.duration_seconds, known_ms[0]["duration_ms"] if known_ms else None):
        raise SessionRefused(400, "durationSeconds", problem)
    stored = json.loads(row["spans"]) if row["spans"] else None
    spans = merge_spans(stored, record.spans)
    assert record.span_seconds is not None
    claimed = seconds_played(spans, record.span_seconds, record.duration_seconds)
    allowed = max_seconds_played(now - row["first_seen_at"], record.duration_seconds)
    if claimed > allowed:
        raise SessionRefused(400, "spans", f"count {claimed:g} s of playback; a session of this media that began "
                                           f"{now - row['first_seen_at']:.0f} s ago can have at most {allowed:g} s")
    changed = spans != stored
    _SET_ATTENTION.execute(conn, {
        "b_id": row["id"], "b_spans": json.dumps(spans, separators=(",", ":")),
        "b_span_seconds": record.span_seconds, "b_duration_seconds": record.duration_seconds,
        "b_percent_played": percent_played(spans), "b_attention_at_ms": record.occurred_at_ms,
        "b_closed_at": now if report.final else None})
    if not report.final:
        return Accepted(queued=False, duplicate=not changed)
    queued = False
    if played_any(spans):
        session = _SESSION_BY_ID.execute(conn, {"b_id": row["id"]})[0]
        queued = _enqueue_record(conn, _attention_record(session), f"{record.session_id}:attention", now)
    return Accepted(queued=queued, duplicate=False, closed=True)


def close_due_sessions(conn: Connection, now: float, idle_seconds: float) -> int:
    """Close every open session idle for ``idle_seconds``: each that played something
    becomes one attention job. Runs in the caller's transaction; returns how many
    sessions it closed. Safe with several workers (rows are claimed with SKIP LOCKED on
    PostgreSQL, and the job's dedupe key makes a second close a no-op)."""
    c = play_sessions.c
    closed = 0
    while True:
        query = (sa.select(play_sessions)
                 .where(c.closed_at.is_(None), c.last_seen_at <= now - idle_seconds)
                 .order_by(c.closed_at, c.last_seen_at).limit(_CLOSE_BATCH))
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = conn.execute(query).mappings().all()
        if not rows:
            return closed
        for session in rows:
            if session["spans"] and played_any(json.loads(session["spans"])):
                _enqueue_record(conn, _attention_record(session), f"{session['session_id']}:attention", now)
        result = conn.execute(play_sessions.update()
                              .where(c.id.in_([r["id"] for r in rows]), c.closed_at.is_(None))
                              .values(closed_at=now))
        closed += result.rowcount
        if len(rows) < _CLOSE_BATCH:
            return closed


def prune_play_sessions(conn: Connection, closed_before: float) -> int:
    """Delete sessions closed before ``closed_before`` (epoch seconds): the retention rule
    for what insights keep about visitors. Returns how many rows went."""
    result = conn.execute(play_sessions.delete().where(play_sessions.c.closed_at < closed_before))
    return result.rowcount


def _enqueue_record(conn: Connection, record: EventRecord, dedupe_key: str, now: float) -> bool:
    return enqueue(conn, record.job_kind, record.to_payload(), portal_id=record.portal_id,
                   priority=record.job_priority, dedupe_key=dedupe_key, now=now)


def _attention_record(session) -> EventRecord:
    return EventRecord(
        kind=ATTENTION, external_id=session["external_id"], media_type=session["media_type"],
        session_id=session["session_id"], occurred_at_ms=session["attention_at_ms"],
        portal_id=session["portal_id"],
        **{name: session[name] for name in _VISITOR_COLUMNS},
        spans=tuple(json.loads(session["spans"])), span_seconds=session["span_seconds"],
        duration_seconds=session["duration_seconds"],
    )


def _utc_day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")


# --- reads for the insights pages ----------------------------------------------------
# Attention charts sum at most this many of an item's newest sessions: a page, not a report.
ATTENTION_CHART_SESSIONS = 5000


def get_session(conn: Connection, session_id: str) -> dict | None:
    row = conn.execute(sa.select(play_sessions).where(play_sessions.c.session_id == session_id)).mappings().first()
    return dict(row) if row else None


def media_summary(conn: Connection, external_id: str) -> dict:
    """Plays (sessions with a played report), distinct visitor tokens among them, and the
    average percent played of those with attention data."""
    c = play_sessions.c
    row = conn.execute(
        sa.select(sa.func.count().label("plays"),
                  sa.func.count(sa.distinct(c.contact_utk)).label("unique_contacts"),
                  sa.func.avg(c.percent_played).label("average_percent"))
        .where(c.external_id == external_id, c.started_day.is_not(None))
    ).mappings().one()
    return dict(row)


def plays_per_day(conn: Connection, external_id: str, since_day: str) -> dict[str, int]:
    c = play_sessions.c
    rows = conn.execute(sa.select(c.started_day, sa.func.count())
                        .where(c.external_id == external_id, c.started_day >= since_day)
                        .group_by(c.started_day))
    return {day: count for day, count in rows}


def attention_rows(conn: Connection, external_id: str, limit: int = ATTENTION_CHART_SESSIONS) -> list[dict]:
    c = play_sessions.c
    rows = conn.execute(sa.select(c.spans, c.span_seconds, c.duration_seconds)
                        .where(c.external_id == external_id, c.spans.is_not(None))
                        .order_by(c.id.desc()).limit(limit)).mappings()
    return [dict(r) for r in rows]


def recent_sessions(conn: Connection, external_id: str, limit: int = 20) -> list[dict]:
    c = play_sessions.c
    rows = conn.execute(sa.select(c.session_id, c.started_at_ms, c.percent_played, c.page_name, c.page_url)
                        .where(c.external_id == external_id, c.started_day.is_not(None))
                        .order_by(c.id.desc()).limit(limit)).mappings()
    return [dict(r) for r in rows]
