"""The events intake on PostgreSQL: asynchronous commits on a pool of their own, flushed
to disk within OEMBED_EVENTS_FLUSH_MS by this process's flusher; durable commits
everywhere else; connections pinged only after sitting idle, and a report whose pooled
connection died in steady use accepted on a fresh one."""
from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from oembed_server.storage import engine as engine_module
from oembed_server.storage.catalog_store import CatalogStore
from oembed_server.storage.pg_commit_flush import flusher_for
from oembed_server.storage.pinned_connections import pinned_for
from oembed_server.storage.write_transaction import write_transaction
from tests.support.event_reports import attention, body, player_token

pytestmark = pytest.mark.postgres


def setting(conn, name: str) -> str:
    return conn.exec_driver_sql(f"SHOW {name}").scalar_one()


def wal_lsns(conn) -> tuple[int, int]:
    insert, flush = conn.exec_driver_sql(
        "SELECT pg_current_wal_insert_lsn() - '0/0', pg_current_wal_flush_lsn() - '0/0'").one()
    return int(insert), int(flush)


def test_only_the_intake_pool_commits_asynchronously(postgres_url):
    store = CatalogStore.from_url(postgres_url)
    try:
        with store.engine.connect() as conn:
            assert setting(conn, "synchronous_commit") == "on"
        with store.intake_engine.connect() as conn:
            assert setting(conn, "synchronous_commit") == "off"
        assert store.intake_engine is store.intake_engine  # one pool per store
    finally:
        store.dispose()


def test_an_asynchronous_commit_is_on_disk_within_the_flush_interval(postgres_url):
    store = CatalogStore.from_url(postgres_url)
    flusher = flusher_for(store.intake_engine, 0.05)
    flushes = flusher.flushes
    try:
        with write_transaction(store.intake_engine, flush_within=0.05) as conn:
            conn.exec_driver_sql("CREATE TEMP TABLE IF NOT EXISTS probe (x int)")
            conn.exec_driver_sql("INSERT INTO probe VALUES (1)")
        with store.engine.connect() as conn:
            committed_at, _ = wal_lsns(conn)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            with store.engine.connect() as conn:
                if wal_lsns(conn)[1] >= committed_at:
                    break
            time.sleep(0.01)
        else:
            pytest.fail("the commit's WAL was not flushed within 2 s")
        assert flusher.flushes > flushes
        assert not flusher.pending
    finally:
        store.dispose()


def test_a_flush_has_every_earlier_commit_on_disk_when_it_returns(postgres_url):
    store = CatalogStore.from_url(postgres_url)
    flusher = flusher_for(store.intake_engine, 60.0)  # its thread waits a minute: the test flushes
    try:
        for _ in range(5):
            with write_transaction(store.intake_engine) as conn:  # asynchronous: this pool's setting
                conn.exec_driver_sql("CREATE TEMP TABLE IF NOT EXISTS probe (x int)")
                conn.exec_driver_sql("INSERT INTO probe VALUES (1)")
                committed_at, _ = wal_lsns(conn)
            flusher.flush_now()
            with store.engine.connect() as conn:
                assert wal_lsns(conn)[1] >= committed_at
        with store.intake_engine.connect() as conn:  # the flush's setting ended with it
            assert setting(conn, "synchronous_commit") == "off"
    finally:
        store.dispose()


def test_write_transaction_on_an_ordinary_engine_makes_only_its_own_transaction_asynchronous(postgres_url):
    store = CatalogStore.from_url(postgres_url)
    try:
        with write_transaction(store.engine, flush_within=0.05) as conn:
            assert setting(conn, "synchronous_commit") == "off"
        with store.engine.connect() as conn:  # the same pooled connection, back to durable
            assert setting(conn, "synchronous_commit") == "on"
        with write_transaction(store.engine) as conn:
            assert setting(conn, "synchronous_commit") == "on"
    finally:
        store.dispose()


def backend_pids(engine) -> set[int]:
    """The server processes behind the engine's pooled connections, and those its threads
    keep out of the pool (the intake's)."""
    pids = pinned_for(engine).backend_pids()
    # None pooled yet and none kept: one is made, so that there is a server process to end.
    connections = [engine.raw_connection() for _ in range(engine.pool.checkedin() or (0 if pids else 1))]
    for connection in connections:
        cursor = connection.cursor()
        cursor.execute("SELECT pg_backend_pid()")
        pids.add(cursor.fetchone()[0])
        cursor.close()
        connection.rollback()
    for connection in connections:
        connection.close()
    return pids


def terminate(engine, pids: set[int]) -> None:
    other = sa.create_engine(engine.url)
    with other.begin() as conn:
        for pid in pids:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    other.dispose()
    time.sleep(0.1)


def test_a_connection_that_died_while_idle_in_the_pool_is_replaced_on_checkout(postgres_url, monkeypatch):
    store = CatalogStore.from_url(postgres_url)
    try:
        with store.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        terminate(store.engine, backend_pids(store.engine))
        monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_S", 0.0)
        with store.engine.connect() as conn:  # pinged, found dead, replaced: no error
            assert conn.exec_driver_sql("SELECT 1").scalar_one() == 1
    finally:
        store.dispose()


def test_a_report_whose_pooled_connection_died_in_steady_use_is_accepted_on_a_new_one(postgres_events_app):
    app = postgres_events_app
    catalog = app.extensions["catalog"]
    client = app.test_client()
    token = player_token(client)
    first = client.post("/events", json=body(token, sessionId="sess-steady-use-000001"))
    assert first.status_code == 202, first.get_data(as_text=True)
    # Within PING_AFTER_IDLE_S of its last use: the next checkout does not ping it.
    terminate(catalog.intake_engine, backend_pids(catalog.intake_engine))
    again = client.post("/events", json=body(token, sessionId="sess-steady-use-000002"))
    assert again.status_code == 202, again.get_data(as_text=True)
    with catalog.engine.connect() as conn:
        sessions = conn.execute(sa.text("SELECT count(*) FROM play_sessions WHERE session_id LIKE 'sess-steady%'"))
        assert sessions.scalar_one() == 2
    catalog.dispose()


def test_the_intake_keeps_its_connection_between_reports_and_replaces_one_that_died_idle(postgres_events_app,
                                                                                           monkeypatch):
    app = postgres_events_app
    catalog = app.extensions["catalog"]
    client = app.test_client()
    token = player_token(client)
    pinned = pinned_for(catalog.intake_engine)
    for number, kind in enumerate(("played", "attention")):
        session = f"sess-kept-conn-{number:06}"
        report = (body(token, sessionId=session) if kind == "played"
                  else attention(token, [1] + [0] * 8, sessionId=session))
        response = client.post("/events", json=report)
        assert response.status_code == 202, response.get_data(as_text=True)
    # Both kinds of write went through the one connection this thread keeps, out of the pool.
    kept = pinned.backend_pids()
    assert len(kept) == 1
    # Idle past PING_AFTER_IDLE_S and dead meanwhile: pinged, replaced, the report accepted.
    terminate(catalog.intake_engine, kept)
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_S", 0.0)
    again = client.post("/events", json=body(token, sessionId="sess-kept-conn-000002"))
    assert again.status_code == 202, again.get_data(as_text=True)
    assert pinned.backend_pids() and pinned.backend_pids() != kept
    catalog.dispose()  # hands the kept connection back to the pool, which closes it
    assert not pinned.backend_pids()
