"""POST /hubspot/webhooks and the worker's processing of what it stores: signatures (v3,
or v1 when configured), refusals that store nothing, privacy deletions erasing exactly one
contact's rows in one portal (either event first), redeliveries, unknown portals, and
`oembed-server privacy erase`."""
from __future__ import annotations

import hashlib
import json
import time

import pytest
import sqlalchemy as sa

from oembed_server.storage import webhook_events
from oembed_server.storage.schema import jobs, webhook_events_seen
from oembed_server.usecases.webhook_processing import KIND_WEBHOOK_BATCH, LOCAL_PORTAL
from tests.support.apps import command_runner, make_app
from tests.support.environment import PUBLIC_URL
from tests.support.portal_installs import run_worker
from tests.support.webhook_deliveries import (
    WEBHOOK_SECRET,
    deletion_event,
    encode,
    seed_visitor,
    signed_headers,
    visitor_rows,
)

PORTAL = 777        # the configured portal (HUBSPOT_PORTAL_ID)
OTHER_PORTAL = 501  # installed by OAuth
URI = f"{PUBLIC_URL}/hubspot/webhooks"
C1, C2 = 9001, 9002


def webhook_app(database_url: str, **overrides):
    return make_app(database_url, HUBSPOT_CLIENT_SECRET=WEBHOOK_SECRET, HUBSPOT_CLIENT_ID="emu-client-id",
                    HUBSPOT_APP_ID="4242", HUBSPOT_PORTAL_ID=str(PORTAL), **overrides)


@pytest.fixture
def app(database_url):
    app = webhook_app(database_url)
    yield app
    app.extensions["catalog"].dispose()


def post(client, events_or_body, headers=None, uri=URI, **sign):
    body = events_or_body if isinstance(events_or_body, bytes) else encode(events_or_body)
    return client.post("/hubspot/webhooks", data=body,
                       headers=signed_headers(body, uri, **sign) if headers is None else headers)


def stored_batches(app) -> int:
    with app.extensions["catalog"].engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(jobs)
                            .where(jobs.c.kind == KIND_WEBHOOK_BATCH)).scalar_one()


def seed_two_contacts(engine):
    # C1 has two utks (two browsers); one of its plays is still queued. C2 has one.
    seed_visitor(engine, PORTAL, "utk-c1-a", "s-c1-a", contact_id=C1)
    seed_visitor(engine, PORTAL, "utk-c1-b", "s-c1-b", contact_id=C1, delivered=False)
    seed_visitor(engine, None, "utk-c1-a", "s-c1-a-offsite")  # a page that named no portal: the configured one's
    seed_visitor(engine, PORTAL, "utk-c2", "s-c2", contact_id=C2)
    seed_visitor(engine, PORTAL, None, "s-anonymous")  # dnt: no utk
    seed_visitor(engine, PORTAL, "utk-never-resolved", "s-unknown")
    # The same utk in another portal is another portal's visitor: untouched.
    seed_visitor(engine, OTHER_PORTAL, "utk-c1-a", "s-other-portal", contact_id=C1)


def test_a_signed_batch_is_stored_and_answered_204(app):
    client = app.test_client()
    response = post(client, [deletion_event(C1, PORTAL)])
    assert response.status_code == 204 and response.data == b""
    engine = app.extensions["catalog"].engine
    with engine.connect() as conn:
        row = conn.execute(sa.select(jobs).where(jobs.c.kind == KIND_WEBHOOK_BATCH)).mappings().one()
    assert row["portal_id"] == LOCAL_PORTAL and row["state"] == "queued"
    assert str(C1) in row["payload"]
    # Once processed, the delivered job (kept until the retention ends) names no contact.
    run_worker(app, None)
    with engine.connect() as conn:
        row = conn.execute(sa.select(jobs).where(jobs.c.kind == KIND_WEBHOOK_BATCH)).mappings().one()
        seen = conn.execute(sa.select(webhook_events_seen.c.dedupe_key)).scalars().all()
    assert row["state"] == "done" and str(C1) not in row["payload"] and str(C1) not in str(seen)
    assert json.loads(row["payload"]) == {"events": [], "processed": {
        "duplicates": 0, "erased": {"hubspot_contact_utks": 0, "jobs": 0, "play_sessions": 0},
        "outcomes": {"applied": 1}}}


@pytest.mark.parametrize("case", ["unsigned", "wrong_secret", "stale", "future", "other_uri", "altered_body",
                                  "no_timestamp", "v1_only"])
def test_unsigned_forged_or_stale_deliveries_are_401_and_store_nothing(app, case):
    client = app.test_client()
    body = encode([deletion_event(C1, PORTAL)])
    headers = signed_headers(body, URI)
    if case == "unsigned":
        headers.pop("X-HubSpot-Signature-v3")
    elif case == "wrong_secret":
        headers = signed_headers(body, URI, secret="not-the-secret")
    elif case == "stale":
        headers = signed_headers(body, URI, timestamp_ms=int(time.time() * 1000) - 6 * 60 * 1000)
    elif case == "future":
        headers = signed_headers(body, URI, timestamp_ms=int(time.time() * 1000) + 6 * 60 * 1000)
    elif case == "other_uri":
        headers = signed_headers(body, "https://elsewhere.example/hubspot/webhooks")
    elif case == "altered_body":
        body = encode([deletion_event(C2, PORTAL)])
    elif case == "no_timestamp":
        headers.pop("X-HubSpot-Request-Timestamp")
    elif case == "v1_only":
        headers = {"Content-Type": "application/json", "X-HubSpot-Signature-Version": "v1",
                   "X-HubSpot-Signature": hashlib.sha256(WEBHOOK_SECRET.encode() + body).hexdigest()}
    response = post(client, body, headers=headers)
    assert response.status_code == 401, response.get_json()
    assert "X-HubSpot" in response.get_json()["error"]
    assert stored_batches(app) == 0


@pytest.mark.parametrize("body, status", [
    (b"{not json", 400), (b'{"eventId": 1}', 400), (b"[]", 400), (encode([{"eventId": 1}]), 400),
    (encode([deletion_event(C1, PORTAL, event_id=i) for i in range(101)]), 413),
    # Named ids: the 101-event body holds the time, and pytest-xdist's workers must collect
    # the same names.
], ids=["not-json", "object", "empty", "missing-fields", "101-events"])
def test_signed_but_malformed_or_oversized_batches_are_refused_and_store_nothing(app, body, status):
    response = post(app.test_client(), body)
    assert response.status_code == status, response.get_json()
    assert stored_batches(app) == 0


def test_a_body_past_the_size_limit_is_413_before_any_check(app):
    response = app.test_client().post("/hubspot/webhooks", data=b"[" + b" " * 300_000 + b"]",
                                      headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and stored_batches(app) == 0


def test_without_the_client_secret_deliveries_are_503_naming_it(sqlite_url):
    app = make_app(sqlite_url)
    response = post(app.test_client(), [deletion_event(C1, PORTAL)])
    assert response.status_code == 503 and "HUBSPOT_CLIENT_SECRET" in response.get_json()["error"]


def test_v1_signatures_only_when_configured(sqlite_url):
    app = webhook_app(sqlite_url, HUBSPOT_WEBHOOK_SIGNATURE="v1")
    client = app.test_client()
    body = encode([deletion_event(C1, PORTAL)])
    v1 = {"Content-Type": "application/json", "X-HubSpot-Signature-Version": "v1",
          "X-HubSpot-Signature": hashlib.sha256(WEBHOOK_SECRET.encode() + body).hexdigest()}
    assert post(client, body, headers=v1).status_code == 204
    forged = v1 | {"X-HubSpot-Signature": hashlib.sha256(b"guess" + body).hexdigest()}
    assert post(client, body, headers=forged).status_code == 401
    assert post(client, body).status_code == 401  # v3 alone is not what this app was told to check
    assert stored_batches(app) == 1
    app.extensions["catalog"].dispose()


def test_a_privacy_deletion_erases_exactly_the_contacts_rows_in_its_portal(app):
    engine = app.extensions["catalog"].engine
    seed_two_contacts(engine)
    client = app.test_client()
    assert post(client, [deletion_event(C1, PORTAL)]).status_code == 204
    run_worker(app, None)
    left = visitor_rows(engine)
    assert left["sessions"] == ["s-anonymous", "s-c2", "s-other-portal", "s-unknown"]
    assert left["jobs"] == ["s-anonymous", "s-c2", "s-other-portal", "s-unknown"]
    assert left["map"] == [(OTHER_PORTAL, "utk-c1-a", C1), (PORTAL, "utk-c2", C2)]

    # The contact.deletion that accompanies it, and a redelivery of the first: nothing more goes.
    assert post(client, [deletion_event(C1, PORTAL, event_id=101, kind="contact.deletion")]).status_code == 204
    assert post(client, [deletion_event(C1, PORTAL, attemptNumber=1)]).status_code == 204
    run_worker(app, None)
    assert visitor_rows(engine) == left
    with engine.connect() as conn:
        assert webhook_events.outcome_counts(conn) == {"applied": 2}
        assert conn.execute(sa.select(sa.func.count()).select_from(webhook_events_seen)).scalar_one() == 2


def test_contact_deletion_first_erases_too_and_the_privacy_deletion_after_finds_nothing(app):
    engine = app.extensions["catalog"].engine
    seed_two_contacts(engine)
    client = app.test_client()
    assert post(client, [deletion_event(C2, PORTAL, event_id=5, kind="contact.deletion")]).status_code == 204
    run_worker(app, None)
    assert "s-c2" not in visitor_rows(engine)["sessions"]
    before = visitor_rows(engine)
    assert post(client, [deletion_event(C2, PORTAL, event_id=6)]).status_code == 204
    run_worker(app, None)
    assert visitor_rows(engine) == before and "s-c1-a" in before["sessions"]


def test_events_for_unknown_portals_or_other_apps_are_ignored_and_counted(app):
    engine = app.extensions["catalog"].engine
    seed_visitor(engine, 31337, "utk-x", "s-x", contact_id=C1)
    seed_two_contacts(engine)
    before = visitor_rows(engine)
    client = app.test_client()
    batch = [deletion_event(C1, 31337, event_id=1), deletion_event(C1, 31338, event_id=2),
             deletion_event(C1, PORTAL, event_id=3, appId=1),
             deletion_event(C1, PORTAL, event_id=4, subscriptionType="contact.creation")]
    assert post(client, batch).status_code == 204
    assert post(client, batch).status_code == 204  # redelivered: counted once
    run_worker(app, None)
    assert visitor_rows(engine) == before
    with engine.connect() as conn:
        assert webhook_events.outcome_counts(conn) == {"unknown_portal": 2, "other_app": 1, "ignored": 1}
        done = conn.execute(sa.select(jobs.c.state).where(jobs.c.kind == KIND_WEBHOOK_BATCH)).scalars().all()
    assert done == ["done", "done"]


def test_an_installed_portals_deletion_erases_there(app):
    from oembed_server.domain.oauth_tokens import OAuthTokens
    from oembed_server.storage.portal_store import PortalStore

    engine = app.extensions["catalog"].engine
    seed_two_contacts(engine)
    with engine.begin() as conn:
        PortalStore(engine, app.extensions["oembed_settings"].stable_secret_key).install(
            conn, OTHER_PORTAL, "default", OAuthTokens("a", "r", None))
    assert post(app.test_client(), [deletion_event(C1, OTHER_PORTAL)]).status_code == 204
    run_worker(app, None)
    left = visitor_rows(engine)
    assert "s-other-portal" not in left["sessions"] and "s-c1-a" in left["sessions"]
    assert (OTHER_PORTAL, "utk-c1-a", C1) not in left["map"] and (PORTAL, "utk-c1-a", C1) in left["map"]


def test_privacy_erase_by_hand_prints_counts_per_table_and_is_idempotent(app):
    engine = app.extensions["catalog"].engine
    seed_two_contacts(engine)
    runner = command_runner(app)
    result = runner.invoke(args=["privacy", "erase", "--portal", str(PORTAL), "--contact-id", str(C1)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"Erased contact {C1} in portal {PORTAL}:", "  play_sessions: 3 row(s)",
                                          "  jobs: 3 row(s)", "  hubspot_contact_utks: 2 row(s)"]
    again = runner.invoke(args=["privacy", "erase", "--portal", str(PORTAL), "--contact-id", str(C1), "--json"])
    assert again.exit_code == 0 and again.output.strip() == \
        '{"play_sessions": 0, "jobs": 0, "hubspot_contact_utks": 0}'
    by_utk = runner.invoke(args=["privacy", "erase", "--portal", str(PORTAL), "--utk", "utk-never-resolved",
                                 "--json"])
    assert by_utk.output.strip() == '{"play_sessions": 1, "jobs": 1, "hubspot_contact_utks": 0}'
    assert visitor_rows(engine)["sessions"] == ["s-anonymous", "s-c2", "s-other-portal"]
    for bad in (["--portal", "1"], ["--portal", "1", "--utk", "a b"], ["--portal", "1", "--utk", "u", "--contact-id",
                                                                      "2"]):
        assert runner.invoke(args=["privacy", "erase", *bad]).exit_code == 2


def test_a_deletion_erases_every_event_job_the_intake_made_for_the_visitors_sessions(sqlite_url):
    """Played, quartiles and the final attention of a real player session, found through
    the session: nothing of it is left."""
    from oembed_server.storage.privacy_erasure import remember_contact
    from oembed_server.usecases.sample_media import load_sample_media
    from tests.support.event_reports import SESSION, attention, body, player_token

    app = webhook_app(sqlite_url)
    load_sample_media(app.extensions["catalog"], PUBLIC_URL)
    engine = app.extensions["catalog"].engine
    client = app.test_client()
    token = player_token(client, f"/embed/sample-video?hs_portal_id={PORTAL}")
    reports = [body(token, portalId=PORTAL, contactUtk="utk-real"),
               *(body(token, portalId=PORTAL, contactUtk="utk-real", kind="quartile", state=..., playedPercent=q)
                 for q in (0, 25, 50)),
               attention(token, [1, 1, 0, 1, 0, 0, 0, 0, 0], portalId=PORTAL, contactUtk="utk-real", final=True)]
    for report in reports:
        assert client.post("/events", json=report).status_code == 202
    seed_visitor(engine, PORTAL, "utk-c2", "s-c2", contact_id=C2)
    with engine.begin() as conn:
        remember_contact(conn, PORTAL, "utk-real", C1)
    assert len(visitor_rows(engine)["jobs"]) == 6  # played, 3 quartiles, attention, and C2's
    assert post(client, [deletion_event(C1, PORTAL)]).status_code == 204
    run_worker(app, None)
    assert visitor_rows(engine) == {"sessions": ["s-c2"], "jobs": ["s-c2"], "map": [(PORTAL, "utk-c2", C2)]}
    assert SESSION not in str(visitor_rows(engine))
    app.extensions["catalog"].dispose()


def test_the_signature_setting_is_checked_and_batches_show_as_local_work(app, sqlite_url):
    from oembed_server.settings import ConfigError, load_settings

    with pytest.raises(ConfigError, match="HUBSPOT_WEBHOOK_SIGNATURE must be one of v3, v1"):
        load_settings({"HUBSPOT_WEBHOOK_SIGNATURE": "v2"}, "/tmp")
    assert load_settings({"HUBSPOT_WEBHOOK_SIGNATURE": " V1 "}, "/tmp").webhook_signature == "v1"
    assert post(app.test_client(), [deletion_event(C1, PORTAL)]).status_code == 204
    status = command_runner(app).invoke(args=["worker", "--status"])
    assert any(line.split()[:3] == ["local", KIND_WEBHOOK_BATCH, "1"] for line in status.output.splitlines()), \
        status.output


def test_a_worker_killed_after_processing_a_batch_leaves_nothing_to_redo(app):
    """Processing and forgetting the batch commit together: the job claimed again after the
    dead worker's lease finds no events, so nothing is erased or counted twice."""
    from oembed_server.jobs.handlers import LOCAL_HANDLERS, LocalContext
    from oembed_server.storage import job_queue

    engine = app.extensions["catalog"].engine
    seed_two_contacts(engine)
    assert post(app.test_client(), [deletion_event(C1, PORTAL)]).status_code == 204
    with engine.begin() as conn:
        # Priority 5: the batch is claimed before the queued event jobs.
        [job] = job_queue.claim(conn, "dead-worker", limit=1, lease_s=0.05)
    assert job.kind == KIND_WEBHOOK_BATCH
    LOCAL_HANDLERS[job.kind](job, LocalContext(app.extensions["catalog"], app.extensions["oembed_settings"]))
    after = visitor_rows(engine)  # erased; the worker died before marking the job done
    assert "s-c1-a" not in after["sessions"]
    time.sleep(0.06)
    run_worker(app, None)
    assert visitor_rows(engine) == after
    with engine.connect() as conn:
        assert webhook_events.outcome_counts(conn) == {"applied": 1}
        assert conn.execute(sa.select(jobs.c.state).where(jobs.c.id == job.id)).scalar_one() == "done"
