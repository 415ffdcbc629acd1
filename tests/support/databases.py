"""Databases for tests, at the newest schema revision as `oembed-server db upgrade` leaves
them (the app and the worker refuse any other). SQLite files are copied from one migrated
template per process, which costs a file copy instead of a migration run per test. And,
for the upgrade tests, the schema of the release before migrations."""
from __future__ import annotations

import functools
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

from oembed_server.storage import schema_version
from oembed_server.storage.engine import create_catalog_engine

# The DDL the code before migrations ran (see its README): never edited.
LEGACY_SCHEMA_DIR = Path(__file__).resolve().parents[1] / "migrations" / "legacy_schema"


def upgrade(database_url: str) -> None:
    engine = create_catalog_engine(database_url)
    try:
        schema_version.upgrade(engine)
    finally:
        engine.dispose()


@functools.cache
def _sqlite_template() -> Path:
    path = Path(tempfile.mkdtemp(prefix="oembed-schema-")) / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


def migrated_sqlite_url(path: Path) -> str:
    """A new SQLite database at ``path``, at the newest revision."""
    shutil.copyfile(_sqlite_template(), path)
    return f"sqlite:///{path}"


def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    """A URL into a fresh PostgreSQL schema of its own (dropped afterwards), not migrated,
    so parallel test workers never see each other's rows."""
    schema = "t_" + uuid.uuid4().hex[:16]
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in postgres_url else "?"
    try:
        yield f"{postgres_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def create_legacy_schema(database_url: str) -> None:
    """Replay into an empty database the schema that the code before migrations made:
    what a provider upgrading from that release has, with no revision recorded."""
    engine = sa.create_engine(database_url)
    ddl = (LEGACY_SCHEMA_DIR / f"{'postgresql' if engine.dialect.name == 'postgresql' else 'sqlite'}.sql").read_text()
    raw = engine.raw_connection()
    try:
        if engine.dialect.name == "sqlite":
            raw.driver_connection.executescript(ddl)
        else:
            with raw.cursor() as cursor:  # no parameters: psycopg sends the whole script as is
                cursor.execute(ddl)
            raw.commit()
    finally:
        raw.close()
        engine.dispose()
