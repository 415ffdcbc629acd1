"""The shared fixtures (a pytest plugin, loaded by tests/conftest.py): every test builds its
own app on its own database (flaskr style)."""
from __future__ import annotations

import os

import pytest

from oembed_server.storage.catalog_store import CatalogStore
from oembed_server.usecases.sample_media import load_sample_media
from tests.support.apps import command_runner, make_app
from tests.support.databases import migrated_sqlite_url, postgres_schema_url, upgrade
from tests.support.environment import POSTGRES_MISSING, POSTGRES_URL, PUBLIC_URL, service_missing
from tests.support.event_reports import SERVED_PORTAL


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch):
    # A developer's own OEMBED_/HUBSPOT_ settings must not leak into tests.
    for name in list(os.environ):
        if name.startswith(("OEMBED_", "HUBSPOT_")) and name != "OEMBED_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """A fresh SQLite catalog database at the newest schema."""
    return migrated_sqlite_url(tmp_path / "catalog.sqlite3")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request, tmp_path):
    """A database with nothing in it, not even a schema, on each engine available."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    if not POSTGRES_URL:
        service_missing(POSTGRES_MISSING)
    yield from postgres_schema_url(POSTGRES_URL)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """A fresh catalog database at the newest schema, on each engine available."""
    if request.param == "sqlite":
        yield migrated_sqlite_url(tmp_path / "catalog.sqlite3")
        return
    yield from _migrated_postgres_url()


def _migrated_postgres_url():
    if not POSTGRES_URL:
        service_missing(POSTGRES_MISSING)
    for url in postgres_schema_url(POSTGRES_URL):
        upgrade(url)
        yield url


@pytest.fixture
def postgres_url():
    """A fresh catalog database at the newest schema on PostgreSQL alone (a schema of its own),
    for what only PostgreSQL does."""
    yield from _migrated_postgres_url()


@pytest.fixture
def postgres_events_app(postgres_url):
    yield from events_app_on(postgres_url)


def events_app_on(database_url: str):
    """The app on ``database_url``, serving the events tests' portal, with the sample media
    (for a fixture to ``yield from``: the catalog is disposed after the test)."""
    app = make_app(database_url, **SERVED_PORTAL)
    load_sample_media(app.extensions["catalog"], PUBLIC_URL)
    yield app
    app.extensions["catalog"].dispose()


@pytest.fixture
def store(database_url):
    """An empty catalog on each engine."""
    store = CatalogStore.from_url(database_url)
    yield store
    store.dispose()


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
    return command_runner(app)


@pytest.fixture
def sample_app(app):
    """The app with the sample media loaded, as `oembed-server serve` shows it."""
    load_sample_media(app.extensions["catalog"], PUBLIC_URL)
    return app


@pytest.fixture
def sample_client(sample_app):
    return sample_app.test_client()
