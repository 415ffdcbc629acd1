"""Where a database stands against the project's migrations, and bringing it to the newest.

Only ``oembed-server db upgrade`` (and ``serve`` on the embedded SQLite default) changes a
schema; the app, the worker and the scripts check the revision at start and stop with one
line naming the command when it is not the newest, so no process runs DDL by surprise.
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

UPGRADE_COMMAND = "oembed-server db upgrade"
# Two processes upgrading one PostgreSQL database at once take turns on this lock.
_UPGRADE_LOCK = zlib.crc32(b"oembed-server schema upgrade")


class SchemaNotCurrent(Exception):
    """The database is not at the revision this version of the code needs."""

    def __init__(self, current: str | None, head: str):
        where = "has no schema yet" if current is None else f"is at schema revision {current}"
        super().__init__(f"the database {where}, this version needs {head}: run `{UPGRADE_COMMAND}` first")
        self.current, self.head = current, head


@dataclasses.dataclass(frozen=True)
class Upgrade:
    before: str | None
    after: str

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


def upgrade(engine: Engine) -> Upgrade:
    """Bring the database to the newest revision. A database made before the project had
    migrations (no version table) is taken over by the baseline, which adds only what it
    lacks, so its rows, tokens and jobs stay as they are."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK})
        before = MigrationContext.configure(conn).get_current_revision()
        command.upgrade(alembic_config(conn), "head")
        after = MigrationContext.configure(conn).get_current_revision()
    assert after is not None
    return Upgrade(before, after)


def require_current(engine: Engine) -> None:
    """Raise SchemaNotCurrent unless the database is at the newest revision."""
    current = current_revision(engine)
    if current != head_revision():
        raise SchemaNotCurrent(current, head_revision())
