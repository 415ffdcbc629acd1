"""POST /events: what is accepted lands in the outbox once; what is forged, malformed,
oversized or flooding is refused with the right status and leaves nothing behind."""
from __future__ import annotations

import io
import json
import os
import time

import pytest
import sqlalchemy as sa
from werkzeug.test import create_environ

from oembed_server.domain.player_tokens import PlayerClaims, issue_token
from oembed_server.storage.job_queue import jobs
from oembed_server.storage.play_sessions import close_due_sessions, play_sessions
from oembed_server.usecases.sample_media import load_sample_media
from tests.support.apps import make_app
from tests.support.environment import PUBLIC_URL, SECRET_KEY
from tests.support.event_reports import SERVED_PORTAL, SESSION, attention, body, player_token
from tests.support.fixtures import events_app_on


@pytest.fixture
def events_app(database_url):
    yield from events_app_on(database_url)


@pytest.fixture
def client(events_app):
    return events_app.test_client()


def outbox(app) -> list[dict]:
    with app.extensions["catalog"].engine.connect() as conn:
        rows = conn.execute(sa.select(jobs).order_by(jobs.c.id)).mappings().all()
    return [dict(r, payload=json.loads(r["payload"])) for r in rows]


def session_row(app, session_id: str = SESSION) -> dict | None:
    with app.extensions["catalog"].engine.connect() as conn:
        row = conn.execute(sa.select(play_sessions).where(play_sessions.c.session_id == session_id)).mappings().first()
    return dict(row) if row else None


def test_played_report_is_committed_to_the_outbox(client, events_app):
    response = client.post("/events", json=body(player_token(client)))
    assert response.status_code == 202 and response.json == {"accepted": True, "duplicate": False, "closed": False}
    [job] = outbox(events_app)
    assert (job["kind"], job["portal_id"], job["priority"], job["state"]) == ("event.played", 42, 10, "queued")
    assert job["payload"] | {"occurred_at_ms": 0} == {
        "kind": "played", "external_id": "sample-video", "media_type": "VIDEO", "session_id": SESSION,
        "occurred_at_ms": 0, "portal_id": 42, "contact_utk": "utk-1", "page_id": "77", "state": "STARTED",
        "page_url": "https://www.example.com/landing", "page_name": "Landing"}
    assert session_row(events_app)["state"] == "STARTED"


def test_beacon_text_plain_is_accepted(client, events_app):
    token = player_token(client)
    response = client.post("/events", data=json.dumps(body(token, kind="quartile", state=..., playedPercent=0)),
                           content_type="text/plain;charset=UTF-8")
    assert response.status_code == 202
    assert [j["payload"]["played_percent"] for j in outbox(events_app)] == [0]


def test_replayed_bodies_are_stored_once(client, events_app):
    token = player_token(client)
    for _ in range(3):
        assert client.post("/events", json=body(token)).status_code == 202
        assert client.post("/events", json=body(token, kind="quartile", state=..., playedPercent=25)).status_code == 202
    assert client.post("/events", json=body(token)).json["duplicate"] is True
    assert sorted(j["kind"] for j in outbox(events_app)) == ["event.played", "event.quartile"]


def test_attention_is_one_row_updated_in_place_then_one_job(client, events_app):
    token = player_token(client)
    client.post("/events", json=body(token))
    for spans in ([1, 1, 0, 0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0, 0, 0, 0]):
        assert client.post("/events", json=attention(token, spans)).status_code == 202
    row = session_row(events_app)
    assert json.loads(row["spans"]) == [1, 1, 1, 1, 0, 0, 0, 0, 0]  # a late, older update cannot shrink it
    assert [j["kind"] for j in outbox(events_app)] == ["event.played"]

    final = client.post("/events", data=json.dumps(attention(token, [1, 1, 1, 1, 1, 2, 2, 1, 1], final=True)),
                        content_type="text/plain")
    assert final.json["closed"] is True
    late = client.post("/events", json=attention(token, [3] * 9, final=True))
    assert late.status_code == 202 and late.json["duplicate"] is True
    [job] = [j for j in outbox(events_app) if j["kind"] == "event.attention"]
    assert (job["priority"], job["payload"]["spans"], job["payload"]["contact_utk"]) == (
        20, [1, 1, 1, 1, 1, 2, 2, 1, 1], "utk-1")
    assert session_row(events_app)["percent_played"] == 100.0


def test_idle_sessions_close_into_one_attention_job(client, events_app):
    token = player_token(client)
    client.post("/events", json=attention(token, [1, 1, 0, 0, 0, 0, 0, 0, 0]))
    client.post("/events", json=attention(token, [0] * 9, sessionId="nothing-played-0123456"))
    engine = events_app.extensions["catalog"].engine
    now = time.time()
    with engine.begin() as conn:
        assert close_due_sessions(conn, now=now, idle_seconds=1800) == 0  # not idle yet
    with engine.begin() as conn:
        assert close_due_sessions(conn, now=now + 1801, idle_seconds=1800) == 2
    with engine.begin() as conn:
        assert close_due_sessions(conn, now=now + 3600, idle_seconds=1800) == 0
    # The session that played nothing closes without an event.
    assert [(j["kind"], j["payload"]["spans"]) for j in outbox(events_app)] == [
        ("event.attention", [1, 1, 0, 0, 0, 0, 0, 0, 0])]


@pytest.mark.parametrize("fields, field", [
    ({"playedPercent": 50}, "playedPercent"),
    ({"sessionId": "x"}, "sessionId"),
    ({"sessionId": ["not", "hashable"]}, "sessionId"),
    ({"occurredTimestamp": 1}, "occurredTimestamp"),
    ({"occurredTimestamp": int(time.time() * 1000) + 86_400_000}, "occurredTimestamp"),
    ({"pageUrl": "not a url"}, "pageUrl"),
    ({"state": "VIEWED"}, "state"),
])
def test_malformed_reports_get_400_naming_the_field(client, events_app, fields, field):
    response = client.post("/events", json=body(player_token(client), **fields))
    assert response.status_code == 400 and response.json["field"] == field
    assert response.json["error"].startswith(f"{field}: ")
    assert outbox(events_app) == [] and session_row(events_app) is None


def test_body_must_be_json_of_a_known_type(client):
    assert client.post("/events", data="{not json", content_type="text/plain").json["field"] == "body"
    assert client.post("/events", data="{}", content_type="application/x-www-form-urlencoded").status_code == 415


def test_forged_reports_are_refused(client, events_app):
    token = player_token(client)
    assert client.post("/events", json=body(None)).status_code == 403                      # no token
    assert client.post("/events", json=body(token + "x")).status_code == 403               # tampered
    other = player_token(client, "/embed/sample-audio?hs_portal_id=42")
    response = client.post("/events", json=body(other))                                    # another item's token
    assert response.status_code == 403 and response.json["field"] == "token"
    response = client.post("/events", json=body(token, portalId=43))                       # another portal
    assert response.status_code == 403 and response.json["field"] == "portalId"
    foreign = issue_token("another-apps-secret-key-0123456789abcdef", PlayerClaims("sample-video", "VIDEO", 42, False))
    assert client.post("/events", json=body(foreign)).status_code == 403
    assert outbox(events_app) == []


def test_expired_token_is_refused(client, events_app, monkeypatch):
    from itsdangerous.timed import TimestampSigner
    claims = PlayerClaims("sample-video", "VIDEO", 42, False)
    issued_at = int(time.time()) - 49 * 3600
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: issued_at)
    old = issue_token(SECRET_KEY, claims)
    monkeypatch.undo()
    response = client.post("/events", json=body(old))
    assert response.status_code == 403 and outbox(events_app) == []
    assert client.post("/events", json=body(issue_token(SECRET_KEY, claims))).status_code == 202


def test_a_session_id_cannot_be_reused_for_another_item(client, events_app):
    client.post("/events", json=body(player_token(client)))
    audio = player_token(client, "/embed/sample-audio?hs_portal_id=42")
    response = client.post("/events", json=body(audio, externalId="sample-audio"))
    assert response.status_code == 409 and response.json["field"] == "sessionId"
    assert len(outbox(events_app)) == 1


def test_megabyte_body_is_refused_unread(client, events_app):
    token = player_token(client)
    huge = json.dumps(body(token, pageName="x" * 1_000_000))
    assert client.post("/events", data=huge, content_type="application/json").status_code == 413
    # A chunked body has no Content-Length; gunicorn marks its stream terminated, and the
    # limit then stops the read.
    chunked = client.post("/events", input_stream=io.BytesIO(huge.encode()), content_type="application/json",
                          headers={"Transfer-Encoding": "chunked"}, environ_overrides={"wsgi.input_terminated": True})
    assert chunked.status_code == 413
    assert outbox(events_app) == []


def test_dnt_stores_nothing_that_identifies_the_visitor(client, events_app):
    dnt_token = player_token(client, "/embed/sample-video?hs_portal_id=42&dnt=1")
    client.post("/events", json=body(dnt_token, sessionId="dnt-token-0123456789"))
    client.post("/events", json=body(player_token(client), sessionId="dnt-body-01234567890", dnt=True))
    client.post("/events", json=body(player_token(client), sessionId="dnt-gpc-012345678901"), headers={"Sec-GPC": "1"})
    jobs_stored = outbox(events_app)
    assert len(jobs_stored) == 3
    for job in jobs_stored:
        assert not {"contact_utk", "page_id", "page_url", "page_name", "hsenc"} & set(job["payload"])
        assert job["payload"]["portal_id"] == 42
    assert session_row(events_app, "dnt-gpc-012345678901")["contact_utk"] is None


def test_per_client_limit(database_url):
    app = make_app(database_url, OEMBED_EVENTS_CLIENT_RATE=5, **SERVED_PORTAL)
    load_sample_media(app.extensions["catalog"], PUBLIC_URL)
    client = app.test_client()
    token = player_token(client)
    statuses = [client.post("/events", json=body(token, sessionId=f"client-limit-{n:010d}")).status_code
                for n in range(8)]
    assert statuses == [202] * 5 + [429] * 3
    assert len(outbox(app)) == 5
    app.extensions["catalog"].dispose()


def test_ten_thousand_reports_from_one_session(sqlite_url):
    """A flooding session: past its report limit nothing more reaches the outbox or its row."""
    app = make_app(sqlite_url, OEMBED_EVENTS_CLIENT_RATE=0, EVENTS_SESSION_REPORT_LIMIT=50, **SERVED_PORTAL)
    load_sample_media(app.extensions["catalog"], PUBLIC_URL)
    client = app.test_client()
    token = player_token(client)
    statuses: dict[int, int] = {}

    def start_response(status, headers):
        statuses[int(status[:3])] = statuses.get(int(status[:3]), 0) + 1

    for n in range(10_000):
        report = (body(token, kind="quartile", state=..., playedPercent=(0, 25, 50, 75, 100)[n % 5]) if n % 2
                  else attention(token, [n % 7] * 9))
        # Straight through the WSGI app: the test client's response wrapping would cost
        # more than the intake itself, ten thousand times.
        environ = create_environ("/events", method="POST", data=json.dumps(report), content_type="text/plain")
        b"".join(app.wsgi_app(environ, start_response))
    assert statuses == {202: 50, 429: 9950}
    assert sorted(j["payload"]["played_percent"] for j in outbox(app)) == [0, 25, 50, 75, 100]
    assert session_row(app)["reports"] == 50
    app.extensions["catalog"].dispose()


def test_hot_path_statements_use_indexes(sqlite_url):
    """Every statement a report runs is a keyed look-up: EXPLAIN QUERY PLAN shows no scan,
    so the intake's cost does not grow with the outbox or the session table."""
    app = make_app(sqlite_url, **SERVED_PORTAL)
    load_sample_media(app.extensions["catalog"], PUBLIC_URL)
    client = app.test_client()
    token = player_token(client)
    engine = app.extensions["catalog"].engine
    statements = []

    # The intake runs precompiled SQL on the DBAPI cursor, below SQLAlchemy's events:
    # SQLite's own trace sees every statement, with its values written in.
    def trace(dbapi_connection, _record, _proxy=None):
        dbapi_connection.set_trace_callback(statements.append)

    engine.dispose()
    sa.event.listen(engine, "connect", trace)
    client.post("/events", json=body(token))
    client.post("/events", json=body(token, kind="quartile", state=..., playedPercent=0))
    client.post("/events", json=attention(token, [1] * 9, final=True))
    with engine.begin() as conn:
        close_due_sessions(conn, now=time.time(), idle_seconds=0)
    sa.event.remove(engine, "connect", trace)
    engine.dispose()

    statements = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "SELECT"))]
    heads = {" ".join(s.split()[:3]) for s in statements}
    assert {"INSERT INTO play_sessions", "INSERT INTO jobs", "UPDATE play_sessions SET"} <= heads, heads
    assert len(statements) >= 6
    with engine.connect() as conn:
        for statement in statements:
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}").all()
            details = " | ".join(row[-1] for row in plan)
            assert "SCAN" not in details.replace("SCAN CONSTANT ROW", ""), (statement, details)
    app.extensions["catalog"].dispose()


@pytest.mark.parametrize("flush_ms, syncer_flushes", [("40", True), ("0", False)])
def test_accepted_reports_reach_the_disk_within_the_flush_bound(sqlite_url, monkeypatch, flush_ms, syncer_flushes):
    """OEMBED_EVENTS_FLUSH_MS: the intake's commits skip SQLite's own flush and this
    process flushes the write-ahead log within the bound; 0 keeps SQLite flushing each
    commit before the 202 (and the syncer idle)."""
    from oembed_server.storage import wal_sync

    flushed = []
    real = os.fdatasync

    def record(fd):
        flushed.append(os.fstat(fd).st_ino)
        real(fd)

    monkeypatch.setattr(wal_sync.os, "fdatasync", record)
    app = make_app(sqlite_url, OEMBED_EVENTS_FLUSH_MS=flush_ms, **SERVED_PORTAL)
    load_sample_media(app.extensions["catalog"], PUBLIC_URL)
    client = app.test_client()
    token = player_token(client)
    for n in range(10):
        assert client.post("/events", json=body(token, sessionId=f"{SESSION}-{n}")).status_code == 202
    time.sleep(0.2)  # several bounds
    database = app.extensions["catalog"].engine.url.database
    if syncer_flushes:
        assert flushed and set(flushed) == {os.stat(f"{database}-wal").st_ino}
        assert not wal_sync.syncer_for(database, 0.04).pending
    else:
        assert flushed == []
    assert len(outbox(app)) == 10
    app.extensions["catalog"].dispose()
