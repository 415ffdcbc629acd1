"""Issue 17, item 6 (the install callback checks what HubSpot granted, and revokes a grant
it refuses or cannot store) and the provisioning half of item 2 (each sync records the
portal's CMS domains), end to end against the emulator."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import sqlalchemy as sa

from oembed_server.domain.hubspot_app import REQUIRED_SCOPES
from oembed_server.storage.portal_hosts import FROM_HUBSPOT, FROM_OPERATOR, listed_hosts
from oembed_server.storage.portal_store import PortalStore, hubspot_portals
from tests.hubspot_emulator import LiveEmulator
from tests.support.apps import command_runner
from tests.support.portal_installs import (
    PORTAL_A,
    TEST_PORTALS,
    authorize_link,
    consent,
    install,
    item,
    make_install_app,
    run_worker,
)


@pytest.fixture
def emulator():
    with LiveEmulator(rate_interval_ms=200, test_portals=TEST_PORTALS) as live:
        yield live


@pytest.fixture
def app(emulator, sqlite_url):
    app = make_install_app(sqlite_url, emulator)
    app.extensions["catalog"].upsert([item("a-1")])
    yield app
    app.extensions["catalog"].dispose()


def stored_portals(app) -> list[int]:
    with app.extensions["catalog"].engine.connect() as conn:
        return list(conn.execute(sa.select(hubspot_portals.c.portal_id)).scalars())


def granted_refresh_tokens(emulator) -> list[str]:
    """Refresh tokens the emulator issued to installs (its own configured one aside)."""
    return [t for t, hub in emulator.state.refresh_tokens.items() if hub == PORTAL_A]


def install_with_scopes(client, emulator, scopes: list[str]):
    """An install whose admin is shown (and grants) only ``scopes``."""
    connect = client.get("/hubspot/connect")
    parts = urlsplit(authorize_link(connect.get_data(as_text=True)))
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | {"scope": " ".join(scopes)}
    link = urlunsplit(parts._replace(query=urlencode(query)))
    callback = urlsplit(consent(emulator, link, PORTAL_A))
    return client.get(f"{callback.path}?{callback.query}")


def test_a_token_information_without_app_id_is_refused_and_the_grant_revoked(app, emulator):
    """Main accepted a token whose information named no app (app_id missing) and stored it."""
    emulator.state.mangle_next("no_app_id", method="GET", path="^/oauth/v1/access-tokens/")
    response, _ = install(app.test_client(), emulator, PORTAL_A)
    assert response.status_code == 400 and "did not say which app" in response.get_data(as_text=True)
    assert stored_portals(app) == []
    assert len(emulator.state.revoked_refresh_tokens) == 1 and granted_refresh_tokens(emulator) == []


def test_a_grant_missing_a_required_scope_is_refused_and_revoked(app, emulator):
    """Main stored a grant without media_bridge.write (every event send would then fail)."""
    response = install_with_scopes(app.test_client(), emulator, ["oauth", "content", "media_bridge.read"])
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "too little access" in page and "media_bridge.write" in page
    assert stored_portals(app) == []
    assert len(emulator.state.revoked_refresh_tokens) == 1 and granted_refresh_tokens(emulator) == []
    # Every scope granted: installed, nothing revoked.
    ok = install_with_scopes(app.test_client(), emulator, list(REQUIRED_SCOPES))
    assert ok.status_code == 303 and stored_portals(app) == [PORTAL_A]
    assert len(emulator.state.revoked_refresh_tokens) == 1 and len(granted_refresh_tokens(emulator)) == 1


def test_a_token_of_another_app_is_revoked(emulator, sqlite_url):
    other = make_install_app(sqlite_url, emulator, HUBSPOT_APP_ID="9999")
    response, _ = install(other.test_client(), emulator, PORTAL_A)
    assert response.status_code == 400 and "another app" in response.get_data(as_text=True)
    assert granted_refresh_tokens(emulator) == [] and len(emulator.state.revoked_refresh_tokens) == 1
    other.extensions["catalog"].dispose()


def test_an_install_that_cannot_be_stored_is_revoked_at_hubspot(app, emulator, monkeypatch):
    """The code was exchanged, then storing failed: main left HubSpot with a live grant that
    no record here holds; now it is revoked and the page says so."""
    def failing_install(*_args, **_kwargs):
        raise sa.exc.OperationalError("INSERT INTO hubspot_portals", {}, Exception("disk I/O error"))

    monkeypatch.setattr(PortalStore, "install", failing_install)
    response, _ = install(app.test_client(), emulator, PORTAL_A)
    assert response.status_code == 503 and "withdrawn at HubSpot" in response.get_data(as_text=True)
    assert granted_refresh_tokens(emulator) == [] and len(emulator.state.revoked_refresh_tokens) == 1
    assert emulator.state.spec_violations == []


def test_each_sync_records_the_portals_cms_domains_and_keeps_the_operators(app, emulator):
    emulator.state.set_domains(PORTAL_A, ["www.portal-a.test", "Blog.Portal-A.test"])
    response, _ = install(app.test_client(), emulator, PORTAL_A)
    assert response.status_code == 303
    run_worker(app, emulator)
    engine = app.extensions["catalog"].engine
    with engine.connect() as conn:
        assert listed_hosts(conn, PORTAL_A) == [("blog.portal-a.test", FROM_HUBSPOT),
                                               ("www.portal-a.test", FROM_HUBSPOT)]
    runner = command_runner(app)
    assert runner.invoke(args=["portals", "domains", str(PORTAL_A), "add", "shop.portal-a.test"]).exit_code == 0

    # The portal's domains change in HubSpot; a resync replaces HubSpot's, keeps the operator's.
    emulator.state.set_domains(PORTAL_A, ["www.portal-a.test", "new.portal-a.test"])
    assert runner.invoke(args=["portals", "resync", str(PORTAL_A)]).exit_code == 0
    run_worker(app, emulator)
    listed = json.loads(runner.invoke(args=["portals", "domains", str(PORTAL_A), "list", "--json"]).output)
    assert listed["hosts"] == [{"host": "new.portal-a.test", "source": FROM_HUBSPOT},
                               {"host": "shop.portal-a.test", "source": FROM_OPERATOR},
                               {"host": "www.portal-a.test", "source": FROM_HUBSPOT}]
    reads = [r for r in emulator.state.requests if r.path == "/cms/v3/domains"]
    assert len(reads) == 2 and all(r.hub_id == PORTAL_A and r.status == 200 for r in reads)
    assert emulator.state.spec_violations == []
