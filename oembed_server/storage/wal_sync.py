"""Commits that reach the disk within a bound, not each before its answer (SQLite only).

SQLite with ``synchronous=FULL`` (the project's default) flushes the write-ahead log to
disk inside every commit, while holding the database's one write lock. For the events
intake that flush was most of a report's cost: with two gunicorn workers it held the
intake to four tenths of the app's plain request rate (scripts/bench_events.py). A write
transaction that asks for it here commits with ``synchronous=NORMAL`` instead (SQLite
writes the log but does not wait for the disk), and this process's syncer thread flushes
the log with one ``fdatasync`` shortly after: one flush covers every commit before it.

What that promises: a committed transaction survives the crash or kill of any process at
once (it is in the operating system's file cache); it survives a power loss or kernel
crash once the next flush is done, at most ``interval_s`` later. Flushing the log file
is enough: frames only leave the log through a checkpoint, which SQLite itself flushes
into the database file before the log is reused.
"""
from __future__ import annotations

import logging
import os
import threading

from oembed_server.storage.deferred_flush import DeferredFlush

log = logging.getLogger(__name__)


class WalSyncer(DeferredFlush):
    """Flushes ``database``'s log (``<database>-wal``) at most every ``interval_s`` after a
    commit. One per database and process; its thread starts on the first commit in each
    process (a thread does not survive gunicorn's fork)."""

    thread_name = "wal-sync"

    def __init__(self, database: str, interval_s: float):
        self.wal_path = f"{database}-wal"
        super().__init__(interval_s)

    def flush_now(self) -> None:
        """Flush every commit so far, in the caller's thread."""
        self._pending.clear()
        try:
            fd = os.open(self.wal_path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            # No log: SQLite checkpointed it into the database (flushed) and removed it.
            return
        try:
            os.fdatasync(fd)
            self.flushes += 1
        except OSError as error:
            # The disk refused: commits already answered may not survive a power loss. Loud,
            # and tried again after the interval.
            log.error("could not flush the SQLite write-ahead log %s: %s", self.wal_path, error)
            self._pending.set()
        finally:
            os.close(fd)


_syncers: dict[tuple[str, float], WalSyncer] = {}
_syncers_lock = threading.Lock()


def syncer_for(database: str, interval_s: float) -> WalSyncer:
    key = (os.path.abspath(database), interval_s)
    with _syncers_lock:
        syncer = _syncers.get(key)
        if syncer is None:
            syncer = _syncers[key] = WalSyncer(key[0], interval_s)
    return syncer
