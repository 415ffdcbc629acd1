"""Precompiled statements run on the DBAPI cursor and agree with SQLAlchemy's own execution."""
from __future__ import annotations

import sqlalchemy as sa

from oembed_server.storage.catalog_store import create_catalog_engine
from oembed_server.storage.compiled_sql import CompiledStatement

metadata = sa.MetaData()
items = sa.Table("compiled_items", metadata,
                 sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("name", sa.String(40), nullable=False),
                 sa.Column("score", sa.Float),
                 sa.Column("count", sa.Integer, nullable=False))

# A literal value (count=1) travels as a parameter too; a bound name is used twice.
INSERT = CompiledStatement(items.insert().values(
    name=sa.bindparam("b_name"), score=sa.bindparam("b_score", type_=sa.Float), count=1,
).returning(items.c.id, items.c.name, items.c.count))
BUMP = CompiledStatement(items.update().where(items.c.name == sa.bindparam("b_name"))
                         .values(count=items.c.count + sa.bindparam("b_by", type_=sa.Integer)))
BY_NAME = CompiledStatement(sa.select(items.c.name, items.c.score, items.c.count)
                            .where(sa.or_(items.c.name == sa.bindparam("b_name"),
                                          items.c.name == sa.bindparam("b_name") + "!")))


def test_statements_run_in_the_callers_transaction_on_both_engines(database_url):
    engine = create_catalog_engine(database_url)
    metadata.create_all(engine)
    try:
        with engine.begin() as conn:
            rows = INSERT.execute(conn, {"b_name": "a", "b_score": 2})
            assert rows == [{"id": rows[0]["id"], "name": "a", "count": 1}]
            assert BUMP.execute(conn, {"b_name": "a", "b_by": 4}) == []
            # Seen by SQLAlchemy in the same transaction: one connection, one transaction.
            assert conn.execute(sa.select(items.c.count)).scalar_one() == 5
        with engine.begin() as conn:
            INSERT.execute(conn, {"b_name": "rolled back", "b_score": None})
            conn.rollback()
        with engine.connect() as conn:
            assert BY_NAME.execute(conn, {"b_name": "a"}) == [{"name": "a", "score": 2.0, "count": 5}]
            assert BY_NAME.execute(conn, {"b_name": "rolled back"}) == []
    finally:
        metadata.drop_all(engine)
        engine.dispose()
