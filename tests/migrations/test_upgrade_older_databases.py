"""Upgrading what is not a database of today's release: one from before the captions,
stream and library columns keeps its rows and gains them; an upgrade that fails part-way
leaves the database as it was; two upgrades at once take turns."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from oembed_server.cli import cli
from oembed_server.storage import schema_version
from oembed_server.storage.catalog_store import CatalogStore
from oembed_server.storage.engine import create_catalog_engine
from oembed_server.storage.schema import media_items, metadata
from tests.support.catalog_rows import EN, VIDEO, validate_rows
from tests.support.schema_check import schema_differences

REPO = Path(__file__).resolve().parents[2]


def test_an_older_catalog_gains_the_new_columns_on_upgrade(empty_database_url):
    """A database made before captions/stream_url/library existed keeps its rows and gets the columns."""
    engine = create_catalog_engine(empty_database_url)
    media_items.create(engine)
    with engine.begin() as conn:
        for column in ("captions", "stream_url", "library"):
            conn.execute(sa.text(f"ALTER TABLE media_items DROP COLUMN {column}"))
        conn.execute(sa.text("INSERT INTO media_items (external_id, media_type, title, visibility, created_at,"
                             " updated_at) VALUES ('old', 'VIDEO', 'Old', 'public', '2025-01-01 00:00:00',"
                             " '2025-01-01 00:00:00')"))
    outcome = schema_version.upgrade(engine)
    assert outcome.before_label == schema_version.PRE_MIGRATION_SCHEMA and outcome.changed
    store = CatalogStore(engine)
    columns = {c["name"] for c in sa.inspect(engine).get_columns("media_items")}
    assert {"captions", "stream_url", "library"} <= columns
    old_item = store.get("old")
    assert old_item.title == "Old" and old_item.captions == () and old_item.stream_url is None
    assert old_item.library == "default"
    # Idempotent: a second upgrade adds nothing, and the new fields are usable at once.
    assert not schema_version.upgrade(engine).changed
    assert {c["name"] for c in sa.inspect(engine).get_columns("media_items")} == columns
    (item,), _ = validate_rows([VIDEO | {"external_id": "old", "captions": [EN]}])
    assert store.upsert([item]).updated == 1
    assert store.get("old").captions[0].srclang == "en"
    # What the baseline took over is the declared schema, not an approximation of it.
    assert schema_differences(engine) == []
    engine.dispose()


def test_an_upgrade_that_fails_part_way_leaves_the_database_as_it_was(empty_database_url, monkeypatch):
    engine = create_catalog_engine(empty_database_url)
    with engine.begin() as conn:
        # A jobs table of another shape: the baseline has made media_items by the time its
        # index on jobs fails.
        conn.execute(sa.text("CREATE TABLE jobs (id INTEGER PRIMARY KEY, state VARCHAR(16))"))
    with pytest.raises(sa.exc.DBAPIError, match="priority"):
        schema_version.upgrade(engine)
    assert sa.inspect(engine).get_table_names() == ["jobs"]
    assert schema_version.current_revision(engine) is None

    monkeypatch.setenv("OEMBED_DATABASE_URL", empty_database_url)
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: database error, schema unchanged: ") and "Traceback" not in result.output
    assert sa.inspect(engine).get_table_names() == ["jobs"]
    engine.dispose()


def test_two_upgrades_at_once_take_turns(empty_database_url):
    """Two deploy scripts running `db upgrade` on one database at the same moment: one
    makes the schema, the other then finds it made (processes, as Alembic keeps its
    migration context in module globals: one process upgrades one database at a time)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OEMBED_", "HUBSPOT_"))}
    env["OEMBED_DATABASE_URL"] = empty_database_url
    processes = [subprocess.Popen([sys.executable, "-m", "oembed_server.cli", "db", "upgrade"], env=env, cwd=REPO,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(*p.communicate(timeout=60), p.returncode) for p in processes]
    assert [code for _, _, code in results] == [0, 0], results
    head = schema_version.head_revision()
    assert sorted(out for out, _, _ in results) == [f"Database already at the newest revision ({head}).\n",
                                                    f"Database upgraded from no schema to {head}.\n"]
    engine = create_catalog_engine(empty_database_url)
    assert set(sa.inspect(engine).get_table_names()) == set(metadata.tables) | {"alembic_version"}
    engine.dispose()
