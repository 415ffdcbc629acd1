"""The database engine: one per process and database URL, with SQLite set up for several
processes (WAL, a busy timeout, full sync) and PostgreSQL's dropped connections checked
(those that sat idle in the pool)."""
from __future__ import annotations

import time
import weakref

import sqlalchemy as sa
from sqlalchemy.engine import Engine

# Memory-mapped reads spare a system call per page on the look-up path.
SQLITE_MMAP_BYTES = 256 * 2**20


# A pooled server connection idle longer than this is pinged before it is used again.
PING_AFTER_IDLE_S = 10.0
# Engines whose connections commit asynchronously (see create_catalog_engine).
_ASYNC_COMMIT_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def create_catalog_engine(database_url: str, *, asynchronous_commit: bool = False) -> Engine:
    """``asynchronous_commit`` (PostgreSQL only): every commit on this engine's connections
    answers before it is on disk (``synchronous_commit = off``), for writers whose caller
    flushes within a bound (write_transaction, pg_commit_flush). One setting per connection
    rather than one per transaction spares a round trip on the intake's path."""
    is_sqlite = database_url.startswith("sqlite")
    engine = sa.create_engine(database_url, future=True)
    if not is_sqlite:
        _ping_idle_connections(engine)
        if asynchronous_commit:
            _ASYNC_COMMIT_ENGINES.add(engine)

            @sa.event.listens_for(engine, "connect")
            def _async_commit(dbapi_connection, _record):
                cursor = dbapi_connection.cursor()
                cursor.execute("SET synchronous_commit TO off")
                cursor.close()
                dbapi_connection.commit()
    if is_sqlite:
        # WAL lets gunicorn workers read while an import writes.
        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # Every commit on disk before it returns, whatever the build's default; the
            # events intake alone relaxes it, with a bound (write_transaction, wal_sync).
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
            cursor.close()
    return engine


def commits_asynchronously(engine: Engine) -> bool:
    return engine in _ASYNC_COMMIT_ENGINES


def _ping_idle_connections(engine: Engine) -> None:
    """A server connection can die between requests (a restart, a proxy's idle timeout).
    SQLAlchemy's pre-ping would pay a round trip on every checkout, a fifth of a small
    write's; pinging only connections that sat idle in the pool catches those deaths
    where they happen, and a connection in steady use is known to be alive. A connection
    that died while in steady use fails its request, is invalidated with the pool, and the
    caller may retry (the events intake does, once)."""
    @sa.event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record):
        record.info["checked_in_at"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy):
        checked_in_at = record.info.pop("checked_in_at", None)
        if checked_in_at is None or time.monotonic() - checked_in_at < PING_AFTER_IDLE_S:
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi_connection.rollback()
        except Exception as error:  # any failure: this connection is not worth keeping
            # The pool discards it and checks out another (SQLAlchemy's documented recipe).
            raise sa.exc.DisconnectionError(str(error)) from error


def describe_database_error(exc: Exception, database_url: sa.URL | str) -> str:
    """One line about a database failure for people: the driver's first line, without
    the SQL, the parameters or the database password."""
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    text = lines[0] if lines else type(orig).__name__
    password = sa.make_url(database_url).password if isinstance(database_url, str) else database_url.password
    if password:
        text = text.replace(str(password), "***")
    return text
