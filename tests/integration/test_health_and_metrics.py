"""/healthz, /readyz (database, schema, ?worker=1 and stale heartbeats), /metrics (token,
production, every family the README lists, checked by promtool), the request log (request
id, route template, redaction) and worker --status --json."""
from __future__ import annotations

import json
import logging
import shutil
import subprocess
import time

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from oembed_server.domain.event_record import EventRecord
from oembed_server.domain.player_tokens import PlayerClaims, issue_token
from oembed_server.hubspot.token_refresh import OAuthTokens
from oembed_server.observability.log_format import JsonFormatter
from oembed_server.storage import job_queue, worker_heartbeats
from oembed_server.storage.catalog_store import CatalogStore
from oembed_server.storage.portal_store import PortalStore
from tests.hubspot_emulator import LiveEmulator
from tests.hubspot_emulator.testing import client_env, media_item
from tests.support.apps import command_runner, make_app
from tests.support.environment import SECRET_KEY
from tests.support.event_reports import SESSION_SECRET

METRICS_TOKEN = "metrics-token-0123456789abcdef"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(text: str, name: str, **labels: str) -> float | None:
    return samples(text).get((name, tuple(sorted(labels.items()))))


def counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def promtool_check(text: str) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        from tests.support.environment import service_missing
        service_missing("promtool is not installed (Debian's prometheus package; tests/run_all.sh installs it)")
    result = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr


# --- health -----------------------------------------------------------------------------------
def test_healthz_answers_without_the_database(app):
    app.extensions["catalog"].engine.dispose()
    answer = app.test_client().get("/healthz")
    assert answer.status_code == 200 and answer.json == {"status": "ok"}
    assert answer.headers["Cache-Control"] == "no-store"


def test_readyz_is_ready_on_a_current_schema(client):
    answer = client.get("/readyz")
    assert answer.status_code == 200
    body = answer.json
    assert body["status"] == "ready" and body["problems"] == []
    assert body["checks"]["schema"]["revision"] == body["checks"]["schema"]["head"]
    assert answer.headers["Cache-Control"] == "no-store"


def test_readyz_names_a_schema_behind_the_code(app, client):
    with app.extensions["catalog"].engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0001_baseline'"))
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json["checks"]["schema"]["ok"] is False
    [problem] = answer.json["problems"]
    assert "0001_baseline" in problem and "oembed-server db upgrade" in problem


def test_readyz_names_an_unreachable_database_without_its_password(app, client):
    app.extensions["catalog"] = CatalogStore.from_url("postgresql://someone:s3cret-pw@127.0.0.1:1/nothing")
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json["checks"]["database"] == {"ok": False}
    assert answer.json["problems"][0].startswith("database: ")
    assert "s3cret-pw" not in answer.get_data(as_text=True)


def test_readyz_with_worker_needs_a_live_heartbeat_and_reports_a_stale_one(app, client):
    engine = app.extensions["catalog"].engine
    assert client.get("/readyz").status_code == 200  # the worker is asked about only on demand
    answer = client.get("/readyz?worker=1")
    assert answer.status_code == 503 and "no worker has ever recorded a heartbeat" in answer.json["problems"][0]

    now = time.time()
    with engine.begin() as conn:
        worker_heartbeats.beat(conn, "host:1:live", hostname="host", pid=1, started_at=now - 100, lease_s=60,
                               state="running", now=now - 170)  # under 3 leases (180 s) ago
    answer = client.get("/readyz?worker=1")
    assert answer.status_code == 200 and answer.json["checks"]["worker"]["live"] == 1

    with engine.begin() as conn:
        worker_heartbeats.beat(conn, "host:1:live", hostname="host", pid=1, started_at=now - 300, lease_s=60,
                               state="running", now=now - 181)  # silent for more than three lease periods
    answer = client.get("/readyz?worker=1")
    assert answer.status_code == 503
    assert answer.json["checks"]["worker"]["workers"][0]["status"] == "stale"
    assert "stale" in answer.json["problems"][0]


# --- /metrics: access -------------------------------------------------------------------------
def test_metrics_need_the_bearer_token_when_one_is_set(sqlite_url):
    app = make_app(sqlite_url, OEMBED_METRICS_TOKEN=METRICS_TOKEN)
    client = app.test_client()
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": METRICS_TOKEN}):
        answer = client.get("/metrics", headers=headers)
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert answer.status_code == 200 and answer.mimetype == "text/plain"
    app.extensions["catalog"].dispose()


def test_metrics_are_off_in_production_without_a_token(sqlite_url):
    app = make_app(sqlite_url, OEMBED_ENV="production")
    assert app.test_client().get("/metrics").status_code == 404
    app.extensions["catalog"].dispose()


@pytest.mark.parametrize("bad", ["short", "has spaces in it 0123456789", "tab\there0123456789abc"])
def test_a_bad_metrics_token_is_refused_at_start(sqlite_url, bad):
    from oembed_server.settings import ConfigError
    with pytest.raises(ConfigError, match="OEMBED_METRICS_TOKEN"):
        make_app(sqlite_url, OEMBED_METRICS_TOKEN=bad)


# --- /metrics: what it counts -----------------------------------------------------------------
def report(kind: str = "played", **fields) -> dict:
    token = issue_token(SECRET_KEY, PlayerClaims("sample-video", "VIDEO", None, False))
    base = {"token": token, "externalId": "sample-video", "sessionId": "metrics-session-0001-abcdef",
            "sessionSecret": SESSION_SECRET, "occurredTimestamp": int(time.time() * 1000), "kind": kind}
    return base | ({"state": "STARTED"} if kind == "played" else {}) | fields


def test_intake_counts_accepted_and_each_refusal_reason(sample_client):
    before_accepted = counter("oembed_intake_reports_accepted_total", kind="played")
    refusals = {
        ("unknown", "content_type"): dict(data="x", content_type="application/xml"),
        ("unknown", "invalid_json"): dict(data="{", content_type="text/plain"),
        ("played", "token_missing"): dict(json={**report(), "token": None}),
        ("played", "token_invalid"): dict(json=report(token="A" * 40 + "." + "B" * 20)),
        ("quartile", "invalid_playedPercent"): dict(json=report("quartile", playedPercent=33)),
        ("unknown", "too_deep"): dict(data="[" * 5000, content_type="text/plain"),
        # The accepted report below opened this session; another player may not write to it.
        ("played", "session_other_writer"): dict(json=report(sessionSecret="not-the-players-secret-0123")),
    }
    before = {key: counter("oembed_intake_reports_refused_total", kind=key[0], reason=key[1]) for key in refusals}
    assert sample_client.post("/events", json=report()).status_code == 202
    for options in refusals.values():
        assert sample_client.post("/events", **options).status_code in (400, 403, 409, 415)
    assert counter("oembed_intake_reports_accepted_total", kind="played") == before_accepted + 1
    for key in refusals:
        assert counter("oembed_intake_reports_refused_total", kind=key[0], reason=key[1]) == before[key] + 1, key


def test_refusals_without_a_reason_get_one_from_status_and_field(app):
    from oembed_server.web import intake_routes
    before = counter("oembed_intake_reports_refused_total", kind="unknown", reason="400_someField")
    with app.test_request_context("/events", method="POST"):
        answer = intake_routes._refuse(400, "someField", "is wrong")
    assert answer.status_code == 400 and answer.json == {"error": "someField: is wrong", "field": "someField"}
    assert counter("oembed_intake_reports_refused_total", kind="unknown", reason="400_someField") == before + 1


def test_requests_are_counted_by_route_template(sample_client):
    route = "/media/<external_id>"
    before = counter("oembed_http_requests_total", route=route, method="GET", status="200")
    assert sample_client.get("/media/sample-video").status_code == 200
    assert sample_client.get("/media/sample-audio").status_code == 200
    assert counter("oembed_http_requests_total", route=route, method="GET", status="200") == before + 2
    assert counter("oembed_http_request_duration_seconds_count", route=route, method="GET") >= 2


def test_the_database_families_show_outbox_portals_workers_and_budget(app, client):
    engine = app.extensions["catalog"].engine
    now = time.time()
    with engine.begin() as conn:
        job_queue.enqueue(conn, "event.played", {"n": 1}, portal_id=111, now=now - 30)
        job_queue.enqueue(conn, "event.played", {"n": 2}, portal_id=111, now=now - 5)
        job_queue.enqueue(conn, "event.quartile", {"n": 3}, now=now - 2)
        job_queue.enqueue(conn, "event.quartile", {"n": 4}, portal_id=222, now=now)
        conn.execute(job_queue.jobs.update().where(job_queue.jobs.c.payload == '{"n":4}').values(state="dead"))
        job_queue.enqueue(conn, "provision.sync", {}, portal_id=333, now=now)
        worker_heartbeats.beat(conn, "h:1:x", hostname="h", pid=1, started_at=now, lease_s=60, state="running",
                               now=now, budget_usage={"portal:111": 0.25, "portal:None": 0.5, "app:9": 0.1})
    store = PortalStore(engine, SECRET_KEY)
    with engine.begin() as conn:
        for portal in (111, 222, 333):
            store.install(conn, portal, "default", OAuthTokens("at", "rt", now + 3600), now=now)
    store.disconnect(222, "uninstalled")
    text = client.get("/metrics").get_data(as_text=True)
    promtool_check(text)
    assert value(text, "oembed_database_up") == 1
    assert value(text, "oembed_outbox_jobs", kind="event.played", state="queued") == 2
    assert value(text, "oembed_outbox_jobs", kind="event.quartile", state="dead") == 1
    assert 29 <= value(text, "oembed_outbox_oldest_queued_age_seconds", portal="111") < 60
    assert value(text, "oembed_outbox_oldest_queued_age_seconds", portal="default") is not None
    assert value(text, "oembed_outbox_dead_letters", portal="222") == 1
    assert value(text, "oembed_portals", state="connected") == 1
    assert value(text, "oembed_portals", state="provisioning") == 1
    assert value(text, "oembed_portals", state="disconnected") == 1
    assert value(text, "oembed_workers", status="running") == 1
    assert value(text, "oembed_hubspot_rate_budget_used_ratio", portal="111") == 0.25
    assert value(text, "oembed_hubspot_rate_budget_used_ratio", portal="default") == 0.5
    assert value(text, "oembed_hubspot_rate_budget_used_ratio", portal="app") == 0.1


def test_hubspot_calls_retries_429s_and_job_outcomes_are_counted(sqlite_url, tmp_path):
    with LiveEmulator(rate_interval_ms=200) as emulator:
        emulator.state.define_media_types("VIDEO")
        portal = str(emulator.state.portal_id)
        app = make_app(sqlite_url, **client_env(emulator))
        catalog = app.extensions["catalog"]
        catalog.upsert([media_item("clip-a")])
        records = [EventRecord(kind="quartile", external_id="clip-a", media_type="VIDEO", session_id="s-metrics",
                               occurred_at_ms=1_700_000_000_000 + q, played_percent=q,
                               portal_id=emulator.state.portal_id) for q in (0, 25, 50)]
        with catalog.engine.begin() as conn:
            for r in records:
                job_queue.enqueue(conn, r.job_kind, r.to_payload(), portal_id=r.portal_id, priority=r.job_priority)
        emulator.state.rate_limit_storm(times=1, retry_after=0.01, path=r"/events/")
        emulator.state.fail_next(400, times=1, path=r"/events/")
        operation = "POST /media-bridge/v2/events/media-played-percent"
        before = {"sent": counter("oembed_worker_jobs_total", kind="event.quartile", outcome="sent"),
                  "dead": counter("oembed_worker_jobs_total", kind="event.quartile", outcome="dead"),
                  "429": counter("oembed_hubspot_requests_total", operation=operation, status="429", portal=portal),
                  "limited": counter("oembed_hubspot_rate_limited_total", portal=portal),
                  "retries": counter("oembed_hubspot_retries_total", operation=operation, portal=portal),
                  "hist": counter("oembed_hubspot_request_duration_seconds_count", operation=operation)}
        result = command_runner(app).invoke(["worker", "--once", "--senders", "1"])
        assert result.exit_code == 0, result.output
        assert counter("oembed_worker_jobs_total", kind="event.quartile", outcome="sent") == before["sent"] + 2
        assert counter("oembed_worker_jobs_total", kind="event.quartile", outcome="dead") == before["dead"] + 1
        assert counter("oembed_hubspot_requests_total", operation=operation, status="429",
                       portal=portal) == before["429"] + 1
        assert counter("oembed_hubspot_rate_limited_total", portal=portal) == before["limited"] + 1
        assert counter("oembed_hubspot_retries_total", operation=operation, portal=portal) == before["retries"] + 1
        assert counter("oembed_hubspot_request_duration_seconds_count", operation=operation) == before["hist"] + 4

        status = command_runner(app).invoke(["worker", "--status", "--json"])
        assert status.exit_code == 0, status.output
        document = json.loads(status.output)
        [worker] = document["workers"]
        assert worker["status"] == "stopped" and worker["leaseSeconds"] == 60
        assert document["totals"] == {"backlog": 0, "held": 0, "sent": 2, "retried": 0, "dead": 1, "shed": 0}
        assert document["deadJobs"][0]["kind"] == "event.quartile"
        catalog.dispose()


# --- request log --------------------------------------------------------------------------------
def test_each_request_logs_one_json_line_with_its_id_and_no_secret(sample_client, caplog):
    caplog.set_level(logging.INFO, logger="oembed_server.requests")
    answer = sample_client.get("/embed/sample-video?hs_utk=visitor-utk-123&autoplay=1&token=tok-456",
                               headers={"X-Request-Id": "edge-abc.123"})
    assert answer.headers["X-Request-Id"] == "edge-abc.123"
    fresh = sample_client.get("/embed/sample-video", headers={"X-Request-Id": "bad id <script>"})
    assert fresh.headers["X-Request-Id"] != "bad id <script>" and len(fresh.headers["X-Request-Id"]) == 32
    sample_client.get("/healthz")
    sample_client.get("/readyz")
    records = [r for r in caplog.records if r.name == "oembed_server.requests"]
    assert len(records) == 2  # health checks are not logged
    line = json.loads(JsonFormatter().format(records[0]))
    assert line["method"] == "GET" and line["status"] == 200 and line["route"] == "/embed/<external_id>"
    assert line["request_id"] == "edge-abc.123" and line["path"] == "/embed/sample-video"
    assert line["duration_ms"] >= 0
    assert "visitor-utk-123" not in json.dumps(line) and "tok-456" not in json.dumps(line)
    assert "autoplay=1" in line["query"] and "hs_utk=[REDACTED]" in line["query"]
