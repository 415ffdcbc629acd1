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

import atexit
import logging
import os
import threading
import time

log = logging.getLogger(__name__)


class WalSyncer:
    """Flushes ``database``'s log (``<database>-wal``) at most every ``interval_s`` after a
    commit. One per database and process; its thread starts on the first commit in each
    process (a thread does not survive gunicorn's fork)."""

    def __init__(self, database: str, interval_s: float):
        self.wal_path = f"{database}-wal"
        self.interval_s = interval_s
        self._pending = threading.Event()
        self._start_lock = threading.Lock()
        self._pid: int | None = None
        self.flushes = 0  # how many flushes ran

    def committed(self) -> None:
        """A transaction just committed without waiting for the disk: flush it soon."""
        if self._pid != os.getpid():
            self._start()
        self._pending.set()

    @property
    def pending(self) -> bool:
        """Commits wait for a flush."""
        return self._pending.is_set()

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

    def _start(self) -> None:
        with self._start_lock:
            if self._pid == os.getpid():
                return
            self._pending = threading.Event()
            threading.Thread(target=self._run, name="wal-sync", daemon=True).start()
            # A worker that exits between flushes flushes on its way out.
            atexit.register(self._flush_if_pending)
            self._pid = os.getpid()

    def _flush_if_pending(self) -> None:
        if self.pending:
            self.flush_now()

    def _run(self) -> None:
        pending = self._pending
        while True:
            pending.wait()
            self.flush_now()
            # Commits in the meantime wait for the next flush: at most one flush per interval.
            time.sleep(self.interval_s)


_syncers: dict[tuple[str, float], WalSyncer] = {}
_syncers_lock = threading.Lock()


def syncer_for(database: str, interval_s: float) -> WalSyncer:
    key = (os.path.abspath(database), interval_s)
    with _syncers_lock:
        syncer = _syncers.get(key)
        if syncer is None:
            syncer = _syncers[key] = WalSyncer(key[0], interval_s)
    return syncer
