"""Issue 17, item 2 in Chromium: the player framed by a page on loopback reports the page's
origin, and the server keeps the visitor's contact only while that site is one of the
portal's. The iframe is loaded with ``referrerpolicy="no-referrer"``, so only the player's
own ``location.ancestorOrigins`` can tell the server who framed it."""
from __future__ import annotations

import pytest

from oembed_server import create_app
from oembed_server.storage.portal_hosts import add_operator_host, remove_operator_host
from oembed_server.usecases.sample_media import load_sample_media
from tests.support.databases import migrated_sqlite_url
from tests.support.environment import SECRET_KEY
from tests.support.event_reports import SERVED_PORTAL
from tests.support.live_server import serve_in_thread
from tests.support.player_controls import by_kind, ended_session_reported, session_row, wait_for

pytestmark = pytest.mark.browser

PORTAL = int(SERVED_PORTAL["HUBSPOT_PORTAL_ID"])
TRACKING = (f"hs_portal_id={PORTAL}&hs_utk=utk-framed-visitor&hs_page_name=Pricing"
            "&hs_page_url=https%3A%2F%2Fwww.customer.test%2Fpricing")


@pytest.fixture(scope="module")
def framed_server(tmp_path_factory):
    database = tmp_path_factory.mktemp("framed") / "catalog.sqlite3"
    apps = []

    def build(base_url):
        app = create_app({"OEMBED_DATABASE_URL": migrated_sqlite_url(database), "OEMBED_PUBLIC_URL": base_url,
                          "OEMBED_SECRET_KEY": SECRET_KEY, "OEMBED_URL_SCHEMES": ""} | SERVED_PORTAL)
        load_sample_media(app.extensions["catalog"], base_url)
        apps.append(app)
        return app

    with serve_in_thread(build) as base_url:
        yield base_url, apps[0].extensions["catalog"].engine
    apps[0].extensions["catalog"].dispose()


def framed_play(open_page, customer_site, base_url: str, name: str) -> tuple[str, str]:
    """Play the sample video to its end inside an iframe of the customer's page; returns
    the session id and the origin the player saw framing it."""
    site_url, pages = customer_site
    pages[f"/{name}"] = (f'<!doctype html><title>{name}</title><iframe id="player-frame" width="480" height="270" '
                         f'referrerpolicy="no-referrer" src="{base_url}/embed/sample-video?{TRACKING}"></iframe>')
    page = open_page()
    page.goto(f"{site_url}/{name}")
    frame = page.frame_locator("#player-frame")
    frame.locator("#player").wait_for()
    player = next(f for f in page.frames if f.url.startswith(f"{base_url}/embed/"))
    player.wait_for_function("() => window.mediaPlayerEvents !== undefined")
    seen = player.evaluate("() => [document.referrer, location.ancestorOrigins[0]]")
    assert seen[0] == ""  # no-referrer: only ancestorOrigins names the framing page
    player.evaluate("() => { const m = document.querySelector('#player'); m.muted = true; m.playbackRate = 4;"
                    " m.play(); }")
    player.wait_for_function("() => document.querySelector('#player').ended", timeout=15_000)
    return player.evaluate("() => window.mediaPlayerEvents.sessionId"), seen[1]


def test_a_framing_page_of_the_portal_keeps_the_contact_and_another_loses_it(framed_server, open_page,
                                                                            customer_site):
    base_url, engine = framed_server
    with engine.begin() as conn:
        add_operator_host(conn, PORTAL, "127.0.0.1")

    session_id, origin = framed_play(open_page, customer_site, base_url, "listed")
    assert origin == customer_site[0]
    kinds = by_kind(ended_session_reported(engine, session_id))
    played = kinds["played"][0]
    assert (played["portal_id"], played["contact_utk"], played["page_name"]) == (
        PORTAL, "utk-framed-visitor", "Pricing")
    assert kinds["attention"][0]["contact_utk"] == "utk-framed-visitor"

    # The same page once its site is no longer the portal's: the plays still count, anonymously.
    with engine.begin() as conn:
        remove_operator_host(conn, PORTAL, "127.0.0.1")
    session_id, _ = framed_play(open_page, customer_site, base_url, "unlisted")
    found = ended_session_reported(engine, session_id)
    assert {j["kind"] for j in found} == {"played", "quartile", "attention"}
    for job in found:
        assert not {"contact_utk", "page_name", "page_url", "page_id"} & set(job), job
    row = wait_for(lambda: session_row(engine, session_id))
    assert (row["contact_utk"], row["page_name"], row["percent_played"]) == (None, None, 100.0)
