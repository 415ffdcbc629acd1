"""Commits that reach PostgreSQL's disk within a bound, not each before its answer.

The PostgreSQL half of ``wal_sync``: a write transaction that asks for it commits with
``synchronous_commit = off`` (PostgreSQL writes the commit to its WAL buffers and answers
without waiting for the flush), and this process's flusher then makes one small
synchronous commit at most ``interval_s`` later. PostgreSQL flushes the WAL in order, so
that one flush puts every earlier commit of every connection on disk; its write is a
transactional logical message (``pg_logical_emit_message``, a few bytes of WAL, no table,
any ``wal_level``), because a commit that wrote nothing is never flushed.

What that promises: an answered commit survives the crash or kill of any of our processes
at once (it is PostgreSQL's); it survives a crash of the PostgreSQL server or its machine
once the next flush is done, at most ``interval_s`` later (PostgreSQL's own WAL writer
usually gets there first, every ``wal_writer_delay``). PostgreSQL never applies half a
transaction, so a lost commit is lost whole.
"""
from __future__ import annotations

import logging
import threading

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from oembed_server.storage.deferred_flush import DeferredFlush

log = logging.getLogger(__name__)

# One statement, its own transaction, one round trip: set_config(..., true) lasts until that
# transaction ends, and its commit (the flush) is the last thing it does.
_FLUSH = sa.text("SELECT set_config('synchronous_commit', 'on', true),"
                 " pg_logical_emit_message(true, 'media-bridge-flush', '')")


class CommitFlusher(DeferredFlush):
    """One per engine and process; its thread starts on the first commit in each process
    (a thread does not survive gunicorn's fork)."""

    thread_name = "pg-commit-flush"

    def __init__(self, engine: Engine, interval_s: float):
        self.engine = engine
        super().__init__(interval_s)

    def flush_now(self) -> None:
        """Every commit so far on disk, in the caller's thread."""
        self._pending.clear()
        try:
            # Synchronous, whatever the connection's own setting (the intake's pool has it off);
            # in autocommit, so no BEGIN and COMMIT round trips besides.
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(_FLUSH)
            self.flushes += 1
        except DBAPIError as error:
            # Answered commits may not survive a server crash yet: loud, and tried again
            # after the interval (PostgreSQL's WAL writer keeps flushing meanwhile).
            log.error("could not flush PostgreSQL's write-ahead log: %s", type(error.orig).__name__)
            self._pending.set()


_flushers: dict[tuple[int, float], CommitFlusher] = {}
_flushers_lock = threading.Lock()


def flusher_for(engine: Engine, interval_s: float) -> CommitFlusher:
    key = (id(engine), interval_s)
    with _flushers_lock:
        flusher = _flushers.get(key)
        if flusher is None or flusher.engine is not engine:
            flusher = _flushers[key] = CommitFlusher(engine, interval_s)
    return flusher
