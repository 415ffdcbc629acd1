#!/usr/bin/env python3
"""Benchmark POST /events under gunicorn (2 workers, SQLite or PostgreSQL) against a constant endpoint.

It builds a SQLite database with the sample media, an outbox (jobs table) already holding
--outbox-rows rows (a million by default) and as many closed play sessions, starts
gunicorn, and alternates load rounds between

  * POST /events          real player reports, session after session: played, quartiles
                          0-100, three cumulative attention updates and the final one
                          (token check, validation, one committed transaction each)
  * POST /_bench/constant same app, same request bodies, a constant 202 answer

then prints throughput and p50/p99 latency, the ratio the project tracks
  throughput(/events) / throughput(constant)   target >= 0.5
and the query plans of the intake's statements on the full tables (no table scans).

Then, unless --no-worker, it runs scripts/bench_worker_budget.py: the worker's send rate
against the HubSpot emulator's budget with a backlog (goal >= 95% used, zero 429s).

With --database postgresql://user:pass@host/db the same runs on PostgreSQL, in a schema of
its own inside that database (created, filled and dropped again; nothing else is touched).

Usage: python scripts/bench_events.py [--outbox-rows 1000000] [--seconds 5] [--rounds 3] [--clients 2]
                                      [--warmup-seconds 1] [--no-flush-each] [--no-worker]
                                      [--database postgresql://...]
The load comes from separate client processes on loopback, bounded in time.
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_oembed import alternate_rounds, free_port, run_load, stop_server, wait_until_up  # noqa: E402

SECRET = "bench-secret-key-0123456789-abcdefghijklmnop"
PORTAL_ID = 42
CONSTANT_BODY = json.dumps({"accepted": True, "duplicate": False, "closed": False}).encode()


# --- the app gunicorn serves -----------------------------------------------------------
def create_bench_app():
    """The production app plus one constant endpoint as the baseline (loaded by gunicorn)."""
    from flask import Response, request

    from oembed_server import create_app

    app = create_app()

    @app.post("/_bench/constant")
    def constant():
        request.get_data()  # the same body is sent; reading it is part of any endpoint's work
        return Response(CONSTANT_BODY, status=202, content_type="application/json")

    return app


# --- data ------------------------------------------------------------------------------
def build_database(path: str, public_url: str, outbox_rows: int) -> None:
    from oembed_server.storage import schema_version
    from oembed_server.storage.catalog_store import CatalogStore
    from oembed_server.usecases.sample_media import load_sample_media

    store = CatalogStore.from_url(f"sqlite:///{path}")
    schema_version.upgrade(store.engine)
    load_sample_media(store, public_url)
    store.dispose()
    # Raw executemany: a million rows in seconds, shaped like delivered and queued events.
    conn = sqlite3.connect(path)
    now = time.time()
    payload = json.dumps({"kind": "quartile", "external_id": "sample-video", "media_type": "VIDEO",
                          "session_id": "x" * 22, "occurred_at_ms": int(now * 1000), "played_percent": 25})
    batch = 50_000
    for start in range(0, outbox_rows, batch):
        numbers = range(start, min(start + batch, outbox_rows))
        rows = [("event.quartile", PORTAL_ID, 30, payload, "done" if n % 10 else "queued", now - n, now - n, now - n,
                 f"old-{n:012d}:q25") for n in numbers]
        conn.executemany("INSERT INTO jobs (kind, portal_id, priority, payload, state, next_attempt_at, created_at,"
                         " updated_at, dedupe_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        sessions = [(f"old-{n:012d}", "sample-video", "VIDEO", PORTAL_ID, "STARTED", "2026-01-01",
                     "[1,1,1,1,1,1,1,1,1]", 1.0, 8.003, 100.0, now - n, now - n, now - n) for n in numbers]
        conn.executemany("INSERT INTO play_sessions (session_id, external_id, media_type, portal_id, state,"
                         " started_day, spans, span_seconds, duration_seconds, percent_played, first_seen_at,"
                         " last_seen_at, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", sessions)
        conn.commit()
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()


def build_postgres_database(url: str, public_url: str, outbox_rows: int) -> None:
    """The same rows as build_database, in the schema ``url`` points at, with COPY."""
    import sqlalchemy as sa

    from oembed_server.storage import schema_version
    from oembed_server.storage.catalog_store import CatalogStore
    from oembed_server.usecases.sample_media import load_sample_media

    store = CatalogStore.from_url(url)
    schema_version.upgrade(store.engine)
    load_sample_media(store, public_url)
    now = time.time()
    payload = json.dumps({"kind": "quartile", "external_id": "sample-video", "media_type": "VIDEO",
                          "session_id": "x" * 22, "occurred_at_ms": int(now * 1000), "played_percent": 25})
    with store.engine.begin() as conn:
        cursor = conn.connection.dbapi_connection.cursor()
        with cursor.copy("COPY jobs (kind, portal_id, priority, payload, state, next_attempt_at, created_at,"
                         " updated_at, dedupe_key) FROM STDIN") as copy:
            for n in range(outbox_rows):
                copy.write_row(("event.quartile", PORTAL_ID, 30, payload, "done" if n % 10 else "queued", now - n,
                                now - n, now - n, f"old-{n:012d}:q25"))
        with cursor.copy("COPY play_sessions (session_id, external_id, media_type, portal_id, state, started_day,"
                         " spans, span_seconds, duration_seconds, percent_played, first_seen_at, last_seen_at,"
                         " closed_at) FROM STDIN") as copy:
            for n in range(outbox_rows):
                copy.write_row((f"old-{n:012d}", "sample-video", "VIDEO", PORTAL_ID, "STARTED", "2026-01-01",
                                "[1,1,1,1,1,1,1,1,1]", 1.0, 8.003, 100.0, now - n, now - n, now - n))
    # As autovacuum would leave them, now rather than during the first rounds: a bulk load
    # sets off its insert-triggered VACUUM of both tables, which took the machine's CPU from
    # the first rounds (events 1,138 and 1,132 req/s, then 1,333 to 1,391 once it was done).
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE jobs"))
        conn.execute(sa.text("VACUUM ANALYZE play_sessions"))
    store.dispose()


@contextlib.contextmanager
def postgres_schema(url: str):
    """A URL into a fresh schema of ``url``'s database, dropped afterwards."""
    import sqlalchemy as sa

    schema = "bench_events_" + uuid.uuid4().hex[:12]
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def player_token(external_id: str = "sample-video") -> str:
    from oembed_server.domain.player_tokens import PlayerClaims, issue_token
    # Framed by a page of the portal (HubSpot's own hosts serve every portal's pages), so each
    # report takes the whole path: portal, item and framing checks, contact kept.
    return issue_token(SECRET, PlayerClaims(external_id, "VIDEO", PORTAL_ID, False, "https://portal-42.hs-sites.com"))


def session_reports(token: str) -> list[bytes]:
    """One play session as the player reports it, with a fresh session id."""
    session_id = uuid.uuid4().hex[:22]
    base = {"token": token, "externalId": "sample-video", "sessionId": session_id, "portalId": PORTAL_ID,
            "sessionSecret": uuid.uuid4().hex,
            "contactUtk": "0123456789abcdef0123456789abcdef", "pageId": "77"}
    now = int(time.time() * 1000)
    reports = [dict(base, kind="played", state="STARTED", occurredTimestamp=now)]
    reports += [dict(base, kind="quartile", playedPercent=q, occurredTimestamp=now) for q in (0, 25, 50, 75, 100)]
    for played in (3, 6, 9):
        spans = [1] * min(played, 9) + [0] * (9 - min(played, 9))
        reports.append(dict(base, kind="attention", spans=spans, spanSeconds=1, durationSeconds=8.003,
                            occurredTimestamp=now, final=played == 9))
    return [json.dumps(r, separators=(",", ":")).encode() for r in reports]


# --- load ------------------------------------------------------------------------------
def _client(port: int, work: tuple[str, str], seconds: float, queue) -> None:
    """POSTs ``work`` = (path, token): one player session's reports after another."""
    path, token = work
    latencies, errors = [], 0
    deadline = time.perf_counter() + seconds
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    pending: list[bytes] = []
    while time.perf_counter() < deadline:
        if not pending:
            pending = session_reports(token)
        body = pending.pop(0)
        start = time.perf_counter()
        try:
            conn.request("POST", path, body=body, headers={"Content-Type": "text/plain;charset=UTF-8"})
            response = conn.getresponse()
            response.read()
            if response.status != 202:
                errors += 1
                continue
        except OSError:
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            continue
        latencies.append(time.perf_counter() - start)
    conn.close()
    queue.put((latencies, errors))


def post_load(port: int, path: str, token: str, seconds: float, clients: int) -> dict:
    return run_load(port, (path, token), seconds, clients, client=_client)


def query_plans(path: str) -> list[tuple[str, str]]:
    """EXPLAIN QUERY PLAN of every statement one played/quartile/attention report runs."""
    import sqlalchemy as sa

    from oembed_server.domain.player_report import parse_report
    from oembed_server.domain.player_tokens import read_token
    from oembed_server.domain.session_binding import writer_digest
    from oembed_server.storage.catalog_store import CatalogStore
    from oembed_server.storage.play_sessions import record_report

    store = CatalogStore.from_url(f"sqlite:///{path}")
    statements: list[str] = []

    # The intake runs precompiled SQL on the DBAPI cursor, below SQLAlchemy's events:
    # SQLite's own trace sees every statement, with its values written in.
    @sa.event.listens_for(store.engine, "connect")
    def trace(dbapi_connection, _record):
        dbapi_connection.set_trace_callback(statements.append)

    token = player_token()
    assert read_token(SECRET, token)
    with store.engine.begin() as conn:
        for body in session_reports(token)[:7] + session_reports(token)[-1:]:
            report = parse_report(json.loads(body), now_ms=int(time.time() * 1000), media_type="VIDEO")
            record_report(conn, report, writer=writer_digest(token, report.session_secret))
        conn.rollback()
    store.dispose()
    plans = []
    raw = sqlite3.connect(path)
    seen = set()
    for statement in statements:
        head = " ".join(statement.split())[:70]
        if head in seen or not statement.lstrip().upper().startswith(("INSERT", "UPDATE", "SELECT")):
            continue
        seen.add(head)
        rows = raw.execute(f"EXPLAIN QUERY PLAN {statement}").fetchall()
        plans.append((head, " | ".join(r[-1] for r in rows) or "(keyed insert)"))
    raw.close()
    return plans


def count_jobs(database_url: str) -> int:
    import sqlalchemy as sa

    from oembed_server.storage.engine import create_catalog_engine

    engine = create_catalog_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM jobs")).scalar_one()
    finally:
        engine.dispose()


def bench_server(database_url: str, port: int, flush_ms: str, args) -> dict:
    public_url = f"http://127.0.0.1:{port}"
    env = os.environ | {"OEMBED_ENV": "production", "OEMBED_SECRET_KEY": SECRET, "OEMBED_PUBLIC_URL": public_url,
                        "OEMBED_DATABASE_URL": database_url, "OEMBED_EVENTS_CLIENT_RATE": "0",
                        "OEMBED_EVENTS_FLUSH_MS": flush_ms,
                        # Portal 42 is the configured one, so the intake serves it (no HubSpot call is made).
                        "HUBSPOT_PORTAL_ID": str(PORTAL_ID), "HUBSPOT_ACCESS_TOKEN": "bench-portal-token"}
    # As the README runs it: the gunicorn config (metrics added up across workers) and one
    # JSON log line per request, written to a file beside the database as a journal would take it.
    log_dir = tempfile.mkdtemp(prefix="bench-events-log-")
    log = open(f"{log_dir}/gunicorn.log", "w")  # noqa: SIM115 - closed with the server
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:oembed_server.gunicorn_config",
                             "--workers", "2", "--bind", f"127.0.0.1:{port}",
                             "--chdir", str(ROOT / "scripts"), "--log-level", "warning",
                             "bench_events:create_bench_app()"], env=env, cwd=ROOT, stderr=log)
    token = player_token()
    try:
        wait_until_up(port, proc)  # a GET answers 405: the app is up
        post_load(port, "/events", token, args.warmup_seconds, args.clients)  # warm-up
        post_load(port, "/_bench/constant", token, args.warmup_seconds, args.clients)
        return alternate_rounds(
            args.rounds, constant=lambda: post_load(port, "/_bench/constant", token, args.seconds, args.clients),
            events=lambda: post_load(port, "/events", token, args.seconds, args.clients))
    finally:
        stop_server(proc)
        log.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outbox-rows", type=int, default=1_000_000,
                        help="rows already in the outbox and sessions table")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each load round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per endpoint (median kept)")
    parser.add_argument("--clients", type=int, default=2, help="client processes generating load")
    parser.add_argument("--warmup-seconds", type=float, default=1.0, help="unmeasured load per endpoint first")
    parser.add_argument("--no-flush-each", action="store_true",
                        help="skip the second run with OEMBED_EVENTS_FLUSH_MS=0 (every report on disk before its 202)")
    parser.add_argument("--no-worker", action="store_true",
                        help="skip the worker's half: its send rate against the emulator's budget "
                             "(scripts/bench_worker_budget.py, run with its defaults)")
    parser.add_argument("--database", metavar="URL",
                        help="postgresql://... to run on PostgreSQL (in a schema of its own); default: a "
                             "temporary SQLite file")
    args = parser.parse_args()
    if args.database and not args.database.startswith("postgresql://"):
        parser.error("--database must be a postgresql:// URL (SQLite is the default)")

    engine_name = "PostgreSQL" if args.database else "SQLite"
    with tempfile.TemporaryDirectory() as tmp, (postgres_schema(args.database) if args.database
                                                else contextlib.nullcontext()) as pg_url:
        port = free_port()
        path = f"{tmp}/catalog.sqlite3"
        database_url = pg_url or f"sqlite:///{path}"
        t0 = time.perf_counter()
        if pg_url:
            build_postgres_database(pg_url, f"http://127.0.0.1:{port}", args.outbox_rows)
        else:
            build_database(path, f"http://127.0.0.1:{port}", args.outbox_rows)
        print(f"{engine_name} database with {args.outbox_rows:,} outbox rows and sessions built in "
              f"{time.perf_counter() - t0:.1f}s", flush=True)
        modes = {f"OEMBED_EVENTS_FLUSH_MS=50 (as shipped: on disk within 50 ms), {engine_name}": "50"}
        if not args.no_flush_each:
            modes[f"OEMBED_EVENTS_FLUSH_MS=0 (each report on disk before its 202), {engine_name}"] = "0"
        results = {label: bench_server(database_url, port, mode, args) for label, mode in modes.items()}
        plans = [] if pg_url else query_plans(path)
        outbox = count_jobs(database_url)

    for label, result in results.items():
        print(f"\n{label}")
        print(f"{'endpoint':>9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
        for name in ("events", "constant"):
            r = result[name]
            print(f"{name:>9} {r['rps']:>9.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['errors']:>7.0f}")
    print(f"\noutbox rows at the end: {outbox:,}")
    if plans:
        print("\nquery plans of the intake's statements (SQLite, full tables):")
        for head, plan in plans:
            print(f"  {head}\n      -> {plan}")
    print()
    for label, result in results.items():
        ratio = result["events"]["rps"] / result["constant"]["rps"]
        p99_ratio = result["events"]["p99_ms"] / result["constant"]["p99_ms"]
        print(f"{label}: throughput ratio /events : constant = {ratio:.2f} (target >= 0.50); "
              f"p99 ratio = {p99_ratio:.2f}")
    if args.no_worker:
        return 0
    # The other half of the events path: how much of a portal's budget the worker uses.
    print("\nworker against the emulator's rate budget (scripts/bench_worker_budget.py):", flush=True)
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_worker_budget.py")]).returncode


if __name__ == "__main__":
    sys.exit(main())
