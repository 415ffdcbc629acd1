"""Where a database stands against the project's migrations, and bringing it to the newest.

Only ``oembed-server db upgrade`` (and ``serve`` on the embedded SQLite default) changes a
schema; the app, the worker and the scripts check the revision at start and stop with one
line naming the command when it is not the newest, so no process runs DDL by surprise.
An upgrade is one transaction on both engines: one that fails part-way leaves the
database as it was, and two run at once take turns.
"""
from __future__ import annotations

import dataclasses
import functools
import zlib

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from oembed_server.package_data import MIGRATIONS_DIR
from oembed_server.storage.schema import metadata

UPGRADE_COMMAND = "oembed-server db upgrade"
# What a database without a revision holds: nothing yet, or the tables of a release from
# before migrations (which the baseline takes over with their rows).
NO_SCHEMA = "no schema"
PRE_MIGRATION_SCHEMA = "the schema of a release before migrations"
# Two processes upgrading one PostgreSQL database at once take turns on this lock.
_UPGRADE_LOCK = zlib.crc32(b"oembed-server schema upgrade")


class SchemaNotCurrent(Exception):
    """The database is not at the revision this version of the code needs."""

    def __init__(self, current: str | None, head: str, pre_migration: bool = False):
        if current is not None:
            where = f"is at schema revision {current}"
        else:
            where = f"has {PRE_MIGRATION_SCHEMA}" if pre_migration else "has no schema yet"
        super().__init__(f"the database {where}, this version needs {head}: run `{UPGRADE_COMMAND}` first")
        self.current, self.head, self.pre_migration = current, head, pre_migration


@dataclasses.dataclass(frozen=True)
class Upgrade:
    before: str | None
    after: str
    # The revision before, or what the database held without one (NO_SCHEMA, PRE_MIGRATION_SCHEMA).
    before_label: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def alembic_config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships its baseline
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def describe_current(engine: Engine) -> str:
    """The database's revision, or what it holds without one (NO_SCHEMA, PRE_MIGRATION_SCHEMA)."""
    with engine.connect() as conn:
        return _describe(conn, MigrationContext.configure(conn).get_current_revision())


def upgrade(engine: Engine) -> Upgrade:
    """Bring the database to the newest revision. A database made before the project had
    migrations (no version table) is taken over by the baseline, which adds only what it
    lacks, so its rows, tokens and jobs stay as they are."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK})
        elif conn.dialect.name == "sqlite":
            # pysqlite opens a transaction only before a data change, so DDL before the first
            # one would commit statement by statement; IMMEDIATE also takes the write lock,
            # which makes a second upgrade wait (busy_timeout) rather than interleave.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        before = MigrationContext.configure(conn).get_current_revision()
        before_label = _describe(conn, before)
        command.upgrade(alembic_config(conn), "head")
        after = MigrationContext.configure(conn).get_current_revision()
    assert after is not None
    return Upgrade(before, after, before_label)


def require_current(engine: Engine) -> None:
    """Raise SchemaNotCurrent unless the database is at the newest revision."""
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        if current != head_revision():
            raise SchemaNotCurrent(current, head_revision(), pre_migration=_holds_project_tables(conn))


def _describe(conn: sa.Connection, revision: str | None) -> str:
    if revision is not None:
        return revision
    return PRE_MIGRATION_SCHEMA if _holds_project_tables(conn) else NO_SCHEMA


def _holds_project_tables(conn: sa.Connection) -> bool:
    return bool(set(sa.inspect(conn).get_table_names()) & set(metadata.tables))
