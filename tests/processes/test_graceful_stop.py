"""SIGTERM stops every process cleanly: the worker finishes or gives back what it holds
within --grace and exits 0 with no job leased; gunicorn loses no report it answered 202.
Each test sends the signal in the middle of the work."""
from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time

import sqlalchemy as sa

from oembed_server.domain.event_record import EventRecord
from oembed_server.domain.player_tokens import PlayerClaims, issue_token
from oembed_server.storage import job_queue, schema_version
from oembed_server.storage.catalog_store import CatalogStore
from oembed_server.usecases.sample_media import load_sample_media
from tests.hubspot_emulator import LiveEmulator
from tests.hubspot_emulator.events_log import duplicates, received
from tests.hubspot_emulator.testing import REPO, SECRET_KEY, client_env, media_item
from tests.support.environment import free_port

PUBLIC_URL = "http://media.test"


def clean_env(**extra: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("HUBSPOT_", "OEMBED_"))} \
        | {"PYTHONPATH": str(REPO)} | extra


def start_worker(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "oembed_server.cli", "worker", *args], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def quartiles(n: int, portal_id: int) -> list[EventRecord]:
    return [EventRecord(kind="quartile", external_id="clip-a", media_type="VIDEO", session_id=f"s{i // 5:04d}",
                        occurred_at_ms=1_700_000_000_000 + i, played_percent=(0, 25, 50, 75, 100)[i % 5],
                        portal_id=portal_id) for i in range(n)]


def queue_backlog(database_url: str, records: list[EventRecord]) -> CatalogStore:
    catalog = CatalogStore.from_url(database_url)
    schema_version.upgrade(catalog.engine)
    catalog.upsert([media_item("clip-a")])
    with catalog.engine.begin() as conn:
        for r in records:
            job_queue.enqueue(conn, r.job_kind, r.to_payload(), portal_id=r.portal_id, priority=r.job_priority)
    return catalog


def job_states(engine) -> tuple[dict[str, int], int]:
    """Jobs per state, and how many are leased."""
    jobs = job_queue.jobs
    with engine.connect() as conn:
        states = dict(conn.execute(sa.select(jobs.c.state, sa.func.count()).group_by(jobs.c.state)).all())
        leased = conn.execute(sa.select(sa.func.count()).where(jobs.c.lease_owner.is_not(None))).scalar()
    return states, leased


def worker_status(env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-m", "oembed_server.cli", "worker", "--status", "--json"], env=env,
                         cwd=REPO, capture_output=True, text=True, timeout=60, check=True).stdout
    return json.loads(out)


def test_sigterm_mid_drain_finishes_in_flight_gives_back_the_rest_and_exits_0(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    # A budget of 4 per second: the worker spends most of its time waiting for the window,
    # with most of its 50-job batch claimed, when the signal lands.
    with LiveEmulator(rate_limit=4, rate_interval_ms=1000) as emulator:
        emulator.state.define_media_types("VIDEO")
        portal = emulator.state.portal_id
        records = quartiles(30, portal)
        catalog = queue_backlog(database_url, records)
        env = clean_env(OEMBED_DATABASE_URL=database_url, OEMBED_PUBLIC_URL=PUBLIC_URL,
                        OEMBED_SECRET_KEY=SECRET_KEY, OEMBED_LOG_FORMAT="json",
                        **client_env(emulator, HUBSPOT_RATE_LIMIT="4", HUBSPOT_RATE_LIMIT_INTERVAL_S="1"))
        process = start_worker(env, "--grace", "20")
        try:
            wait_for(lambda: job_states(catalog.engine)[0].get("done", 0) >= 4)
            assert worker_status(env)["workers"][0]["status"] == "running"
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == 0, err
        assert time.monotonic() - started < 20
        states, leased = job_states(catalog.engine)
        assert leased == 0
        assert states.get("done", 0) + states.get("queued", 0) == len(records) and states.get("queued", 0) > 0
        # What it sent, it recorded: nothing in flight was cut off.
        assert len(received(emulator.state, portal)) == states["done"]
        [worker] = worker_status(env)["workers"]
        assert worker["status"] == "stopped"
        # Every job has its JSON log line, with kind, portal, attempt and outcome.
        lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
        jobs_logged = [line for line in lines if line.get("logger") == "oembed_server.jobs"]
        assert {line["outcome"] for line in jobs_logged} >= {"sent", "released"}
        assert all({"kind", "portal", "attempt", "outcome", "correlation_id"} <= line.keys() for line in jobs_logged)

        # A restarted worker delivers the rest, each event once.
        emulator.state.rate_limit = 1000
        finished = subprocess.run([sys.executable, "-m", "oembed_server.cli", "worker", "--once"], env=env | {
            "HUBSPOT_RATE_LIMIT": "1000"}, cwd=REPO, capture_output=True, text=True, timeout=60)
        assert finished.returncode == 0, finished.stderr
        assert job_states(catalog.engine) == ({"done": len(records)}, 0)
        assert len(received(emulator.state, portal)) == len(records)
        assert not duplicates(received(emulator.state, portal))
        catalog.dispose()


def test_a_request_outlasting_the_grace_period_is_given_back_and_the_worker_exits_0(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    with LiveEmulator(rate_interval_ms=200) as emulator:
        emulator.state.define_media_types("VIDEO")
        portal = emulator.state.portal_id
        catalog = queue_backlog(database_url, quartiles(5, portal))
        emulator.state.add_latency(8.0, times=5, path=r"/media-bridge/v2/events/")
        env = clean_env(OEMBED_DATABASE_URL=database_url, OEMBED_PUBLIC_URL=PUBLIC_URL, OEMBED_SECRET_KEY=SECRET_KEY,
                        **client_env(emulator, HUBSPOT_READ_TIMEOUT_S="30"))
        process = start_worker(env, "--grace", "1", "--senders", "1")
        try:
            wait_for(lambda: job_states(catalog.engine)[1] > 0)  # claimed
            time.sleep(1.0)  # the first event is now waiting on the emulator's latency
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            _, err = process.communicate(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == 0, err
        assert time.monotonic() - started < 6  # the grace (1 s), not the 8 s HubSpot takes
        assert "grace period of 1s over" in err
        states, leased = job_states(catalog.engine)
        assert leased == 0 and states == {"queued": 5}
        catalog.dispose()


def post_report(port: int, body: dict) -> int | None:
    """The status of one report, or None when the server was gone before answering."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/events", body=json.dumps(body), headers={"Content-Type": "text/plain;charset=UTF-8"})
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def test_sigterm_to_gunicorn_mid_load_loses_no_accepted_report(tmp_path):
    path = tmp_path / "catalog.sqlite3"
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    store = CatalogStore.from_url(f"sqlite:///{path}")
    schema_version.upgrade(store.engine)
    load_sample_media(store, public_url)
    store.dispose()
    env = clean_env(OEMBED_ENV="production", OEMBED_SECRET_KEY=SECRET_KEY, OEMBED_PUBLIC_URL=public_url,
                    OEMBED_DATABASE_URL=f"sqlite:///{path}", OEMBED_EVENTS_CLIENT_RATE="0",
                    OEMBED_EVENTS_FLUSH_MS="1000", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    log = (tmp_path / "gunicorn.log").open("w")  # a file: a full pipe would block the server
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:oembed_server.gunicorn_config", "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "oembed_server:create_app()"],
        cwd=REPO, env=env, stderr=log)
    token = issue_token(SECRET_KEY, PlayerClaims("sample-video", "VIDEO", None, False))
    accepted: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(n: int) -> None:
        i = 0
        while not stop.is_set():
            session = f"term-session-{n:02d}-{i:05d}-abcdef"
            body = {"token": token, "externalId": "sample-video", "sessionId": session,
                    "occurredTimestamp": int(time.time() * 1000), "kind": "played", "state": "STARTED"}
            status = post_report(port, body)
            if status == 202:
                with lock:
                    accepted.append(session)
            elif status is None and server.poll() is not None:
                return
            i += 1

    try:
        wait_for(lambda: post_report(port, {}) is not None or server.poll() is not None)
        assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
        clients = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for thread in clients:
            thread.start()
        wait_for(lambda: len(accepted) >= 60)
        server.send_signal(signal.SIGTERM)  # the master: workers finish their requests, then exit
        server.wait(timeout=40)
        stop.set()
        for thread in clients:
            thread.join(timeout=20)
    finally:
        stop.set()
        if server.poll() is None:
            server.kill()
            server.wait()
        log.close()
    assert server.returncode == 0, (tmp_path / "gunicorn.log").read_text()[-3000:]
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            stored = set(conn.execute(sa.text("SELECT session_id FROM play_sessions")).scalars())
    finally:
        engine.dispose()
    assert len(accepted) >= 60
    assert set(accepted) <= stored
