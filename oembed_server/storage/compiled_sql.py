"""Core statements compiled once per dialect and run on the connection's DBAPI cursor.

For the statements on a per-request path (the oEmbed look-up, the events intake) the
SQLAlchemy execution machinery (cache key, parameter processing, result objects) costs
more than the indexed statement itself. SQLAlchemy still writes the SQL, for the engine's
own dialect and parameter style, and says which values a parameter needs converting; this
runs it inside the caller's transaction on the same DBAPI connection, so a statement here
and an ordinary ``conn.execute`` commit or roll back together.

Rows come back as the driver gives them: use it for columns whose driver values are
already what Python wants (text, integers, floats), as the catalog and queue tables are.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, cast

from sqlalchemy.engine import Dialect
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement


class DBAPIHandle(Protocol):
    """What a compiled statement runs on: a SQLAlchemy ``Connection`` (in its transaction),
    or a DBAPI connection with its dialect (``DriverConnection``)."""

    @property
    def connection(self) -> PoolProxiedConnection: ...

    @property
    def dialect(self) -> Dialect: ...


@dataclasses.dataclass(frozen=True)
class DriverConnection:
    connection: PoolProxiedConnection
    dialect: Dialect


class _ForDialect:
    __slots__ = ("sql", "names", "defaults", "processors", "returns_rows", "columns")

    def __init__(self, statement: ClauseElement, dialect: Dialect):
        # A SELECT, INSERT, UPDATE or DELETE compiles to a SQLCompiler (DDL would not).
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        self.sql = str(compiled)
        # A SELECT, or DML with RETURNING.
        self.returns_rows = bool(compiled.returning) or compiled.isplaintext or not (
            compiled.isinsert or compiled.isupdate or compiled.isdelete)
        # Positional drivers (SQLite's qmark) take a tuple in this order; named ones a dict.
        self.names: tuple[str, ...] | None = None
        if compiled.positional:
            assert compiled.positiontup is not None  # a positional compile always lists its order
            self.names = tuple(compiled.positiontup)
        # Values written into the statement (``reports=1``) travel as parameters too.
        self.defaults = {key: bind.value for key, bind in compiled.binds.items() if not bind.required}
        # The result's column names, from the first result: the driver builds a description
        # object per column on every read, which cost more than the dicts made from it.
        self.columns: tuple[str, ...] | None = None
        self.processors: dict[str, Callable[[Any], Any]] = {}
        for key, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.processors[key] = processor

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        merged = {**self.defaults, **values}
        for key, processor in self.processors.items():
            if key in merged:
                merged[key] = processor(merged[key])
        if self.names is None:
            return merged
        return tuple(merged[name] for name in self.names)


class CompiledStatement:
    """``statement`` (with ``sa.bindparam`` placeholders) compiled on first use for each dialect."""

    def __init__(self, statement: ClauseElement | Callable[[str], ClauseElement]):
        # A callable builds the statement per dialect name (an upsert is dialect-specific).
        self._statement = statement
        self._compiled: dict[str, _ForDialect] = {}

    def for_dialect(self, dialect: Dialect) -> _ForDialect:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            statement = self._statement(dialect.name) if callable(self._statement) else self._statement
            compiled = self._compiled[dialect.name] = _ForDialect(statement, dialect)
        return compiled

    def execute(self, conn: DBAPIHandle, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Runs it in ``conn``'s transaction; the rows it returns (RETURNING or SELECT) as dicts."""
        return self.execute_dbapi(conn.connection, conn.dialect, values)

    def send(self, conn: DBAPIHandle, values: Mapping[str, Any]) -> None:
        """Runs a statement whose rows nobody reads (an UPDATE) in ``conn``'s transaction.
        In psycopg's pipeline mode (``write_transaction(..., pipelined=True)``) it goes out
        with the next statement or the COMMIT, not in a round trip of its own, and its
        error, if any, is raised there; elsewhere it has run when this returns."""
        compiled = self.for_dialect(conn.dialect)
        cursor = conn.connection.cursor()
        try:
            cursor.execute(compiled.sql, compiled.parameters(values))
        finally:
            cursor.close()

    def execute_dbapi(self, dbapi_connection, dialect: Dialect, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The same on a DBAPI connection (``engine.raw_connection()``), for callers that
        never open a SQLAlchemy connection at all."""
        compiled = self.for_dialect(dialect)
        cursor, kept = _cursor(dbapi_connection)
        try:
            cursor.execute(compiled.sql, compiled.parameters(values))
            if not compiled.returns_rows:
                return []
            # Fetched before the description is read: in a pipeline the result (and so the
            # description) only arrives with the fetch.
            rows = cursor.fetchall()
            if not rows:
                return []
            names = compiled.columns
            if names is None:
                names = compiled.columns = tuple(column[0] for column in cursor.description)
            return [dict(zip(names, row, strict=True)) for row in rows]
        finally:
            if not kept:
                cursor.close()


# The key of a psycopg connection's kept cursor in its pool record's ``info`` (which the pool
# clears when it replaces the DBAPI connection).
_KEPT_CURSOR = "compiled_sql.cursor"


def _cursor(dbapi_connection) -> tuple[Any, bool]:
    """A cursor for one statement, and whether it is the connection's kept one (not to be
    closed). psycopg builds a cursor and its adaptation context anew each time, about a
    quarter of its own CPU for an intake statement (75 against 57 us), so each pooled
    psycopg connection keeps one; not in pipeline mode, where a cursor's results are queued
    until read, nor for other drivers (SQLite's cursors cost next to nothing)."""
    driver = getattr(dbapi_connection, "driver_connection", None)
    pgconn = getattr(driver, "pgconn", None)
    if driver is None or pgconn is None or pgconn.pipeline_status:
        return dbapi_connection.cursor(), False
    info = dbapi_connection.info
    cursor = info.get(_KEPT_CURSOR)
    if cursor is None or cursor.closed or cursor.connection is not driver:
        cursor = info[_KEPT_CURSOR] = driver.cursor()
    return cursor, True
