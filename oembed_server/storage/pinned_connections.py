"""The events intake's PostgreSQL connections: one per thread, kept out of the pool between
reports, in autocommit.

Checking a connection out of SQLAlchemy's pool and back for every report (the pool's
events, its reset on return, psycopg's autocommit switched on and off again) cost about a
tenth of a report's CPU on scripts/bench_events.py. Here each thread keeps the connection it
used last instead. It stays in autocommit, as the intake's writes want it: a single
statement commits as it runs, and a pipelined transaction sends its own BEGIN and COMMIT
(``write_transaction``). One that sat idle longer than ``engine.PING_AFTER_IDLE_S`` is
pinged before use, as the pool pings its own; one that broke is invalidated and
replaced by the next use. ``release`` hands them all back when the engine is disposed.
"""
from __future__ import annotations

import os
import threading
import time
import weakref

from sqlalchemy.engine import Engine
from sqlalchemy.pool import PoolProxiedConnection

from oembed_server.storage import engine as engine_settings


class _Held(threading.local):
    fairy: PoolProxiedConnection | None = None
    pid: int = 0
    used_at: float = 0.0


class PinnedConnections:
    """One per engine (``pinned_for``)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._held = _Held()
        self._all: set[PoolProxiedConnection] = set()
        self._lock = threading.Lock()

    def get(self) -> PoolProxiedConnection:
        """This thread's connection, in autocommit."""
        held = self._held
        fairy = held.fairy
        if fairy is not None and held.pid != os.getpid():
            # Inherited across a fork: the parent's socket, never to be used (nor closed) here.
            fairy = held.fairy = None
        now = time.monotonic()
        if fairy is not None and now - held.used_at > engine_settings.PING_AFTER_IDLE_S and not _alive(fairy):
            self.discard(fairy, None)
            fairy = None
        if fairy is None:
            fairy = self.engine.raw_connection()
            driver = fairy.driver_connection
            assert driver is not None
            driver.autocommit = True
            held.fairy, held.pid = fairy, os.getpid()
            with self._lock:
                self._all.add(fairy)
        held.used_at = now
        return fairy

    def discard(self, fairy: PoolProxiedConnection, error: BaseException | None) -> None:
        """A connection that broke (or failed its ping): out of the pool, replaced on next use."""
        if self._held.fairy is fairy:
            self._held.fairy = None
        with self._lock:
            self._all.discard(fairy)
        fairy.invalidate(error)

    def backend_pids(self) -> set[int]:
        """The server processes behind the connections held now (psycopg knows them: no round trip)."""
        with self._lock:
            held = list(self._all)
        return {fairy.driver_connection.info.backend_pid for fairy in held if fairy.driver_connection is not None}

    def release(self) -> None:
        """Every thread's connection back to the pool, as the pool hands them out (not in
        autocommit); for the engine's dispose."""
        with self._lock:
            held, self._all = self._all, set()
        for fairy in held:
            driver = fairy.driver_connection
            try:
                if driver is not None and not driver.broken:
                    driver.autocommit = False
                fairy.close()
            except Exception:  # a connection in use elsewhere or already gone: dispose drops it
                fairy.invalidate()
        self._held = _Held()


def _alive(fairy: PoolProxiedConnection) -> bool:
    try:
        cursor = fairy.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        return True
    except Exception:  # any failure: this connection is not worth keeping
        return False


_pinned: weakref.WeakKeyDictionary[Engine, PinnedConnections] = weakref.WeakKeyDictionary()
_pinned_lock = threading.Lock()


def pinned_for(engine: Engine) -> PinnedConnections:
    with _pinned_lock:
        pinned = _pinned.get(engine)
        if pinned is None:
            pinned = _pinned[engine] = PinnedConnections(engine)
    return pinned


def release_pinned(engine: Engine) -> None:
    with _pinned_lock:
        pinned = _pinned.pop(engine, None)
    if pinned is not None:
        pinned.release()
