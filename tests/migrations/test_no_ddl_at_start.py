"""No process but `db upgrade` runs DDL: building the app, starting the worker (the rate
budget shared on PostgreSQL included) and using the token stores on a database at the
newest revision send no CREATE, ALTER or DROP, on either engine."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from oembed_server.domain.oauth_tokens import OAuthTokens
from oembed_server.jobs.worker import build_worker
from oembed_server.storage import schema_version
from oembed_server.storage.engine import create_catalog_engine
from oembed_server.storage.portal_store import PortalStore
from oembed_server.storage.token_store import token_store_for
from tests.support.apps import command_runner, make_app
from tests.support.environment import SECRET_KEY

DDL = re.compile(r"\s*(CREATE|ALTER|DROP)\b", re.IGNORECASE)


@pytest.fixture
def statements():
    """Every statement any engine of this process sends while the test runs."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa.event.listen(Engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(Engine, "before_cursor_execute", record)


def test_the_app_the_worker_and_the_stores_run_no_ddl(database_url, statements, monkeypatch):
    monkeypatch.setenv("OEMBED_DATABASE_URL", database_url)
    monkeypatch.setenv("OEMBED_SECRET_KEY", SECRET_KEY)
    app = make_app(database_url)
    assert app.test_client().get("/").status_code == 200
    result = command_runner(app).invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output

    catalog = app.extensions["catalog"]
    worker = build_worker(catalog, app.extensions["oembed_settings"])
    worker.run(once=True)
    tokens = token_store_for(catalog.engine, SECRET_KEY, "refresh-token-of-the-environment")
    tokens.save(OAuthTokens("access", "refresh", None))
    assert tokens.load() == OAuthTokens("access", "refresh", None)
    assert PortalStore(catalog.engine, SECRET_KEY).all() == []
    if catalog.engine.dialect.name == "postgresql":
        from oembed_server.storage.shared_rate_budget import SharedRateLimiter
        assert SharedRateLimiter(catalog.engine, 10, 1.0).acquire("app:4242") == 0.0

    assert len(statements) > 10
    assert [s for s in statements if DDL.match(s)] == []
    catalog.dispose()


def test_the_listener_sees_ddl_when_there_is_some(tmp_path, statements):
    # What the test above would see if a start-up path created or altered anything.
    engine = create_catalog_engine(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    schema_version.upgrade(engine)
    assert any(s.lstrip().startswith("CREATE TABLE media_items") for s in statements if DDL.match(s))
    engine.dispose()
