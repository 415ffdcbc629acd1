"""Shared fixtures: every test builds its own app on its own database (flaskr style)."""
from __future__ import annotations

import os
import socket
import uuid
from typing import NoReturn

import pytest
import sqlalchemy as sa

from oembed_server import create_app
from oembed_server.config import parse_database_url

PUBLIC_URL = "http://media.test"
SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"
_RAW_POSTGRES_URL = os.environ.get("OEMBED_TEST_POSTGRES_URL")
POSTGRES_URL = parse_database_url(_RAW_POSTGRES_URL, "OEMBED_TEST_POSTGRES_URL") if _RAW_POSTGRES_URL else None
# In CI (CI=true) a missing browser, database or Node is a broken setup, not a pass: those
# tests must have run. OEMBED_TEST_REQUIRE_SERVICES=1 asks the same of a local run.
REQUIRE_SERVICES = (os.environ.get("CI", "").lower() == "true"
                    or os.environ.get("OEMBED_TEST_REQUIRE_SERVICES") == "1")


def free_port() -> int:
    """A loopback port nothing listens on, for a server a test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service_missing(reason: str) -> NoReturn:
    """Skip a test whose outside service is missing, or fail it where every test must run."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason}; required here (CI=true or OEMBED_TEST_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch):
    # A developer's own OEMBED_/HUBSPOT_ settings must not leak into tests.
    for name in list(os.environ):
        if name.startswith(("OEMBED_", "HUBSPOT_")) and name != "OEMBED_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'catalog.sqlite3'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """A fresh, empty catalog database on each engine available."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
        return
    if not POSTGRES_URL:
        service_missing("OEMBED_TEST_POSTGRES_URL is not set (tests/run_all.sh starts PostgreSQL)")
    schema = "t_" + uuid.uuid4().hex[:16]
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    # Each test gets its own schema, so parallel workers never see each other's rows.
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def make_app(database_url: str, **overrides):
    config = {
        "OEMBED_DATABASE_URL": database_url,
        "OEMBED_PUBLIC_URL": PUBLIC_URL,
        "OEMBED_SECRET_KEY": SECRET_KEY,
        "TESTING": True,
    } | overrides
    return create_app(config)


@pytest.fixture
def app(sqlite_url):
    app = make_app(sqlite_url)
    yield app
    app.extensions["catalog"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def sample_app(app):
    """The app with the sample media loaded, as `oembed-server serve` shows it."""
    from oembed_server.sample_media import load_sample_media
    load_sample_media(app.extensions["catalog"], PUBLIC_URL)
    return app


@pytest.fixture
def sample_client(sample_app):
    return sample_app.test_client()
