"""Install by OAuth end to end (Flask test client, live emulator, worker in-process): the
connect page, the consent page, the callback's refusals, per-portal tokens encrypted at
rest, provisioning jobs, libraries, and disconnection."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from oembed_server.domain.media import Visibility
from oembed_server.storage import job_queue as queue
from oembed_server.storage.portal_store import hubspot_portals
from oembed_server.usecases.provisioning import portal_steps
from tests.hubspot_emulator import LiveEmulator
from tests.support.apps import command_runner
from tests.support.portal_installs import (
    PORTAL_A,
    PORTAL_B,
    TEST_PORTALS,
    external_ids,
    install,
    item,
    make_install_app,
    run_worker,
    start_install,
)


@pytest.fixture
def emulator():
    with LiveEmulator(rate_interval_ms=200, test_portals=TEST_PORTALS) as live:
        yield live


@pytest.fixture
def app(emulator, sqlite_url):
    yield from _app(emulator, sqlite_url)


@pytest.fixture
def any_app(emulator, database_url):
    """The same app on each database engine available."""
    yield from _app(emulator, database_url)


def _app(emulator, database_url):
    app = make_install_app(database_url, emulator)
    app.extensions["catalog"].upsert([
        item("a-1"), item("a-2", visibility=Visibility.UNLISTED), item("a-secret", visibility=Visibility.PRIVATE),
        item("x-1", library="acme"),
    ])
    yield app
    app.extensions["catalog"].dispose()


def stored_rows(app):
    with app.extensions["catalog"].engine.connect() as conn:
        return conn.execute(sa.select(hubspot_portals)).mappings().all()


def test_install_provisions_the_portal_with_its_library(any_app, emulator, caplog):
    app = any_app
    client = app.test_client()
    caplog.set_level("DEBUG")
    response, _ = install(client, emulator, PORTAL_A)
    assert response.status_code == 303
    status_url = response.headers["Location"]

    rows = stored_rows(app)
    assert [r["portal_id"] for r in rows] == [PORTAL_A] and rows[0]["library"] == "default"
    # Encrypted at rest: no token in the row, and no token in any job payload.
    tokens = list(emulator.state.access_tokens) + list(emulator.state.refresh_tokens)
    with app.extensions["catalog"].engine.connect() as conn:
        payloads = [r.payload for r in conn.execute(sa.select(queue.jobs.c.payload))]
    for token in tokens:
        assert token not in rows[0]["ciphertext"] and all(token not in p for p in payloads)

    page = client.get(status_url).get_data(as_text=True)
    assert 'http-equiv="refresh"' in page and 'data-state="working"' in page

    run_worker(app, emulator)
    assert external_ids(emulator, PORTAL_A) == ["a-1", "a-2"]  # never private, never another library
    files = emulator.state.data(PORTAL_A).source_files
    assert ("published", "media-bridge/media_embed.module/module.html") in files
    assert ("published", "media-bridge/media_email.module/module.html") in files
    assert emulator.state.data(emulator.state.portal_id).source_files == {}
    assert [d["endpoints"]["url"] for d in emulator.state.oembed_domains.values()] == ["http://media.test/oembed"]
    assert emulator.state.event_visibility["ALL"]["showInTimeline"] is True, emulator.state.spec_violations

    progress = client.get(status_url + "/progress.json").get_json()
    assert progress["state"] == "done" and progress["library"] == "default"
    page = client.get(status_url).get_data(as_text=True)
    assert 'data-state="done"' in page and "refresh" not in page

    assert emulator.state.spec_violations == []  # every provisioning call as HubSpot's specs say
    logged = caplog.text + page
    for secret in [*tokens, emulator.state.client_secret]:
        assert secret not in logged


def test_declined_replayed_and_forged_callbacks_store_nothing(app, emulator):
    client = app.test_client()
    declined, _ = install(client, emulator, None)
    assert declined.status_code == 400 and "declined" in declined.get_data(as_text=True)

    done, callback = install(client, emulator, PORTAL_A)
    assert done.status_code == 303
    before = stored_rows(app)
    replay = client.get(callback)
    assert replay.status_code == 400 and "already used" in replay.get_data(as_text=True)
    # From another browser (no cookie), even a fresh state is refused.
    other = app.test_client()
    second = start_install(client, emulator, PORTAL_B)
    assert other.get(second).status_code == 400
    assert stored_rows(app) == before
    forged = client.get("/hubspot/oauth-callback?code=x&state=not-signed")
    assert forged.status_code == 400


def test_code_refused_by_hubspot_and_token_of_another_app(app, emulator, sqlite_url):
    client = app.test_client()
    emulator.state.code_lifetime_s = -1  # every code is already expired
    expired, _ = install(client, emulator, PORTAL_A)
    assert expired.status_code == 400 and "did not accept" in expired.get_data(as_text=True)
    emulator.state.code_lifetime_s = 300
    other_app = make_install_app(sqlite_url, emulator, HUBSPOT_APP_ID="9999")
    refused, _ = install(other_app.test_client(), emulator, PORTAL_A)
    assert refused.status_code == 400 and "another app" in refused.get_data(as_text=True)
    assert stored_rows(app) == []
    other_app.extensions["catalog"].dispose()


def test_missing_settings_are_named_on_the_connect_page(emulator, sqlite_url):
    app = make_install_app(sqlite_url, emulator, HUBSPOT_CLIENT_SECRET="", HUBSPOT_APP_ID="")
    page = app.test_client().get("/hubspot/connect")
    text = page.get_data(as_text=True)
    assert page.status_code == 503 and "HUBSPOT_CLIENT_SECRET" in text and "HUBSPOT_APP_ID" in text
    app.extensions["catalog"].dispose()


def test_invite_links_connect_to_their_library_and_cannot_be_edited(app, emulator):
    runner = command_runner(app)
    result = runner.invoke(args=["portals", "invite", "acme", "--json"])
    assert result.exit_code == 0, result.output
    link = json.loads(result.output)["link"]
    invite = link.split("invite=", 1)[1]
    client = app.test_client()
    tampered = client.get("/hubspot/connect?invite=" + invite[:-2] + ("AA" if not invite.endswith("AA") else "BB"))
    assert tampered.status_code == 400
    response, _ = install(client, emulator, PORTAL_B, invite=invite)
    assert response.status_code == 303
    run_worker(app, emulator)
    assert external_ids(emulator, PORTAL_B) == ["x-1"]

    listed = json.loads(runner.invoke(args=["portals", "list", "--json"]).output)["portals"]
    assert [(p["portalId"], p["library"], p["tokenState"]) for p in listed] == [(PORTAL_B, "acme", "connected")]


def test_revoked_portal_is_disconnected_and_resumes_on_reinstall(emulator, database_url):
    # How an uninstall shows without the journal (HUBSPOT_JOURNAL_POLL_S=0, or an app that
    # cannot read it): HubSpot refuses the portal's refresh token. With the journal, see
    # test_app_uninstalls.py.
    app = make_install_app(database_url, emulator, HUBSPOT_JOURNAL_POLL_S="0")
    app.extensions["catalog"].upsert([item("a-1"), item("a-2", visibility=Visibility.UNLISTED)])
    client = app.test_client()
    install(client, emulator, PORTAL_A)
    install(client, emulator, PORTAL_B)
    run_worker(app, emulator)
    emulator.state.uninstall(PORTAL_A)
    emulator.state.expire_tokens()  # the next call must refresh, and A's refresh token is revoked
    app.extensions["catalog"].upsert([item("a-3"), item("a-4")])
    runner = command_runner(app)
    assert runner.invoke(args=["portals", "resync", "--all"]).exit_code == 0
    run_worker(app, emulator)
    assert external_ids(emulator, PORTAL_B) == ["a-1", "a-2", "a-3", "a-4"]
    assert external_ids(emulator, PORTAL_A) == ["a-1", "a-2"]
    shown = json.loads(runner.invoke(args=["portals", "show", str(PORTAL_A), "--json"]).output)
    assert shown["tokenState"] == "disconnected" and shown["queuedJobs"] == 1
    with app.extensions["catalog"].engine.connect() as conn:
        assert [s.state for s in portal_steps(conn, PORTAL_A)][-1] == "held"

    install(client, emulator, PORTAL_A)  # the customer installs again
    run_worker(app, emulator)
    assert external_ids(emulator, PORTAL_A) == ["a-1", "a-2", "a-3", "a-4"]
    shown = json.loads(runner.invoke(args=["portals", "show", str(PORTAL_A), "--json"]).output)
    assert shown["tokenState"] == "connected" and shown["queuedJobs"] == 0


def test_disconnect_command_forgets_tokens(app, emulator):
    install(app.test_client(), emulator, PORTAL_A)
    runner = command_runner(app)
    result = runner.invoke(args=["portals", "disconnect", str(PORTAL_A), "--json"])
    assert json.loads(result.output) == {"portalId": PORTAL_A, "disconnected": True}
    assert stored_rows(app)[0]["ciphertext"] is None


def test_scripts_use_an_installed_portals_stored_tokens(app, emulator, sqlite_url, tmp_path):
    from tests.hubspot_emulator.testing import run_script, script_env
    install(app.test_client(), emulator, PORTAL_B)
    emulator.state.define_media_types("VIDEO")
    env = script_env(emulator, sqlite_url, HUBSPOT_PUSH_RECORD=str(tmp_path / "record.json"))
    env = {k: v for k, v in env.items() if k not in ("HUBSPOT_ACCESS_TOKEN", "HUBSPOT_REFRESH_TOKEN")}
    result = run_script("sync_media", "--portal-id", str(PORTAL_B), env=env)
    assert result.returncode == 0, result.stderr
    assert external_ids(emulator, PORTAL_B) == ["a-1", "a-2"]
    assert emulator.state.live_objects() == []  # nothing went to the configured portal
    result = run_script("push_module", "--portal-id", str(PORTAL_B), env=env)
    assert result.returncode == 0, result.stderr
    assert ("draft", "media-bridge/media_embed.module/meta.json") in emulator.state.data(PORTAL_B).source_files


def test_catalog_changes_reach_only_their_librarys_portals_and_module_versions_every_portal(app, emulator, tmp_path):
    from oembed_server.storage.portal_store import PortalStore
    from oembed_server.usecases.provisioning import (
        KIND_PUSH_MODULES,
        KIND_SYNC,
        modules_fingerprint,
        queue_module_update,
    )
    client = app.test_client()
    install(client, emulator, PORTAL_A)
    invite = json.loads(command_runner(app).invoke(args=["portals", "invite", "acme", "--json"]).output)["link"]
    install(client, emulator, PORTAL_B, invite=invite.split("invite=", 1)[1])
    run_worker(app, emulator)
    definitions = emulator.state.count("POST", r"/settings/object-definitions$")
    assert definitions == 1 and emulator.state.count("POST", r"/settings/oembed-domains$") == 1  # once per app

    def waiting(kind):
        with app.extensions["catalog"].engine.connect() as conn:
            return sorted(r.portal_id for r in conn.execute(sa.select(queue.jobs.c.portal_id).where(
                queue.jobs.c.kind == kind, queue.jobs.c.state == queue.QUEUED)))

    catalog_file = tmp_path / "acme.json"
    catalog_file.write_text(json.dumps([{"external_id": "x-2", "media_type": "VIDEO", "title": "X two",
                                         "library": "acme"}]))
    result = command_runner(app).invoke(args=["import-catalog", str(catalog_file)])
    assert "Queued a sync for 1 installed portal(s)" in result.output
    assert waiting(KIND_SYNC) == [PORTAL_B]
    store = PortalStore(app.extensions["catalog"].engine, None)
    with app.extensions["catalog"].engine.begin() as conn:
        assert queue_module_update(conn, store, "version-2") == [PORTAL_A, PORTAL_B]
        assert queue_module_update(conn, store, "version-2") == []
    assert waiting(KIND_PUSH_MODULES) == [PORTAL_A, PORTAL_B]
    run_worker(app, emulator)
    assert external_ids(emulator, PORTAL_B) == ["x-1", "x-2"] and external_ids(emulator, PORTAL_A) == ["a-1", "a-2"]
    assert len(modules_fingerprint()) == 64


def test_events_for_an_installed_portal_name_media_by_external_id(app, emulator):
    from oembed_server.domain.event_record import EventRecord
    install(app.test_client(), emulator, PORTAL_A)
    run_worker(app, emulator)
    # The configured portal's object id, recorded by a script sync: not portal A's.
    app.extensions["catalog"].set_hubspot_object_ids({"a-1": "999999"})
    record = EventRecord(kind="played", occurred_at_ms=1_700_000_000_000, state="STARTED", external_id="a-1",
                         media_type="VIDEO", session_id="s1", portal_id=PORTAL_A, contact_utk="utk-1",
                         page_name="Landing", page_url="https://site.test/landing")
    with app.extensions["catalog"].engine.begin() as conn:
        queue.enqueue(conn, record.job_kind, record.to_payload(), portal_id=PORTAL_A, priority=record.job_priority)
    run_worker(app, emulator)
    sent = [e["event"] for e in emulator.state.events]
    own = next(o.id for o in emulator.state.live_objects(hub_id=PORTAL_A) if o.properties["hs_external_id"] == "a-1")
    # Sent by externalId only; HubSpot resolved it to portal A's own object.
    assert len(sent) == 1 and sent[0]["externalId"] == "a-1" and sent[0]["mediaBridgeId"] == int(own)
    assert not [e for e in emulator.state.events if e.get("rejected")]


def test_app_setup_is_queued_again_when_what_it_was_done_for_changes(app, emulator):
    from oembed_server.usecases.provisioning import KIND_APP_SETUP, app_fingerprint, queue_app_update
    install(app.test_client(), emulator, PORTAL_A)
    run_worker(app, emulator)
    settings = app.extensions["oembed_settings"]
    engine = app.extensions["catalog"].engine
    with engine.begin() as conn:
        assert queue_app_update(conn, app_fingerprint(["VIDEO"], settings.public_url,
                                                      settings.effective_url_schemes, journal=True)) == 0
        # Turning the journal of uninstalls off or on is a change of what the setup does.
        assert queue_app_update(conn, app_fingerprint(["VIDEO"], settings.public_url,
                                                      settings.effective_url_schemes)) == 1
        assert queue_app_update(conn, app_fingerprint(["VIDEO"], "https://moved.example.com", ())) == 0  # queued
        waiting = conn.execute(sa.select(sa.func.count()).where(queue.jobs.c.kind == KIND_APP_SETUP,
                                                                queue.jobs.c.state == queue.QUEUED)).scalar()
    assert waiting == 1
