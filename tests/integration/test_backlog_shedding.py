"""A portal's backlog longer than OEMBED_EVENTS_MAX_BACKLOG_HOURS at its budget: the worker
sheds just enough intermediate quartiles (newest first), keeps every played event, the 0
and 100 quartiles and the attention spans, says so, and --status shows the backlog and how
long it needs. Shed rows are pruned with the delivered ones."""
from __future__ import annotations

import json
import time

import pytest
import sqlalchemy as sa

from oembed_server.domain.event_record import EventRecord
from oembed_server.jobs.worker import WorkerOptions, build_worker
from oembed_server.settings import ConfigError, load_settings
from oembed_server.storage import job_queue as queue
from oembed_server.storage import schema_version
from oembed_server.storage.catalog_store import CatalogStore
from tests.support.apps import command_runner, make_app

PORTAL = 777
SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"


def env(database_url: str, **extra: str) -> dict[str, str]:
    # 10 requests per 10 s: one event a second. 0.015 h = 54 s = 54 events.
    return {"OEMBED_DATABASE_URL": database_url, "OEMBED_PUBLIC_URL": "http://media.test",
            "OEMBED_SECRET_KEY": SECRET_KEY, "HUBSPOT_RATE_LIMIT": "10", "HUBSPOT_RATE_LIMIT_INTERVAL_S": "10",
            "OEMBED_EVENTS_MAX_BACKLOG_HOURS": "0.015"} | extra


def session(i: int) -> list[EventRecord]:
    common = dict(external_id="clip", media_type="VIDEO", session_id=f"s{i:03d}", portal_id=PORTAL,
                  contact_utk=f"utk-{i}")
    t0 = 1_700_000_000_000 + i * 1000
    return ([EventRecord(kind="played", occurred_at_ms=t0, state="STARTED", **common)]
            + [EventRecord(kind="quartile", occurred_at_ms=t0 + q, played_percent=q, **common)
               for q in (0, 25, 50, 75, 100)]
            + [EventRecord(kind="attention", occurred_at_ms=t0 + 200, spans=(1, 1), span_seconds=0.5,
                           duration_seconds=1.0, **common)])


def queued_backlog(database_url: str, sessions: int) -> CatalogStore:
    catalog = CatalogStore.from_url(database_url)
    schema_version.upgrade(catalog.engine)
    now = time.time()
    with catalog.engine.begin() as conn:
        for i in range(sessions):
            for record in session(i):
                queue.enqueue(conn, record.job_kind, record.to_payload(), portal_id=PORTAL,
                              priority=record.job_priority, now=now + i)  # later sessions arrive later
    return catalog


def shed_rows(engine) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(queue.jobs.c.kind, queue.jobs.c.payload).where(
            queue.jobs.c.state == queue.SHED)).mappings().all()
    return [json.loads(r["payload"]) | {"job_kind": r["kind"]} for r in rows]


def test_a_backlog_past_the_limit_sheds_only_the_newest_intermediate_quartiles(sqlite_url, tmp_path, caplog):
    catalog = queued_backlog(sqlite_url, sessions=10)  # 70 events, 30 of them quartiles 25/50/75
    worker = build_worker(catalog, load_settings(env(sqlite_url), str(tmp_path)), options=WorkerOptions())
    assert worker.shed_backlogs() == 16  # 70 - 54
    shed = shed_rows(catalog.engine)
    assert len(shed) == 16
    assert {r["job_kind"] for r in shed} == {"event.quartile"}
    assert {r["played_percent"] for r in shed} <= {25, 50, 75}
    # The newest sessions lose theirs: sessions 9..5 have 15 between them, then one of 4's.
    assert {r["session_id"] for r in shed} == {"s009", "s008", "s007", "s006", "s005", "s004"}
    assert "shed 16 intermediate quartile event(s)" in caplog.text
    assert "OEMBED_EVENTS_MAX_BACKLOG_HOURS=0.015" in caplog.text
    # Fits now: a second look sheds nothing.
    assert worker.shed_backlogs() == 0

    with catalog.engine.connect() as conn:
        left = conn.execute(sa.select(queue.jobs.c.kind, sa.func.count()).where(queue.jobs.c.state == queue.QUEUED)
                            .group_by(queue.jobs.c.kind)).all()
    assert dict(left) == {"event.played": 10, "event.attention": 10, "event.quartile": 34}

    # Pruned like delivered jobs once past the retention.
    later = time.time() + 31 * 86400
    assert worker.prune(later) == 16
    assert shed_rows(catalog.engine) == []
    catalog.dispose()


def test_status_shows_each_portal_s_backlog_and_the_time_it_needs(sqlite_url, tmp_path, monkeypatch):
    catalog = queued_backlog(sqlite_url, sessions=10)
    build_worker(catalog, load_settings(env(sqlite_url), str(tmp_path))).shed_backlogs()
    catalog.dispose()
    for name, value in env(sqlite_url).items():
        monkeypatch.setenv(name, value)
    app = make_app(sqlite_url)
    output = command_runner(app).invoke(args=["worker", "--status"]).output
    lines = output.splitlines()
    assert lines[0].split()[-1] == "shed"
    quartiles = next(line for line in lines if "event.quartile" in line).split()
    assert quartiles == [str(PORTAL), "event.quartile", "34", "0", "0", "0", "0", "16"]
    assert "Event backlog per portal (one request each, at 10 requests / 10 s; " \
           "intermediate quartiles are shed past 0.015 h):" in output
    assert f"  portal {PORTAL}: 54 event(s), about 54 s" in output
    app.extensions["catalog"].dispose()


@pytest.mark.parametrize("value", ["0", "-1", "nan", "soon"])
def test_the_backlog_limit_must_be_a_positive_number(value, tmp_path):
    with pytest.raises(ConfigError, match="OEMBED_EVENTS_MAX_BACKLOG_HOURS"):
        load_settings({"OEMBED_EVENTS_MAX_BACKLOG_HOURS": value}, str(tmp_path))
