"""What provisioning remembers between runs: marks (what the app was last set up for, the
module version last pushed) and, per portal file, what was last pushed there."""
from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from oembed_server.storage.dialect_insert import dialect_insert
from oembed_server.storage.schema import module_push_records, provisioning_marks


class StoredPushRecord:
    """The module_push library's PushRecord interface over the database."""

    def __init__(self, engine):
        self.engine = engine

    def get(self, key: str) -> dict | None:
        with self.engine.connect() as conn:
            query = sa.select(module_push_records).where(module_push_records.c.key == key)
            row = conn.execute(query).mappings().first()
        return {"sha256": row["sha256"], "updatedAt": _stamp(row["remote_updated_at"])} if row else None

    def put(self, key: str, sha256: str, updated_at) -> None:
        values = {"sha256": sha256, "remote_updated_at": None if updated_at is None else str(updated_at)}
        with self.engine.begin() as conn:
            statement = dialect_insert(module_push_records, conn.dialect.name).values(key=key, **values)
            conn.execute(statement.on_conflict_do_update(index_elements=["key"], set_=values))


def _stamp(value: str | None):
    # HubSpot answers updatedAt as epoch milliseconds (a number) or an ISO string.
    return int(value) if value is not None and value.isdigit() else value


def get_mark(conn: Connection, name: str) -> str | None:
    return conn.execute(sa.select(provisioning_marks.c.value).where(provisioning_marks.c.name == name)).scalar()


def set_mark(conn: Connection, name: str, value: str) -> None:
    # One statement, not update-then-insert: two workers starting together both found no
    # row to update and the second insert failed on the primary key.
    values = {"value": value, "updated_at": time.time()}
    statement = dialect_insert(provisioning_marks, conn.dialect.name).values(name=name, **values)
    conn.execute(statement.on_conflict_do_update(index_elements=["name"], set_=values))
