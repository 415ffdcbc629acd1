"""The database engine: one per process and database URL, with SQLite set up for several
processes (WAL, a busy timeout, full sync) and PostgreSQL's dropped connections checked."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

# Memory-mapped reads spare a system call per page on the look-up path.
SQLITE_MMAP_BYTES = 256 * 2**20


def create_catalog_engine(database_url: str) -> Engine:
    is_sqlite = database_url.startswith("sqlite")
    # A server connection can die between requests; a local SQLite file cannot, so the
    # extra round trip of pre-ping is paid only where it buys something.
    engine = sa.create_engine(database_url, pool_pre_ping=not is_sqlite, future=True)
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
