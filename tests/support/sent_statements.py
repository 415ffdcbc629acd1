"""The statements a test's code sends to PostgreSQL, as psycopg's cursors run them."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg

# What each web process's flusher sends (storage.pg_commit_flush) whenever it likes.
_FLUSHER = ("pg_logical_emit_message", "synchronous_commit")


@contextlib.contextmanager
def sent_statements(monkeypatch) -> Iterator[list[str]]:
    """The SQL of every statement run while the block runs, the flusher's left out."""
    sent: list[str] = []
    execute = psycopg.Cursor.execute

    def counted(cursor, query, *args, **kwargs):
        sent.append(str(query))
        return execute(cursor, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counted)
    try:
        yield sent
    finally:
        monkeypatch.setattr(psycopg.Cursor, "execute", execute)
        sent[:] = [query for query in sent if not any(mark in query for mark in _FLUSHER)]
