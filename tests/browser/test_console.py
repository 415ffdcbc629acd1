"""The operator console in Chromium: an operator signs in through the form, acts on a
portal, makes and revokes an invite, uploads a catalog, and signs out; without a session
every page sends the browser to the sign-in. No JavaScript is needed on any page, so the
test also runs the whole flow with JavaScript off."""
from __future__ import annotations

import time

import pytest

from oembed_server import create_app
from oembed_server.domain.oauth_tokens import OAuthTokens
from oembed_server.storage import job_queue
from oembed_server.storage.portal_store import PortalStore
from oembed_server.usecases.console_operators import add_operator
from oembed_server.usecases.sample_media import load_sample_media
from tests.support.databases import migrated_sqlite_url
from tests.support.environment import SECRET_KEY
from tests.support.live_server import serve_in_thread

PASSWORD = "browser test passphrase"
PORTAL = 777001


@pytest.fixture(scope="module")
def console_server(tmp_path_factory):
    database = tmp_path_factory.mktemp("console") / "catalog.sqlite3"
    apps = []

    def build(base_url):
        app = create_app({"OEMBED_DATABASE_URL": migrated_sqlite_url(database), "OEMBED_PUBLIC_URL": base_url,
                          "OEMBED_SECRET_KEY": SECRET_KEY, "OEMBED_URL_SCHEMES": ""})
        load_sample_media(app.extensions["catalog"], base_url)
        engine = app.extensions["catalog"].engine
        from oembed_server.storage.operator_store import OperatorStore
        add_operator(OperatorStore(engine), "olivia", PASSWORD)
        store = PortalStore(engine, SECRET_KEY)
        with engine.begin() as conn:
            store.install(conn, PORTAL, "default", OAuthTokens("access", "refresh", time.time() + 3600))
        apps.append(app)
        return app

    with serve_in_thread(build) as base_url:
        yield base_url, apps[0]
    apps[0].extensions["catalog"].dispose()


def _sign_in(page, base_url):
    page.goto(f"{base_url}/console/invites")
    assert page.url.startswith(f"{base_url}/console/sign-in")
    page.get_by_label("Operator name").fill("olivia")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/console/invites")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_an_operator_signs_in_acts_and_signs_out(open_page, console_server, javascript, screenshot):
    base_url, app = console_server
    page = open_page(1280, 900, java_script_enabled=javascript)
    _sign_in(page, base_url)  # lands on the page it asked for
    cookie = next(c for c in page.context.cookies() if c["name"] == "console_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/console"

    # Invites: make one, see its link, revoke it.
    page.get_by_label("Library").fill("acme")
    page.get_by_label("Works for (days, at most 30)").fill("3")
    page.get_by_label("Installs allowed").fill("2")
    page.get_by_role("button", name="Make invite").click()
    link = page.get_by_label("Install link").input_value()
    assert "/hubspot/connect?invite=" in link
    invite_id = link.split("invite=", 1)[1].split(".", 1)[0]
    row = page.locator(f"#invite-{invite_id}")
    assert "open" in row.inner_text() and "0 of 2" in row.inner_text()
    row.get_by_role("button", name="Revoke").click()
    page.wait_for_url(f"{base_url}/console/invites")
    assert "revoked" in page.locator(f"#invite-{invite_id}").inner_text()
    assert page.get_by_role("status").inner_text().startswith(f"Invite {invite_id} revoked")

    # Portals: queue a resync, which the CLI's worker would send.
    page.get_by_role("link", name="Portals").click()
    page.get_by_role("button", name=f"Resync {PORTAL}").click()
    page.wait_for_url(f"{base_url}/console/portals")
    assert "sync queued" in page.get_by_role("status").inner_text() or \
        "already had a sync waiting" in page.get_by_role("status").inner_text()
    with app.extensions["catalog"].engine.connect() as conn:
        assert any(r.kind == "provision.sync" and r.portal_id == PORTAL and r.backlog
                   for r in job_queue.status(conn))
    screenshot(page, f"console-portals-{'js' if javascript else 'nojs'}")

    # Catalog: a bad file is refused with row numbers, nothing applied.
    page.get_by_role("link", name="Catalog").click()
    page.get_by_label("Catalog file (.json or .csv)").set_input_files(files=[{
        "name": "bad.csv", "mimeType": "text/csv",
        "buffer": b"external_id,media_type,title\nb-1,VIDEO,One\nb-2,FILM,Two\n"}])
    page.get_by_role("button", name="Upload and import").click()
    assert "Nothing imported: 1 problem(s) in 2 row(s) of bad.csv." in page.locator("#upload-outcome").inner_text()
    assert "row 2, field 'media_type'" in page.locator(".problems").inner_text()
    assert app.extensions["catalog"].get("b-1") is None

    # Sign out: the cookie is gone and every page asks for a sign-in again.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base_url}/console/sign-in")
    assert not [c for c in page.context.cookies() if c["name"] == "console_session"]
    for path in ("/console/portals", "/console/events", "/console/media"):
        page.goto(base_url + path)
        assert page.url.startswith(f"{base_url}/console/sign-in")


def test_narrow_screens_show_every_page_without_cutting_it_off(open_page, console_server):
    base_url, _ = console_server
    page = open_page(390, 844)
    _sign_in(page, base_url)
    for path in ("/console/portals", "/console/events", "/console/catalog", "/console/invites", "/console/media"):
        page.goto(base_url + path)
        # Wide tables scroll inside their own region; the page itself never scrolls sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
