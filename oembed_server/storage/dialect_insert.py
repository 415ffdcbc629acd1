"""INSERT with ON CONFLICT for the dialect at hand: SQLite's and PostgreSQL's inserts have
the same on_conflict_* methods, but SQLAlchemy keeps them apart."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite


def dialect_insert(table: sa.Table, dialect_name: str) -> postgresql.Insert | sqlite.Insert:
    return postgresql.insert(table) if dialect_name == "postgresql" else sqlite.insert(table)
