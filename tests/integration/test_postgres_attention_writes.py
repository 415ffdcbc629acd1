"""On PostgreSQL an attention update to an open session is a read and then one write that
holds only while the session is as read (storage.play_sessions._store_attention): two
statements, no transaction around them. Whatever writes the session in between (another
report, the worker closing it) sends the update to the transaction instead, and the
outcome is the one the transaction alone would give."""
from __future__ import annotations

import json
import time

import pytest
import sqlalchemy as sa

from oembed_server.domain.player_report import parse_report
from oembed_server.domain.session_binding import writer_digest
from oembed_server.storage import play_sessions as sessions_store
from oembed_server.storage.job_queue import jobs
from oembed_server.storage.play_sessions import close_due_sessions, play_sessions, store_report
from oembed_server.storage.report_facts import read_report_facts
from tests.support.event_reports import SESSION, attention, body, player_token
from tests.support.sent_statements import sent_statements

pytestmark = pytest.mark.postgres


def _session(catalog) -> dict:
    with catalog.engine.connect() as conn:
        return dict(conn.execute(sa.select(play_sessions).where(play_sessions.c.session_id == SESSION))
                    .mappings().one())


def _attention_jobs(catalog) -> list[dict]:
    with catalog.engine.connect() as conn:
        return [json.loads(payload) for payload in conn.execute(
            sa.select(jobs.c.payload).where(jobs.c.kind == "event.attention")).scalars()]


def test_an_attention_update_of_an_open_session_is_a_read_and_one_write(postgres_events_app, monkeypatch):
    client = postgres_events_app.test_client()
    token = player_token(client)
    assert client.post("/events", json=body(token)).status_code == 202
    with sent_statements(monkeypatch) as statements:
        response = client.post("/events", json=attention(token, [1, 1, 1] + [0] * 6))
    assert response.status_code == 202 and response.get_json()["duplicate"] is False
    assert [q.split()[0] for q in statements] == ["SELECT", "UPDATE"], statements
    row = _session(postgres_events_app.extensions["catalog"])
    assert (row["reports"], row["spans"], row["closed_at"]) == (2, "[1,1,1,0,0,0,0,0,0]", None)
    assert row["percent_played"] == pytest.approx(100 / 3)


def _between_read_and_write(monkeypatch, meddle) -> list[int]:
    """Runs ``meddle()`` once, right after the optimistic path has read the session."""
    read = sessions_store._ATTENTION_READ
    calls: list[int] = []

    class Interfering:
        def execute_dbapi(self, *args, **kwargs):
            rows = read.execute_dbapi(*args, **kwargs)
            if not calls:
                calls.append(1)
                meddle()
            return rows

    monkeypatch.setattr(sessions_store, "_ATTENTION_READ", Interfering())
    return calls


def _store(catalog, data: dict, facts=None):
    report = parse_report(data, now_ms=int(time.time() * 1000), media_type="VIDEO")
    return store_report(catalog.intake_engine, report, writer=writer_digest(data["token"], report.session_secret),
                        flush_within=0.05, facts=facts)


def test_a_report_between_the_read_and_the_write_leaves_the_update_to_the_transaction(postgres_events_app,
                                                                                     monkeypatch):
    catalog = postgres_events_app.extensions["catalog"]
    token = player_token(postgres_events_app.test_client())
    _store(catalog, body(token))
    # Another tab's cumulative update lands after this one read the session.
    calls = _between_read_and_write(monkeypatch, lambda: _store(catalog, attention(token, [0] * 6 + [2, 2, 2])))
    accepted = _store(catalog, attention(token, [1, 1, 1] + [0] * 6))
    assert calls == [1] and accepted.duplicate is False
    row = _session(catalog)
    # Both updates merged, every report counted once: what one transaction after the other leaves.
    assert (row["reports"], row["spans"]) == (3, "[1,1,1,0,0,0,2,2,2]")


def test_a_session_the_worker_closed_in_between_stays_closed(postgres_events_app, monkeypatch):
    catalog = postgres_events_app.extensions["catalog"]
    token = player_token(postgres_events_app.test_client())
    _store(catalog, body(token))
    _store(catalog, attention(token, [1, 1] + [0] * 7))

    def worker_closes():
        with catalog.engine.begin() as conn:
            assert close_due_sessions(conn, time.time() + 3600, idle_seconds=60) == 1

    _between_read_and_write(monkeypatch, worker_closes)
    accepted = _store(catalog, attention(token, [1, 1, 1, 1] + [0] * 5, final=True))
    # A late beacon: the worker's attention event stands, with what the session had then.
    assert (accepted.closed, accepted.duplicate, accepted.queued) == (True, True, False)
    row = _session(catalog)
    assert row["closed_at"] is not None and row["spans"] == "[1,1,0,0,0,0,0,0,0]"
    assert [job["spans"] for job in _attention_jobs(catalog)] == [[1, 1, 0, 0, 0, 0, 0, 0, 0]]


def test_a_session_erased_in_between_is_not_written_back_with_what_was_read(postgres_events_app, monkeypatch):
    catalog = postgres_events_app.extensions["catalog"]
    token = player_token(postgres_events_app.test_client())
    _store(catalog, body(token))
    _store(catalog, attention(token, [1, 1] + [0] * 7))

    def erased():  # a privacy deletion of the visitor's sessions
        with catalog.engine.begin() as conn:
            conn.execute(play_sessions.delete().where(play_sessions.c.session_id == SESSION))

    _between_read_and_write(monkeypatch, erased)
    _store(catalog, attention(token, [0, 0, 1] + [0] * 6))
    row = _session(catalog)
    # What the transaction makes of a report to a session that is gone: a new one, with
    # nothing of the erased session's spans.
    assert (row["reports"], row["spans"], row["started_day"]) == (1, "[0,0,1,0,0,0,0,0,0]", None)


def test_the_final_update_queues_its_attention_event_with_the_session_as_written(postgres_events_app):
    catalog = postgres_events_app.extensions["catalog"]
    token = player_token(postgres_events_app.test_client())
    # The played report carried no page name; the final update names one: the job has it.
    _store(catalog, body(token, pageName=...))
    facts = read_report_facts(catalog.engine, "sample-video", 42).guard
    _store(catalog, attention(token, [1, 1] + [0] * 7, pageName=...), facts=facts)
    accepted = _store(catalog, attention(token, [1, 1, 1] + [0] * 6, pageName="Later"), facts=facts)
    assert accepted.duplicate is False and accepted.closed is False
    accepted = _store(catalog, attention(token, [2, 1, 1] + [0] * 6, final=True), facts=facts)
    assert (accepted.queued, accepted.closed, accepted.duplicate) == (True, True, False)
    [job] = _attention_jobs(catalog)
    assert job["spans"] == [2, 1, 1, 0, 0, 0, 0, 0, 0] and job["session_id"] == SESSION
    assert (job["page_name"], job["contact_utk"], job["page_id"]) == ("Later", "utk-1", "77")
    row = _session(catalog)
    assert row["reports"] == 4 and row["closed_at"] is not None and row["page_name"] == "Later"
    # A replay of the final update finds the session closed: nothing more is queued.
    again = _store(catalog, attention(token, [2, 1, 1] + [0] * 6, final=True), facts=facts)
    assert (again.closed, again.duplicate, again.queued) == (True, True, False)
    assert len(_attention_jobs(catalog)) == 1
