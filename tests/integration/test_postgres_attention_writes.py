"""On PostgreSQL a player's cumulative attention update to its open session is one UPDATE
(storage.play_sessions._store_attention) that checks, as its own conditions, everything
the transaction would read the session for. Whatever the statement cannot take (a
replay, an update out of order, a closed, erased or refused session, a stored visitor
field the final report lacks, a concurrent write that changes what it checked) goes to the
transaction, and the outcome is the one the transaction alone gives."""
from __future__ import annotations

import itertools
import json
import random
import threading
import time

import pytest
import sqlalchemy as sa

from oembed_server.domain.attention_spans import merge_spans
from oembed_server.domain.player_report import parse_report
from oembed_server.domain.session_binding import writer_digest
from oembed_server.storage import play_sessions as sessions_store
from oembed_server.storage.job_queue import jobs
from oembed_server.storage.play_sessions import close_due_sessions, play_sessions, store_report
from oembed_server.storage.report_facts import read_report_facts
from oembed_server.storage.schema import media_items
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


def _facts(catalog):
    return read_report_facts(catalog.engine, "sample-video", 42).guard


def _store(catalog, data: dict, facts=None, **limits):
    report = parse_report(data, now_ms=int(time.time() * 1000), media_type="VIDEO")
    return store_report(catalog.intake_engine, report, writer=writer_digest(data["token"], report.session_secret),
                        flush_within=0.05, facts=_facts(catalog) if facts is None else facts, **limits)


def _heads(statements: list[str]) -> list[str]:
    return [query.split()[0] for query in statements]


@pytest.fixture
def catalog(postgres_events_app):
    return postgres_events_app.extensions["catalog"]


@pytest.fixture
def token(postgres_events_app):
    return player_token(postgres_events_app.test_client())


def test_a_cumulative_update_to_an_open_session_is_one_update(postgres_events_app, monkeypatch):
    client = postgres_events_app.test_client()
    token = player_token(client)
    assert client.post("/events", json=body(token)).status_code == 202
    assert client.post("/events", json=attention(token, [1] + [0] * 8)).status_code == 202  # facts kept
    with sent_statements(monkeypatch) as statements:
        response = client.post("/events", json=attention(token, [1, 1, 1] + [0] * 6))
    assert response.status_code == 202 and response.get_json()["duplicate"] is False
    assert _heads(statements) == ["UPDATE"], statements
    row = _session(postgres_events_app.extensions["catalog"])
    assert (row["reports"], row["spans"], row["closed_at"]) == (3, "[1,1,1,0,0,0,0,0,0]", None)
    assert row["percent_played"] == pytest.approx(100 / 3)


def test_a_replay_is_answered_by_the_transaction_as_a_duplicate(catalog, token, monkeypatch):
    _store(catalog, body(token))
    assert _store(catalog, attention(token, [1, 1] + [0] * 7)).duplicate is False
    facts = _facts(catalog)
    with sent_statements(monkeypatch) as statements:
        again = _store(catalog, attention(token, [1, 1] + [0] * 7), facts)
    assert again.duplicate is True
    assert _heads(statements)[0] == "UPDATE" and len(statements) > 1, statements
    row = _session(catalog)
    assert (row["reports"], row["spans"]) == (3, "[1,1,0,0,0,0,0,0,0]")


def test_an_update_out_of_order_is_merged_by_the_transaction(catalog, token):
    _store(catalog, body(token))
    _store(catalog, attention(token, [2, 1, 1, 1] + [0] * 5))
    # A beacon from before the last update: its counts are merged in, not written over them.
    late = _store(catalog, attention(token, [1, 1, 0, 0, 1] + [0] * 4))
    assert late.duplicate is False
    assert _session(catalog)["spans"] == "[2,1,1,1,1,0,0,0,0]"


def test_a_write_that_lands_while_the_update_waits_for_the_row_is_merged(catalog, token):
    _store(catalog, body(token))
    _store(catalog, attention(token, [1] + [0] * 8))
    results: list = []
    # Another tab's update holds the session's row when this one's statement reaches it:
    # PostgreSQL checks the statement's conditions again on the row as that commit leaves it.
    with catalog.engine.connect() as other:
        other.execute(play_sessions.update().where(play_sessions.c.session_id == SESSION)
                      .values(spans="[0,0,0,0,0,0,2,2,2]", reports=play_sessions.c.reports + 1))
        writer = threading.Thread(target=lambda: results.append(
            _store(catalog, attention(token, [1, 1, 1] + [0] * 6))))
        writer.start()
        _wait_for_a_lock_wait(catalog)
        other.commit()
    writer.join(timeout=10)
    assert results and results[0].duplicate is False
    row = _session(catalog)
    assert (row["reports"], row["spans"]) == (4, "[1,1,1,0,0,0,2,2,2]")


def _wait_for_a_lock_wait(catalog, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    with catalog.engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()")).scalar_one()
            conn.rollback()
            if waiting:
                return
            time.sleep(0.01)
    raise AssertionError("the attention update never waited for the session's row")


def test_a_late_beacon_to_a_session_the_worker_closed_changes_nothing(catalog, token):
    _store(catalog, body(token))
    _store(catalog, attention(token, [1, 1] + [0] * 7))
    with catalog.engine.begin() as conn:
        assert close_due_sessions(conn, time.time() + 3600, idle_seconds=60) == 1
    accepted = _store(catalog, attention(token, [1, 1, 1, 1] + [0] * 5, final=True))
    # The worker's attention event stands, with what the session had then.
    assert (accepted.closed, accepted.duplicate, accepted.queued) == (True, True, False)
    row = _session(catalog)
    assert row["closed_at"] is not None and row["spans"] == "[1,1,0,0,0,0,0,0,0]"
    assert [job["spans"] for job in _attention_jobs(catalog)] == [[1, 1, 0, 0, 0, 0, 0, 0, 0]]


def test_an_update_to_an_erased_session_starts_a_new_one(catalog, token):
    _store(catalog, body(token))
    _store(catalog, attention(token, [1, 1] + [0] * 7))
    with catalog.engine.begin() as conn:  # a privacy deletion of the visitor's sessions
        conn.execute(play_sessions.delete().where(play_sessions.c.session_id == SESSION))
    _store(catalog, attention(token, [0, 0, 1] + [0] * 6))
    row = _session(catalog)
    assert (row["reports"], row["spans"], row["started_day"]) == (1, "[0,0,1,0,0,0,0,0,0]", None)


def test_the_final_update_queues_its_attention_event_in_the_same_statement(catalog, token, monkeypatch):
    # The played report carried no page name; a later update names one: the job has it.
    _store(catalog, body(token, pageName=...))
    _store(catalog, attention(token, [1, 1] + [0] * 7, pageName=...))
    assert _store(catalog, attention(token, [1, 1, 1] + [0] * 6, pageName="Later")).closed is False
    facts = _facts(catalog)
    with sent_statements(monkeypatch) as statements:
        accepted = _store(catalog, attention(token, [2, 1, 1] + [0] * 6, pageName="Later", final=True), facts)
    assert (accepted.queued, accepted.closed, accepted.duplicate) == (True, True, False)
    assert _heads(statements) == ["WITH"], statements
    [job] = _attention_jobs(catalog)
    assert job["spans"] == [2, 1, 1, 0, 0, 0, 0, 0, 0] and job["session_id"] == SESSION
    assert (job["page_name"], job["contact_utk"], job["page_id"]) == ("Later", "utk-1", "77")
    row = _session(catalog)
    assert row["reports"] == 4 and row["closed_at"] is not None and row["page_name"] == "Later"
    # A replay of the final update finds the session closed: nothing more is queued.
    again = _store(catalog, attention(token, [2, 1, 1] + [0] * 6, final=True))
    assert (again.closed, again.duplicate, again.queued) == (True, True, False)
    assert len(_attention_jobs(catalog)) == 1


def test_a_final_update_without_a_stored_visitor_field_queues_the_stored_one(catalog, token):
    _store(catalog, body(token, pageName="First"))
    accepted = _store(catalog, attention(token, [1, 1, 1] + [0] * 6, pageName=..., final=True))
    assert (accepted.queued, accepted.closed) == (True, True)
    # The session keeps the page name it had; the job says what the session says.
    [job] = _attention_jobs(catalog)
    assert job["page_name"] == "First" == _session(catalog)["page_name"]


def test_another_players_update_is_refused_and_writes_nothing(catalog, token):
    _store(catalog, body(token))
    _store(catalog, attention(token, [1] + [0] * 8))
    with pytest.raises(sessions_store.SessionRefused) as refused:
        _store(catalog, attention(token, [1, 1, 1] + [0] * 6, sessionSecret="another-players-secret-0123456"))
    assert (refused.value.status, refused.value.field) == (409, "sessionSecret")
    row = _session(catalog)
    assert (row["reports"], row["spans"]) == (2, "[1,0,0,0,0,0,0,0,0]")


def test_a_session_at_its_report_limit_takes_no_update(catalog, token):
    _store(catalog, body(token))
    _store(catalog, attention(token, [1] + [0] * 8), report_limit=3)
    _store(catalog, attention(token, [1, 1] + [0] * 7), report_limit=3)
    with pytest.raises(sessions_store.SessionRefused) as refused:
        _store(catalog, attention(token, [1, 1, 1] + [0] * 6), report_limit=3)
    assert refused.value.status == 429
    assert _session(catalog)["reports"] == 3


def _begun_ago(catalog, seconds: float) -> None:
    with catalog.engine.begin() as conn:
        conn.execute(play_sessions.update().where(play_sessions.c.session_id == SESSION)
                     .values(first_seen_at=time.time() - seconds))


def test_the_update_claims_no_more_playback_than_the_session_has_had_time_for(catalog, token, monkeypatch):
    _store(catalog, body(token))
    # 9 spans x 300 plays is 2,700 s: a session of this 8 s media needs about 40 s for that at
    # 16x (with its 120 s of slack).
    heavy = [300] * 9
    _begun_ago(catalog, 10)
    with pytest.raises(sessions_store.SessionRefused) as refused:
        _store(catalog, attention(token, heavy))
    assert refused.value.field == "spans"
    _begun_ago(catalog, 60)
    facts = _facts(catalog)
    with sent_statements(monkeypatch) as statements:
        assert _store(catalog, attention(token, heavy), facts).duplicate is False
    assert _heads(statements) == ["UPDATE"]
    assert json.loads(_session(catalog)["spans"]) == heavy


def test_an_update_checked_against_a_duration_the_catalog_has_since_changed_is_admitted_again(
        postgres_events_app, token):
    client = postgres_events_app.test_client()
    catalog = postgres_events_app.extensions["catalog"]
    assert client.post("/events", json=body(token)).status_code == 202
    assert client.post("/events", json=attention(token, [1] + [0] * 8)).status_code == 202  # facts kept
    with catalog.engine.begin() as conn:  # re-encoded at another length
        conn.execute(media_items.update().where(media_items.c.external_id == "sample-video")
                     .values(duration_ms=60_000))
    response = client.post("/events", json=attention(token, [1, 1] + [0] * 7))
    assert response.status_code == 400 and response.get_json()["field"] == "durationSeconds"
    assert _session(catalog)["spans"] == "[1,0,0,0,0,0,0,0,0]"


def test_the_statements_spans_condition_is_merge_spans(catalog, token):
    """The SQL condition is true exactly when merging the sent spans into the stored ones
    gives the sent ones and changes what is stored (which is when the statement may write)."""
    _store(catalog, body(token))
    sent = sa.bindparam("sent")
    condition = sa.select(sessions_store._spans_extended(sent)).where(play_sessions.c.session_id == SESSION)
    pick = random.Random(20261204)
    lists = [[pick.randrange(4) for _ in range(pick.randrange(1, 5))] for _ in range(120)]
    cases = [(None, [1])] + list(itertools.product([None, [], *lists[:15]], lists[15:35]))
    cases += [(stored, [max(a, pick.randrange(4)) for a in stored]) for stored in lists]  # extensions
    # A long media item's 100 spans: one count lower anywhere is an update out of order.
    long = [pick.randrange(3) for _ in range(100)]
    cases += [(long, [a + 1 for a in long]), (long, long[:99] + [long[99] - 1]), (long, [0] + long[1:])]
    with catalog.engine.connect() as conn:
        for stored, update in cases:
            conn.execute(play_sessions.update().where(play_sessions.c.session_id == SESSION)
                         .values(spans=None if stored is None else json.dumps(stored)))
            expected = merge_spans(stored, update) == update and update != stored
            assert conn.execute(condition, {"sent": json.dumps(update)}).scalar_one() is expected, (stored, update)
        conn.rollback()
