"""Uninstalls end to end against the emulator: app setup subscribes to the app's uninstalls
in the Webhooks Journal (once), a customer uninstalling in the emulated HubSpot is read by
the worker at its next poll (portal disconnected, tokens forgotten, queued jobs dropped,
visitor data deleted once the retention has passed, unless it installs again first),
unreadable journal entries become dead letters, a failed read keeps the offset, and
``portals disconnect P --uninstall`` removes the app in HubSpot too."""
from __future__ import annotations

import json
import threading
import time

import pytest
import sqlalchemy as sa

from oembed_server.hubspot.webhooks_journal_api import WebhooksJournal
from oembed_server.jobs.worker import WorkerOptions, build_worker
from oembed_server.storage import app_lifecycle
from oembed_server.storage.privacy_erasure import remember_contact
from oembed_server.storage.schema import contact_utks, hubspot_portals, jobs, journal_cursors, play_sessions
from oembed_server.usecases.app_uninstalls import delete_due_visitor_data, read_journal
from tests.hubspot_emulator import LiveEmulator
from tests.support.apps import command_runner
from tests.support.event_reports import body, player_token
from tests.support.player_controls import wait_for
from tests.support.portal_installs import PORTAL_A, PORTAL_B, TEST_PORTALS, install, item, make_install_app, run_worker

RETENTION_DAYS = 30


@pytest.fixture
def emulator():
    with LiveEmulator(rate_interval_ms=200, test_portals=TEST_PORTALS) as live:
        yield live


def _app(emulator, database_url, **overrides):
    app = make_install_app(database_url, emulator, OEMBED_EVENTS_RETENTION_DAYS=str(RETENTION_DAYS), **overrides)
    app.extensions["catalog"].upsert([item("a-1")])
    return app


@pytest.fixture
def any_app(emulator, database_url):
    app = _app(emulator, database_url)
    yield app
    app.extensions["catalog"].dispose()


@pytest.fixture
def app(emulator, sqlite_url):
    app = _app(emulator, sqlite_url)
    yield app
    app.extensions["catalog"].dispose()


def installed(app, emulator, *portals):
    client = app.test_client()
    for portal in portals:
        assert install(client, emulator, portal)[0].status_code == 303
    run_worker(app, emulator)  # provisioning, app setup (the journal subscription) among it


def play(app, portal: int, session: str) -> None:
    client = app.test_client()
    token = player_token(client, f"/embed/a-1?hs_portal_id={portal}")
    answer = client.post("/events", json=body(token, externalId="a-1", portalId=portal, sessionId=session))
    assert answer.status_code == 202, answer.get_json()


def portal_row(app, portal: int) -> dict:
    with app.extensions["catalog"].engine.connect() as conn:
        return dict(conn.execute(sa.select(hubspot_portals).where(hubspot_portals.c.portal_id == portal))
                    .mappings().one())


def table(app, t, *where) -> list[dict]:
    with app.extensions["catalog"].engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(t).where(*where)).mappings()]


def journal_for(app, emulator) -> WebhooksJournal:
    worker = build_worker(app.extensions["catalog"], app.extensions["oembed_settings"])
    return WebhooksJournal(worker.portals.client_for(0))


def test_a_customers_uninstall_disconnects_the_portal_and_its_visitor_data_goes_after_the_retention(
        any_app, emulator):
    app = any_app
    installed(app, emulator, PORTAL_A, PORTAL_B)
    s = emulator.state
    assert len(s.journal.subscriptions) == 1  # app setup subscribed
    run_worker(app, emulator)
    assert len(s.journal.subscriptions) == 1 and s.count("POST", "^/webhooks-journal/subscriptions") == 1

    play(app, PORTAL_A, "sess-of-portal-a-0001")
    play(app, PORTAL_B, "sess-of-portal-b-0001")
    s.uninstall(PORTAL_A)  # the customer removes the app in HubSpot
    before = time.time()
    run_worker(app, emulator)

    row = portal_row(app, PORTAL_A)
    assert row["token_state"] == "disconnected" and row["ciphertext"] is None
    assert row["state_reason"] == "uninstalled in HubSpot"
    due = row["visitor_data_delete_after"]
    assert before + RETENTION_DAYS * 86400 <= due <= time.time() + RETENTION_DAYS * 86400
    assert portal_row(app, PORTAL_B)["token_state"] == "connected"
    # A's queued played event was dropped before the worker claimed it; B's was delivered.
    assert table(app, jobs, jobs.c.portal_id == PORTAL_A, jobs.c.state.in_(("queued", "held"))) == []
    assert table(app, jobs, jobs.c.portal_id == PORTAL_A, jobs.c.kind.like("event.%")) == []
    delivered = [e["event"]["sessionId"] for e in s.events]
    assert delivered == ["sess-of-portal-b-0001"]
    with app.extensions["catalog"].engine.connect() as conn:
        assert app_lifecycle.cursor(conn).last_offset == s.journal.files[-1].offset

    # The plays stay for the retention period (the customer may come back), then go, with
    # what HubSpot told us of A's visitors (B's stays).
    assert len(table(app, play_sessions, play_sessions.c.portal_id == PORTAL_A)) == 1
    engine = app.extensions["catalog"].engine
    with engine.begin() as conn:
        remember_contact(conn, PORTAL_A, "utk-1", 901)
        remember_contact(conn, PORTAL_B, "utk-1", 902)
    assert delete_due_visitor_data(engine, time.time()) == []
    [deleted] = delete_due_visitor_data(engine, time.time() + RETENTION_DAYS * 86400 + 1)
    assert (deleted.portal_id, deleted.play_sessions, deleted.hubspot_contact_utks) == (PORTAL_A, 1, 1)
    assert [r["portal_id"] for r in table(app, contact_utks)] == [PORTAL_B]
    assert table(app, play_sessions, play_sessions.c.portal_id == PORTAL_A) == []
    assert len(table(app, play_sessions, play_sessions.c.portal_id == PORTAL_B)) == 1
    assert portal_row(app, PORTAL_A)["visitor_data_delete_after"] is None
    assert s.spec_violations == []


def test_installing_again_keeps_the_data_and_the_old_uninstall_changes_nothing(app, emulator):
    installed(app, emulator, PORTAL_A)
    play(app, PORTAL_A, "sess-of-portal-a-0002")
    emulator.state.uninstall(PORTAL_A)
    run_worker(app, emulator)
    assert portal_row(app, PORTAL_A)["token_state"] == "disconnected"
    installed(app, emulator, PORTAL_A)  # the customer comes back
    row = portal_row(app, PORTAL_A)
    assert row["token_state"] == "connected" and row["visitor_data_delete_after"] is None
    # Reading the whole journal again (HubSpot forgot our offset, say) finds the old uninstall stale.
    engine = app.extensions["catalog"].engine
    with engine.begin() as conn:
        conn.execute(journal_cursors.update().values(last_offset=None))
    report = read_journal(engine, journal_for(app, emulator), app.extensions["oembed_settings"])
    assert report.outcomes == {"uninstall_stale": 1}
    assert portal_row(app, PORTAL_A)["token_state"] == "connected"
    assert delete_due_visitor_data(engine, time.time() + RETENTION_DAYS * 86400 + 1) == []
    assert len(table(app, play_sessions, play_sessions.c.portal_id == PORTAL_A)) == 1


def test_unreadable_entries_become_dead_letters_and_reading_goes_on(app, emulator):
    installed(app, emulator, PORTAL_A, PORTAL_B)
    journal = emulator.state.journal
    journal.append_raw(b"<html>Service Unavailable</html>")
    journal.append_raw(json.dumps([{"portalId": PORTAL_A, "note": "no action"},
                                   {"portalId": 999_999, "action": "APP_UNINSTALL"},
                                   {"portalId": PORTAL_A, "action": "APP_INSTALL"}]).encode())
    emulator.state.uninstall(PORTAL_B)
    report = read_journal(app.extensions["catalog"].engine, journal_for(app, emulator),
                          app.extensions["oembed_settings"])
    assert report.files == 3
    assert report.outcomes == {"dead_letter": 2, "uninstall_unknown_portal": 1, "install": 1,
                               "uninstall_applied": 1}
    with app.extensions["catalog"].engine.connect() as conn:
        letters = app_lifecycle.dead_letters(conn)
    assert [letter["raw"] for letter in reversed(letters)] == [
        "<html>Service Unavailable</html>", json.dumps({"note": "no action", "portalId": PORTAL_A},
                                                      separators=(",", ":"))]
    assert portal_row(app, PORTAL_A)["token_state"] == "connected"
    assert portal_row(app, PORTAL_B)["token_state"] == "disconnected"
    status = command_runner(app).invoke(args=["worker", "--status", "--json"])
    assert json.loads(status.output)["journal"]["deadLetters"] == 2, status.output
    text = command_runner(app).invoke(args=["worker", "--status"]).output
    assert "2 unreadable entries kept" in text and "Service Unavailable" in text
    from oembed_server.usecases.service_metrics import DatabaseCollector
    families = {f.name: f for f in DatabaseCollector(app.extensions["catalog"].engine).collect()}
    assert families["oembed_journal_dead_letters"].samples[0].value == 2


def test_a_failed_read_keeps_the_offset_for_the_next_poll(app, emulator, monkeypatch):
    from tests.hubspot_emulator import journal as emulated_journal
    installed(app, emulator, PORTAL_A)
    engine = app.extensions["catalog"].engine
    with engine.connect() as conn:
        offset = app_lifecycle.cursor(conn).last_offset
    emulator.state.uninstall(PORTAL_A)
    monkeypatch.setattr(emulated_journal, "FILE_URL_LIFETIME_S", -60)  # every file URL comes back expired
    worker = build_worker(app.extensions["catalog"], app.extensions["oembed_settings"])
    assert worker.read_journal() is None  # logged, retried at the next poll
    emulator.state.fail_next(503, times=50, path="^/webhooks-journal/journal/")
    assert worker.read_journal() is None
    with engine.connect() as conn:
        assert app_lifecycle.cursor(conn).last_offset == offset
    assert portal_row(app, PORTAL_A)["token_state"] == "connected"
    monkeypatch.undo()
    emulator.state.faults.clear()
    assert worker.read_journal().outcomes == {"uninstall_applied": 1}
    assert portal_row(app, PORTAL_A)["token_state"] == "disconnected"


def test_a_running_worker_sees_the_uninstall_within_one_poll(emulator, sqlite_url):
    app = _app(emulator, sqlite_url, HUBSPOT_JOURNAL_POLL_S="0.5")
    try:
        installed(app, emulator, PORTAL_A)
        worker = build_worker(app.extensions["catalog"], app.extensions["oembed_settings"],
                              options=WorkerOptions(idle_poll_s=0.05))
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        try:
            emulator.state.uninstall(PORTAL_A)
            started = time.monotonic()
            wait_for(lambda: portal_row(app, PORTAL_A)["token_state"] == "disconnected", timeout=5)
            assert time.monotonic() - started < 0.5 + 1.0  # one poll interval, and the time to act
        finally:
            worker.stop()
            thread.join(10)
    finally:
        app.extensions["catalog"].dispose()


def test_disconnect_uninstall_removes_the_app_in_hubspot_too(app, emulator):
    installed(app, emulator, PORTAL_A, PORTAL_B)
    play(app, PORTAL_A, "sess-of-portal-a-0003")
    runner = command_runner(app)
    result = runner.invoke(args=["portals", "disconnect", str(PORTAL_A), "--uninstall", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"portalId": PORTAL_A, "uninstalled": True, "droppedJobs": 1,
                                         "visitorDataDeletedAfterDays": RETENTION_DAYS}
    s = emulator.state
    assert s.uninstalled == [PORTAL_A] and s.count("DELETE", "^/appinstalls/2026-03/external-install$") == 1
    assert portal_row(app, PORTAL_A)["token_state"] == "disconnected"
    again = runner.invoke(args=["portals", "disconnect", str(PORTAL_A), "--uninstall"])
    assert again.exit_code == 1 and "is disconnected" in again.output

    s.fail_next(500, times=50, path="^/appinstalls/")
    failed = runner.invoke(args=["portals", "disconnect", str(PORTAL_B), "--uninstall"])
    assert failed.exit_code == 1 and "nothing changed here" in failed.output
    assert portal_row(app, PORTAL_B)["token_state"] == "connected" and PORTAL_B not in s.uninstalled
    # The journal then says what we did; reading it changes nothing more.
    run_worker(app, emulator)
    assert portal_row(app, PORTAL_B)["token_state"] == "connected"
    assert s.spec_violations == []
