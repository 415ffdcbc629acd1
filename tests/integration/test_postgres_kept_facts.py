"""The events intake on PostgreSQL keeps the facts it admitted a report on and skips
reading them again: the write checks them in its own statement (storage.report_facts'
fingerprint) and writes nothing once they changed. A played report on kept facts is one
statement, one round trip."""
from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from oembed_server.domain.media import Visibility
from oembed_server.domain.oauth_tokens import OAuthTokens
from oembed_server.domain.player_report import parse_report
from oembed_server.domain.session_binding import writer_digest
from oembed_server.storage.catalog_store import CatalogStore
from oembed_server.storage.job_queue import jobs
from oembed_server.storage.play_sessions import play_sessions, store_report
from oembed_server.storage.portal_hosts import add_operator_host
from oembed_server.storage.portal_store import PortalStore
from oembed_server.storage.report_facts import FactsChanged, read_report_facts
from oembed_server.usecases.sample_media import load_sample_media
from tests.support.environment import PUBLIC_URL, SECRET_KEY
from tests.support.event_reports import attention, body, player_token
from tests.support.portal_installs import item
from tests.support.sent_statements import sent_statements

pytestmark = pytest.mark.postgres

INSTALLED = 5150


@pytest.fixture
def pg_store(postgres_url):
    pg_store = CatalogStore.from_url(postgres_url)
    load_sample_media(pg_store, PUBLIC_URL)
    pg_store.upsert([item("acme-1", library="acme")])
    yield pg_store
    pg_store.dispose()


def fingerprint(pg_store, external_id: str = "acme-1", portal: int = INSTALLED) -> str:
    guard = read_report_facts(pg_store.engine, external_id, portal).guard
    assert guard is not None  # PostgreSQL's reads always carry one
    return guard.fingerprint


def test_the_fingerprint_changes_with_every_fact_admission_reads_and_only_with_those(pg_store):
    portals = PortalStore(pg_store.engine, SECRET_KEY)
    seen = [fingerprint(pg_store)]

    def changed() -> bool:
        now = fingerprint(pg_store)
        new = now not in seen
        seen.append(now)
        return new

    assert fingerprint(pg_store) == seen[0]  # read twice, the same facts
    with pg_store.engine.begin() as conn:
        portals.install(conn, INSTALLED, "acme", OAuthTokens("at", "rt", None))
    assert changed()
    # A token refresh rewrites the ciphertext, not whether there is one: nothing to admit anew.
    with pg_store.engine.begin() as conn:
        portals.install(conn, INSTALLED, "acme", OAuthTokens("at-2", "rt-2", None))
    assert fingerprint(pg_store) == seen[-1]
    with pg_store.engine.begin() as conn:
        add_operator_host(conn, INSTALLED, "www.customer.test")
    assert changed()
    pg_store.upsert([item("acme-1", library="acme", visibility=Visibility.PRIVATE)])
    assert changed()
    pg_store.upsert([item("acme-1", library="other")])
    assert changed()
    portals.disconnect(INSTALLED, "uninstalled")
    assert changed()
    # Another item's or portal's change is not this report's.
    before = fingerprint(pg_store)
    pg_store.upsert([item("acme-2", library="acme", visibility=Visibility.PRIVATE)])
    with pg_store.engine.begin() as conn:
        add_operator_host(conn, 6160, "www.other.test")
    assert fingerprint(pg_store) == before
    # An id no item could have is looked up as "", and still fingerprinted.
    assert read_report_facts(pg_store.engine, "bad id\x00", 42).guard.external_id == ""


def _report(data: dict):
    return parse_report(data, now_ms=int(time.time() * 1000), media_type="VIDEO")


@pytest.mark.parametrize("kind", ["played", "attention"])
def test_a_write_on_facts_that_changed_writes_nothing(pg_store, kind):
    guard = read_report_facts(pg_store.engine, "sample-video", 42).guard
    pg_store.upsert([item("sample-video", visibility=Visibility.PRIVATE)])
    session = "changed-facts-session-01"
    report = _report(body("t", sessionId=session) if kind == "played"
                     else attention("t", [1, 1] + [0] * 7, sessionId=session, final=True))
    with pytest.raises(FactsChanged):
        store_report(pg_store.intake_engine, report, writer=writer_digest("t", report.session_secret), facts=guard)
    with pg_store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(play_sessions)).scalar_one() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(jobs)).scalar_one() == 0
    # The same write on the facts as they are now is taken (the intake's second admission).
    load_sample_media(pg_store, PUBLIC_URL)  # public again, as it was
    fresh = read_report_facts(pg_store.engine, "sample-video", 42).guard
    accepted = store_report(pg_store.intake_engine, report, writer=writer_digest("t", report.session_secret),
                            facts=fresh)
    assert accepted.duplicate is False


def test_a_played_report_on_kept_facts_is_one_statement(postgres_events_app, monkeypatch):
    app = postgres_events_app
    catalog = app.extensions["catalog"]
    client = app.test_client()
    token = player_token(client)
    assert client.post("/events", json=body(token, sessionId="kept-facts-warm-000001")).status_code == 202
    with sent_statements(monkeypatch) as reports:
        for number in range(2, 5):
            response = client.post("/events", json=body(token, sessionId=f"kept-facts-warm-{number:06}"))
            assert response.status_code == 202, response.get_data(as_text=True)
    assert len(reports) == 3 and all(q.startswith("WITH taken AS") for q in reports), reports
    with catalog.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(jobs)).scalar_one() == 4
    catalog.dispose()
