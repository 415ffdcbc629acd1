"""Issue 17, items 1, 2, 4 and 10: a report reaches only a portal this server serves, names
a contact only when a page of that portal framed the player, is never about an item that
turned private, left the catalog or the portal's library, and what is held for a portal
that never came is deleted after the retention like everything else about visitors."""
from __future__ import annotations

import json
import time

import pytest
import sqlalchemy as sa

from oembed_server.domain.media import Visibility
from oembed_server.domain.oauth_tokens import OAuthTokens
from oembed_server.domain.player_tokens import PlayerClaims, issue_token, read_token
from oembed_server.jobs.worker import WorkerOptions, build_worker
from oembed_server.storage import job_queue as queue
from oembed_server.storage.play_sessions import play_sessions
from oembed_server.storage.portal_hosts import FROM_OPERATOR, add_operator_host, remove_operator_host
from oembed_server.storage.portal_store import PortalStore
from oembed_server.storage.schema import media_items
from oembed_server.usecases import report_outcomes
from oembed_server.usecases.sample_media import load_sample_media
from tests.hubspot_emulator import LiveEmulator
from tests.hubspot_emulator.testing import FAST_CLIENT
from tests.support.apps import command_runner, make_app
from tests.support.environment import PUBLIC_URL, SECRET_KEY
from tests.support.event_reports import PORTAL_PAGE, SERVED_PORTAL, attention, body, player_token
from tests.support.portal_installs import item

CONFIGURED = 42
INSTALLED = 5150
CUSTOMER_PAGE = "https://www.customer.test/pricing"


@pytest.fixture
def app(database_url):
    app = make_app(database_url, **SERVED_PORTAL)
    catalog = app.extensions["catalog"]
    load_sample_media(catalog, PUBLIC_URL)
    catalog.upsert([item("acme-1", library="acme"), item("acme-2", library="acme")])
    with catalog.engine.begin() as conn:
        PortalStore(catalog.engine, SECRET_KEY).install(conn, INSTALLED, "acme", OAuthTokens("at", "rt", None))
    yield app
    catalog.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def outcomes():
    seen: list[str] = []
    report_outcomes.add_listener(seen.append)
    yield seen
    report_outcomes.remove_listener(seen.append)


def outbox(app) -> list[dict]:
    with app.extensions["catalog"].engine.connect() as conn:
        rows = conn.execute(sa.select(queue.jobs).order_by(queue.jobs.c.id)).mappings().all()
    return [dict(r, payload=json.loads(r["payload"])) for r in rows]


def claims(client, path: str, referer: str | None = PORTAL_PAGE) -> PlayerClaims:
    claimed = read_token(SECRET_KEY, player_token(client, path, referer=referer))
    assert claimed is not None
    return claimed


def events_config(client, path: str) -> dict:
    import re
    html = client.get(path, headers={"Referer": PORTAL_PAGE}).get_data(as_text=True)
    return json.loads(re.search(r'id="player-config">(.*?)</script>', html).group(1))["events"]


# --- item 1: tokens only for portals that installed the app --------------------------------
def test_a_made_up_portal_gets_an_anonymous_player_and_queues_nothing(client, app, outcomes):
    """Main signed a token for any hs_portal_id, and /events then queued its plays for
    portals that never installed (20 made-up portals, 20 held jobs). Now the player of a
    made-up portal names none and sends nothing identifying: no job names those portals."""
    for portal in range(900_001, 900_021):
        path = f"/embed/sample-video?hs_portal_id={portal}&hs_utk=utk-{portal}"
        config = events_config(client, path)
        assert (config["portalId"], config["dnt"]) == (None, True)
        token = config["token"]
        assert read_token(SECRET_KEY, token).portal_id is None
        # The report the player then sends: no portal, no visitor (dnt).
        report = body(token, portalId=None, contactUtk=..., pageId=..., pageUrl=..., pageName=..., dnt=True,
                      sessionId=f"made-up-portal-{portal}")
        assert client.post("/events", json=report).status_code == 202
        # Asking for the portal anyway is refused: the token does not name it.
        assert client.post("/events", json=body(token, portalId=portal)).status_code == 403
    jobs = outbox(app)
    assert len(jobs) == 20 and {j["portal_id"] for j in jobs} == {None}
    assert all("contact_utk" not in j["payload"] for j in jobs)
    assert outcomes.count(report_outcomes.TOKEN_PORTAL_NOT_SERVED) == 20


def test_a_token_names_a_connected_portal_only_for_items_of_its_library(client, outcomes):
    assert claims(client, f"/embed/acme-1?hs_portal_id={INSTALLED}").portal_id == INSTALLED
    assert claims(client, f"/embed/sample-video?hs_portal_id={CONFIGURED}").portal_id == CONFIGURED
    # sample-video is in the default library, not portal INSTALLED's (acme).
    outside = claims(client, f"/embed/sample-video?hs_portal_id={INSTALLED}")
    assert (outside.portal_id, outside.dnt) == (None, True)
    assert outcomes == [report_outcomes.TOKEN_ITEM_NOT_IN_LIBRARY]


def test_the_intake_refuses_a_portal_it_does_not_serve(client, app, outcomes):
    """A token forged for (or kept from before) a portal the server does not serve: main
    answered 202 and held the job; now 403 naming hs_portal_id, nothing stored."""
    forged = issue_token(SECRET_KEY, PlayerClaims("sample-video", "VIDEO", 777_777, False, PORTAL_PAGE))
    refused = client.post("/events", json=body(forged, portalId=777_777))
    assert refused.status_code == 403 and refused.json["field"] == "hs_portal_id"
    # A portal that uninstalled after its player loaded: its next report is refused too.
    token = player_token(client, f"/embed/acme-1?hs_portal_id={INSTALLED}")
    assert client.post("/events", json=body(token, externalId="acme-1", portalId=INSTALLED)).status_code == 202
    PortalStore(app.extensions["catalog"].engine, SECRET_KEY).disconnect(INSTALLED, "uninstalled")
    later = client.post("/events", json=body(token, externalId="acme-1", portalId=INSTALLED, kind="quartile",
                                             state=..., playedPercent=0))
    assert later.status_code == 403 and later.json["field"] == "hs_portal_id"
    assert [j["kind"] for j in outbox(app)] == ["event.played"]
    assert outcomes == [report_outcomes.PORTAL_NOT_SERVED, report_outcomes.PORTAL_NOT_SERVED]


# --- item 2: the framing site must belong to the portal ------------------------------------
def test_a_contact_is_kept_only_when_a_page_of_the_portal_framed_the_player(client, app, outcomes):
    engine = app.extensions["catalog"].engine
    with engine.begin() as conn:
        add_operator_host(conn, CONFIGURED, "www.customer.test")
    path = f"/embed/sample-video?hs_portal_id={CONFIGURED}"

    def sent(referer: str | None, frame_origin=..., session: str = "framing-session-00001") -> dict:
        token = player_token(client, path, referer=referer)
        response = client.post("/events", json=body(token, sessionId=session, frameOrigin=frame_origin))
        assert response.status_code == 202  # accepted for insights, whatever the framing
        return next(j["payload"] for j in outbox(app) if j["payload"]["session_id"] == session)

    # The operator's listed site, and HubSpot's own hosts, keep the contact and page fields.
    kept = sent(CUSTOMER_PAGE, "https://www.customer.test", "framing-session-00001")
    assert (kept["contact_utk"], kept["page_url"]) == ("utk-1", "https://www.example.com/landing")
    assert sent(PORTAL_PAGE, session="framing-session-00002")["contact_utk"] == "utk-1"
    # A site of someone else's: main sent the contact; now the play goes out without it.
    foreign = sent("https://attacker.test/fake-landing", session="framing-session-00003")
    assert not {"contact_utk", "page_id", "page_url", "page_name", "hsenc"} & set(foreign)
    # The player says another page framed it than the iframe request did: not trusted.
    mixed = sent(CUSTOMER_PAGE, "https://attacker.test", "framing-session-00004")
    assert "contact_utk" not in mixed
    # The browser revealed no framing page at all (no Referer, nothing from the player).
    assert "contact_utk" not in sent(None, session="framing-session-00005")
    # Once the operator removes the site, its pages no longer put contacts on the timeline.
    with engine.begin() as conn:
        remove_operator_host(conn, CONFIGURED, "www.customer.test")
    assert "contact_utk" not in sent(CUSTOMER_PAGE, "https://www.customer.test", "framing-session-00006")
    with engine.connect() as conn:
        stored = conn.execute(sa.select(play_sessions.c.contact_utk).where(
            play_sessions.c.session_id == "framing-session-00003")).scalar()
    assert stored is None  # the insights row keeps no unverified contact either
    assert outcomes == [report_outcomes.FRAME_FOREIGN, report_outcomes.FRAME_FOREIGN, report_outcomes.FRAME_UNKNOWN,
                        report_outcomes.FRAME_FOREIGN]


def test_operators_list_a_portals_sites_from_the_command_line(app):
    runner = command_runner(app)
    added = runner.invoke(args=["portals", "domains", str(INSTALLED), "add", "WWW.Acme.test."])
    assert added.exit_code == 0 and added.output == f"Portal {INSTALLED}: www.acme.test added.\n", added.output
    again = runner.invoke(args=["portals", "domains", str(INSTALLED), "add", "www.acme.test"])
    assert "already listed" in again.output
    listed = runner.invoke(args=["portals", "domains", str(INSTALLED), "list", "--json"])
    data = json.loads(listed.output)
    assert data["hosts"] == [{"host": "www.acme.test", "source": FROM_OPERATOR}]
    assert "*.hs-sites-eu1.com" in data["hubspotHosts"] and "*.hubspotpagebuilder-eu1.com" in data["hubspotHosts"]
    for bad in ("https://www.acme.test/", "www.acme.test:8080", "localhost", "-x-.test", ""):
        refused = runner.invoke(args=["portals", "domains", str(INSTALLED), "add", bad])
        assert refused.exit_code == 2 and "HOST" in refused.output, (bad, refused.output)
    unknown = runner.invoke(args=["portals", "domains", "31337", "add", "www.acme.test"])
    assert unknown.exit_code == 1 and "neither installed nor HUBSPOT_PORTAL_ID" in unknown.output
    removed = runner.invoke(args=["portals", "domains", str(INSTALLED), "remove", "www.acme.test"])
    assert removed.output == f"Portal {INSTALLED}: www.acme.test removed.\n"
    assert "not on the operator's list" in runner.invoke(
        args=["portals", "domains", str(INSTALLED), "remove", "www.acme.test"]).output


# --- item 4: private means private, at every step ------------------------------------------
def test_reports_about_an_item_made_private_removed_or_moved_are_refused(client, app, outcomes):
    """A token issued while the item was public: main kept accepting its reports after the
    item turned private (and sent them with the title); now each is refused, and so are
    reports about an item removed or moved out of the portal's library."""
    catalog = app.extensions["catalog"]
    private_token = player_token(client, "/embed/sample-video?hs_portal_id=42")
    moved_token = player_token(client, f"/embed/acme-1?hs_portal_id={INSTALLED}")
    removed_token = player_token(client, f"/embed/acme-2?hs_portal_id={INSTALLED}")
    catalog.upsert([item("sample-video", visibility=Visibility.PRIVATE), item("acme-1", library="default")])
    with catalog.engine.begin() as conn:
        conn.execute(media_items.delete().where(media_items.c.external_id == "acme-2"))

    cases = [(private_token, "sample-video", CONFIGURED), (moved_token, "acme-1", INSTALLED),
             (removed_token, "acme-2", INSTALLED)]
    for token, external_id, portal in cases:
        refused = client.post("/events", json=body(token, externalId=external_id, portalId=portal))
        assert refused.status_code == 403 and refused.json["field"] == "externalId", refused.json
    assert outbox(app) == []
    assert outcomes == [report_outcomes.ITEM_PRIVATE, report_outcomes.ITEM_NOT_IN_LIBRARY,
                        report_outcomes.ITEM_REMOVED]


def test_a_report_is_admitted_on_the_facts_as_they_are_now_though_an_earlier_one_was_not(client, app, outcomes):
    """On PostgreSQL the intake keeps the facts it admitted a report on, and the write checks
    that they still hold. Each change below comes after a report of the same item and portal
    was admitted; the next report sees the change at once, whatever kind it is."""
    catalog = app.extensions["catalog"]
    token = player_token(client, "/embed/sample-video?hs_portal_id=42")

    def report(session: str, **fields):
        return client.post("/events", json=body(token, sessionId=session, **fields))

    assert report("kept-facts-session-0001").status_code == 202
    catalog.upsert([item("sample-video", visibility=Visibility.PRIVATE)])
    assert report("kept-facts-session-0002").status_code == 403
    # An attention update of the session admitted before: refused, its row left as it was.
    late = client.post("/events", json=attention(token, [1, 1] + [0] * 7, sessionId="kept-facts-session-0001",
                                                 final=True))
    assert late.status_code == 403 and late.json["field"] == "externalId", late.json
    # Public again: not refused on what was true a moment ago.
    catalog.upsert([item("sample-video")])
    assert report("kept-facts-session-0003").status_code == 202
    with catalog.engine.connect() as conn:
        rows = conn.execute(sa.select(play_sessions.c.session_id, play_sessions.c.spans)
                            .order_by(play_sessions.c.session_id)).all()
    assert [tuple(r) for r in rows] == [("kept-facts-session-0001", None), ("kept-facts-session-0003", None)]
    assert [j["payload"]["session_id"] for j in outbox(app)] == ["kept-facts-session-0001",
                                                                 "kept-facts-session-0003"]
    assert outcomes == [report_outcomes.ITEM_PRIVATE, report_outcomes.ITEM_PRIVATE]


@pytest.fixture
def emulator():
    with LiveEmulator(rate_interval_ms=200) as live:
        yield live


def test_the_worker_drops_queued_events_of_items_that_turned_private(emulator, sqlite_url, outcomes):
    """Events queued while the item was public, sent after it turned private: main sent
    them with mediaName; now the worker drops them, sends nothing and deletes the jobs."""
    app = make_app(sqlite_url, **emulator.env(), **FAST_CLIENT)
    catalog = app.extensions["catalog"]
    load_sample_media(catalog, PUBLIC_URL)
    catalog.upsert([item("secret-soon", title="Unannounced product launch")])
    client = app.test_client()
    portal = emulator.state.portal_id
    token = player_token(client, f"/embed/secret-soon?hs_portal_id={portal}")
    other = player_token(client, f"/embed/sample-audio?hs_portal_id={portal}")
    for kind in ({}, {"kind": "quartile", "state": ..., "playedPercent": 0}):
        assert client.post("/events", json=body(token, externalId="secret-soon", portalId=portal,
                                                **kind)).status_code == 202
    assert client.post("/events", json=body(other, externalId="sample-audio", portalId=portal,
                                            sessionId="still-public-session-1")).status_code == 202
    catalog.upsert([item("secret-soon", title="Unannounced product launch", visibility=Visibility.PRIVATE)])

    worker = build_worker(catalog, app.extensions["oembed_settings"],
                          options=WorkerOptions(idle_poll_s=0.02, release_held_every_s=0.05))
    report = worker.run(once=True)
    assert (report.sent, report.dropped) == (1, 2)
    sent = [e["event"] for e in emulator.state.events]
    assert [e["externalId"] for e in sent] == ["sample-audio"]
    assert "Unannounced" not in json.dumps(emulator.state.events)
    assert [j["payload"]["external_id"] for j in outbox(app)] == ["sample-audio"]  # the dropped are gone
    assert sorted(outcomes) == [report_outcomes.DROPPED_ITEM_PRIVATE] * 2
    catalog.dispose()


# --- item 10: held jobs and their visitor data are pruned ---------------------------------
def test_held_and_dead_events_are_deleted_after_the_retention(sqlite_url):
    """A portal that never installs (or uninstalled) kept its events held forever on main,
    visitor tokens and all; now they go after OEMBED_EVENTS_RETENTION_DAYS like delivered
    ones. Provisioning work (no visitor data) is still kept for the portal's return."""
    app = make_app(sqlite_url, OEMBED_EVENTS_RETENTION_DAYS="30")
    catalog = app.extensions["catalog"]
    now = time.time()
    visitor = {"contact_utk": "utk-of-a-visitor", "page_url": "https://site.test/p"}
    with catalog.engine.begin() as conn:
        for name, portal, age in (("old-held", 111, 40), ("new-held", 111, 2), ("old-dead", 222, 35)):
            queue.enqueue(conn, "event.played", visitor | {"name": name}, portal_id=portal, now=now - age * 86400)
        queue.enqueue(conn, "provision.sync", {"name": "old-sync"}, portal_id=111, now=now - 90 * 86400)
        queue.hold_portal(conn, 111, "portal 111 never installed", now=now - 86400)
        job = next(j for j in queue.claim(conn, "w", limit=10, lease_s=60, now=now) if j.portal_id == 222)
        queue.bury(conn, job, "w", "HubSpot 400", now=now - 34 * 86400)
        conn.execute(play_sessions.insert().values(
            session_id="held-portal-session-01", external_id="sample-video", media_type="VIDEO", portal_id=111,
            contact_utk="utk-of-a-visitor", first_seen_at=now - 40 * 86400, last_seen_at=now - 40 * 86400,
            closed_at=now - 39 * 86400))
    worker = build_worker(catalog, app.extensions["oembed_settings"])
    assert worker.prune(now) == 2
    with catalog.engine.connect() as conn:
        left = sorted(json.loads(p)["name"] for p in conn.execute(sa.select(queue.jobs.c.payload)).scalars())
        sessions = conn.execute(sa.select(sa.func.count()).select_from(play_sessions)).scalar()
    assert left == ["new-held", "old-sync"] and sessions == 0
    catalog.dispose()
