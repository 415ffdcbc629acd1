"""The operator console (issue 20 part 5) through Flask's test client: operators made by
the CLI, sign-in with a throttle, sessions, CSRF on every form, each page and action, and
the audit log. The browser test (tests/browser/test_console.py) covers a real sign-in."""
from __future__ import annotations

import io
import json
import logging
import re
import time

import pytest
import sqlalchemy as sa

from oembed_server.domain.media import Visibility
from oembed_server.storage import job_queue
from oembed_server.storage.portal_store import PortalStore
from oembed_server.storage.schema import console_operators, play_sessions
from oembed_server.usecases.provisioning import KIND_PUSH_MODULES, KIND_SYNC
from tests.support.apps import command_runner, make_app
from tests.support.environment import SECRET_KEY
from tests.support.portal_installs import item

PASSWORD = "correct horse battery staple"
PAGES = ["/console/portals", "/console/events", "/console/catalog", "/console/invites", "/console/media"]


@pytest.fixture
def app(sqlite_url):
    app = make_app(sqlite_url, REFUSAL_FLUSH_EVERY_S=0)
    add_operator(app, "alice")
    yield app
    app.extensions["catalog"].dispose()


def add_operator(app, name, password=PASSWORD):
    result = command_runner(app).invoke(args=["operators", "add", name], input=f"{password}\n{password}\n")
    assert result.exit_code == 0, result.output
    return result


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def sign_in(client, name="alice", password=PASSWORD, **environ):
    page = client.get("/console/sign-in")
    return client.post("/console/sign-in", data={"name": name, "password": password,
                                                 "csrf_token": csrf_of(page.get_data(as_text=True))},
                       environ_base=environ)


def post(client, page_url: str, action_url: str, data=None, **kwargs):
    token = csrf_of(client.get(page_url).get_data(as_text=True))
    return client.post(action_url, data={"csrf_token": token} | (data or {}), **kwargs)


@pytest.fixture
def signed_in(app):
    client = app.test_client()
    assert sign_in(client).status_code == 303
    return client


def test_operators_commands_store_an_argon2_hash_and_manage_operators(app):
    with app.extensions["catalog"].engine.connect() as conn:
        stored = conn.execute(sa.select(console_operators.c.password_hash)).scalar()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    runner = command_runner(app)
    short = runner.invoke(args=["operators", "add", "bob"], input="short\nshort\n")
    assert short.exit_code != 0 and "at least 12 characters" in short.output
    again = runner.invoke(args=["operators", "add", "alice"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert again.exit_code != 0 and "exists" in again.output
    listed = json.loads(runner.invoke(args=["operators", "list", "--json"]).output)["operators"]
    assert [o["name"] for o in listed] == ["alice"] and "hash" not in json.dumps(listed)
    assert runner.invoke(args=["operators", "remove", "nobody"]).exit_code != 0


def test_no_page_is_reachable_without_a_session(app):
    client = app.test_client()
    for url in PAGES + ["/console/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/console/sign-in" in response.headers["Location"]
    api = client.get("/console/api/summary")
    assert api.status_code == 401 and api.get_json() == {"error": "sign in to the console first"}
    # A POST without a session does nothing, with or without a token.
    token = csrf_of(client.get("/console/sign-in").get_data(as_text=True))
    assert client.post("/console/portals/5/disconnect", data={"csrf_token": token}).status_code == 302


def test_sign_in_sets_a_strict_session_cookie_and_sign_out_ends_it(app):
    client = app.test_client()
    response = sign_in(client)
    assert response.status_code == 303 and response.headers["Location"].endswith("/console/portals")
    cookie = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("console_session=")][0]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    value = cookie.split(";", 1)[0].split("=", 1)[1]
    for url in PAGES:
        page = client.get(url)
        assert page.status_code == 200 and "Signed in as" in page.get_data(as_text=True), url
        assert page.headers["Cache-Control"] == "no-store"
    assert client.get("/console/api/summary").get_json()["operator"] == "alice"
    signed_out = post(client, "/console/portals", "/console/sign-out")
    assert signed_out.status_code == 303
    # The old cookie value no longer works anywhere, even replayed.
    replay = app.test_client()
    replay.set_cookie("console_session", value, path="/console")
    assert replay.get("/console/portals").status_code == 302


def test_the_session_cookie_is_secure_in_production(sqlite_url):
    app = make_app(sqlite_url, OEMBED_ENV="production", OEMBED_PUBLIC_URL="https://media.example.com")
    try:
        add_operator(app, "alice")
        client = app.test_client()
        response = sign_in(client)
        cookies = response.headers.getlist("Set-Cookie")
        assert any(c.startswith("console_session=") and "Secure" in c for c in cookies)
        assert all("Secure" in c for c in cookies if c.startswith("session="))
    finally:
        app.extensions["catalog"].dispose()


def test_wrong_passwords_are_refused_and_throttled_per_name_and_per_address(app):
    client = app.test_client()
    for _ in range(5):
        assert sign_in(client, password="wrong password!!").status_code == 401
    # The right password no longer helps for that name, from any address...
    throttled = sign_in(app.test_client(), REMOTE_ADDR="10.0.0.9")
    assert throttled.status_code == 429 and "Too many failed sign-ins" in throttled.get_data(as_text=True)
    # ...and an address that guessed too much is stopped for every name.
    add_operator(app, "bob")
    for name in ("carol", "dave", "erin", "frank", "gina"):
        assert sign_in(app.test_client(), name=name, password="x" * 12, REMOTE_ADDR="10.0.0.7").status_code == 401
    assert sign_in(app.test_client(), name="bob", REMOTE_ADDR="10.0.0.7").status_code == 429
    assert sign_in(app.test_client(), name="bob", REMOTE_ADDR="10.0.0.8").status_code == 303


def test_every_form_needs_its_csrf_token(app, signed_in):
    for url in ("/console/sign-out", "/console/portals/1/resync", "/console/invites", "/console/catalog/upload"):
        response = signed_in.post(url, data={"library": "acme", "days": "1", "uses": "1"})
        assert response.status_code == 400, url
        assert "security token" in response.get_data(as_text=True)
    forged = signed_in.post("/console/invites", data={"library": "acme", "days": "1", "uses": "1",
                                                       "csrf_token": "forged"})
    assert forged.status_code == 400
    assert json.loads(command_runner(app).invoke(args=["portals", "invites", "--json"]).output)["invites"] == []
    sign_in_without = app.test_client().post("/console/sign-in", data={"name": "alice", "password": PASSWORD})
    assert sign_in_without.status_code == 400


def _install_portal(app, portal_id=601, library="default"):
    from oembed_server.domain.oauth_tokens import OAuthTokens
    store = PortalStore(app.extensions["catalog"].engine, SECRET_KEY)
    with store.engine.begin() as conn:
        store.install(conn, portal_id, library, OAuthTokens("access", "refresh", time.time() + 3600))
    return store


def _waiting(app, kind):
    with app.extensions["catalog"].engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(job_queue.jobs).where(
            job_queue.jobs.c.kind == kind, job_queue.jobs.c.state == job_queue.QUEUED)).scalar()


def test_portal_actions_queue_the_clis_jobs_and_are_audited(app, signed_in, caplog):
    store = _install_portal(app)
    with store.engine.begin() as conn:
        job_queue.enqueue(conn, "event.played", {"x": 1}, portal_id=601)
        job_queue.enqueue(conn, "event.played", {"x": 2}, portal_id=601)
        conn.execute(job_queue.jobs.update().where(job_queue.jobs.c.payload.like('%"x":2%')).values(
            state=job_queue.DEAD, last_error="HubSpot 400 on POST /media-bridge/v1/events/media-played: "
                                              "bad id (correlationId abc-123)"))
    page = signed_in.get("/console/portals").get_data(as_text=True)
    assert 'id="portal-601"' in page and "1 queued" in page
    caplog.set_level(logging.INFO, logger="oembed_server.console.audit")
    for action, kind in (("resync", KIND_SYNC), ("push-modules", KIND_PUSH_MODULES)):
        response = post(signed_in, "/console/portals", f"/console/portals/601/{action}")
        assert response.status_code == 303
        assert _waiting(app, kind) == 1
    assert post(signed_in, "/console/portals", "/console/portals/601/retry-dead").status_code == 303
    assert _waiting(app, "event.played") == 2
    assert post(signed_in, "/console/portals", "/console/portals/601/disconnect").status_code == 303
    assert not store.get(601).connected
    refused = post(signed_in, "/console/portals", "/console/portals/601/resync", follow_redirects=True)
    assert "disconnected" in refused.get_data(as_text=True)
    audited = [r.getMessage() for r in caplog.records if r.name == "oembed_server.console.audit"]
    for action in ("resync", "push-modules", "retry-dead", "disconnect"):
        assert any(f"operator=alice action={action} portal=601" in line for line in audited), action


def test_events_page_counts_accepted_and_refused_reports_and_retries_dead_letters(app, signed_in):
    client = app.test_client()
    # Refusals of three reasons; counted in memory, saved to the database at flush.
    client.post("/events", data="x", content_type="application/xml")
    client.post("/events", data="{nope", content_type="application/json")
    client.post("/events", data=json.dumps({"sessionId": "s"}), content_type="application/json")
    app.extensions["intake_refusal_tally"].flush()
    engine = app.extensions["catalog"].engine
    now = time.time()
    with engine.begin() as conn:
        job_queue.enqueue(conn, "event.played", {"n": 1}, portal_id=601)
        job_queue.enqueue(conn, "event.quartile", {"n": 2}, portal_id=601, now=now - 7200)
        job_queue.enqueue(conn, "event.played", {"n": 3}, portal_id=601)
        conn.execute(job_queue.jobs.update().where(job_queue.jobs.c.payload == '{"n":3}').values(
            state=job_queue.DEAD, last_error="HubSpot 400 VALIDATION_ERROR: mediaBridgeId is unknown "
                                              "(correlationId 7f0c-42)"))
    page = signed_in.get("/console/events").get_data(as_text=True)
    refused = re.search(r'id="refused-caption".*?</table>', page, re.S).group(0)
    for reason in ("content_type", "invalid_json", "token_missing"):
        assert re.search(rf"<th scope=\"row\">{reason}</th><td>1</td><td>1</td>", refused), reason
    accepted = re.search(r'id="accepted-caption".*?</table>', page, re.S).group(0)
    assert re.search(r"event.played</th><td>2</td><td>2</td>", accepted)
    assert re.search(r"event.quartile</th><td>0</td><td>1</td>", accepted)
    assert "mediaBridgeId is unknown" in page and "<code>7f0c-42</code>" in page
    dead_id = re.search(r'id="dead-(\d+)"', page).group(1)
    backlog = re.search(r'id="backlog-caption".*?</table>', page, re.S).group(0)
    assert "<td>2</td>" in backlog and "1 s" in backlog  # 2 events at 100 per 10 s
    assert post(signed_in, "/console/events", f"/console/dead-jobs/{dead_id}/retry").status_code == 303
    assert "No dead letters" in signed_in.get("/console/events").get_data(as_text=True)


def test_refusals_reach_the_database_once_per_period_not_once_per_request(database_url):
    from oembed_server.storage.refusal_tally import RefusalTally, refusals_since
    app = make_app(database_url)
    engine = app.extensions["catalog"].engine
    clock = [1_000_000.0]
    tally = RefusalTally(engine, flush_every_s=5, clock=lambda: clock[0])
    statements = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    for _ in range(10_000):
        tally.count("token")
    assert not [s for s in statements if "intake_refusals" in s]
    clock[0] += 5
    tally.count("token")
    assert len([s for s in statements if "INSERT INTO intake_refusals" in s]) == 1
    assert refusals_since(engine, 0) == {"token": 10_001}
    other = RefusalTally(engine, flush_every_s=5, clock=lambda: clock[0])  # a second process
    other.count("token")
    other.flush()
    assert refusals_since(engine, 0) == {"token": 10_002}
    app.extensions["catalog"].dispose()


def test_a_tally_in_use_is_flushed_at_exit_and_a_dropped_one_is_let_go(database_url):
    import gc
    import weakref

    from oembed_server.storage import refusal_tally
    app = make_app(database_url)
    engine = app.extensions["catalog"].engine
    tally = refusal_tally.RefusalTally(engine, flush_every_s=3600)
    tally.count("token")
    refusal_tally._flush_live_tallies()  # what the interpreter's exit runs
    assert refusal_tally.refusals_since(engine, 0) == {"token": 1}
    # The exit hook holds no reference: a tally whose app is gone (its database perhaps
    # dropped, as a test's is) is collected, and nothing is written for it at exit.
    gone = weakref.ref(tally)
    del tally
    gc.collect()
    assert gone() is None
    app.extensions["catalog"].dispose()


def test_catalog_upload_applies_all_or_nothing_with_row_numbered_problems(app, signed_in):
    good = json.dumps([{"external_id": "c-1", "media_type": "VIDEO", "title": "One", "library": "acme"},
                       {"external_id": "c-2", "media_type": "AUDIO", "title": "Two", "visibility": "unlisted"}])
    bad = json.dumps([{"external_id": "c-3", "media_type": "VIDEO", "title": "Three"},
                      {"external_id": "c-4", "media_type": "SOUND", "title": "Four"},
                      {"external_id": "c-3", "media_type": "VIDEO", "title": "Again"}])
    refused = post(signed_in, "/console/catalog", "/console/catalog/upload",
                   data={"catalog": (io.BytesIO(bad.encode()), "bad.json")}, content_type="multipart/form-data")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Nothing imported: 2 problem(s) in 3 row(s)" in text
    assert "row 2, field &#39;media_type&#39;" in text
    assert "row 3, field &#39;external_id&#39;: duplicate of row 1" in text
    assert app.extensions["catalog"].get("c-3") is None
    done = post(signed_in, "/console/catalog", "/console/catalog/upload",
                data={"catalog": (io.BytesIO(good.encode()), "good.json")}, content_type="multipart/form-data")
    assert done.status_code == 200 and "Imported 2 item(s) from good.json: 2 added" in done.get_data(as_text=True)
    assert app.extensions["catalog"].get("c-2").visibility == Visibility.UNLISTED
    csv_file = "external_id,media_type,title\nc-9,VIDEO,Nine\n"
    csv_done = post(signed_in, "/console/catalog", "/console/catalog/upload",
                    data={"catalog": (io.BytesIO(csv_file.encode()), "more.csv")}, content_type="multipart/form-data")
    assert csv_done.status_code == 200
    table = re.search(r'id="catalog-caption".*?</table>', csv_done.get_data(as_text=True), re.S).group(0)
    assert re.search(r"acme</th><td>1</td><td>0</td><td>0</td><td>1</td>", table)
    assert re.search(r"default</th><td>1</td><td>1</td><td>0</td><td>2</td>", table)


def test_invites_are_made_listed_and_revoked_from_the_console(app, signed_in, caplog):
    caplog.set_level(logging.INFO, logger="oembed_server.console.audit")
    too_long = post(signed_in, "/console/invites", "/console/invites",
                    data={"library": "acme", "days": "1e300", "uses": "1"})
    assert too_long.status_code == 400 and "at most 30" in too_long.get_data(as_text=True)
    made = post(signed_in, "/console/invites", "/console/invites", data={"library": "acme", "days": "2", "uses": "3"})
    text = made.get_data(as_text=True)
    assert made.status_code == 201
    link = re.search(r'id="invite-link" class="wide" readonly value="([^"]+)"', text).group(1)
    token = link.split("invite=", 1)[1]
    assert app.test_client().get(f"/hubspot/connect?invite={token}").status_code != 400
    listed = json.loads(command_runner(app).invoke(args=["portals", "invites", "--json"]).output)["invites"]
    assert [(i["library"], i["maxUses"], i["createdBy"]) for i in listed] == [("acme", 3, "console:alice")]
    invite_id = listed[0]["id"]
    assert post(signed_in, "/console/invites", f"/console/invites/{invite_id}/revoke").status_code == 303
    assert app.test_client().get(f"/hubspot/connect?invite={token}").status_code == 400
    audited = " ".join(r.getMessage() for r in caplog.records if r.name == "oembed_server.console.audit")
    assert f"operator=alice action=invite-create invite={invite_id} library=acme" in audited
    assert f"operator=alice action=invite-revoke invite={invite_id}" in audited


def test_media_page_shows_plays_contacts_and_percent_with_insights_links(app, signed_in):
    app.extensions["catalog"].upsert([item("m-1", title="Launch video"), item("m-2")])
    now = time.time()
    rows = [("s1", "m-1", "utk-a", 50.0), ("s2", "m-1", "utk-a", 100.0), ("s3", "m-1", "utk-b", None),
            ("s4", "m-2", None, 10.0)]
    with app.extensions["catalog"].engine.begin() as conn:
        for session_id, external_id, utk, percent in rows:
            conn.execute(play_sessions.insert().values(
                session_id=session_id, external_id=external_id, media_type="VIDEO", contact_utk=utk,
                started_day="2026-12-01", percent_played=percent, first_seen_at=now, last_seen_at=now))
    page = signed_in.get("/console/media").get_data(as_text=True)
    row = re.search(r"Launch video</a>.*?</tr>", page, re.S).group(0)
    assert "<td>3</td><td>2</td><td>75.0 %</td>" in row
    link = re.search(r'href="([^"]+)">Launch video', page).group(1).replace("&amp;", "&")
    assert "/insights/m-1?key=" in link
    assert app.test_client().get(link[link.index("/insights"):]).status_code == 200


def test_removing_an_operator_or_changing_the_password_ends_their_sessions(app, signed_in):
    runner = command_runner(app)
    new = "another long passphrase"
    assert runner.invoke(args=["operators", "passwd", "alice"], input=f"{new}\n{new}\n").exit_code == 0
    assert signed_in.get("/console/portals").status_code == 302
    client = app.test_client()
    assert sign_in(client, password=new).status_code == 303
    assert runner.invoke(args=["operators", "remove", "alice"]).exit_code == 0
    assert client.get("/console/portals").status_code == 302


def test_sign_in_only_follows_console_paths(app):
    client = app.test_client()
    page = client.get("/console/sign-in?next=//evil.example/x")
    response = client.post("/console/sign-in", data={"name": "alice", "password": PASSWORD, "next": "//evil.example/x",
                                                     "csrf_token": csrf_of(page.get_data(as_text=True))})
    assert response.status_code == 303 and response.headers["Location"].endswith("/console/portals")
