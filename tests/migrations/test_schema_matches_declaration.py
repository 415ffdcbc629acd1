"""The migrations make the declared schema: an empty database upgraded to the newest
revision differs in nothing from ``storage.schema`` on either engine, so a table change
without its migration fails here. And the comparison sees what Alembic alone would miss."""
from __future__ import annotations

import sqlalchemy as sa

from oembed_server.storage import schema_version
from oembed_server.storage.engine import create_catalog_engine
from oembed_server.storage.schema import TAKE_RATE_SLOT_FUNCTION, metadata
from tests.support.schema_check import FUNCTION_NAME, schema_differences


def test_an_empty_database_upgraded_to_the_newest_revision_is_the_declared_schema(empty_database_url):
    engine = create_catalog_engine(empty_database_url)
    outcome = schema_version.upgrade(engine)
    assert (outcome.before, outcome.after, outcome.before_label) == (
        None, schema_version.head_revision(), schema_version.NO_SCHEMA)
    assert set(sa.inspect(engine).get_table_names()) == set(metadata.tables) | {"alembic_version"}
    assert schema_differences(engine) == []
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            source = conn.execute(sa.text(
                "SELECT prosrc FROM pg_proc WHERE proname = :name "
                "AND pronamespace = CAST(current_schema() AS regnamespace)"), {"name": FUNCTION_NAME}).scalars().all()
        assert source == [TAKE_RATE_SLOT_FUNCTION.split("$$")[1]]
    engine.dispose()


def test_the_comparison_finds_what_alembic_cannot_compare(empty_database_url):
    """A partial index's WHERE clause and the budget function's body: a database that has
    them wrong is reported, not passed."""
    engine = create_catalog_engine(empty_database_url)
    schema_version.upgrade(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_jobs_done_at")
        conn.exec_driver_sql("CREATE INDEX ix_jobs_done_at ON jobs (updated_at) WHERE state = 'dead'")
        conn.exec_driver_sql("ALTER TABLE play_sessions ADD COLUMN note TEXT")
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(TAKE_RATE_SLOT_FUNCTION.replace("p_max int,", "p_max int, p_spare int,"))
    found = [str(difference) for difference in schema_differences(engine)]
    assert any("remove_column" in d and "note" in d for d in found), found
    assert any(d.startswith("index ix_jobs_done_at:") and "dead" in d for d in found), found
    if engine.dialect.name == "postgresql":
        # The second overload is an extra function, not the declared one replaced.
        assert f"function {FUNCTION_NAME}: 2 in the database's schema, declared is one" in found
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP FUNCTION {FUNCTION_NAME}(int, int, text, int, int, float8, bigint[])")
            conn.exec_driver_sql(TAKE_RATE_SLOT_FUNCTION.replace("v_wait > 0", "v_wait > 0.001"))
        found = [str(difference) for difference in schema_differences(engine)]
        assert f"function {FUNCTION_NAME}: its body is not the declared one" in found
    engine.dispose()
