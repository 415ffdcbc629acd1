"""How far a database's schema is from the declared one (``storage.schema``).

Alembic's ``compare_metadata`` finds missing or extra tables, columns, indexes and
constraints, changed types, nullability and server defaults. Two things it cannot compare
are checked here by asking the database itself: a partial index's WHERE clause (Alembic
compares an index's columns only) and the PostgreSQL functions the schema declares (it
knows nothing of functions). On PostgreSQL both by the same trick: the declared DDL runs
again in a transaction that is rolled back, and the database's own rendering of what it
had and of what the declaration makes must agree.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.schema import CreateIndex

from oembed_server.storage.schema import TAKE_RATE_SLOT_FUNCTION, metadata

FUNCTION_NAME = "hubspot_take_rate_slot"


def schema_differences(engine: Engine) -> list:
    """Everything that differs; empty when the database is the declared schema."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        found = list(compare_metadata(context, metadata))
        found += index_definition_differences(conn)
        if conn.dialect.name == "postgresql":
            found += function_differences(conn)
    return found


def index_definition_differences(conn: Connection) -> list[str]:
    """Each index as the database renders it against the declared one. SQLite keeps an
    index's DDL as it was written, so the compiled declaration is its rendering; PostgreSQL
    renders its own, so the declared index is made under a probe name in a transaction
    that is rolled back, and read back with its name put in."""
    found = []
    for table in metadata.sorted_tables:
        for index in sorted(table.indexes, key=lambda ix: ix.name):
            stored = _index_definition(conn, index.name)
            if stored is None:
                continue  # a missing index is compare_metadata's to report
            ddl = str(CreateIndex(index).compile(dialect=conn.dialect))
            if conn.dialect.name == "postgresql":
                probe = f"probe_{index.name}"
                with _rolled_back(conn):
                    conn.exec_driver_sql(ddl.replace(f"INDEX {index.name} ", f"INDEX {probe} ", 1))
                    declared = _index_definition(conn, probe).replace(probe, index.name, 1)
            else:
                stored, declared = " ".join(stored.split()), " ".join(ddl.split())
            if stored != declared:
                found.append(f"index {index.name}: the database has {stored!r}, declared is {declared!r}")
    return found


@contextlib.contextmanager
def _rolled_back(conn: Connection) -> Iterator[None]:
    savepoint = conn.begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()


def _index_definition(conn: Connection, name: str) -> str | None:
    if conn.dialect.name == "postgresql":
        return conn.execute(sa.text("SELECT pg_get_indexdef(to_regclass(:name))"), {"name": name}).scalar()
    return conn.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"),
                        {"name": name}).scalar()


def function_differences(conn: Connection) -> list[str]:
    """The budget function must exist once, in the schema the tables are in, with the body,
    arguments and result that TAKE_RATE_SLOT_FUNCTION declares."""
    stored = _function_definitions(conn)
    if len(stored) != 1:
        return [f"function {FUNCTION_NAME}: {len(stored)} in the database's schema, declared is one"]
    found = []
    body = TAKE_RATE_SLOT_FUNCTION.split("$$")[1]
    source = conn.execute(sa.text("SELECT prosrc FROM pg_proc WHERE oid = CAST(:oid AS oid)"),
                          {"oid": stored[0][0]}).scalar_one()
    if source != body:
        found.append(f"function {FUNCTION_NAME}: its body is not the declared one")
    try:
        with _rolled_back(conn):
            conn.exec_driver_sql(TAKE_RATE_SLOT_FUNCTION)
            declared = _function_definitions(conn)
    except sa.exc.DBAPIError as exc:  # e.g. the declared result type is not the stored one
        declared = [(None, f"refused: {str(exc.orig).splitlines()[0]}")]
    if declared != stored:
        found.append(f"function {FUNCTION_NAME}: the database has {stored!r}, declared is {declared!r}")
    return found


def _function_definitions(conn: Connection) -> list[tuple[int, str]]:
    return [tuple(row) for row in conn.execute(sa.text(
        "SELECT p.oid, pg_get_functiondef(p.oid) FROM pg_proc p "
        "WHERE p.proname = :name AND p.pronamespace = CAST(current_schema() AS regnamespace) ORDER BY p.oid"),
        {"name": FUNCTION_NAME})]
