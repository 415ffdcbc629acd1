"""Alembic's entry point for the project's migrations.

``storage.schema_version`` runs them on a connection it hands over in
``config.attributes["connection"]``; a developer's ``alembic -c .../alembic.ini`` run
(``revision --autogenerate``, say) gets a database from ``OEMBED_DATABASE_URL`` instead.
"""
from __future__ import annotations

import os

import sqlalchemy as sa
from alembic import context

from oembed_server.storage.schema import metadata


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite alters a table by copying it: batch mode does that for every ALTER.
        render_as_batch=True,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = os.environ.get("OEMBED_DATABASE_URL") or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set OEMBED_DATABASE_URL to the database to migrate or compare")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()
