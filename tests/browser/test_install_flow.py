"""The install flow in Chromium: "Connect HubSpot" through the emulator's consent page for
two portals, then two more through invite links for two libraries; a catalog import
reaching both library portals; a declined consent and a replayed callback showing their
error pages and storing nothing."""
from __future__ import annotations

import json

import sqlalchemy as sa

from oembed_server.domain.media import Visibility
from oembed_server.storage.portal_store import hubspot_portals
from tests.hubspot_emulator import LiveEmulator
from tests.support.apps import command_runner
from tests.support.databases import migrated_sqlite_url
from tests.support.live_server import serve_in_thread
from tests.support.portal_installs import (
    PORTAL_A,
    PORTAL_B,
    PORTAL_C,
    PORTAL_D,
    TEST_PORTALS,
    external_ids,
    item,
    make_install_app,
    run_worker,
)

MODULE_FILES = {("published", f"media-bridge/{m}.module/{f}") for m in ("media_embed", "media_email")
                for f in ("meta.json", "fields.json", "module.html")}


def connect(page, url: str, hub_id: int | None) -> None:
    page.goto(url)
    page.click("#connect-hubspot")
    if hub_id is None:
        page.click("button[value=decline]")
    else:
        page.click(f"button[data-hub-id='{hub_id}']")
    page.wait_for_load_state()


def wait_done(page, app, emulator) -> None:
    run_worker(app, emulator)
    # No reload by the test: the status page refreshes itself until every step is done.
    page.wait_for_selector(".install-state[data-state='done']", timeout=30_000)
    assert page.locator(".install-step[data-state='done']").count() == 3


def portal_rows(app) -> list[tuple]:
    with app.extensions["catalog"].engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(hubspot_portals.c.portal_id, hubspot_portals.c.library,
                                                         hubspot_portals.c.generation))]


def test_install_flow_in_a_browser(open_page, tmp_path, screenshot):
    with LiveEmulator(rate_interval_ms=200, test_portals=TEST_PORTALS) as emulator:
        apps = []

        def build(base_url):
            app = make_install_app(migrated_sqlite_url(tmp_path / 'catalog.sqlite3'), emulator, public_url=base_url)
            app.extensions["catalog"].upsert([
                item("pub-1"), item("pub-2", visibility=Visibility.UNLISTED),
                item("hidden", visibility=Visibility.PRIVATE),
                item("acme-1", library="acme"), item("globex-1", library="globex"),
            ])
            apps.append(app)
            return app

        with serve_in_thread(build) as base_url:
            app = apps[0]
            page = open_page()
            for hub_id in (PORTAL_A, PORTAL_B):
                connect(page, f"{base_url}/hubspot/connect", hub_id)
                assert "/hubspot/installs/" in page.url
                wait_done(page, app, emulator)
                assert external_ids(emulator, hub_id) == ["pub-1", "pub-2"]
                assert MODULE_FILES <= set(emulator.state.data(hub_id).source_files)
            screenshot(page, "install-status-done")
            assert [d["endpoints"]["url"] for d in emulator.state.oembed_domains.values()] == [f"{base_url}/oembed"]

            runner = command_runner(app)
            for hub_id, library in ((PORTAL_C, "acme"), (PORTAL_D, "globex")):
                link = json.loads(runner.invoke(args=["portals", "invite", library, "--json"]).output)["link"]
                connect(page, link, hub_id)
                wait_done(page, app, emulator)
                assert external_ids(emulator, hub_id) == [f"{library}-1"]

            catalog_file = tmp_path / "more.json"
            catalog_file.write_text(json.dumps([
                {"external_id": "acme-2", "media_type": "VIDEO", "title": "Acme two", "library": "acme"},
                {"external_id": "globex-2", "media_type": "AUDIO", "title": "Globex two", "library": "globex"},
            ]))
            imported = runner.invoke(args=["import-catalog", str(catalog_file)])
            assert "Queued a sync for 2 installed portal(s)" in imported.output, imported.output
            run_worker(app, emulator)
            assert external_ids(emulator, PORTAL_C) == ["acme-1", "acme-2"]
            assert external_ids(emulator, PORTAL_D) == ["globex-1", "globex-2"]
            assert external_ids(emulator, PORTAL_A) == ["pub-1", "pub-2"]

            stored = portal_rows(app)
            connect(page, f"{base_url}/hubspot/connect", None)
            assert "declined" in page.text_content("main")
            screenshot(page, "install-declined")

            callbacks = []
            page.on("request", lambda r: callbacks.append(r.url) if "/hubspot/oauth-callback" in r.url else None)
            connect(page, f"{base_url}/hubspot/connect", PORTAL_A)  # a reinstall: replaces A's record
            reinstalled = portal_rows(app)
            assert [r[2] for r in reinstalled] == [2, 1, 1, 1]
            assert [r[:2] for r in reinstalled] == [r[:2] for r in stored]
            page.goto(callbacks[-1])
            assert "already used" in page.text_content("main")
            assert portal_rows(app) == reinstalled
            app.extensions["catalog"].dispose()
