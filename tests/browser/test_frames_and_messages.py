"""In Chromium (issue 17): the session insights page, a played event's iframeUrl, is framed by
HubSpot's app and refused to any other framing site (item 7); the player announces itself
to the page that framed it at that page's origin, and nothing it posts carries the
visitor's hs_utk (item 13). Every site is a loopback server on its own port."""
from __future__ import annotations

import json

import pytest

from oembed_server import create_app
from oembed_server.domain.session_links import session_page_url
from oembed_server.usecases.sample_media import load_sample_media
from tests.support.databases import migrated_sqlite_url
from tests.support.environment import SECRET_KEY
from tests.support.event_reports import SESSION, attention, body, player_token
from tests.support.insights_links import app_link_keys
from tests.support.live_server import serve_in_thread

pytestmark = pytest.mark.browser

TIMELINE_MODAL = """<!doctype html><title>Contact timeline</title>
<h1>Contact</h1><iframe id="card" src="%s" width="640" height="480"></iframe>"""


def html_site(pages: dict[str, str]):
    def app(environ, start_response):
        page = pages.get(environ["PATH_INFO"], "").encode()
        start_response("200 OK" if page else "404 Not Found", [("Content-Type", "text/html; charset=utf-8")])
        return [page]
    return app


@pytest.fixture
def timeline_sites(tmp_path):
    """(allowed site, refused site, app, session link): the app lets only the first frame it."""
    allowed_pages: dict[str, str] = {}
    refused_pages: dict[str, str] = {}
    with serve_in_thread(lambda _url: html_site(allowed_pages)) as allowed, \
            serve_in_thread(lambda _url: html_site(refused_pages)) as refused:
        apps = []

        def build(base_url):
            app = create_app({"OEMBED_DATABASE_URL": migrated_sqlite_url(tmp_path / "catalog.sqlite3"),
                              "OEMBED_PUBLIC_URL": base_url, "OEMBED_SECRET_KEY": SECRET_KEY,
                              "OEMBED_URL_SCHEMES": "", "OEMBED_TIMELINE_FRAME_ANCESTORS": allowed})
            load_sample_media(app.extensions["catalog"], base_url)
            client = app.test_client()
            token = player_token(client)
            assert client.post("/events", json=body(token)).status_code == 202
            assert client.post("/events", json=attention(token, [1, 1, 1, 1, 0, 0, 0, 0, 0], final=True)
                               ).status_code == 202
            apps.append(app)
            return app

        with serve_in_thread(build) as base_url:
            link = session_page_url(base_url, app_link_keys(apps[0]), SESSION)
            allowed_pages["/timeline"] = refused_pages["/timeline"] = TIMELINE_MODAL % link
            yield allowed, refused, link
        apps[0].extensions["catalog"].dispose()


def test_the_session_page_is_framed_by_the_timeline_host_only(open_page, timeline_sites, screenshot):
    allowed, refused, link = timeline_sites
    page = open_page()
    response = page.context.request.get(link)
    assert response.ok and "x-frame-options" not in response.headers
    assert f"frame-ancestors {allowed}" in response.headers["content-security-policy"]

    page.goto(f"{allowed}/timeline")
    card = page.frame_locator("#card")
    card.locator(".chart--attention").wait_for()
    assert card.locator("[data-fact=percent]").inner_text() == "44.4 %"
    screenshot(page, "timeline-card-allowed")

    refusals = []
    page = open_page()
    page.on("console", lambda message: refusals.append(message.text))
    page.goto(f"{refused}/timeline")
    page.wait_for_function("() => document.getElementById('card') !== null")
    page.wait_for_timeout(300)  # the refusal is the absence of a document: give it a moment to (not) arrive
    framed = [frame for frame in page.frames if frame != page.main_frame]
    assert len(framed) == 1
    assert framed[0].url != link and framed[0].locator(".chart--attention").count() == 0
    assert any("frame-ancestors" in text for text in refusals), refusals
    screenshot(page, "timeline-card-refused")


CONTROLLER = """<!doctype html><title>Customer page</title>
<script>
  window.received = [];
  addEventListener("message", function (event) { received.push(String(event.data)); });
  window.call = function (method, listener) {
    document.getElementById("player").contentWindow.postMessage(JSON.stringify(
      {context: "player.js", version: "0.0.11", method: method, value: "ready", listener: listener}), "%(origin)s");
  };
</script>
<iframe id="player" src="%(src)s" width="640" height="360"></iframe>
"""


def test_the_player_posts_to_its_parents_origin_and_never_the_visitor_token(open_page, live_server,
                                                                           customer_site):
    site_url, pages = customer_site
    src = f"{live_server}/embed/sample-video?hs_utk=utk-of-the-visitor&hs_portal_id=42&_hsenc=enc-of-the-visitor"
    pages["/landing"] = CONTROLLER % {"origin": live_server, "src": src}
    page = open_page()
    page.goto(f"{site_url}/landing")
    page.wait_for_function("() => received.some(m => m.indexOf('\"ready\"') >= 0)")
    page.evaluate("() => call('addEventListener', 'r1')")  # the API answers with its own ready
    page.wait_for_function("() => received.some(m => m.indexOf('r1') >= 0)")
    page.evaluate("() => call('getCurrentTime', 'r2')")
    page.wait_for_function("() => received.some(m => m.indexOf('r2') >= 0)")
    received = page.evaluate("() => received")
    assert len(received) >= 3
    for message in received:
        assert "utk-of-the-visitor" not in message and "enc-of-the-visitor" not in message, message
    ready = json.loads(received[0])
    assert ready["event"] == "ready" and ready["value"]["src"] == f"{live_server}/embed/sample-video"


def test_player_js_never_posts_to_any_origin():
    from oembed_server.package_data import WEB_STATIC_DIR
    script = (WEB_STATIC_DIR / "player.js").read_text()
    assert 'postMessage(' in script and '"*")' not in script and "'*')" not in script
