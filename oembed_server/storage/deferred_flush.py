"""A per-process thread that runs one flush at most every ``interval_s`` after a commit.

What is flushed is the subclass's (``wal_sync.WalSyncer``: SQLite's log file;
``pg_commit_flush.CommitFlusher``: PostgreSQL's WAL): one flush covers every commit before
it, so commits share it instead of each waiting for the disk.
"""
from __future__ import annotations

import atexit
import os
import threading
import time


class DeferredFlush:
    """The thread starts on the first commit in each process: a thread does not survive
    gunicorn's fork."""

    thread_name = "deferred-flush"

    def __init__(self, interval_s: float):
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
        """Every commit so far on disk, in the caller's thread (clears ``_pending`` first;
        sets it again when the flush failed, so it is tried after the interval)."""
        raise NotImplementedError

    def _start(self) -> None:
        with self._start_lock:
            if self._pid == os.getpid():
                return
            self._pending = threading.Event()
            threading.Thread(target=self._run, name=self.thread_name, daemon=True).start()
            # A process that exits between flushes flushes on its way out.
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
