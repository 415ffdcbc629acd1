"""Helpers for install tests: an app wired to a live HubSpot emulator, an install walked
through the emulator's consent page over HTTP, and a worker run to completion."""
from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit

import requests

from oembed_server import create_app
from oembed_server.domain.media import MediaItem, MediaType, Visibility
from oembed_server.jobs.worker import WorkerOptions, build_worker
from tests.hubspot_emulator.testing import FAST_CLIENT
from tests.support.environment import PUBLIC_URL, SECRET_KEY

PORTAL_A, PORTAL_B, PORTAL_C, PORTAL_D = 501, 502, 503, 504
TEST_PORTALS = {PORTAL_A: "Portal A", PORTAL_B: "Portal B", PORTAL_C: "Portal C", PORTAL_D: "Portal D"}


def install_env(emulator) -> dict[str, str]:
    """The app's HubSpot settings for installs: app credentials, no single-portal tokens."""
    env = {k: v for k, v in emulator.env().items()
           if k not in ("HUBSPOT_ACCESS_TOKEN", "HUBSPOT_REFRESH_TOKEN", "HUBSPOT_PORTAL_ID")}
    return env | FAST_CLIENT | {"HUBSPOT_AUTHORIZE_URL": f"{emulator.url}/oauth/authorize"}


def make_install_app(database_url: str, emulator, public_url: str = PUBLIC_URL, **overrides):
    return create_app({"OEMBED_DATABASE_URL": database_url, "OEMBED_PUBLIC_URL": public_url,
                       "OEMBED_SECRET_KEY": SECRET_KEY, "OEMBED_URL_SCHEMES": "", "TESTING": True}
                      | install_env(emulator) | overrides)


def item(external_id: str, library: str = "default", visibility: Visibility = Visibility.PUBLIC,
         media_type: MediaType = MediaType.VIDEO, title: str | None = None) -> MediaItem:
    return MediaItem(external_id=external_id, media_type=media_type, title=title or f"Title {external_id}",
                     file_url=f"{PUBLIC_URL}/files/{external_id}", duration_ms=1000, library=library,
                     visibility=visibility)


def authorize_link(html: str) -> str:
    match = re.search(r'id="connect-hubspot" href="([^"]+)"', html)
    assert match, "the connect page has no Connect HubSpot link"
    return unescape(match.group(1))


def consent(emulator, link: str, hub_id: int | None) -> str:
    """Answer the emulator's consent page (grant for ``hub_id``, or decline when None) and
    return where HubSpot redirects the browser (the app's callback URL)."""
    page = requests.get(link, timeout=5)
    assert page.status_code == 200, page.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    form = {k: unescape(v) for k, v in fields.items()}
    form |= {"decision": "grant", "hub_id": str(hub_id)} if hub_id else {"decision": "decline"}
    answer = requests.post(f"{emulator.url}/oauth/authorize", data=form, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def start_install(client, emulator, hub_id: int | None, invite: str | None = None) -> str:
    """Connect (optionally through an invite link) and answer HubSpot's consent page;
    returns the callback path and query HubSpot sends the browser back to."""
    connect = client.get("/hubspot/connect" + (f"?invite={invite}" if invite else ""))
    assert connect.status_code == 200, connect.get_data(as_text=True)
    parts = urlsplit(consent(emulator, authorize_link(connect.get_data(as_text=True)), hub_id))
    return f"{parts.path}?{parts.query}"


def install(client, emulator, hub_id: int | None, invite: str | None = None):
    """The whole round trip; returns the callback's response and its URL (for replays)."""
    callback = start_install(client, emulator, hub_id, invite)
    return client.get(callback), callback


def run_worker(app, emulator, **options):
    """A worker on the app's own settings (made by make_install_app: the emulator's), as
    `oembed-server worker` runs one."""
    worker = build_worker(app.extensions["catalog"], app.extensions["oembed_settings"],
                          options=WorkerOptions(**({"idle_poll_s": 0.02, "release_held_every_s": 0.05} | options)))
    worker.run(once=True)
    return worker


def external_ids(emulator, hub_id: int) -> list[str]:
    return sorted(o.properties["hs_external_id"] for o in emulator.state.live_objects(hub_id=hub_id))
