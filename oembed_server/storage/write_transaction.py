"""Write transactions that hand SQLite's single write lock over without sleeping.

SQLite lets one connection write at a time. A second writer gets SQLITE_BUSY and its busy
handler sleeps (1, 2, 5, 10, ... ms) before it tries again, so two gunicorn workers taking
reports at once spend more time asleep than writing: the events intake ran slower with
two workers than with one (scripts/bench_events.py). Writers that come through here queue
instead on a thread lock and then on an ``flock`` of a file beside the database, and the
kernel wakes the next one the moment the lock is released. Writers that do not come
through here (an import) still meet the busy handler, as before.

PostgreSQL locks rows, not the database: there this is a plain ``engine.begin()`` (with an
asynchronous commit when a bounded flush is asked for), and a write that is one statement
can be its own transaction (``single_statement``): no BEGIN and no COMMIT round trips.
"""
from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import PoolProxiedConnection

from oembed_server.storage.compiled_sql import DBAPIHandle, DriverConnection
from oembed_server.storage.engine import commits_asynchronously
from oembed_server.storage.pg_commit_flush import flusher_for
from oembed_server.storage.pinned_connections import pinned_for
from oembed_server.storage.wal_sync import syncer_for

log = logging.getLogger(__name__)


class _FileLock:
    """An exclusive ``flock`` on ``path``, shared by this process's threads in turn.

    The file is opened per process: a descriptor inherited across gunicorn's fork would
    share one lock between parent and child, which then would not exclude each other."""

    def __init__(self, path: str, database: str):
        self.path = path
        self.database = database
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._pid: int | None = None

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        with self._threads:
            fd = self._descriptor()
            if fd is None:  # no lock file for us: SQLite's busy handler orders the writers
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _descriptor(self) -> int | None:
        if self._pid != os.getpid():
            if self._fd is not None:
                os.close(self._fd)  # the parent's copy: closing it here leaves the parent's lock alone
            self._fd, self._pid = self._open(), os.getpid()
        return self._fd

    def _open(self) -> int | None:
        # Like SQLite's own -wal and -shm files: the database's permissions and, when root
        # creates it, the database's owner, so the web workers and the worker (perhaps
        # other users) can all open it.
        try:
            info = os.stat(self.database)
        except OSError:
            info = None
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, (info.st_mode & 0o666) if info else 0o644)
            if info is not None and os.geteuid() == 0:
                os.fchown(fd, info.st_uid, info.st_gid)
            return fd
        except OSError as error:
            log.warning("cannot use the SQLite writer lock %s (%s); writers will wait in SQLite's busy handler",
                        self.path, error)
            return None


_locks: dict[str, _FileLock | threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_for(engine: Engine):
    database = engine.url.database or ""
    key = os.path.abspath(database) if database and database != ":memory:" else f"memory:{id(engine)}"
    with _locks_guard:
        lock = _locks.get(key)
        if lock is None:
            # An in-memory database lives in one process: its threads are all there is to order.
            lock = _locks[key] = (_FileLock(f"{key}-write.lock", key) if not key.startswith("memory:")
                                  else threading.Lock())
    return lock


@contextlib.contextmanager
def write_transaction(engine: Engine, *, flush_within: float = 0.0, pipelined: bool = False) -> Iterator[Connection]:
    """``engine.begin()``, holding the database's writer lock on SQLite until the commit
    (or rollback) is done.

    ``flush_within`` > 0 (seconds): the commit does not wait for the disk; this process's
    ``wal_sync.WalSyncer`` (SQLite) or ``pg_commit_flush.CommitFlusher`` (PostgreSQL)
    flushes it within that time (see there for what survives what). 0: the commit is on
    disk before this returns.

    ``pipelined`` (PostgreSQL; ignored on SQLite, where nothing travels): the transaction
    runs in psycopg's pipeline mode, so BEGIN goes out with the first statement and the
    COMMIT with the statements sent before it (``CompiledStatement.send``): two round trips
    fewer. Only statements run through ``compiled_sql`` belong in it (SQLAlchemy's own
    execution reads a result before the pipeline has fetched it).
    """
    if engine.dialect.name != "sqlite":
        if pipelined and engine.dialect.name == "postgresql":
            with _pipelined_transaction(engine, flush_within) as conn:
                yield conn
        else:
            with engine.begin() as conn:
                if flush_within > 0 and engine.dialect.name == "postgresql" and not commits_asynchronously(engine):
                    # This transaction only; the pooled connection keeps its durable commits.
                    # (CatalogStore.intake_engine's connections have it set once, for every
                    # transaction: no round trip per write.)
                    conn.exec_driver_sql("SET LOCAL synchronous_commit TO off")
                yield conn
        if flush_within > 0 and engine.dialect.name == "postgresql":
            flusher_for(engine, flush_within).committed()
        return
    lock = _lock_for(engine)
    on_file = isinstance(lock, _FileLock)
    with (lock.held() if on_file else lock):
        if flush_within <= 0 or not on_file:  # an in-memory database has no disk to wait for
            with engine.begin() as conn:
                yield conn
            return
        with engine.connect() as conn:
            # SQLite takes the setting only outside a transaction; the driver's cursor
            # leaves SQLAlchemy's transaction state alone.
            _set_synchronous(conn, "NORMAL")
            try:
                with conn.begin():
                    yield conn
            finally:
                try:
                    _set_synchronous(conn, "FULL")
                except Exception:
                    conn.invalidate()  # never back to the pool without its flush on commit
                    raise
    assert engine.url.database is not None  # on_file: the URL names the database's file
    syncer_for(engine.url.database, flush_within).committed()


@contextlib.contextmanager
def single_statement(engine: Engine, *, flush_within: float = 0.0) -> Iterator[PoolProxiedConnection]:
    """PostgreSQL only: a DBAPI connection in autocommit, for a write that is one statement
    (``compiled_sql.CompiledStatement.execute_dbapi``; reads before it are their own
    statements too), committed as it runs: this thread's
    kept one on the intake's own engine (``pinned_connections``), a pooled one elsewhere.

    PostgreSQL runs a statement as one transaction whatever it writes, so this commits
    exactly what ``write_transaction`` would, with the same promise (``flush_within`` as
    there), two round trips sooner: on the events intake those were half of a report's.
    A failure that broke the connection is raised as SQLAlchemy's ``DBAPIError`` with
    ``connection_invalidated`` set, as ``write_transaction``'s would be (the intake
    retries those once); the statement did not commit, or committed whole.
    """
    assert engine.dialect.name == "postgresql", "SQLite writes go through write_transaction"
    if commits_asynchronously(engine):
        # The intake's own engine: this thread's connection, already in autocommit.
        pinned = pinned_for(engine)
        fairy = pinned.get()
        with _invalidated_when_broken(engine, fairy.driver_connection, lambda error: pinned.discard(fairy, error)):
            yield fairy
        if flush_within > 0:
            flusher_for(engine, flush_within).committed()
        return
    dbapi = engine.raw_connection()
    driver = dbapi.driver_connection
    assert driver is not None
    try:
        with _invalidated_when_broken(engine, driver, dbapi.invalidate):
            driver.autocommit = True  # no round trip: psycopg only stops sending BEGIN
            try:
                yield dbapi
            finally:
                if not driver.broken:
                    driver.autocommit = False  # back to the pool as every other connection is
    finally:
        dbapi.close()  # an invalidated one is discarded, not pooled
    # (On an engine that commits durably the statement was on disk before it returned.)


@contextlib.contextmanager
def pipelined_write(engine: Engine, *, flush_within: float = 0.0) -> Iterator[DBAPIHandle]:
    """``write_transaction(..., pipelined=True)``, on this thread's kept connection
    (``pinned_connections``) where ``engine`` is the intake's own, whose commits are
    asynchronous: no pool checkout, no autocommit switching. Only ``compiled_sql``
    statements run in it (``CompiledStatement.execute`` and ``send`` take what it yields)."""
    if not commits_asynchronously(engine):
        with write_transaction(engine, flush_within=flush_within, pipelined=True) as conn:
            yield conn
        return
    pinned = pinned_for(engine)
    fairy = pinned.get()
    driver = fairy.driver_connection
    with _in_pipeline(engine, driver, lambda error: pinned.discard(fairy, error), flush_within):
        yield DriverConnection(fairy, engine.dialect)
    if flush_within > 0:
        flusher_for(engine, flush_within).committed()


@contextlib.contextmanager
def _pipelined_transaction(engine: Engine, flush_within: float) -> Iterator[Connection]:
    """A transaction in psycopg's pipeline mode (``_in_pipeline``) on a pooled connection,
    in autocommit while it lasts."""
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.autocommit = True
        try:
            with _in_pipeline(engine, driver, conn.invalidate, flush_within):
                yield conn
        finally:
            if not driver.broken:
                driver.autocommit = False


@contextlib.contextmanager
def _in_pipeline(engine: Engine, driver, invalidate, flush_within: float) -> Iterator[None]:
    """A transaction in psycopg's pipeline mode, with BEGIN and COMMIT sent as statements:
    psycopg's own BEGIN would sync the pipeline (a round trip of its own), so the
    connection (``driver``) is in autocommit and the transaction is ours. Statements sent go
    out with the next one whose rows are read, or with the COMMIT, which one sync at the
    pipeline's end completes; an error anywhere rolls the whole transaction back."""
    with _invalidated_when_broken(engine, driver, invalidate):
        try:
            with driver.pipeline(), driver.cursor() as cursor:
                cursor.execute("BEGIN")
                if flush_within > 0 and not commits_asynchronously(engine):
                    cursor.execute("SET LOCAL synchronous_commit TO off")
                yield
                cursor.execute("COMMIT")
        except BaseException:
            # Out of the pipeline (its exit synced it): nothing of it may stay.
            if not driver.broken and driver.info.transaction_status != _IDLE:
                driver.execute("ROLLBACK")
            raise


# psycopg's pq.TransactionStatus.IDLE: no transaction open on the connection.
_IDLE = 0


@contextlib.contextmanager
def _invalidated_when_broken(engine: Engine, driver, invalidate) -> Iterator[None]:
    """The driver's error on a connection it found broken, as SQLAlchemy raises one for a
    statement it ran itself: ``DBAPIError`` with ``connection_invalidated`` (the connection
    leaves the pool)."""
    dbapi_error = engine.dialect.loaded_dbapi.Error
    try:
        yield
    except dbapi_error as error:
        if not driver.broken:
            raise
        invalidate(error)
        raise sa.exc.DBAPIError.instance(None, None, error, dbapi_error, connection_invalidated=True,
                                         dialect=engine.dialect) from error


def _set_synchronous(conn: Connection, level: str) -> None:
    cursor = conn.connection.cursor()
    try:
        cursor.execute(f"PRAGMA synchronous={level}")
    finally:
        cursor.close()
