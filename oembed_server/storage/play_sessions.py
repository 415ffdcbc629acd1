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
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.elements import ColumnElement

from oembed_server.domain.attention_spans import merge_spans, percent_played, played_any, seconds_played
from oembed_server.domain.event_record import ATTENTION, PLAYED, QUARTILE, EventRecord
from oembed_server.domain.player_report import PlayerReport
from oembed_server.domain.session_binding import (
    duration_problem,
    latest_session_start,
    max_seconds_played,
    same_writer,
)
from oembed_server.storage.compiled_sql import CompiledStatement, DBAPIHandle
from oembed_server.storage.dialect_insert import dialect_insert
from oembed_server.storage.job_queue import enqueue, enqueue_for_each_row, enqueue_values
from oembed_server.storage.report_facts import FactsChanged, FactsGuard, facts_unchanged, still_holds
from oembed_server.storage.schema import media_items, play_sessions
from oembed_server.storage.write_transaction import pipelined_write, single_statement

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


# Set from the played report, once: the insert takes them, a later played report fills
# them only while the session has none (they are written together).
_STARTED_COLUMNS = ("state", "started_at_ms", "started_day")


def _build_session_upsert(dialect_name: str, *, for_attention: bool = False, guarded: bool = False):
    """Insert the session or count one more report on it, returning its id; no row when the
    session refuses the report (``_raise_refusal`` says why). ``for_attention``: the whole
    row and the media's duration in the catalog (``media_duration_ms``), what an attention
    update is checked and merged with. ``guarded`` (PostgreSQL): nothing either when the
    facts the report was admitted on changed since (``report_facts.FactsGuard``'s parameters).

    The refusal is the upsert's own condition: a session id of another item or portal, a
    writer other than the one that opened it (``session_binding``), or a session at its
    report limit is not written at all, so a refused report leaves no trace even where the
    statement is its own transaction (``store_report`` on PostgreSQL)."""
    statement = dialect_insert(play_sessions, dialect_name)
    c = play_sessions.c
    now = sa.bindparam("now", type_=sa.Float)
    values = dict(
        session_id=sa.bindparam("session_id"), external_id=sa.bindparam("external_id"),
        media_type=sa.bindparam("media_type"), portal_id=sa.bindparam("portal_id", type_=sa.BigInteger),
        reports=sa.literal(1), first_seen_at=now, last_seen_at=now, writer_digest=sa.bindparam("writer_digest"),
        **{name: sa.bindparam(name, type_=getattr(c, name).type) for name in _VISITOR_COLUMNS + _STARTED_COLUMNS})
    if guarded:
        # INSERT ... SELECT, so the facts' condition decides whether there is a row at all;
        # each value cast to its column (a bare parameter in a SELECT list would be text).
        admitted = facts_unchanged(sa.bindparam("f_external_id"), sa.bindparam("f_portal", type_=sa.BigInteger),
                                   sa.bindparam("f_fingerprint"))
        pick = sa.select(*[sa.cast(value, getattr(c, name).type).label(name) for name, value in values.items()])
        statement = statement.from_select(list(values), pick.where(admitted))
    else:
        statement = statement.values(**values)
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=["session_id"],
        set_={"reports": c.reports + 1, "last_seen_at": excluded.last_seen_at,
              **{name: sa.func.coalesce(getattr(c, name), getattr(excluded, name)) for name in _VISITOR_COLUMNS},
              **{name: sa.case((c.state.is_(None), getattr(excluded, name)), else_=getattr(c, name))
                 for name in _STARTED_COLUMNS}},
        # The digests are sha256 of a secret the writer holds: a comparison's timing tells
        # nothing about the stored one (its bytes cannot be steered). NULL (a session from
        # before the binding) equals nothing: no report may write to it.
        where=sa.and_(c.external_id == excluded.external_id, c.portal_id.is_not_distinct_from(excluded.portal_id),
                      c.writer_digest == excluded.writer_digest,
                      c.reports < sa.bindparam("report_limit", type_=sa.Integer)),
    )
    if not for_attention:
        return statement.returning(c.id)
    # By a parameter of its own: a subquery in RETURNING cannot correlate with the row.
    duration = (sa.select(media_items.c.duration_ms)
                .where(media_items.c.external_id == sa.bindparam("media_external_id", type_=c.external_id.type))
                .scalar_subquery().label("media_duration_ms"))
    return statement.returning(*c, duration)


def _build_report_with_job(*, guarded: bool):
    """PostgreSQL: the session upsert and, when the session took the report, its outbox job,
    in one statement (SQLite allows no INSERT inside WITH). One row (the session's id and
    whether a job was added) when taken, none when refused (or, ``guarded``, when the
    report's facts changed)."""
    return _with_its_job(_build_session_upsert("postgresql", guarded=guarded))


def _with_its_job(write) -> sa.Select:
    """PostgreSQL: ``write`` (RETURNING the session's id) and, when it wrote a row, the outbox
    job ``job_queue.enqueue_values`` describes, in one statement: the id and whether a job
    was added (``queued``); no row when ``write`` wrote none."""
    session = write.cte("taken")
    job = enqueue_for_each_row(session).cte("job")
    added = sa.select(sa.func.count()).select_from(job).scalar_subquery()
    return sa.select(session.c.id, added.label("queued")).select_from(session)


# Every statement a report runs, compiled once per dialect: on this path building and
# caching a statement again per call cost more than running it (scripts/bench_events.py).
_c = play_sessions.c
_UPSERT_SESSION = CompiledStatement(_build_session_upsert)
_UPSERT_ATTENTION_SESSION = CompiledStatement(lambda dialect_name: _build_session_upsert(dialect_name,
                                                                                          for_attention=True))
_GUARDED_UPSERT_SESSION = CompiledStatement(lambda dialect_name: _build_session_upsert(dialect_name, guarded=True))
_GUARDED_UPSERT_ATTENTION_SESSION = CompiledStatement(lambda dialect_name: _build_session_upsert(
    dialect_name, for_attention=True, guarded=True))
_REPORT_WITH_JOB = CompiledStatement(lambda _dialect_name: _build_report_with_job(guarded=False))
_GUARDED_REPORT_WITH_JOB = CompiledStatement(lambda _dialect_name: _build_report_with_job(guarded=True))
_SESSION_OWNER = CompiledStatement(
    sa.select(_c.external_id, _c.portal_id, _c.writer_digest, _c.reports).where(
        _c.session_id == sa.bindparam("b_session_id")))
# What an attention update writes (``_attention_change``), each as a ``b_`` parameter
# (closed_at None until the player's final report).
_ATTENTION_COLUMNS = ("spans", "span_seconds", "duration_seconds", "percent_played", "attention_at_ms", "closed_at")


def _attention_values() -> dict[str, sa.BindParameter]:
    return {name: sa.bindparam(f"b_{name}", type_=getattr(_c, name).type) for name in _ATTENTION_COLUMNS}


_SET_ATTENTION = CompiledStatement(
    play_sessions.update().where(_c.id == sa.bindparam("b_id")).values(**_attention_values()))


def _spans_extended(sent: sa.BindParameter) -> ColumnElement[bool]:
    """PostgreSQL: true when merging the ``sent`` spans (JSON text) into the session's stored
    ones gives ``sent`` and changes what is stored: none stored yet, a layout of another
    length, or every stored count at most the sent one and not all equal. What
    ``attention_spans.merge_spans`` makes of a player's cumulative update, decided here so
    the write need not read the spans first (tests hold the two to the same answers)."""
    stored, update = sa.cast(_c.spans, JSONB), sa.cast(sent, JSONB)
    # ROWS FROM pairs the two lists count by count, each parsed once (an expression per
    # count would parse a list for each of up to 100 counts); jsonb compares numbers as numbers.
    none_greater = sa.text(
        "NOT EXISTS (SELECT FROM ROWS FROM (jsonb_array_elements(CAST(play_sessions.spans AS JSONB)),"
        f" jsonb_array_elements(CAST(:{sent.key} AS JSONB))) AS paired (stored, sent)"
        " WHERE paired.stored > paired.sent)").bindparams(sent)
    return sa.case((sa.func.coalesce(_c.spans, sa.literal_column("''")) == sa.literal_column("''"), sa.true()),
                   else_=sa.and_(stored != update, sa.or_(
                       sa.func.jsonb_array_length(stored) != sa.func.jsonb_array_length(update), none_greater)))


def _build_attention_update(*, with_job: bool):
    """PostgreSQL: the attention update ``record_report``'s transaction makes of a player's
    cumulative update to its open session, as one statement that needs no read first
    (``_store_attention``). Every check that needs the session's row is a condition of the
    write: the session is open and the report's (as the upsert's refusals), it has room for
    another report, it began early enough for the playback claimed (``b_started_by``,
    ``session_binding.latest_session_start``), the sent spans extend the stored ones, and
    the item's facts, its duration among them, are those the report was admitted on.
    ``with_job``: the final update and its attention job, which is built from the report,
    so each visitor field stored must be the report's or none (the write keeps a stored one).
    No row when any condition fails."""
    visitor = {name: sa.bindparam(name, type_=getattr(_c, name).type) for name in _VISITOR_COLUMNS}
    condition = sa.and_(
        _c.session_id == sa.bindparam("session_id"), _c.closed_at.is_(None),
        _c.external_id == sa.bindparam("external_id"),
        _c.portal_id.is_not_distinct_from(sa.bindparam("portal_id", type_=sa.BigInteger)),
        _c.writer_digest == sa.bindparam("writer_digest"),
        _c.reports < sa.bindparam("report_limit", type_=sa.Integer),
        _c.first_seen_at <= sa.bindparam("b_started_by", type_=sa.Float),
        _spans_extended(sa.bindparam("b_spans_sent", type_=sa.Text)),
        facts_unchanged(sa.bindparam("f_external_id"), sa.bindparam("f_portal", type_=sa.BigInteger),
                        sa.bindparam("f_fingerprint")))
    if with_job:
        condition = sa.and_(condition, _c.media_type == sa.bindparam("media_type"),
                            *[sa.or_(_c[name].is_(None), _c[name] == value) for name, value in visitor.items()])
    statement = play_sessions.update().where(condition).values(
        reports=_c.reports + 1, last_seen_at=sa.bindparam("now", type_=sa.Float),
        **{name: sa.func.coalesce(_c[name], value) for name, value in visitor.items()},
        **_attention_values(),
    ).returning(_c.id)
    return _with_its_job(statement) if with_job else statement


_ATTENTION_UPDATES = {with_job: CompiledStatement(_build_attention_update(with_job=with_job))
                      for with_job in (False, True)}


def store_report(engine: Engine, report: PlayerReport, *, writer: str, flush_within: float = 0.0,
                 now: float | None = None, report_limit: int = DEFAULT_SESSION_REPORT_LIMIT,
                 facts: FactsGuard | None = None) -> Accepted:
    """The events intake's write: ``record_report`` committed (``flush_within`` as
    ``write_transaction`` takes it), before the caller answers 202.

    On PostgreSQL a played or quartile report is one statement run as its own transaction
    (``write_transaction.single_statement``): the session upsert and its outbox job commit
    together or not at all, as in ``record_report``'s transaction, without the BEGIN and
    COMMIT round trips (scripts/bench_events.py). So is a player's cumulative attention
    update to its open session (``_store_attention``); the rest go through the transaction.
    ``facts`` (PostgreSQL): the facts the report was admitted on, checked by the write
    itself. Raises SessionRefused, or FactsChanged when those facts are no longer the
    database's; nothing is written then.
    """
    now = time.time() if now is None else now
    record = report.record
    if engine.dialect.name == "postgresql" and record.kind in (PLAYED, QUARTILE):
        params = _session_params(report, writer, now, report_limit) | _job_params(record, now)
        statement = _REPORT_WITH_JOB
        if facts is not None:
            statement, params = _GUARDED_REPORT_WITH_JOB, params | facts.parameters()
        with single_statement(engine, flush_within=flush_within) as dbapi:
            for _ in range(_REFUSAL_READS):
                rows = statement.execute_dbapi(dbapi, engine.dialect, params)
                if rows:
                    queued = bool(rows[0]["queued"])
                    return Accepted(queued=queued, duplicate=not queued)
                _check_facts(dbapi, engine.dialect, facts)
                _raise_refusal(_SESSION_OWNER.execute_dbapi(dbapi, engine.dialect,
                                                            {"b_session_id": record.session_id}),
                               record, writer, report_limit)
        raise RuntimeError(f"play session {record.session_id!r} refused a report without a reason")
    if engine.dialect.name == "postgresql":
        accepted = _store_attention(engine, report, writer=writer, flush_within=flush_within, now=now,
                                    report_limit=report_limit, facts=facts)
        if accepted is not None:
            return accepted
    # An attention update the one statement above leaves to a transaction (a session that is
    # new, closed or refuses it, a replay, an update out of order; every one on SQLite), whose BEGIN and
    # COMMIT travel with its statements on PostgreSQL (two round trips instead of five).
    with pipelined_write(engine, flush_within=flush_within) as conn:
        return record_report(conn, report, writer=writer, now=now, report_limit=report_limit, facts=facts)


def _store_attention(engine: Engine, report: PlayerReport, *, writer: str, flush_within: float, now: float,
                     report_limit: int, facts: FactsGuard | None) -> Accepted | None:
    """PostgreSQL: a player's cumulative attention update to its open session, in one
    statement run as its own transaction (``_build_attention_update``), which writes exactly
    what the transaction would: the sent spans are the merge when they extend the stored
    ones, which the statement checks, as it checks every other condition the transaction
    would read the session for. None when it wrote nothing, or cannot be tried (no kept
    ``facts`` to check the duration by, or a duration that is not the item's): the
    transaction then decides, from the session as it is (``store_report``)."""
    record = report.record
    assert record.spans is not None and record.span_seconds is not None and record.duration_seconds is not None
    if facts is None or duration_problem(record.duration_seconds, facts.item_duration_ms):
        return None
    spans = list(record.spans)  # merge_spans(stored, spans) when they extend the stored ones
    attention, values = _attention_columns(report, spans, now)
    claimed = seconds_played(spans, record.span_seconds, record.duration_seconds)
    params = _session_params(report, writer, now, report_limit) | values | facts.parameters() | {
        "b_spans_sent": attention["spans"],
        "b_started_by": latest_session_start(claimed, record.duration_seconds, now)}
    queue_job = report.final and played_any(spans)
    if queue_job:
        # The session as the write leaves it is the report's own record: the statement takes
        # only a session whose visitor fields are the report's (or none), and spans merge to its.
        params |= _job_params(record, now)
    with single_statement(engine, flush_within=flush_within) as dbapi:
        written = _ATTENTION_UPDATES[queue_job].execute_dbapi(dbapi, engine.dialect, params)
    if not written:
        return None
    if report.final:
        return Accepted(queued=queue_job and bool(written[0]["queued"]), duplicate=False, closed=True)
    return Accepted(queued=False, duplicate=False)


def record_report(conn: DBAPIHandle, report: PlayerReport, *, writer: str, now: float | None = None,
                  report_limit: int = DEFAULT_SESSION_REPORT_LIMIT, facts: FactsGuard | None = None) -> Accepted:
    """Store one checked report inside the caller's transaction (commit, then answer 202).
    ``writer`` is the digest of the report's token and session secret
    (``session_binding.writer_digest``): the first report of a session records it, every
    later one must match it. ``facts``: as ``store_report`` takes them (PostgreSQL only).

    Raises SessionRefused or FactsChanged; the caller rolls back, so a refused report
    leaves no trace.
    """
    assert facts is None or conn.dialect.name == "postgresql", "facts are guarded on PostgreSQL only"
    now = time.time() if now is None else now
    record = report.record
    params = _session_params(report, writer, now, report_limit)
    # The upsert is the first statement, so on SQLite the transaction takes the write lock
    # at once (waiting on busy_timeout) instead of failing to upgrade a read later.
    upsert = _UPSERT_SESSION if facts is None else _GUARDED_UPSERT_SESSION
    if record.kind not in (PLAYED, QUARTILE):
        upsert = _UPSERT_ATTENTION_SESSION if facts is None else _GUARDED_UPSERT_ATTENTION_SESSION
        params["media_external_id"] = record.external_id
    if facts is not None:
        params |= facts.parameters()
    for _ in range(_REFUSAL_READS):
        rows = upsert.execute(conn, params)
        if rows:
            break
        _check_facts(conn.connection, conn.dialect, facts)
        _raise_refusal(_SESSION_OWNER.execute(conn, {"b_session_id": record.session_id}), record, writer,
                       report_limit)
    else:
        raise RuntimeError(f"play session {record.session_id!r} refused a report without a reason")
    if record.kind in (PLAYED, QUARTILE):
        queued = _enqueue_record(conn, record, now)
        return Accepted(queued=queued, duplicate=not queued)
    return _update_attention(conn, rows[0], report, now)


def _check_facts(dbapi_connection, dialect, facts: FactsGuard | None) -> None:
    """After a guarded upsert wrote nothing: FactsChanged when that was the facts' doing,
    else the play session refused (the caller reads it to say why)."""
    if facts is not None and not still_holds(dbapi_connection, dialect, facts):
        raise FactsChanged("the item's or portal's facts changed since the report was admitted")


# A session that refused a report is read to say why; when the read finds no reason (the
# session was pruned in between), the report is tried again this many times in all.
_REFUSAL_READS = 3


def _session_params(report: PlayerReport, writer: str, now: float, report_limit: int) -> dict:
    record = report.record
    played = record.kind == PLAYED
    return dict(session_id=record.session_id, external_id=record.external_id, media_type=record.media_type,
                portal_id=record.portal_id, now=now, writer_digest=writer, report_limit=report_limit,
                state=record.state if played else None,
                started_at_ms=record.occurred_at_ms if played else None,
                started_day=_utc_day(record.occurred_at_ms) if played else None,
                **{name: getattr(record, name) for name in _VISITOR_COLUMNS})


def _job_params(record: EventRecord, now: float) -> dict:
    return enqueue_values(record.job_kind, record.to_payload(), portal_id=record.portal_id,
                          priority=record.job_priority, dedupe_key=_dedupe_key(record), now=now)


def _dedupe_key(record: EventRecord) -> str:
    """A record's job key: one job per session and kind (per quartile), however often it is sent."""
    if record.kind == QUARTILE:
        return f"{record.session_id}:q{record.played_percent}"
    return f"{record.session_id}:{record.kind}"  # played, attention


def _raise_refusal(rows: list[dict], record: EventRecord, writer: str, report_limit: int) -> None:
    """Why the session (its owner row, as read after the upsert refused) will not take the
    report, raised; returns only when the row is gone or would take it now."""
    if not rows:
        return
    row = rows[0]
    if row["external_id"] != record.external_id:
        raise SessionRefused(409, "sessionId", "belongs to a play session of another media item")
    if row["portal_id"] != record.portal_id:
        raise SessionRefused(409, "portalId", "is not the portal of this play session")
    if not same_writer(row["writer_digest"], writer):
        raise SessionRefused(409, "sessionSecret", "does not match the player that opened this play session")
    if row["reports"] >= report_limit:
        raise SessionRefused(429, "sessionId", f"this play session has made its {report_limit} reports")


def _update_attention(conn: DBAPIHandle, row, report: PlayerReport, now: float) -> Accepted:
    if row["closed_at"] is not None:
        # Its attention event is already in the outbox; a late beacon cannot change it.
        return Accepted(queued=False, duplicate=True, closed=True)
    change = _attention_change(row, report, now)
    # Nothing to read back: in a pipeline the update goes out with the COMMIT or the job.
    _SET_ATTENTION.send(conn, change.values | {"b_id": row["id"]})
    if not report.final:
        return Accepted(queued=False, duplicate=not change.changed)
    queued = False
    if played_any(change.spans):
        # The row as the update leaves it (it holds the session's lock since the upsert).
        session = {**row, **change.attention}
        queued = _enqueue_record(conn, _attention_record(session), now)
    return Accepted(queued=queued, duplicate=False, closed=True)


@dataclasses.dataclass(frozen=True)
class _AttentionChange:
    spans: list[int]                 # merged with the stored ones
    attention: dict[str, object]     # the session's attention columns as the update sets them
    values: dict[str, object]        # every column it sets, as ``b_`` parameters
    changed: bool                    # the merge changed the stored spans


def _attention_change(row, report: PlayerReport, now: float) -> _AttentionChange:
    """What an attention update does to its open session (``row``: its stored spans and
    first report, and its media's duration in the catalog); raises SessionRefused for a
    duration that is not the media's or more playback than the session can have had."""
    record = report.record
    assert record.spans is not None and record.duration_seconds is not None  # as record_problem requires
    if problem := duration_problem(record.duration_seconds, row["media_duration_ms"]):
        raise SessionRefused(400, "durationSeconds", problem)
    stored = json.loads(row["spans"]) if row["spans"] else None
    spans = merge_spans(stored, record.spans)
    assert record.span_seconds is not None
    claimed = seconds_played(spans, record.span_seconds, record.duration_seconds)
    allowed = max_seconds_played(now - row["first_seen_at"], record.duration_seconds)
    if claimed > allowed:
        raise SessionRefused(400, "spans", f"count {claimed:g} s of playback; a session of this media that began "
                                           f"{now - row['first_seen_at']:.0f} s ago can have at most {allowed:g} s")
    attention, values = _attention_columns(report, spans, now)
    return _AttentionChange(spans, attention, values, spans != stored)


def _attention_columns(report: PlayerReport, spans: list[int], now: float) -> tuple[dict, dict]:
    """The session's attention columns an update with these merged ``spans`` sets, and every
    column it sets as ``b_`` parameters (``_ATTENTION_COLUMNS``)."""
    record = report.record
    attention = {"spans": json.dumps(spans, separators=(",", ":")), "span_seconds": record.span_seconds,
                 "duration_seconds": record.duration_seconds, "attention_at_ms": record.occurred_at_ms}
    values = {f"b_{name}": value for name, value in attention.items()} | {
        "b_percent_played": percent_played(spans), "b_closed_at": now if report.final else None}
    return attention, values


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
                _enqueue_record(conn, _attention_record(session), now)
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


def _enqueue_record(conn: DBAPIHandle, record: EventRecord, now: float) -> bool:
    return enqueue(conn, record.job_kind, record.to_payload(), portal_id=record.portal_id,
                   priority=record.job_priority, dedupe_key=_dedupe_key(record), now=now)


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
