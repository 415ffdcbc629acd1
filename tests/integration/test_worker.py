"""The worker against the HubSpot emulator: priority order, 429 storms and 5xx, token expiry
mid-drain, portals without a token, dead letters and --retry-dead, --status, pruning, a
SIGKILLed worker process restarted, and two workers on PostgreSQL sharing one backlog.
Jobs are created directly with enqueue + EventRecord, as the intake does."""
from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy as sa

from oembed_server.domain.event_record import EventRecord
from oembed_server.domain.media import MediaType
from oembed_server.jobs.handlers import HANDLERS
from oembed_server.jobs.worker import WorkerOptions, build_worker
from oembed_server.settings import load_settings
from oembed_server.storage import job_queue as queue
from oembed_server.storage import schema_version
from oembed_server.storage.catalog_store import CatalogStore
from tests.hubspot_emulator import LiveEmulator
from tests.hubspot_emulator.events_log import duplicates, identity, received, timeline
from tests.hubspot_emulator.state import MediaObject
from tests.hubspot_emulator.testing import REPO, SECRET_KEY, client_env, media_item
from tests.support.apps import command_runner, make_app

PUBLIC_URL = "http://media.test"
PORTAL = 777
EVENTS = r"/media-bridge/v2/events/"


@pytest.fixture
def emulator():
    with LiveEmulator(rate_interval_ms=200) as live:
        live.state.define_media_types("VIDEO", "AUDIO")
        yield live


def worker_env(emulator: LiveEmulator | None, database_url: str, **extra: str) -> dict[str, str]:
    env = {"OEMBED_DATABASE_URL": database_url, "OEMBED_PUBLIC_URL": PUBLIC_URL, "OEMBED_SECRET_KEY": SECRET_KEY}
    return env | (client_env(emulator) if emulator else {}) | extra


def catalog_for(database_url: str, emulator: LiveEmulator | None = None) -> CatalogStore:
    catalog = CatalogStore.from_url(database_url)
    schema_version.upgrade(catalog.engine)
    fill_catalog(catalog, emulator)
    return catalog


def fill_catalog(catalog: CatalogStore, emulator: LiveEmulator | None) -> None:
    """clip-a synced to HubSpot (known by its object id), clip-b known there by external id only."""
    catalog.upsert([media_item("clip-a"), media_item("clip-b", MediaType.AUDIO)])
    if emulator is None:
        return
    ids = {}
    state = emulator.state
    with state.lock:  # straight into the emulator, so no rate budget is spent on setup
        for external_id, media_type in (("clip-a", "VIDEO"), ("clip-b", "AUDIO")):
            name = state.object_type_name(media_type)
            obj = MediaObject(state.next_id(), name, {"hs_title": external_id, "hs_external_id": external_id,
                                                      "hs_oembed_url": f"{PUBLIC_URL}/media/{external_id}"},
                              "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z")
            state.objects.setdefault(name, {})[obj.id] = obj
            state.unique_index.setdefault(name, {})[("hs_external_id", external_id)] = obj.id
            ids[external_id] = obj.id
    catalog.set_hubspot_object_ids({"clip-a": ids["clip-a"]})


def make_worker(catalog, env, tmp_path, **options):
    settings = load_settings(env, str(tmp_path))
    return build_worker(catalog, settings, options=WorkerOptions(**({"batch_size": 20} | options)))


def session_records(session_id: str, portal_id: int | None = PORTAL, external_id: str = "clip-a",
                    t0: int = 1_700_000_000_000) -> list[EventRecord]:
    common = dict(external_id=external_id, media_type="VIDEO" if external_id == "clip-a" else "AUDIO",
                  session_id=session_id, portal_id=portal_id, contact_utk="utk-" + session_id,
                  page_name="Landing", page_url="https://site.test/landing")
    return ([EventRecord(kind="played", occurred_at_ms=t0, state="STARTED", **common)]
            + [EventRecord(kind="quartile", occurred_at_ms=t0 + 1 + q, played_percent=q, **common)
               for q in (0, 25, 50, 75, 100)]
            + [EventRecord(kind="attention", occurred_at_ms=t0 + 200, spans=(1, 2, 1, 1), span_seconds=0.25,
                           duration_seconds=1.0, **common)])


def enqueue_all(engine, records: list[EventRecord]) -> None:
    with engine.begin() as conn:
        for r in records:
            queue.enqueue(conn, r.job_kind, r.to_payload(), portal_id=r.portal_id, priority=r.job_priority)


def sessions(n: int, prefix: str = "s") -> list[EventRecord]:
    return [r for i in range(n) for r in session_records(f"{prefix}{i:04d}")]


def states(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(queue.jobs.c.state, sa.func.count()).group_by(queue.jobs.c.state)).all())


def assert_each_arrived_once(emulator, records, portal_id=PORTAL):
    events = received(emulator.state, portal_id)
    assert not duplicates(events)
    assert len(events) == len(records)
    assert all(not e.get("rejected") for e in emulator.state.events)
    shown = timeline(emulator.state, portal_id)
    assert set(shown) == {r.session_id for r in records}


# --- draining ------------------------------------------------------------------------------------
def test_backlog_drains_played_then_attention_then_quartiles_with_full_bodies(emulator, sqlite_url, tmp_path):
    catalog = catalog_for(sqlite_url, emulator)
    records = sessions(4)
    # Offered in the worst order: quartiles first, played last.
    enqueue_all(catalog.engine, sorted(records, key=lambda r: {"quartile": 0, "attention": 1, "played": 2}[r.kind]))
    # One sender: the strict order of arrival is then observable.
    report = make_worker(catalog, worker_env(emulator, sqlite_url), tmp_path, batch_size=7,
                         senders_per_portal=1).run(once=True)
    assert report.sent == len(records) and states(catalog.engine) == {"done": len(records)}
    kinds = [e["eventType"] for e in received(emulator.state, PORTAL)]
    assert kinds == ["media-played"] * 4 + ["attention-span"] * 4 + ["media-played-percent"] * 20
    assert_each_arrived_once(emulator, records)
    played = received(emulator.state, PORTAL)[0]
    assert played["mediaBridgeId"] == int(catalog.get("clip-a").hubspot_object_id)
    assert played["mediaName"] == "Title clip-a"
    assert played["iframeUrl"].startswith(f"{PUBLIC_URL}/insights/session/")
    assert played["contactUtk"] == "utk-" + played["sessionId"] and played["pageName"] == "Landing"
    span = next(e for e in received(emulator.state, PORTAL) if e["eventType"] == "attention-span")
    assert span["derivedValues"] == {"totalPercentPlayed": 100.0, "totalSecondsPlayed": 1}
    # Issue 10's measure, for the worker too: every request it sent, and every answer it
    # read, held to HubSpot's published specs (v2 bodies against v1's schemas).
    assert emulator.state.spec_violations == []
    assert sum(emulator.state.spec_operations.values()) == len(emulator.state.requests)
    catalog.dispose()


def test_429_storms_and_5xx_are_retried_until_everything_arrived_once(emulator, sqlite_url, tmp_path):
    catalog = catalog_for(sqlite_url, emulator)
    records = sessions(3)
    enqueue_all(catalog.engine, records)
    emulator.state.rate_limit_storm(times=12, retry_after=0.02, path=EVENTS, skip=2)
    emulator.state.fail_next(503, times=3, path=EVENTS, skip=5)
    emulator.state.fail_next(502, times=1, path=EVENTS, skip=9)
    report = make_worker(catalog, worker_env(emulator, sqlite_url), tmp_path).run(once=True)
    assert report.sent == len(records) and report.retried >= 4 and report.dead == 0
    assert emulator.state.count(path=EVENTS, status=429) == 12
    assert emulator.state.count(path=EVENTS, status=503) == 3
    assert_each_arrived_once(emulator, records)
    with catalog.engine.connect() as conn:
        rows = queue.status(conn)
    assert sum(r.sent for r in rows) == len(records) and sum(r.retried for r in rows) >= 1
    assert sum(r.backlog + r.dead + r.held for r in rows) == 0
    catalog.dispose()


def test_token_expiry_during_a_drain_refreshes_and_loses_nothing(emulator, sqlite_url, tmp_path):
    catalog = catalog_for(sqlite_url, emulator)
    records = sessions(2)
    enqueue_all(catalog.engine, records)
    worker = make_worker(catalog, worker_env(emulator, sqlite_url), tmp_path)
    sent = []
    expired = threading.Event()

    def expiring(job, ctx):  # HubSpot expires the token after the fifth event, while senders run
        with emulator.state.lock:
            if len(sent) >= 5 and not expired.is_set():
                expired.set()
                emulator.state.expire_tokens()
        HANDLERS[job.kind](job, ctx)
        sent.append(job.id)

    worker.handlers = {kind: expiring for kind in HANDLERS}
    assert worker.run(once=True).sent == len(records)
    assert emulator.state.count(path=EVENTS, status=401) >= 1  # one per sender in flight
    assert emulator.state.count(path="/oauth/v1/token", status=200) == 1
    assert_each_arrived_once(emulator, records)
    catalog.dispose()


def test_jobs_for_a_portal_without_token_are_held_then_sent_once_it_has_one(emulator, sqlite_url, tmp_path):
    catalog = catalog_for(sqlite_url, emulator)
    other = [r for i in range(2) for r in session_records(f"o{i}", portal_id=888)]
    mine = session_records("m0")
    unattributed = session_records("u0", portal_id=None)
    enqueue_all(catalog.engine, other + mine + unattributed)
    report = make_worker(catalog, worker_env(emulator, sqlite_url), tmp_path).run(once=True)
    # Pages outside HubSpot (no hs_portal_id) go to the configured portal.
    assert report.sent == len(mine) + len(unattributed)
    assert states(catalog.engine) == {"done": len(mine) + len(unattributed), "held": len(other)}
    assert received(emulator.state, 888) == []
    with catalog.engine.connect() as conn:
        held = [(r.portal_id, r.held) for r in queue.status(conn) if r.held]
    assert sorted(held) == [(888, 2), (888, 2), (888, 10)]  # played, attention, quartile

    # Portal 888 connects (today: configured as the portal, with its own token).
    token = emulator.state.issue_access_token(hub_id=888)
    env = worker_env(emulator, sqlite_url, HUBSPOT_PORTAL_ID="888", HUBSPOT_ACCESS_TOKEN=token,
                     HUBSPOT_REFRESH_TOKEN="")
    assert make_worker(catalog, env, tmp_path).run(once=True).sent == len(other)
    assert_each_arrived_once(emulator, other, portal_id=888)
    assert states(catalog.engine) == {"done": len(other + mine + unattributed)}
    catalog.dispose()


# --- the command line: dead letters, --retry-dead, --status, pruning ---------------------------------
def test_dead_letters_show_in_status_and_retry_dead_requeues_them(emulator, sqlite_url, monkeypatch):
    for name, value in worker_env(emulator, sqlite_url).items():
        monkeypatch.setenv(name, value)
    app = make_app(sqlite_url)
    catalog = app.extensions["catalog"]
    fill_catalog(catalog, emulator)
    records = session_records("d0")
    enqueue_all(catalog.engine, records)
    emulator.state.fail_next(400, times=1, path="media-played-percent")
    runner = command_runner(app)

    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "Sent 6, retried 0, held 0, dead 1" in result.output
    status = runner.invoke(args=["worker", "--status"]).output
    lines = status.splitlines()
    assert lines[0].split() == ["portal", "kind", "backlog", "held", "sent", "retried", "dead", "shed"]
    assert lines[3].split() == ["777", "event.quartile", "0", "0", "4", "0", "1", "0"]
    assert lines[4].split() == ["all", "0", "0", "6", "0", "1", "0"]
    # HubSpot's message and correlationId are kept with the dead job.
    assert "HubSpot 400 VALIDATION_ERROR on POST /media-bridge/v2/events/media-played-percent: " \
           "Injected failure 400 (correlationId " in status

    assert runner.invoke(args=["worker", "--retry-dead", "--kind", "event.played"]).output.startswith("Requeued 0")
    assert runner.invoke(args=["worker", "--retry-dead"]).output.startswith("Requeued 1 dead job(s).")
    assert "Sent 1," in runner.invoke(args=["worker", "--once"]).output
    assert_each_arrived_once(emulator, records)
    assert "Latest dead jobs" not in runner.invoke(args=["worker", "--status"]).output
    catalog.dispose()


def test_delivered_jobs_are_pruned_after_the_retention(sqlite_url, tmp_path):
    catalog = catalog_for(sqlite_url)
    now = time.time()
    with catalog.engine.begin() as conn:
        for age_days in (40, 31, 29, 1):
            queue.enqueue(conn, "event.played", {"n": age_days}, now=now - age_days * 86400)
        queue.enqueue(conn, "event.quartile", {"n": "dead"}, now=now - 50 * 86400)
        jobs = queue.claim(conn, "w", limit=5, lease_s=60, now=now)
        for job in jobs:
            done_at = now - job.payload["n"] * 86400 if job.payload["n"] != "dead" else now - 50 * 86400
            if job.payload["n"] == "dead":
                queue.bury(conn, job, "w", "HubSpot 400", now=done_at)
            else:
                queue.complete(conn, job, "w", now=done_at)
    env = worker_env(None, sqlite_url, OEMBED_EVENTS_RETENTION_DAYS="30")
    assert make_worker(catalog, env, tmp_path).run(once=True).pruned == 2
    with catalog.engine.connect() as conn:
        left = sorted(str(json.loads(p)["n"]) for p in conn.execute(sa.select(queue.jobs.c.payload)).scalars())
    assert left == ["1", "29", "dead"]  # dead letters stay until requeued
    catalog.dispose()


# --- processes: SIGKILL, several workers ------------------------------------------------------------
def start_worker(env: dict[str, str], *args: str) -> subprocess.Popen:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("HUBSPOT_", "OEMBED_"))} | env
    return subprocess.Popen([sys.executable, "-m", "oembed_server.cli", "worker", *args], env=full, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice_after_restart(sqlite_url, tmp_path):
    # A budget of 5 per 2 s: the worker sends five events of its 50-job batch, then waits for
    # the window with the rest claimed; SIGKILL lands there, with no request in flight.
    with LiveEmulator(rate_limit=5, rate_interval_ms=2000) as emulator:
        emulator.state.define_media_types("VIDEO", "AUDIO")
        catalog = catalog_for(sqlite_url, emulator)
        records = sessions(3)
        enqueue_all(catalog.engine, records)
        env = worker_env(emulator, sqlite_url, HUBSPOT_RATE_LIMIT="5", HUBSPOT_RATE_LIMIT_INTERVAL_S="2")
        process = start_worker(env, "--lease-seconds", "2")
        try:
            wait_for(lambda: len(received(emulator.state)) >= 5)
            wait_for(lambda: states(catalog.engine).get("done", 0) >= 5)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        assert process.returncode == -signal.SIGKILL
        assert states(catalog.engine) == {"done": 5, "queued": len(records) - 5}
        with catalog.engine.connect() as conn:  # the rest of the batch was claimed by the dead worker
            assert conn.execute(sa.select(sa.func.count()).where(queue.jobs.c.lease_owner.is_not(None))).scalar() > 0

        emulator.state.rate_limit, emulator.state.rate_interval_ms = 100, 200  # no need to wait now
        restarted = start_worker(env | {"HUBSPOT_RATE_LIMIT": "100", "HUBSPOT_RATE_LIMIT_INTERVAL_S": "0.2"},
                                 "--once", "--lease-seconds", "2")
        out, err = restarted.communicate(timeout=60)
        assert restarted.returncode == 0, err
        assert f"Sent {len(records) - 5}," in out
        assert states(catalog.engine) == {"done": len(records)}
        assert_each_arrived_once(emulator, records)
        catalog.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_workers_on_postgresql_deliver_a_5000_event_backlog_with_no_duplicate(database_url):
    with LiveEmulator(rate_limit=1_000_000, rate_interval_ms=1000) as emulator:
        emulator.state.define_media_types("VIDEO", "AUDIO")
        catalog = catalog_for(database_url, emulator)
        records = [EventRecord(kind="quartile", external_id="clip-a", media_type="VIDEO", session_id=f"s{i // 5}",
                               occurred_at_ms=1_700_000_000_000 + i, played_percent=(0, 25, 50, 75, 100)[i % 5],
                               portal_id=PORTAL) for i in range(5000)]
        with catalog.engine.begin() as conn:
            conn.execute(queue.jobs.insert(), [
                dict(kind=r.job_kind, portal_id=PORTAL, priority=r.job_priority, payload=json.dumps(
                    r.to_payload()), state="queued", attempts=0, next_attempt_at=0.0, created_at=0.0,
                     updated_at=0.0) for r in records])
        env = worker_env(emulator, database_url, HUBSPOT_RATE_LIMIT="1000000", HUBSPOT_RATE_LIMIT_INTERVAL_S="1")
        workers = [start_worker(env, "--once", "--batch-size", "100") for _ in range(2)]
        # Both pipes are read at once: each worker logs every job, and a worker whose
        # stderr pipe is full (while the other is being read) would block on its next log line.
        with concurrent.futures.ThreadPoolExecutor(len(workers)) as pool:
            outputs = list(pool.map(lambda w: w.communicate(timeout=240), workers))
        assert [w.returncode for w in workers] == [0, 0], [err for _, err in outputs]
        sent = [int(out.split("Sent ")[1].split(",")[0]) for out, _ in outputs]
        assert sum(sent) == 5000 and min(sent) > 0, outputs  # both took part
        events = received(emulator.state, PORTAL)
        assert len(events) == 5000 and not duplicates(events)
        assert {identity(e) for e in events} == {("media-played-percent", r.session_id, r.played_percent,
                                                  r.occurred_at_ms) for r in records}
        assert states(catalog.engine) == {"done": 5000}
        catalog.dispose()


def test_an_idle_play_session_becomes_one_attention_event_sent_by_the_worker(emulator, sqlite_url, monkeypatch):
    from oembed_server.usecases.sample_media import load_sample_media
    from tests.support.event_reports import attention, body, player_token

    for name, value in worker_env(emulator, sqlite_url, OEMBED_EVENTS_IDLE_SECONDS="0").items():
        monkeypatch.setenv(name, value)
    app = make_app(sqlite_url, OEMBED_EVENTS_IDLE_SECONDS="0")
    load_sample_media(app.extensions["catalog"], PUBLIC_URL)
    client = app.test_client()
    token = player_token(client, f"/embed/sample-video?hs_portal_id={PORTAL}")
    assert client.post("/events", json=body(token, portalId=PORTAL)).status_code == 202
    # Cumulative attention, never marked final: only idleness ends this session.
    report = attention(token, [1, 1, 0, 2, 0, 0, 0, 0, 0], portalId=PORTAL)
    assert client.post("/events", json=report).status_code == 202

    result = command_runner(app).invoke(args=["worker", "--once"])
    assert "Sent 2," in result.output and "closed 1 play session(s)" in result.output, result.output
    events = received(emulator.state, PORTAL)
    # Sent concurrently (several senders per portal), so they may arrive in either order.
    events.sort(key=lambda e: e["eventType"] != "media-played")
    assert [e["eventType"] for e in events] == ["media-played", "attention-span"]
    assert events[1]["rawDataMap"] == {str(i): c for i, c in enumerate([1, 1, 0, 2, 0, 0, 0, 0, 0])}
    assert events[1]["sessionId"] == events[0]["sessionId"] and not duplicates(events)
    app.extensions["catalog"].dispose()
